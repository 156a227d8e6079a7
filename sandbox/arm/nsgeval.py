"""Inbound NSG evaluation the way Azure does it, for the guests' WinRM listeners.

Inbound traffic to a NIC passes the subnet's NSG first, then the NIC's NSG; each NSG is evaluated
by ascending priority (custom rules, then the default rules) and the first matching rule decides.
A missing NSG allows everything. Destination addresses are the NIC's private IP (NSGs see traffic
after the public IP's NAT). The sandbox cannot know the client's source port, so a rule restricted
to source ports never matches.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.arm.core import Arm

AZURE_LB = ipaddress.ip_address("168.63.129.16")


def _prefix_match(prefix: str, addr: ipaddress.IPv4Address, vnet_nets: list[ipaddress.IPv4Network]) -> bool:
    p = prefix.lower()
    in_vnet = any(addr in n for n in vnet_nets)
    if p in ("*", "any", "0.0.0.0/0"):
        return True
    if p == "internet":
        return not in_vnet and addr != AZURE_LB
    if p == "virtualnetwork":
        return in_vnet
    if p == "azureloadbalancer":
        return addr == AZURE_LB
    try:
        return addr in ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        return False  # another service tag: none of them covers a loopback client


def _port_match(ranges: list[str], port: int) -> bool:
    for r in ranges:
        if r == "*":
            return True
        lo, _, hi = r.partition("-")
        if int(lo) <= port <= int(hi or lo):
            return True
    return False


def _rules(arm: Arm, nsg_id: str) -> list[dict[str, Any]]:
    nsg = arm.render(arm.get(nsg_id))
    if nsg is None:
        return []
    rules = [r["properties"] | {"name": r["name"]} for r in nsg["properties"].get("securityRules", [])]
    rules += [
        r["properties"] | {"name": r["name"]} for r in nsg["properties"].get("defaultSecurityRules", [])
    ]
    return sorted((r for r in rules if r["direction"] == "Inbound"), key=lambda r: r["priority"])


def evaluate(
    arm: Arm,
    nsg_id: str,
    source: ipaddress.IPv4Address,
    dest: ipaddress.IPv4Address,
    port: int,
    vnet_nets: list[ipaddress.IPv4Network],
) -> tuple[bool, str]:
    """(allowed, deciding rule name) for one NSG."""
    for r in _rules(arm, nsg_id):
        if r["protocol"] not in ("*", "Tcp"):
            continue
        sources = r.get("sourceAddressPrefixes") or [r.get("sourceAddressPrefix", "")]
        dests = r.get("destinationAddressPrefixes") or [r.get("destinationAddressPrefix", "")]
        sports = r.get("sourcePortRanges") or [r.get("sourcePortRange", "")]
        dports = r.get("destinationPortRanges") or [r.get("destinationPortRange", "")]
        if sports != ["*"]:
            continue
        if not any(_prefix_match(s, source, vnet_nets) for s in sources):
            continue
        if not any(_prefix_match(d, dest, vnet_nets) for d in dests):
            continue
        if not _port_match(dports, port):
            continue
        return r["access"] == "Allow", r["name"]
    return False, "(none)"


def inbound_allowed(arm: Arm, vm_lid: str, source_address: str, port: int) -> bool:
    """Whether inbound TCP `port` from `source_address` reaches the VM's primary NIC."""
    vm = arm.get(vm_lid)
    if vm is None:
        return False
    try:
        source = ipaddress.ip_address(source_address)
    except ValueError:
        return False
    for ref in vm["properties"]["networkProfile"]["networkInterfaces"]:
        nic = arm.get(ref["id"])
        if nic is None:
            continue
        ipc = next(
            (i for i in nic["properties"]["ipConfigurations"] if i["properties"].get("primary")),
            nic["properties"]["ipConfigurations"][0],
        )
        dest = ipaddress.ip_address(ipc["properties"]["privateIPAddress"])
        subnet = arm.get(ipc["properties"]["subnet"]["id"])
        vnet = arm.get(ipc["properties"]["subnet"]["id"].rsplit("/", 2)[0])
        vnet_nets = [
            ipaddress.ip_network(p)
            for p in (vnet or {}).get("properties", {}).get("addressSpace", {}).get("addressPrefixes", [])
        ]
        # 127.0.0.0/8 stands for the controller's public address: never inside the VNet.
        checks = []
        if subnet is not None and subnet["properties"].get("networkSecurityGroup"):
            checks.append(subnet["properties"]["networkSecurityGroup"]["id"])
        if nic["properties"].get("networkSecurityGroup"):
            checks.append(nic["properties"]["networkSecurityGroup"]["id"])
        for nsg_id in checks:
            allowed, _rule = evaluate(arm, nsg_id, source, dest, port, vnet_nets)
            if not allowed:
                return False
        return True
    return False
