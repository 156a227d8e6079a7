"""playbooks/janitor.yml against the ARM emulator: only expired build resource groups go.

Seeds four resource groups through ARM itself - expired build group, unexpired build group,
untagged group, group with other tags - then runs the janitor dry (nothing deleted) and with
janitor_apply=true (only the expired build group deleted, with what is in it).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.support.paths import INVENTORY, REPO
from tests.support.runs import playbook_env
from tests.support.sandbox_process import Sandbox

pytestmark = pytest.mark.integration

GROUPS = {
    "rg-avdbuild-expired": {"avd-build-id": "x-1", "avd-build-delete-after": "2020-01-01T00:00:00Z"},
    "rg-avdbuild-live": {"avd-build-id": "x-2", "avd-build-delete-after": "2099-01-01T00:00:00Z"},
    "rg-untagged": None,
    "rg-other": {"owner": "someone", "delete-after": "2020-01-01T00:00:00Z"},
}


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


def test_janitor_dry_run_then_apply(sandbox: Sandbox) -> None:
    dry = janitor(sandbox)
    assert dry.returncode == 0, dry.stdout[-3000:]
    assert "1 expired build resource group(s): rg-avdbuild-expired" in dry.stdout
    assert groups(sandbox) == set(GROUPS)

    applied = janitor(sandbox, "-e", "janitor_apply=true")
    assert applied.returncode == 0, applied.stdout[-3000:]
    assert groups(sandbox) == set(GROUPS) - {"rg-avdbuild-expired"}
    assert sandbox.unmodelled() == []
