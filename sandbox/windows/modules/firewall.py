"""community.windows.win_firewall_rule (3.3.0) over the simulated firewall (WindowsState.firewall_rules).

win_firewall_rule.ps1 works on HNetCfg.FwPolicy2 COM rules: it builds a new rule object from the
options, finds the existing rules by display name (or by group when no name is given), creates,
removes, or sets each property the task passes that differs (Compare-Object for addresses). The
simulation follows it step by step, with the same messages and ``diff.prepared`` text.

The state keeps a rule as Get-NetFirewallRule shows it (the shape the WinRM bootstrap writes):
``{display_name, direction: Inbound|Outbound, action: Allow|Block, protocol: TCP|UDP|ICMPv4|ICMPv6|
Any|<number>, local_port, remote_port, local_address, remote_address, program, service, group,
profile: Any|"Domain, Private", enabled, description, interface_types, edge_traversal,
secure_flags, icmp_type_code}`` (missing keys have the COM defaults), keyed by the rule id (for a
rule this module creates, its display name: see ``_new_rule_id``). ``com_view`` / ``from_com``
convert between the two.
[Unc] COM normalises some values on real Windows (addresses get a mask, ``LocalSubnet`` spellings,
ports of a rule without TCP/UDP read back empty); the simulation stores them as given.
"""

from __future__ import annotations

import uuid
from typing import Any

from sandbox.windows.argspec import build_spec, parse_str
from sandbox.windows.modules import Ctx, ModuleFail, register
from sandbox.windows.modules import _winpath as wp

# The PowerShell reads three options its documentation does not list; Get-AnsibleParam accepts them.
FIREWALL_RULE = build_spec(
    "community.windows.win_firewall_rule",
    "legacy",
    extra_options={
        "interfacetypes": {"type": "list"},
        "edge": {"type": "str", "choices": ["no", "yes", "deferapp", "deferuser"]},
        "security": {
            "type": "str",
            "choices": ["notrequired", "authnoencap", "authenticate", "authdynenc", "authenc"],
        },
    },
)

ALL_PROFILES = 0x7FFFFFFF
# ($fwPropertiesToCompare, the option each one comes from), in the module's order.
PROPERTIES = (
    ("Description", "description"),
    ("Direction", "direction"),
    ("Action", "action"),
    ("ApplicationName", "program"),
    ("Grouping", "group"),
    ("ServiceName", "service"),
    ("Enabled", "enabled"),
    ("Profiles", "profiles"),
    ("LocalAddresses", "localip"),
    ("RemoteAddresses", "remoteip"),
    ("LocalPorts", "localport"),
    ("RemotePorts", "remoteport"),
    ("Protocol", "protocol"),
    ("InterfaceTypes", "interfacetypes"),
    ("EdgeTraversalOptions", "edge"),
    ("SecureFlags", "security"),
    ("IcmpTypesAndCodes", "icmp_type_code"),
)
_PROTOCOL_NAMES = {6: "TCP", 17: "UDP", 1: "ICMPv4", 58: "ICMPv6", 256: "Any"}
_PROFILE_BITS = (("Domain", 1), ("Private", 2), ("Public", 4))
# A new HNetCfg.FWRule's properties (Enabled is false until the module sets it).
NEW_RULE = {
    "Name": None,
    "Description": None,
    "Direction": 1,
    "Action": 1,
    "ApplicationName": None,
    "Grouping": None,
    "ServiceName": None,
    "Enabled": False,
    "Profiles": ALL_PROFILES,
    "LocalAddresses": "*",
    "RemoteAddresses": "*",
    "LocalPorts": "*",
    "RemotePorts": "*",
    "Protocol": 256,
    "InterfaceTypes": "All",
    "EdgeTraversalOptions": 0,
    "SecureFlags": 0,
    "IcmpTypesAndCodes": None,
}


class _Fail(Exception):
    """A throw inside the module's try: Fail-Json with the exception's message."""


# ----------------------------------------------------------------------------------------------
# the stored shape <-> COM properties
# ----------------------------------------------------------------------------------------------
def _profile_bits(profile: str) -> int:
    if profile.strip().lower() == "any":
        return ALL_PROFILES
    names = {p.strip().lower() for p in profile.split(",")}
    total = sum(bit for name, bit in _PROFILE_BITS if name.lower() in names)
    return ALL_PROFILES if total == 7 else total


def _profile_text(bits: int) -> str:
    if bits in (ALL_PROFILES, 7):
        return "Any"
    return ", ".join(name for name, bit in _PROFILE_BITS if bits & bit)


def _protocol_number(text: str) -> int:
    by_name = {v.lower(): k for k, v in _PROTOCOL_NAMES.items()}
    return by_name.get(text.lower(), int(text) if text.isdigit() else 256)


def com_view(rule: dict[str, Any]) -> dict[str, Any]:
    """The COM properties of a stored rule."""
    return {
        "Name": rule.get("display_name"),
        "Description": rule.get("description"),
        "Direction": 2 if str(rule.get("direction", "Inbound")).lower() == "outbound" else 1,
        "Action": 0 if str(rule.get("action", "Allow")).lower() == "block" else 1,
        "ApplicationName": rule.get("program"),
        "Grouping": rule.get("group"),
        "ServiceName": rule.get("service"),
        "Enabled": bool(rule.get("enabled", False)),
        "Profiles": _profile_bits(str(rule.get("profile", "Any"))),
        "LocalAddresses": rule.get("local_address", "*"),
        "RemoteAddresses": rule.get("remote_address", "*"),
        "LocalPorts": rule.get("local_port", "*"),
        "RemotePorts": rule.get("remote_port", "*"),
        "Protocol": _protocol_number(str(rule.get("protocol", "Any"))),
        "InterfaceTypes": rule.get("interface_types", "All"),
        "EdgeTraversalOptions": rule.get("edge_traversal", 0),
        "SecureFlags": rule.get("secure_flags", 0),
        "IcmpTypesAndCodes": rule.get("icmp_type_code"),
    }


def from_com(com: dict[str, Any]) -> dict[str, Any]:
    """The stored shape of COM properties (the bootstrap's keys first)."""
    return {
        "display_name": com["Name"],
        "direction": "Outbound" if com["Direction"] == 2 else "Inbound",
        "protocol": _PROTOCOL_NAMES.get(com["Protocol"], str(com["Protocol"])),
        "local_port": com["LocalPorts"],
        "action": "Allow" if com["Action"] == 1 else "Block",
        "profile": _profile_text(com["Profiles"]),
        "enabled": com["Enabled"],
        "description": com["Description"],
        "program": com["ApplicationName"],
        "service": com["ServiceName"],
        "group": com["Grouping"],
        "remote_port": com["RemotePorts"],
        "local_address": com["LocalAddresses"],
        "remote_address": com["RemoteAddresses"],
        "interface_types": com["InterfaceTypes"],
        "edge_traversal": com["EdgeTraversalOptions"],
        "secure_flags": com["SecureFlags"],
        "icmp_type_code": com["IcmpTypesAndCodes"],
    }


# ----------------------------------------------------------------------------------------------
# ConvertTo-* and the new rule object
# ----------------------------------------------------------------------------------------------
def _protocol(value: str) -> int:
    if value.strip().lstrip("-").isdigit():
        return int(value)
    low = value.lower()
    for prefix, number in (("tcp", 6), ("udp", 17), ("icmpv4", 1), ("icmpv6", 58)):
        if low == prefix or (prefix.startswith("icmp") and low.startswith(prefix)):
            return number
    raise _Fail(f"Unknown protocol '{value}'.")


def _profiles(values: list[Any]) -> int:
    unique = list(dict.fromkeys(parse_str(v) for v in values))  # Select-Object -Unique (case-sensitive)
    bits = {"domain": 1, "private": 2, "public": 4}
    total = 0
    for v in unique:
        if v.lower() not in bits:
            raise _Fail(f"Unknown profile '{v}'.")
        total += bits[v.lower()]
    return ALL_PROFILES if total == 7 else total


def _interface_types(values: list[Any]) -> str:
    names = {"wireless": "Wireless", "lan": "Lan", "ras": "RemoteAccess"}
    out = []
    for v in dict.fromkeys(parse_str(v) for v in values):
        if v.lower() not in names:
            raise _Fail(f"Unknown interface type '{v}'.")
        out.append(names[v.lower()])
    return ",".join(out)


def _set_port_like(rule: dict[str, Any], prop: str, value: str) -> None:
    """Ports need TCP or UDP, ICMP types an ICMP protocol: otherwise COM refuses the property."""
    needs = (6, 17) if prop.endswith("Ports") else (1, 58)
    if rule["Protocol"] not in needs:
        raise _Fail(
            f'Exception setting "{prop}": "The parameter is incorrect. '
            '(Exception from HRESULT: 0x80070057 (E_INVALIDARG))"'
        )
    rule[prop] = value


def new_rule(ctx: Ctx, p: dict[str, Any], icmp: str | None) -> dict[str, Any]:
    """$new_rule: a fresh COM rule with each option the task gives (``any`` leaves the default)."""
    rule = dict(NEW_RULE, Name=p["name"])
    rule["Enabled"] = p["enabled"] if p["enabled"] is not None else True
    if p["description"] is not None:
        rule["Description"] = p["description"]
    if p["group"] is not None:
        rule["Grouping"] = p["group"]
    if p["program"] is not None and p["program"] != "any":
        rule["ApplicationName"] = wp.expand_env(p["program"], ctx.state.env()) or None
    if p["service"] is not None and p["service"] != "any":
        rule["ServiceName"] = p["service"]
    if p["protocol"] is not None and p["protocol"] != "any":
        rule["Protocol"] = _protocol(p["protocol"])
    for option, prop in (("localport", "LocalPorts"), ("remoteport", "RemotePorts")):
        if p[option] is not None and p[option] != "any":
            _set_port_like(rule, prop, p[option])
    for option, prop in (("localip", "LocalAddresses"), ("remoteip", "RemoteAddresses")):
        if p[option] is not None and p[option] != "any":
            rule[prop] = p[option]
    if icmp is not None and icmp != "any":
        _set_port_like(rule, "IcmpTypesAndCodes", icmp)
    if p["direction"] is not None:
        rule["Direction"] = 1 if p["direction"] == "in" else 2
    if p["action"] is not None:
        rule["Action"] = 0 if p["action"] == "block" else 1
    if p["profiles"] is not None:
        rule["Profiles"] = _profiles(p["profiles"])
    if p["interfacetypes"] is not None and [parse_str(v) for v in p["interfacetypes"]] != ["any"]:
        rule["InterfaceTypes"] = _interface_types(p["interfacetypes"])
    if p["edge"] is not None and p["edge"] != "no":
        rule["EdgeTraversalOptions"] = {"yes": 1, "deferapp": 2, "deferuser": 3}[p["edge"]]
    if p["security"] is not None and p["security"] != "notrequired":
        flags = {"authnoencap": 1, "authenticate": 2, "authdynenc": 3, "authenc": 4}
        rule["SecureFlags"] = flags[p["security"]]
    return rule


# ----------------------------------------------------------------------------------------------
# the module
# ----------------------------------------------------------------------------------------------
def _ps(value: Any) -> str:
    """ "$($rule.$prop)": $null is empty, booleans True/False."""
    return "" if value is None else parse_str(value)


def _differs(prop: str, old: Any, new: Any) -> bool:
    """$existingRule.$prop -ne $new_rule.$prop (case-insensitive), addresses as sets (Compare-Object)."""
    if isinstance(old, str) and isinstance(new, str):
        if old.lower() == new.lower():
            return False
        if prop.endswith("Addresses"):
            return sorted(a.lower() for a in old.split(",")) != sorted(a.lower() for a in new.split(","))
        return True
    return bool(old != new)


def _absent(ctx: Ctx, matches: list[str], name: str | None, group: str | None) -> None:
    rules = ctx.state.firewall_rules
    if not matches:
        ctx.result["msg"] = (
            f"Firewall rule '{name}' does not exist."
            if name
            else f"No firewall rules in group '{group}' exist."
        )
        return
    names = []
    for rule_id in matches:
        com = com_view(rules[rule_id])
        names.append(com["Name"])
        if "diff" in ctx.result:
            ctx.result["diff"]["prepared"] += f"-[{com['Name']}]\n" + "".join(
                f"-{prop}='{_ps(com[prop])}'\n" for prop, _ in PROPERTIES
            )
        if not ctx.check_mode:
            rules.pop(rule_id)
        ctx.result["changed"] = True
    ctx.result["msg"] = "Firewall rule(s) '" + "', '".join(names) + "' removed."


def _update(ctx: Ctx, matches: list[str], rule: dict[str, Any], p: dict[str, Any], icmp: Any) -> None:
    changed_rules, unchanged_rules = [], []
    for rule_id in matches:
        existing = com_view(ctx.state.firewall_rules[rule_id])
        if "diff" in ctx.result:
            ctx.result["diff"]["prepared"] += f"[{existing['Name']}]\n"
        changed = False
        for prop, option in PROPERTIES:
            passed = icmp if option == "icmp_type_code" else p[option]
            if passed is None or not _differs(prop, existing[prop], rule[prop]):
                continue
            if "diff" in ctx.result:
                ctx.result["diff"]["prepared"] += (
                    f"-{prop}='{_ps(existing[prop])}'\n+{prop}='{_ps(rule[prop])}'\n"
                )
            existing[prop] = rule[prop]
            changed = True
        if changed:
            if not ctx.check_mode:
                ctx.state.firewall_rules[rule_id] = from_com(existing)
            ctx.result["changed"] = True
            changed_rules.append(existing["Name"])
        else:
            unchanged_rules.append(existing["Name"])
    changed_text, unchanged_text = "', '".join(changed_rules), "', '".join(unchanged_rules)
    ctx.result["msg"] = f"Firewall rule(s) changed '{changed_text}' - unchanged '{unchanged_text}'"


def _new_rule_id(rules: dict[str, Any], name: str) -> str:
    """The state's key of a created rule. Windows gives a COM-created rule a generated {GUID} id that
    no simulated module shows; the state uses the display name, readable in dumps, and a {GUID} only
    when another rule already has that id."""
    return name if name not in rules else "{" + str(uuid.uuid4()).upper() + "}"


@register(FIREWALL_RULE)
def firewall_rule(ctx: Ctx) -> None:
    p = ctx.params
    name, group = p["name"], p["group"]
    if not name and not group:
        raise ModuleFail("Either name or group must be specified")
    if ctx.diff_mode:
        ctx.result["diff"] = {"prepared": ""}
    icmp = ",".join(parse_str(v) for v in p["icmp_type_code"]) if p["icmp_type_code"] is not None else None
    rules = ctx.state.firewall_rules
    try:
        if name:
            matches = [k for k, r in rules.items() if str(r.get("display_name", "")).lower() == name.lower()]
        else:
            matches = [k for k, r in rules.items() if str(r.get("group") or "").lower() == group.lower()]
        rule = new_rule(ctx, p, icmp)
        if p["state"] == "absent":
            _absent(ctx, matches, name, group)
        elif not matches and name:
            if "diff" in ctx.result:
                ctx.result["diff"]["prepared"] += f"+[{rule['Name']}]\n" + "".join(
                    f"+{prop}='{_ps(rule[prop])}'\n" for prop, _ in PROPERTIES
                )
            if not ctx.check_mode:
                rules[_new_rule_id(rules, name)] = from_com(rule)
            ctx.result["changed"] = True
            ctx.result["msg"] = f"Firewall rule '{name}' created."
        elif matches:
            _update(ctx, matches, rule, p, icmp)
    except _Fail as err:
        raise ModuleFail(str(err), exception=f"{err}\r\n") from None
