"""win_group_membership over the simulated local groups, and the groups each image is seeded with."""

from __future__ import annotations

import json

import pytest

from sandbox.guest_api import NotModelled
from sandbox.windows.state import load_guest
from tests.support.windows_state import SINGLE

RDU = "Remote Desktop Users"
NOT_TRANSLATED = (
    'Exception calling "Translate" with "1" argument(s): '
    '"Some or all identity references could not be translated."'
)
FSLOGIX = {
    "FSLogix Profile Include List": ["Everyone"],
    "FSLogix Profile Exclude List": [],
    "FSLogix ODFC Include List": ["Everyone"],
    "FSLogix ODFC Exclude List": [],
}


def names(guest, group: str) -> list[str]:
    return guest.dump()["local_groups"][group]["member_names"]


def test_present_check_mode_then_real_then_idempotent(run, guest):
    args = {"name": RDU, "members": ["Everyone", "NT AUTHORITY\\Authenticated Users", "avdadmin"]}
    want = ["Everyone", "NT AUTHORITY\\Authenticated Users", "AVDBUILD01\\avdadmin"]
    check = run("win_group_membership", args, check=True)
    assert check == {"changed": True, "name": RDU, "added": want, "members": want}
    assert guest.local_groups[RDU]["members"] == []
    done = run("win_group_membership", args)
    assert done == {"changed": True, "name": RDU, "added": want, "members": want}
    assert guest.local_groups[RDU]["members"] == ["S-1-1-0", "S-1-5-11", guest.admin_sid]
    again = run("win_group_membership", args)
    assert again == {"changed": False, "name": RDU, "added": [], "members": want}


def test_other_spellings_of_the_same_members_change_nothing(run, guest):
    run("win_group_membership", {"name": RDU, "members": ["avdadmin", "NT AUTHORITY\\SYSTEM"]})
    for spelling in (
        ".\\AVDADMIN",
        "avdbuild01\\avdadmin",
        guest.admin_sid,
        "LA",
        "s-1-5-18",
        "system",
        "SY",
    ):
        result = run("win_group_membership", {"name": RDU, "members": [spelling]})
        assert result["changed"] is False and result["added"] == [], spelling
    assert run("win_group_membership", {"name": "remote desktop users", "members": "SYSTEM"})["name"] == (
        "remote desktop users"  # the group is matched case-insensitively; name is echoed as given
    )


def test_duplicates_are_added_once(run):
    result = run("win_group_membership", {"name": RDU, "members": ["Everyone", "S-1-1-0", "WD", "everyone"]})
    assert result["added"] == ["Everyone"] and result["members"] == ["Everyone"]


def test_absent_check_mode_reports_the_same_and_changes_nothing(run, guest):
    args = {"name": "Users", "members": ["NT AUTHORITY\\INTERACTIVE", "Everyone"], "state": "absent"}
    check = run("win_group_membership", args, check=True)
    # check mode filters members with Where-Object: a single survivor unrolls to a string
    assert check == {
        "changed": True,
        "name": "Users",
        "removed": ["NT AUTHORITY\\INTERACTIVE"],
        "members": "NT AUTHORITY\\Authenticated Users",
    }
    assert guest.local_groups["Users"]["members"] == ["S-1-5-4", "S-1-5-11"]
    done = run("win_group_membership", args)
    assert done == {
        "changed": True,
        "name": "Users",
        "removed": ["NT AUTHORITY\\INTERACTIVE"],
        "members": ["NT AUTHORITY\\Authenticated Users"],
    }
    again = run("win_group_membership", args)
    assert again["changed"] is False and again["removed"] == []


def test_pure_adds_and_removes_and_check_mode_matches(run, guest):
    run("win_group_membership", {"name": RDU, "members": ["Everyone", "NT AUTHORITY\\NETWORK SERVICE"]})
    args = {"name": RDU, "members": ["avdadmin", "Everyone", "NT AUTHORITY\\SYSTEM"], "state": "pure"}
    check = run("win_group_membership", args, check=True)
    done = run("win_group_membership", args)
    assert check == done
    assert done == {
        "changed": True,
        "name": RDU,
        "added": ["AVDBUILD01\\avdadmin", "NT AUTHORITY\\SYSTEM"],
        "removed": ["NT AUTHORITY\\NETWORK SERVICE"],
        "members": ["Everyone", "AVDBUILD01\\avdadmin", "NT AUTHORITY\\SYSTEM"],
    }
    again = run("win_group_membership", args)
    assert again["changed"] is False and again["added"] == [] and again["removed"] == []


def test_pure_with_no_members_empties_the_group(run, guest):
    check = run("win_group_membership", {"name": "Users", "members": [], "state": "pure"}, check=True)
    assert check["removed"] == ["NT AUTHORITY\\INTERACTIVE", "NT AUTHORITY\\Authenticated Users"]
    assert check["members"] is None  # Where-Object with no survivor: $null
    done = run("win_group_membership", {"name": "Users", "members": [], "state": "pure"})
    assert done["removed"] == check["removed"] and done["members"] == []
    assert guest.local_groups["Users"]["members"] == []


def test_unknown_group(run):
    result = run("win_group_membership", {"name": "FakeGroup", "members": ["Everyone"]})
    assert result == {
        "changed": False,
        "failed": True,
        "name": "FakeGroup",
        "added": [],
        "msg": "Could not find local group FakeGroup",
    }
    absent = run("win_group_membership", {"name": "FakeGroup", "members": ["x"], "state": "absent"})
    assert absent["removed"] == [] and "added" not in absent


@pytest.mark.parametrize("member", ["CONTOSO\\jdoe", "jdoe@contoso.com", "FakeUser", "BUILTIN\\Everyone"])
def test_unresolvable_principal_fails_before_any_change(run, guest, member):
    result = run("win_group_membership", {"name": RDU, "members": ["Everyone", member]})
    # Convert-ToSID fails with Fail-Json @{}: nothing of the module's result (name, added) is kept
    assert result == {
        "changed": False,
        "failed": True,
        "msg": f"account_name {member} is not a valid account, cannot get SID: {NOT_TRANSLATED}",
    }
    assert guest.local_groups[RDU]["members"] == []


def test_sid_strings(run, guest):
    result = run("win_group_membership", {"name": RDU, "members": ["S-1-5-4"]})
    assert result["added"] == ["NT AUTHORITY\\INTERACTIVE"]
    result = run("win_group_membership", {"name": RDU, "members": [f"{guest.machine_sid}-500"]})
    assert result["added"] == ["AVDBUILD01\\avdadmin"]
    orphan = f"{guest.machine_sid}-1234"
    unknown = run("win_group_membership", {"name": RDU, "members": [orphan]})
    assert unknown == {
        "changed": False,
        "failed": True,
        "msg": f"failed to convert sid '{orphan}' to a logon name: {NOT_TRANSLATED}",
    }
    # a member whose SID no longer translates is listed by its SID
    guest.local_groups[RDU]["members"].append(orphan)
    listed = run("win_group_membership", {"name": RDU, "members": ["Everyone"], "state": "absent"})
    assert listed["members"] == ["NT AUTHORITY\\INTERACTIVE", "AVDBUILD01\\avdadmin", orphan]


def test_a_local_group_cannot_join_a_local_group(run, guest):
    args = {"name": "Administrators", "members": ["Everyone", ".\\Users"]}
    check = run("win_group_membership", args, check=True)
    assert check["changed"] is True and check["added"] == [
        "Everyone",
        "BUILTIN\\Users",
    ]  # no Add in check mode
    real = run("win_group_membership", args)
    assert real["failed"] is True and real["changed"] is True and real["added"] == ["Everyone"]
    assert real["msg"].startswith('Exception calling "Add" with "1" argument(s): "A new member could not be')
    assert guest.local_groups["Administrators"]["members"] == [guest.admin_sid, "S-1-1-0"]


def test_legacy_argument_validation(run):
    missing = run("win_group_membership", {"name": RDU})
    assert missing == {
        "changed": False,
        "failed": True,
        "msg": "Get-AnsibleParam: Missing required argument: members",
    }
    bad = run("win_group_membership", {"name": RDU, "members": ["Everyone"], "state": "gone"})
    assert (
        bad["msg"] == "Get-AnsibleParam: Argument state needs to be one of present,absent,pure but was gone."
    )
    # unknown keys are ignored and choices compare case-insensitively, as Get-AnsibleParam does
    ok = run(
        "win_group_membership", {"name": RDU, "members": "Everyone, SYSTEM", "state": "Present", "bogus": 1}
    )
    assert ok["added"] == ["Everyone", "NT AUTHORITY\\SYSTEM"]


def test_virtual_accounts_are_not_modelled(run):
    with pytest.raises(NotModelled):
        run("win_group_membership", {"name": RDU, "members": ["NT SERVICE\\TrustedInstaller"]})


def test_fslogix_groups_only_on_multi_session(guest, make_guest):
    for group, members in FSLOGIX.items():
        assert names(guest, group) == members, group
        assert guest.local_groups[group]["sid"].startswith(guest.machine_sid + "-")
    single = make_guest(SINGLE)
    assert not set(FSLOGIX) & set(single.local_groups)
    for g in (guest, single):
        assert names(g, "Administrators") == ["AVDBUILD01\\avdadmin"]
        assert names(g, "Users") == ["NT AUTHORITY\\INTERACTIVE", "NT AUTHORITY\\Authenticated Users"]
        assert names(g, RDU) == []
        assert names(g, "Guests") == ["AVDBUILD01\\Guest"]


def test_fslogix_exclude_admins_is_idempotent(run, guest):
    args = {"name": "FSLogix Profile Exclude List", "members": ["BUILTIN\\Administrators"]}
    # the group to exclude is a local group: Windows refuses it as a member (use the admin account)
    assert run("win_group_membership", args)["failed"] is True
    args["members"] = ["avdadmin"]
    assert run("win_group_membership", args)["added"] == ["AVDBUILD01\\avdadmin"]
    assert run("win_group_membership", args)["changed"] is False
    assert names(guest, "FSLogix Profile Exclude List") == ["AVDBUILD01\\avdadmin"]


def test_local_groups_survive_persistence(run, guest, arm):
    run("win_group_membership", {"name": "FSLogix ODFC Include List", "members": ["avdadmin"]})
    data = json.loads(json.dumps(guest.to_dict()))
    restored = load_guest(data, arm)
    assert restored.local_groups == guest.local_groups
    assert names(restored, "FSLogix ODFC Include List") == ["Everyone", "AVDBUILD01\\avdadmin"]
    dumped = restored.dump()["local_groups"]["FSLogix ODFC Include List"]
    assert dumped["members"] == ["S-1-1-0", guest.admin_sid]


def test_null_members_fail_in_parameter_binding(run):
    # Get-AnsibleParam returns $null; piping it to Get-InputMember's mandatory -Member fails (uncaught)
    result = run("win_group_membership", {"name": RDU, "members": None})
    assert result["failed"] is True
    assert result["msg"] == (
        "Unhandled exception while executing module: "
        "Cannot bind argument to parameter 'Member' because it is null."
    )
