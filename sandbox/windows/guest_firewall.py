"""Windows Defender Firewall's inbound decision for one TCP connection (``WindowsState.firewall_rules``).

The rules are kept as Get-NetFirewallRule shows them (the shape described in
sandbox/windows/modules/firewall.py). Inbound traffic is blocked unless an enabled Allow rule
matches it, and an enabled Block rule that matches wins over every Allow (the default inbound
policy of every profile). A rule matches a connection when it is inbound, its protocol is TCP or
Any, its local ports hold the port and its remote addresses hold the source; a missing key has the
COM default (Any).
[Unc] Not modelled: profiles (every profile counts as active), local addresses, edge traversal and
authenticated bypass. A rule bound to a program or a service never matches (the WinRM listener is
HTTP.sys in the System process); a rule naming an address keyword (LocalSubnet, Internet, DNS, ...)
matches nothing for that entry.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

_ANY = {"*", "any", ""}


def inbound_tcp_allowed(rules: Mapping[str, Mapping[str, Any]], source: str, port: int) -> bool:
    """Whether the guest firewall lets a TCP connection from ``source`` reach local ``port``."""
    matching = [r for r in rules.values() if _matches(r, source, port)]
    if any(str(r.get("action", "Allow")).lower() == "block" for r in matching):
        return False
    return bool(matching)


def _matches(rule: Mapping[str, Any], source: str, port: int) -> bool:
    if not rule.get("enabled", False) or str(rule.get("direction", "Inbound")).lower() != "inbound":
        return False
    if str(rule.get("protocol", "Any")).lower() not in ("tcp", "6", "any", "256"):
        return False
    if not _is_any(rule.get("program")) or not _is_any(rule.get("service")):
        return False
    return _port_in(rule.get("local_port"), port) and _address_in(rule.get("remote_address"), source)


def _entries(value: Any) -> list[str]:
    items: Iterable[Any] = value if isinstance(value, list | tuple) else str(value).split(",")
    return [str(item).strip() for item in items]


def _is_any(value: Any) -> bool:
    return value is None or all(entry.lower() in _ANY for entry in _entries(value))


def _port_in(value: Any, port: int) -> bool:
    if _is_any(value):
        return True
    for entry in _entries(value):
        low, _, high = entry.partition("-")
        if low.isdigit() and int(low) <= port <= int(high if high.isdigit() else low):
            return True
    return False


def _address_in(value: Any, source: str) -> bool:
    if _is_any(value):
        return True
    address = ipaddress.ip_address(source)
    for entry in _entries(value):
        low, dash, high = entry.partition("-")
        try:
            if dash:
                if ipaddress.ip_address(low) <= address <= ipaddress.ip_address(high):
                    return True
            elif address in ipaddress.ip_network(entry, strict=False):
                return True
        except (TypeError, ValueError):
            continue  # a keyword (LocalSubnet, Internet, ...) or another family: no match
    return False
