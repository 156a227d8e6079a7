"""ARM's token-bucket throttling (sandbox/arm/throttling.py): Azure's default limits, the remaining
headers, 429 with Retry-After, refill, per-principal and global buckets, the control route."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.arm.errors import ArmError
from sandbox.arm.throttling import Throttling, kind_of
from tests.support.arm_emulator import Emu

API = "2022-09-01"


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(emu: Emu) -> _Clock:
    fake = _Clock()
    emu.arm.throttling.clock = fake
    return fake


def _configure(emu: Emu, spec: dict[str, Any]) -> Any:
    return emu.call("POST", "/_sandbox/throttling", spec, token=None)


def test_defaults_are_azures_documented_limits(emu: Emu) -> None:
    got = emu.call("GET", "/_sandbox/throttling", token=None).body
    assert got["limits"] == {
        "reads": {"size": 250, "refill": 25},
        "writes": {"size": 200, "refill": 10},
        "deletes": {"size": 200, "refill": 10},
    }
    assert got["global_factor"] == 15


def test_every_answer_carries_the_remaining_reads_writes_and_deletes(emu: Emu, clock: _Clock) -> None:
    put = emu.put_rg()
    assert put.headers["x-ms-ratelimit-remaining-subscription-writes"] == "199"
    assert put.headers["x-ms-ratelimit-remaining-subscription-global-writes"] == str(200 * 15 - 1)
    get = emu.call("GET", emu.rg(), api=API)
    assert get.headers["x-ms-ratelimit-remaining-subscription-reads"] == "249"
    assert "x-ms-ratelimit-remaining-subscription-writes" not in get.headers
    missing = emu.call("GET", emu.rg("nope"), api=API)
    assert missing.status == 404 and missing.headers["x-ms-ratelimit-remaining-subscription-reads"] == "248"
    gone = emu.call("DELETE", emu.rg(), api=API)
    assert gone.headers["x-ms-ratelimit-remaining-subscription-deletes"] == "199"


def test_an_empty_bucket_answers_429_with_retry_after_and_refills(emu: Emu, clock: _Clock) -> None:
    assert _configure(emu, {"reads": {"size": 3, "refill": 0.5}}).status == 200
    emu.put_rg()
    assert [emu.call("GET", emu.rg(), api=API).status for _ in range(4)] == [200, 200, 200, 429]
    throttled = emu.call("GET", emu.rg(), api=API)
    assert throttled.status == 429
    assert throttled.body["error"]["code"] == "TooManyRequests"
    assert throttled.headers["Retry-After"] == "2"  # one token at 0.5 per second
    assert throttled.headers["x-ms-ratelimit-remaining-subscription-reads"] == "0"
    # Writes draw from their own bucket: still open.
    assert emu.put_rg("rg2").status in (200, 201)
    clock.now += 2
    assert emu.call("GET", emu.rg(), api=API).status == 200
    assert emu.call("GET", emu.rg(), api=API).status == 429
    # The throttled requests are logged as such, with the code, like any refusal.
    assert sum(1 for e in emu.arm.request_log if e.get("status") == 429) == 3


def test_scale_shrinks_every_bucket(emu: Emu) -> None:
    got = _configure(emu, {"scale": 0.02}).body["limits"]
    assert got["reads"] == {"size": 5, "refill": 0.5} and got["writes"] == {"size": 4, "refill": 0.2}
    assert emu.call("DELETE", "/_sandbox/throttling", token=None).body["limits"]["reads"]["size"] == 250


@pytest.mark.parametrize(
    "spec",
    [
        {"scale": 0},
        {"scale": "1"},
        {"scale": True},
        {"bogus": 1},
        {"reads": {"size": 0}},
        {"reads": {"rate": 1}},
    ],
)
def test_bad_configuration_is_refused(emu: Emu, spec: dict[str, Any]) -> None:
    r = _configure(emu, spec)
    assert r.status == 400 and r.body["error"]["code"] == "InvalidThrottling"


def test_principals_have_their_own_buckets_and_share_the_global_one() -> None:
    clock = _Clock()
    t = Throttling(clock)
    t.configure({"writes": {"size": 2, "refill": 1}})  # global: 30 tokens
    for _ in range(2):
        t.take("a", "PUT")
    with pytest.raises(ArmError) as err:
        t.take("a", "POST")
    assert err.value.status == 429 and err.value.headers["Retry-After"] == "1"
    assert t.take("b", "PATCH")["x-ms-ratelimit-remaining-subscription-writes"] == "1"
    for who in range(13):
        t.take(f"p{who}", "PUT")
        t.take(f"p{who}", "PUT")
    # 2 + 1 + 26 = 29 of the 30 global tokens taken: one left for a fresh principal, then none.
    assert t.take("z", "PUT")["x-ms-ratelimit-remaining-subscription-global-writes"] == "0"
    with pytest.raises(ArmError, match="subscription writes limit"):
        t.take("y", "PUT")


def test_kinds() -> None:
    assert [kind_of(m) for m in ("GET", "HEAD", "PUT", "PATCH", "POST", "DELETE")] == [
        "reads",
        "reads",
        "writes",
        "writes",
        "writes",
        "deletes",
    ]
