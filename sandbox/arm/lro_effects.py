"""What happens when a long-running operation finishes (or fails)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.arm.handlers import ResourceHandler

if TYPE_CHECKING:
    from sandbox.arm.core import Arm

# Order in which a resource group's contents are removed (dependents first), like ARM's
# dependency-aware group deletion.
RG_DELETE_ORDER = [
    "microsoft.compute/galleries/images/versions",
    "microsoft.compute/virtualmachines",
    "microsoft.network/networkinterfaces",
    "microsoft.network/publicipaddresses",
    "microsoft.network/virtualnetworks/subnets",
    "microsoft.network/virtualnetworks",
    "microsoft.network/networksecuritygroups/securityrules",
    "microsoft.network/networksecuritygroups",
    "microsoft.compute/disks",
    "microsoft.compute/galleries/images",
    "microsoft.compute/galleries",
]


def _handler(arm: Arm, res: dict[str, Any]) -> ResourceHandler:
    spec = arm.types.get(res["type"].lower())
    return spec.handler if spec else ResourceHandler()


def succeed(arm: Arm, op: dict[str, Any]) -> Any:
    kind = op["kind"]
    res = arm.get(op["rid"])
    if kind == "put":
        if res is None:
            return None
        res["properties"]["provisioningState"] = "Succeeded"
        _handler(arm, res).on_provisioned(arm, res, op["args"].get("created", False))
        return None
    if kind == "delete":
        if res is not None:
            delete_resource(arm, res["id"])
        return None
    if kind == "rgdelete":
        if res is not None:
            delete_group(arm, res)
        return None
    if kind == "action":
        if res is None:
            return None
        return _handler(arm, res).complete_action(arm, res, op["action"], op["args"])
    raise AssertionError(kind)


def fail(arm: Arm, op: dict[str, Any]) -> None:
    res = arm.get(op["rid"])
    if res is None:
        return
    if op["kind"] in ("put", "delete"):
        res["properties"]["provisioningState"] = "Failed"
        if op.get("failed_region"):
            arm.meta(res["id"])["failed_region"] = op["failed_region"]
        if op["kind"] == "put":
            _handler(arm, res).on_failed(arm, res)
    elif op["kind"] == "rgdelete":
        res["properties"]["provisioningState"] = "Succeeded"
    elif op["kind"] == "action":
        _handler(arm, res).fail_action(arm, res, op["action"], op["args"])


def delete_resource(arm: Arm, rid: str) -> None:
    """Remove a resource, its nested children first, and clear its back-references."""
    res = arm.get(rid)
    if res is None:
        return
    for child in arm.children(rid):
        delete_resource(arm, child["id"])
    _handler(arm, res).on_deleted(arm, res)
    arm.remove(rid)


def delete_group(arm: Arm, rg: dict[str, Any]) -> None:
    """Delete everything in the group (dependents first), then the group."""
    contents = arm.in_rg(rg["name"])
    rank = {t: i for i, t in enumerate(RG_DELETE_ORDER)}
    for res in sorted(contents, key=lambda r: rank.get(r["type"].lower(), len(rank))):
        if arm.get(res["id"]) is not None:
            delete_resource(arm, res["id"])
    arm.remove(rg["id"])
