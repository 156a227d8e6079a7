"""Self-test of win_group_membership with real ansible-playbook over the WinRM double."""

from __future__ import annotations

from tests.support.build_vm import BuildVm


def test_group_membership_check_mode_change_idempotence_and_failure(build_vm: BuildVm):
    result = build_vm.play("groups.yml")
    assert result.rc == 0, result.explain()
    want = ["AVDBUILD01\\avdadmin", "NT AUTHORITY\\SYSTEM"]
    check = result.task("Exclude the admin from FSLogix in check mode")
    assert check["changed"] is True and check["added"] == want and check["members"] == want
    done = result.task("Exclude the admin from FSLogix")
    assert done["changed"] is True and done["added"] == want and done["members"] == want
    again = result.task("Exclude the admin from FSLogix again")
    assert again["changed"] is False and again["added"] == [] and again["members"] == want
    failed = result.task("Add a domain group the VM cannot resolve")
    assert failed["failed"] is True
    assert failed["msg"].startswith("account_name CONTOSO\\AVD Users is not a valid account, cannot get SID:")
    with build_vm.host.lock:
        groups = build_vm.guest.local_groups
        assert groups["FSLogix Profile Exclude List"]["members"] == [build_vm.guest.admin_sid, "S-1-5-18"]
        assert groups["FSLogix Profile Include List"]["members"] == ["S-1-1-0"]
    assert build_vm.unmodelled() == []
