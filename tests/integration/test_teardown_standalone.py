"""playbooks/teardown.yml on its own, after a crash: `-e avd_build_id=<id>` reads
artifacts/<id>/ledger.json and removes what it lists, in order, verified; a second run is a no-op.

The "crashed build" is set up directly: its resources are created through ARM and its ledger is
written with the same helpers the build_ledger module uses.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.paths import INVENTORY, REPO
from tests.support.runs import playbook_env
from tests.support.sandbox_process import Sandbox

sys.path.insert(0, str(REPO / "collections"))

from ansible_collections.avd.golden.plugins.module_utils import _ledger

pytestmark = pytest.mark.integration

BUILD_ID = "crashed-20261127000000-abcd"
RG = f"rg-avdbuild-{BUILD_ID}"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def put(sb: Sandbox, path: str, api: str, body: dict) -> str:
    r = sb.request("PUT", f"{path}?api-version={api}", body)
    assert r.status in (200, 201), r
    return path


def teardown(sb: Sandbox, artifacts: Path) -> subprocess.CompletedProcess[str]:
    env = playbook_env(sb)
    return subprocess.run(
        [
            "ansible-playbook",
            "-i",
            str(INVENTORY),
            str(REPO / "playbooks" / "teardown.yml"),
            "-e",
            json.dumps(
                {
                    "avd_build_id": BUILD_ID,
                    "azure_teardown_artifacts_root": str(artifacts),
                    "azure_teardown_delay": 1,
                }
            ),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_standalone_teardown_from_build_id(sandbox: Sandbox, tmp_path: Path) -> None:
    tags = {"avd-build-id": BUILD_ID, "avd-build-delete-after": "2026-11-28T00:00:00Z"}
    rg = put(
        sandbox,
        f"/subscriptions/{sandbox.subscription_id}/resourceGroups/{RG}",
        "2022-09-01",
        {"location": "westeurope", "tags": tags},
    )
    nsg = put(
        sandbox,
        f"{rg}/providers/Microsoft.Network/networkSecurityGroups/nsg-x",
        "2024-03-01",
        {"location": "westeurope", "tags": tags, "properties": {"securityRules": []}},
    )
    missing = f"{rg}/providers/Microsoft.Network/publicIPAddresses/pip-never-created"
    ledger = _ledger.empty_ledger(BUILD_ID)
    now = _ledger.utc_now()
    for rid, rtype in [
        (rg, "Microsoft.Resources/resourceGroups"),
        (nsg, "Microsoft.Network/networkSecurityGroups"),
        (missing, "Microsoft.Network/publicIPAddresses"),
    ]:
        _ledger.apply_resource(ledger, rid, rtype, "recorded", "provision", now)
    path = tmp_path / BUILD_ID / "ledger.json"
    path.parent.mkdir()
    _ledger.write_atomic(str(path), ledger)

    first = teardown(sandbox, tmp_path)
    assert first.returncode == 0, first.stdout[-4000:]
    assert not [rid for rid in sandbox.state()["resources"] if RG.lower() in rid]
    after = json.loads(path.read_text())
    assert all(r["removed"] for r in after["resources"])
    # The NSG was gone before the resource group's delete began (dependency order), and the IP
    # that was never created was not an error. DELETE is idempotent, so the Azure SDK's retry
    # policy may send one twice when an answer is slow (a loaded machine): order, not count.
    deletes = [r["path"].lower() for r in sandbox.requests() if r["method"] == "DELETE"]
    assert list(dict.fromkeys(deletes)) == [nsg.lower(), rg.lower()]
    assert max(i for i, d in enumerate(deletes) if d == nsg.lower()) < deletes.index(rg.lower())

    second = teardown(sandbox, tmp_path)
    assert second.returncode == 0, second.stdout[-4000:]
    assert "changed=0" in second.stdout
    assert sandbox.unmodelled() == []
