"""community.windows.win_firewall_rule's twin: create, update, remove, check mode, diff.prepared, the
module's messages, and the rule the WinRM bootstrap writes."""

from __future__ import annotations

import pytest

MODULE = "community.windows.win_firewall_rule"
SHORTPATH = {
    "name": "RemoteDesktop-UserMode-In-Shortpath-UDP",
    "description": "RDP Shortpath for managed networks",
    "direction": "in",
    "action": "allow",
    "protocol": "udp",
    "localport": 3390,
    "service": "TermService",
    "profiles": ["domain", "private", "public"],
    "enabled": True,
}
# What Enable-WinRMHttps.ps1's simulation stores (sandbox/windows/scripts.py).
BOOTSTRAP_RULE = {
    "display_name": "WinRM over HTTPS for the avd-golden build",
    "direction": "Inbound",
    "protocol": "TCP",
    "local_port": "5986",
    "remote_address": "127.0.0.1",
    "action": "Allow",
    "profile": "Any",
    "enabled": True,
}


def _by_name(guest, name: str) -> list[dict]:
    return [r for r in guest.firewall_rules.values() if r["display_name"].lower() == name.lower()]


def test_create_in_check_mode_then_for_real_then_no_change(run, guest):
    check = run(MODULE, SHORTPATH, check=True, diff=True)
    assert check["changed"] is True
    assert check["msg"] == "Firewall rule 'RemoteDesktop-UserMode-In-Shortpath-UDP' created."
    assert guest.firewall_rules == {}

    created = run(MODULE, SHORTPATH, diff=True)
    assert created == check
    prepared = created["diff"]["prepared"].splitlines()
    assert prepared[0] == "+[RemoteDesktop-UserMode-In-Shortpath-UDP]"
    assert "+LocalPorts='3390'" in prepared and "+Protocol='17'" in prepared
    assert "+Profiles='2147483647'" in prepared and "+Enabled='True'" in prepared
    assert "+ApplicationName=''" in prepared and "+ServiceName='TermService'" in prepared
    assert list(guest.firewall_rules) == ["RemoteDesktop-UserMode-In-Shortpath-UDP"]
    rule = guest.firewall_rules["RemoteDesktop-UserMode-In-Shortpath-UDP"]
    assert {k: rule[k] for k in BOOTSTRAP_RULE} == {
        "display_name": "RemoteDesktop-UserMode-In-Shortpath-UDP",
        "direction": "Inbound",
        "protocol": "UDP",
        "local_port": "3390",
        "remote_address": "*",
        "action": "Allow",
        "profile": "Any",
        "enabled": True,
    }
    assert rule["service"] == "TermService" and rule["description"] == SHORTPATH["description"]

    again = run(MODULE, SHORTPATH, diff=True)
    assert again["changed"] is False
    assert again["msg"] == "Firewall rule(s) changed '' - unchanged 'RemoteDesktop-UserMode-In-Shortpath-UDP'"
    assert again["diff"] == {"prepared": "[RemoteDesktop-UserMode-In-Shortpath-UDP]\n"}


def test_update_sets_only_the_properties_that_differ(run, guest):
    run(MODULE, SHORTPATH)
    changed = dict(SHORTPATH, localport="3391", profiles="private", enabled=False)
    check = run(MODULE, changed, check=True, diff=True)
    assert check["changed"] is True
    assert _by_name(guest, SHORTPATH["name"])[0]["local_port"] == "3390"
    result = run(MODULE, changed, diff=True)
    assert result == check
    assert result["diff"]["prepared"] == (
        "[RemoteDesktop-UserMode-In-Shortpath-UDP]\n"
        "-Enabled='True'\n+Enabled='False'\n"
        "-Profiles='2147483647'\n+Profiles='2'\n"
        "-LocalPorts='3390'\n+LocalPorts='3391'\n"
    )
    assert (
        result["msg"] == "Firewall rule(s) changed 'RemoteDesktop-UserMode-In-Shortpath-UDP' - unchanged ''"
    )
    rule = _by_name(guest, SHORTPATH["name"])[0]
    assert (rule["local_port"], rule["profile"], rule["enabled"]) == ("3391", "Private", False)
    assert run(MODULE, changed)["changed"] is False


def test_options_not_passed_are_left_alone(run, guest):
    run(MODULE, SHORTPATH)
    result = run(MODULE, {"name": SHORTPATH["name"], "enabled": True})
    assert result["changed"] is False
    assert _by_name(guest, SHORTPATH["name"])[0]["local_port"] == "3390"


def test_remove_in_check_mode_then_for_real_then_no_change(run, guest):
    run(MODULE, SHORTPATH)
    absent = {"name": SHORTPATH["name"], "state": "absent"}
    check = run(MODULE, absent, check=True, diff=True)
    assert check["changed"] is True and len(guest.firewall_rules) == 1
    assert check["diff"]["prepared"].startswith("-[RemoteDesktop-UserMode-In-Shortpath-UDP]\n-Description=")
    removed = run(MODULE, absent, diff=True)
    assert removed == check
    assert removed["msg"] == "Firewall rule(s) 'RemoteDesktop-UserMode-In-Shortpath-UDP' removed."
    assert guest.firewall_rules == {}
    gone = run(MODULE, absent)
    assert gone == {
        "changed": False,
        "msg": "Firewall rule 'RemoteDesktop-UserMode-In-Shortpath-UDP' does not exist.",
    }


def test_the_bootstrap_rule_is_found_by_its_display_name_and_keeps_its_id(run, guest):
    guest.firewall_rules["avd-golden-winrm-https"] = dict(BOOTSTRAP_RULE)
    same = {
        "name": BOOTSTRAP_RULE["display_name"],
        "localport": "5986",
        "protocol": "tcp",
        "profiles": "domain,private,public",
    }
    assert run(MODULE, same)["changed"] is False
    result = run(MODULE, {"name": BOOTSTRAP_RULE["display_name"], "enabled": False})
    assert result["changed"] is True
    assert list(guest.firewall_rules) == ["avd-golden-winrm-https"]
    assert guest.firewall_rules["avd-golden-winrm-https"]["enabled"] is False
    assert guest.firewall_rules["avd-golden-winrm-https"]["local_port"] == "5986"


def test_group_without_name_sets_every_rule_of_the_group(run, guest):
    run(MODULE, {"name": "A", "group": "Contoso", "protocol": "tcp", "localport": "1", "enabled": False})
    run(MODULE, {"name": "B", "group": "Contoso", "protocol": "tcp", "localport": "2", "enabled": False})
    result = run(MODULE, {"group": "contoso", "enabled": True})
    assert result["msg"] == "Firewall rule(s) changed 'A', 'B' - unchanged ''"
    assert all(r["enabled"] for r in guest.firewall_rules.values())
    assert (
        run(MODULE, {"group": "nobody", "state": "absent"})["msg"]
        == "No firewall rules in group 'nobody' exist."
    )
    assert run(MODULE, {"group": "nobody"}) == {"changed": False}


def test_addresses_compare_as_sets(run, guest):
    run(MODULE, {"name": "A", "remoteip": "10.0.0.1,10.0.0.2"})
    assert run(MODULE, {"name": "A", "remoteip": "10.0.0.2,10.0.0.1"})["changed"] is False
    assert run(MODULE, {"name": "A", "remoteip": "10.0.0.3"})["changed"] is True


@pytest.mark.parametrize(
    ("args", "msg"),
    [
        ({}, "Either name or group must be specified"),
        (
            {"name": "A", "localport": "80"},
            'Exception setting "LocalPorts": "The parameter is incorrect. '
            '(Exception from HRESULT: 0x80070057 (E_INVALIDARG))"',
        ),
        ({"name": "A", "protocol": "sctp"}, "Unknown protocol 'sctp'."),
        ({"name": "A", "profiles": ["domain", "work"]}, "Unknown profile 'work'."),
        (
            {"name": "A", "direction": "up"},
            "Get-AnsibleParam: Argument direction needs to be one of in,out but was up.",
        ),
        (
            {"name": "A", "edge": "maybe"},
            "Get-AnsibleParam: Argument edge needs to be one of no,yes,deferapp,deferuser but was maybe.",
        ),
    ],
    ids=["no-name", "port-without-protocol", "protocol", "profile", "direction", "edge"],
)
def test_failures_carry_the_module_s_messages(run, guest, args, msg):
    result = run(MODULE, args)
    assert result["failed"] is True and result["msg"] == msg
    assert guest.firewall_rules == {}


def test_program_is_expanded_and_protocol_numbers_are_kept(run, guest):
    run(MODULE, {"name": "P", "program": "%SystemRoot%\\x.exe", "protocol": "47"})
    rule = _by_name(guest, "P")[0]
    assert rule["program"] == "C:\\Windows\\x.exe" and rule["protocol"] == "47"
    assert run(MODULE, {"name": "P", "program": "%SystemRoot%\\x.exe", "protocol": "47"})["changed"] is False


def test_a_created_rule_whose_name_is_another_rule_s_id_gets_a_guid(run, guest):
    guest.firewall_rules["avd-golden-winrm-https"] = dict(BOOTSTRAP_RULE)
    assert run(MODULE, {"name": "avd-golden-winrm-https"})["changed"] is True
    (new_id,) = set(guest.firewall_rules) - {"avd-golden-winrm-https"}
    assert new_id.startswith("{") and guest.firewall_rules[new_id]["display_name"] == "avd-golden-winrm-https"
    assert guest.firewall_rules["avd-golden-winrm-https"] == BOOTSTRAP_RULE
