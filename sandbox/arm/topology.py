"""How stored resources refer to each other across providers (a VM's NICs, a NIC's ip
configurations, their subnets and public IPs), computed from the forward references so that
back-references can never go stale. Both the network and the compute provider use it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.arm.core import Arm

VM = "Microsoft.Compute/virtualMachines"
NIC = "Microsoft.Network/networkInterfaces"
SUBNET = "Microsoft.Network/virtualNetworks/subnets"

Resource = dict[str, Any]


def power_of(arm: Arm, vm: Resource) -> str:
    return arm.internal.get(vm["id"].lower(), {}).get("power", "running")


def nics(arm: Arm) -> list[Resource]:
    return [r for r in arm.resources.values() if r["type"] == NIC]


def ipconfigs_using(arm: Arm, key: str, target_id: str) -> list[str]:
    """Ids of NIC ip configurations whose properties[key].id is target_id."""
    out = []
    low = target_id.lower()
    for nic in nics(arm):
        for ipc in nic["properties"].get("ipConfigurations", []):
            ref = ipc["properties"].get(key) or {}
            if str(ref.get("id", "")).lower() == low:
                out.append(ipc["id"])
    return out


def vm_using_nic(arm: Arm, nic_id: str) -> Resource | None:
    low = nic_id.lower()
    for r in arm.resources.values():
        if r["type"] != VM:
            continue
        for ref in r["properties"].get("networkProfile", {}).get("networkInterfaces", []):
            if str(ref.get("id", "")).lower() == low:
                return r
    return None


def vm_public_ips(arm: Arm, vm: Resource) -> list[Resource]:
    """The public IPs on the ip configurations of a VM's NICs, primary NIC first."""
    out = []
    for nic_ref in vm["properties"].get("networkProfile", {}).get("networkInterfaces", []):
        nic = arm.get(nic_ref.get("id"))
        if not nic:
            continue
        for ipc in nic["properties"].get("ipConfigurations", []):
            pip = arm.get((ipc["properties"].get("publicIPAddress") or {}).get("id"))
            if pip:
                out.append(pip)
    return out


def vm_public_address(arm: Arm, vm_lid: str) -> str | None:
    """The address of the first of a VM's public IPs that has one."""
    vm = arm.resources.get(vm_lid.lower())
    if not vm:
        return None
    for pip in vm_public_ips(arm, vm):
        address = arm.internal.get(pip["id"].lower(), {}).get("address")
        if address:
            return address
    return None


def sync_dynamic_pips(arm: Arm, vm: Resource) -> None:
    """Dynamic public IPs get an address while their VM is allocated (running or stopped)."""
    allocated = power_of(arm, vm) != "deallocated"
    for pip in vm_public_ips(arm, vm):
        if pip["properties"]["publicIPAllocationMethod"] != "Dynamic":
            continue
        meta = arm.meta(pip["id"])
        if allocated and not meta.get("address"):
            meta["address"] = arm.allocate_address()
        elif not allocated:
            meta.pop("address", None)
