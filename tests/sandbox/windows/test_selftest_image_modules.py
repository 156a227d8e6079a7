"""The collection's own Windows modules through real ansible-playbook and the WinRM double: Ansible
packages the PowerShell (Ansible.Basic), the double runs the twin, and the results read as Ansible
reads them (changed, check mode, diff, warnings; a refused AppX removal with on_failure=warn does
not fail the task)."""

from __future__ import annotations

import pytest

from tests.support.build_vm import BuildVm
from tests.support.paths import REPO


def test_image_modules_check_apply_idempotent(build_vm: BuildVm, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ANSIBLE_COLLECTIONS_PATH", str(REPO / "collections"))
    result = build_vm.play("image_modules.yml")
    assert result.rc == 0, result.explain()
    check = result.task("Services in check mode")
    assert check["changed"] is True and check["missing"] == ["MsRdcWebRTCSvc"]
    assert [c["name"] for c in check["changes"]] == ["DiagTrack", "XblAuthManager", "XblGameSave"]
    assert check["diff"]["after"]["services"]["DiagTrack"] == "disabled"
    assert result.task("Services")["changes"] == check["changes"]
    assert result.task("Services again")["changed"] is False
    tasks = result.task("Tasks in check mode")
    assert tasks["changed"] is True and len(tasks["changes"]) == 3
    assert result.task("Tasks")["changes"] == tasks["changes"]
    assert result.task("Tasks again")["changed"] is False
    appx = result.task("AppX in check mode")
    done = result.task("AppX")
    assert appx["removed"] == done["removed"] and done["changed"] is True
    assert done.get("failed") is not True and done["not_removed"][0]["name"] == "Microsoft.SecHealthUI"
    assert any("Microsoft.SecHealthUI" in w for w in done["warnings"])
    again = result.task("AppX again")
    assert again["changed"] is False and again["not_present"] == ["Microsoft.BingNews", "Microsoft.Xbox*"]
    refused = result.task("AppX with a system app that must not be skipped")
    assert refused["failed"] is True and "0x80070032" in refused["msg"]
    assert result.stats["failures"] == 0 and result.stats["rescued"] == 1
    with build_vm.host.lock:
        guest = build_vm.guest
        assert guest.services["diagtrack"].start_mode == "disabled"
        assert guest.scheduled_tasks[r"\microsoft\windows\defrag\scheduleddefrag"]["state"] == "Disabled"
        assert guest.appx_not_provisioned() == []
    assert build_vm.unmodelled() == []
    counts = build_vm.host.vms[build_vm.vm_id].modules
    assert counts.get("avd.golden.win_appx_remove") == 4
