"""playbooks/janitor.yml against the ARM emulator: only the groups of dead builds go.

Seeds resource groups through ARM itself - a build group whose heartbeat stopped (with a VNet in
it), a build group with a fresh heartbeat, an old build group without a heartbeat whose
delete-after passed, one whose delete-after has not, a group with an expired delete-after tag but
no build id, an untagged group and one with other tags - then runs the janitor dry (nothing
deleted) and with janitor_apply=true (only the two dead build groups deleted, with what is in
them). docs/contracts.md section 15. The janitor after a real SIGKILL: tests/integration/test_cancel.py.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.support.paths import INVENTORY, REPO
from tests.support.runs import playbook_env
from tests.support.sandbox_process import Sandbox

pytestmark = pytest.mark.integration

NOW = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
BEAT = "avd-build-heartbeat"
AFTER = "avd-build-delete-after"
GROUPS = {
    "rg-avdbuild-dead": {"avd-build-id": "x-1", BEAT: "2026-01-01T00:00:00Z", AFTER: "2099-01-01T00:00:00Z"},
    "rg-avdbuild-live": {"avd-build-id": "x-2", BEAT: NOW, AFTER: "2020-01-01T00:00:00Z"},
    "rg-avdbuild-old": {"avd-build-id": "x-3", AFTER: "2020-01-01T00:00:00Z"},
    "rg-avdbuild-young": {"avd-build-id": "x-4", AFTER: "2099-01-01T00:00:00Z"},
    "rg-expired-not-a-build": {AFTER: "2020-01-01T00:00:00Z"},
    "rg-untagged": None,
    "rg-other": {"owner": "someone", "delete-after": "2020-01-01T00:00:00Z"},
}
DEAD = {"rg-avdbuild-dead", "rg-avdbuild-old"}


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        for name, tags in GROUPS.items():
            body = {"location": "westeurope", **({"tags": tags} if tags else {})}
            r = sb.request(
                "PUT",
                f"/subscriptions/{sb.subscription_id}/resourcegroups/{name}?api-version=2022-09-01",
                body,
            )
            assert r.status in (200, 201), r
        vnet = sb.request(
            "PUT",
            f"/subscriptions/{sb.subscription_id}/resourceGroups/rg-avdbuild-dead/providers/"
            "Microsoft.Network/virtualNetworks/vnet-x-1?api-version=2024-03-01",
            {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.9.0.0/16"]}}},
        )
        assert vnet.status in (200, 201), vnet
        yield sb


def groups(sb: Sandbox) -> set[str]:
    return {
        res["name"]
        for res in sb.state()["resources"].values()
        if res.get("type", "").lower() == "microsoft.resources/resourcegroups"
    }


def janitor(sb: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    env = playbook_env(sb)
    return subprocess.run(
        ["ansible-playbook", "-i", str(INVENTORY), str(REPO / "playbooks" / "janitor.yml"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def vnets(sb: Sandbox) -> set[str]:
    return {
        res["name"]
        for res in sb.state()["resources"].values()
        if res.get("type", "").lower() == "microsoft.network/virtualnetworks"
    }


def writes(sb: Sandbox, since: int) -> list[dict]:
    return [r for r in sb.requests()[since:] if r["method"] in ("PUT", "PATCH", "DELETE")]


def test_janitor_dry_run_then_apply(sandbox: Sandbox) -> None:
    seeded = len(sandbox.requests())
    dry = janitor(sandbox)
    assert dry.returncode == 0, dry.stdout[-3000:]
    assert "2 dead build resource group(s): rg-avdbuild-dead, rg-avdbuild-old" in dry.stdout
    assert groups(sandbox) == set(GROUPS)
    assert vnets(sandbox) == {"vnet-x-1"}
    assert writes(sandbox, seeded) == []

    applied = janitor(sandbox, "-e", "janitor_apply=true")
    assert applied.returncode == 0, applied.stdout[-3000:]
    assert groups(sandbox) == set(GROUPS) - DEAD
    assert vnets(sandbox) == set()
    deletes = {r["path"].lower() for r in writes(sandbox, seeded)}
    sub = sandbox.subscription_id
    assert deletes == {f"/subscriptions/{sub}/resourcegroups/{name}".lower() for name in DEAD}
    assert sandbox.unmodelled() == []
