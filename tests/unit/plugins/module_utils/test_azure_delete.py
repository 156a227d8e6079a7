"""Unit tests for plugins/module_utils/_azure_delete.py (ordered, verified, bounded deletes)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "collections"))

from ansible_collections.avd.golden.plugins.module_utils import _azure_delete as d

VM = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
NIC = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/nic"
OP = "https://arm.test/operations/1?api-version=2024-07-01"


class FakeArm:
    """Scripted ARM: per (method, url) a list of replies consumed in order (the last one repeats)."""

    def __init__(self, script: dict[tuple[str, str], list[d.Reply]]):
        self.script = script
        self.calls: list[tuple[str, str]] = []

    def __call__(self, method: str, url: str, params: Mapping[str, str] | None) -> d.Reply:
        self.calls.append((method, url))
        replies = self.script[(method, url)]
        return replies.pop(0) if len(replies) > 1 else replies[0]


class Clock:
    """A fake clock that advances only when the code sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def run(arm: FakeArm, clock: Clock, ids: list[str], **kw: object) -> list[dict[str, object]]:
    args = {"timeout": 60, "retries": 3, "delay": 10, "poll_interval": 5, "check_mode": False, **kw}
    return d.delete_in_order(
        arm, [{"id": i, "api_version": "2024-07-01"} for i in ids], clock=clock, sleep=clock.sleep, **args
    )


def test_deletes_in_the_given_order_and_verifies_each() -> None:
    arm = FakeArm(
        {
            ("GET", VM): [d.Reply(200, body={"id": VM}), d.Reply(404)],
            ("DELETE", VM): [d.Reply(200)],
            ("GET", NIC): [d.Reply(200, body={"id": NIC}), d.Reply(404)],
            ("DELETE", NIC): [d.Reply(204)],
        }
    )
    results = run(arm, Clock(), [VM, NIC])
    assert [r["removed"] for r in results] == [True, True]
    assert arm.calls == [
        ("GET", VM),
        ("DELETE", VM),
        ("GET", VM),
        ("GET", NIC),
        ("DELETE", NIC),
        ("GET", NIC),
    ]


def test_absent_resource_is_not_deleted_again() -> None:
    arm = FakeArm({("GET", VM): [d.Reply(404)]})
    results = run(arm, Clock(), [VM])
    assert results[0] == {"id": VM, "existed": False, "removed": True, "attempts": 1, "error": None}
    assert arm.calls == [("GET", VM)]


def test_follows_async_operation_honouring_retry_after_ms() -> None:
    arm = FakeArm(
        {
            ("GET", VM): [d.Reply(200, body={}), d.Reply(404)],
            ("DELETE", VM): [d.Reply(202, {"Azure-AsyncOperation": OP, "Retry-After-Ms": "20"})],
            ("GET", OP): [
                d.Reply(200, {"Retry-After-Ms": "30"}, {"status": "InProgress"}),
                d.Reply(200, body={"status": "Succeeded"}),
            ],
        }
    )
    clock = Clock()
    results = run(arm, clock, [VM])
    assert results[0]["removed"] is True
    assert clock.sleeps == [pytest.approx(0.02), pytest.approx(0.03)]


def test_location_polling_until_not_202() -> None:
    arm = FakeArm(
        {
            ("GET", VM): [d.Reply(200, body={}), d.Reply(404)],
            ("DELETE", VM): [d.Reply(202, {"Location": OP})],
            ("GET", OP): [d.Reply(202), d.Reply(202), d.Reply(204)],
        }
    )
    clock = Clock()
    assert run(arm, clock, [VM])[0]["removed"] is True
    assert clock.sleeps == [5, 5, 5]


def test_failed_operation_is_retried_then_reported_and_next_resource_still_tried() -> None:
    arm = FakeArm(
        {
            ("GET", VM): [d.Reply(200, body={})],
            ("DELETE", VM): [d.Reply(202, {"Azure-AsyncOperation": OP})],
            ("GET", OP): [
                d.Reply(200, body={"status": "Failed", "error": {"code": "InternalError", "message": "boom"}})
            ],
            ("GET", NIC): [d.Reply(404)],
        }
    )
    results = run(arm, Clock(), [VM, NIC])
    assert results[0]["removed"] is False and results[0]["attempts"] == 3
    assert "InternalError" in results[0]["error"]
    assert results[1]["removed"] is True


def test_in_use_conflict_is_retried_after_delay() -> None:
    in_use = d.Reply(409, body={"error": {"code": "NicInUse", "message": "attached"}})
    arm = FakeArm(
        {
            ("GET", NIC): [d.Reply(200, body={}), d.Reply(200, body={}), d.Reply(404)],
            ("DELETE", NIC): [in_use, d.Reply(200)],
        }
    )
    clock = Clock()
    results = run(arm, clock, [NIC])
    assert results[0]["removed"] is True and results[0]["attempts"] == 2
    assert 10 in clock.sleeps


@pytest.mark.parametrize(
    ("status", "code", "attempts"),
    [
        (403, "AuthorizationFailed", 1),
        (400, "InvalidParameter", 1),
        (429, "TooManyRequests", 3),
        (503, "Busy", 3),
    ],
)
def test_refusals_are_retried_only_when_retryable(status: int, code: str, attempts: int) -> None:
    arm = FakeArm(
        {
            ("GET", VM): [d.Reply(200, body={})],
            ("DELETE", VM): [d.Reply(status, body={"error": {"code": code, "message": "no"}})],
        }
    )
    result = run(arm, Clock(), [VM])[0]
    assert result["removed"] is False and result["attempts"] == attempts
    assert code in result["error"]


def test_a_delete_that_never_finishes_hits_the_deadline() -> None:
    arm = FakeArm(
        {
            ("GET", VM): [d.Reply(200, body={})],
            ("DELETE", VM): [d.Reply(202, {"Azure-AsyncOperation": OP})],
            ("GET", OP): [d.Reply(200, body={"status": "InProgress"})],
        }
    )
    clock = Clock()
    result = run(arm, clock, [VM], retries=1, timeout=30)[0]
    assert result["removed"] is False and "timeout" in result["error"]
    assert clock.now <= 31


def test_still_present_after_delete_is_not_reported_removed() -> None:
    arm = FakeArm({("GET", VM): [d.Reply(200, body={})], ("DELETE", VM): [d.Reply(200)]})
    result = run(arm, Clock(), [VM], retries=1, timeout=20)[0]
    assert result["removed"] is False and "still exists" in result["error"]


def test_check_mode_only_reads() -> None:
    arm = FakeArm({("GET", VM): [d.Reply(200, body={})], ("GET", NIC): [d.Reply(404)]})
    results = run(arm, Clock(), [VM, NIC], check_mode=True)
    assert [(r["existed"], r["removed"]) for r in results] == [(True, False), (False, True)]
    assert all(method == "GET" for method, _ in arm.calls)


def test_only_state_deletes_the_failed_resources_and_leaves_the_others() -> None:
    arm = FakeArm(
        {
            ("GET", VM): [d.Reply(200, body={"id": VM, "properties": {"provisioningState": "Succeeded"}})],
            ("GET", NIC): [
                d.Reply(200, body={"id": NIC, "properties": {"provisioningState": "Failed"}}),
                d.Reply(404),
            ],
            ("DELETE", NIC): [d.Reply(200)],
        }
    )
    results = run(arm, Clock(), [VM, NIC], only_state="Failed")
    assert [(r["id"], r["removed"], r.get("skipped", False)) for r in results] == [
        (VM, False, True),
        (NIC, True, False),
    ]
    assert ("DELETE", VM) not in arm.calls
