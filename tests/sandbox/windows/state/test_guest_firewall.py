"""The guest firewall's inbound decision (sandbox/windows/guest_firewall.py): blocked unless an
enabled inbound Allow rule matches; a matching Block rule wins."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.windows.guest_firewall import inbound_tcp_allowed

WINRM = {
    "display_name": "WinRM over HTTPS for the avd-golden build",
    "direction": "Inbound",
    "protocol": "TCP",
    "local_port": "5986",
    "remote_address": "127.0.0.1",
    "action": "Allow",
    "profile": "Any",
    "enabled": True,
}


def _rule(**changes: Any) -> dict[str, Any]:
    return {**WINRM, **changes}


@pytest.mark.parametrize(
    ("rules", "source", "port", "allowed"),
    [
        ([], "127.0.0.1", 5986, False),  # the default inbound policy blocks
        ([_rule()], "127.0.0.1", 5986, True),
        ([_rule()], "127.0.0.2", 5986, False),  # another address of the network
        ([_rule()], "127.0.0.1", 5985, False),
        ([_rule(enabled=False)], "127.0.0.1", 5986, False),
        ([_rule(direction="Outbound")], "127.0.0.1", 5986, False),
        ([_rule(protocol="UDP")], "127.0.0.1", 5986, False),
        ([_rule(protocol="Any", local_port="*")], "127.0.0.1", 5986, True),
        ([_rule(remote_address="Any")], "198.51.100.7", 5986, True),  # an unscoped rule admits all
        ([{k: v for k, v in WINRM.items() if k != "remote_address"}], "198.51.100.7", 5986, True),
        ([_rule(remote_address="10.20.0.0/28")], "10.20.0.15", 5986, True),
        ([_rule(remote_address="10.20.0.0/28")], "10.20.0.16", 5986, False),
        ([_rule(remote_address="10.0.0.0/255.255.255.0")], "10.0.0.9", 5986, True),
        ([_rule(remote_address="10.0.0.1-10.0.0.5")], "10.0.0.5", 5986, True),
        ([_rule(remote_address="LocalSubnet")], "127.0.0.1", 5986, False),  # keywords: not modelled
        ([_rule(remote_address="192.0.2.1,127.0.0.1")], "127.0.0.1", 5986, True),
        ([_rule(remote_address=["192.0.2.1", "127.0.0.1"])], "127.0.0.1", 5986, True),
        ([_rule(local_port="5985-5986")], "127.0.0.1", 5986, True),
        ([_rule(program="C:\\x.exe")], "127.0.0.1", 5986, False),
        ([_rule(), _rule(action="Block", remote_address="Any")], "127.0.0.1", 5986, False),  # Block wins
    ],
)
def test_inbound_decision(rules: list[dict[str, Any]], source: str, port: int, allowed: bool) -> None:
    assert inbound_tcp_allowed({str(i): r for i, r in enumerate(rules)}, source, port) is allowed
