"""Microsoft.Resources: resource groups and the listing of a group's resources; subscription-level
location routes (LRO status documents, VM sizes, marketplace images)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.arm import apiversions, catalog, errors, names, validate
from sandbox.arm.errors import (
    BadRequest,
    Conflict,
    NotFound,
    Unmodelled,
    json_object_required,
    missing_api_version,
)
from sandbox.arm.handlers import Registry, SubscriptionRoutes
from sandbox.arm.values import Request, Response

if TYPE_CHECKING:
    from sandbox.arm.core import Arm

RG_API = "2022-09-01"
rg_not_found = errors.resource_group_not_found


class ResourceGroupRoutes(SubscriptionRoutes):
    """Resource groups are routed directly (they are not under /providers/)."""

    def list_groups(self, arm: Arm, req: Request) -> Response:
        return list_groups(arm, req)

    def resource_group(self, arm: Arm, req: Request, name: str) -> Response:
        return resource_group(arm, req, name)

    def list_resources(self, arm: Arm, req: Request, rg: dict[str, Any]) -> Response:
        return list_resources(arm, req, rg)

    def location(
        self, arm: Arm, req: Request, provider: str, location: str, rest: list[str], raw: list[str]
    ) -> Response:
        return location_route(arm, req, provider, location, rest, raw)


def register(registry: Registry) -> None:
    registry.subscription_routes = ResourceGroupRoutes()


def _check_api(req: Request, allowed: tuple[str, ...] = (RG_API,)) -> None:
    if not req.api_version:
        raise missing_api_version()
    if req.api_version not in allowed:
        apiversions.refuse_unknown(apiversions.ARM, req.api_version)
        raise Unmodelled(
            f"api-version '{req.api_version}' of Microsoft.Resources/resourceGroups is not modelled"
        )


def _group_location(arm: Arm, location: Any) -> str:
    """A resource group's location: ARM's own code for one it does not have."""
    try:
        return arm.check_location(location)
    except BadRequest as exc:
        if exc.code != "LocationNotAvailableForResourceType":
            raise
        raise BadRequest(
            "LocationNotAvailableForResourceGroup",
            f"The provided location '{location}' is not available for resource group. List of available "
            f"regions is '{','.join(catalog.LOCATIONS)}'.",
        ) from exc


def list_groups(arm: Arm, req: Request) -> Response:
    _check_api(req, (RG_API, "2024-11-01"))  # 2024-11-01: az group list (azure-cli 2.91)
    if req.method != "GET":
        raise Unmodelled(f"{req.method} {req.path} is not modelled")
    items = [arm.render(r) for r in arm.resources.values() if r["type"] == RG]
    return Response(200, {"value": items})


RG = "Microsoft.Resources/resourceGroups"
FORCE_DELETION_TYPES = ("Microsoft.Compute/virtualMachines", "Microsoft.Compute/virtualMachineScaleSets")


def _being_deleted(name: str) -> Conflict:
    return Conflict(
        "ResourceGroupBeingDeleted",
        f"The resource group '{name}' is in deprovisioning state and cannot perform this operation.",
    )


def resource_group(arm: Arm, req: Request, name: str) -> Response:
    _check_api(req)
    existing = arm.get(arm.rg_id(name))
    if req.method in ("GET", "HEAD"):
        return _read_group(arm, req, name, existing)
    if req.method == "PUT":
        return _put_group(arm, req, name, existing)
    if existing is None and req.method in ("PATCH", "DELETE"):
        raise rg_not_found(name)
    if req.method == "PATCH":
        assert existing is not None
        body = req.body if isinstance(req.body, dict) else {}
        validate.check_members(body, f"resources/{RG_API}/ResourceGroupPatchable", "ResourceGroupPatchable")
        if "tags" in body:
            existing["tags"] = validate.tags(body["tags"] or {})
        return Response(200, arm.render(existing))
    if req.method == "DELETE":
        assert existing is not None
        return _delete_group(arm, req, name, existing)
    raise Unmodelled(f"{req.method} on {RG} is not modelled")


def _read_group(arm: Arm, req: Request, name: str, existing: dict[str, Any] | None) -> Response:
    """GET/HEAD: a read also advances a pending delete (the group may be gone after it)."""
    op = arm.pending_op_for(existing["id"]) if existing is not None else None
    if op:
        arm.observe(op)
    if existing is None or arm.get(existing["id"]) is None:
        if req.method == "HEAD":
            return Response(404)
        raise rg_not_found(name)
    return Response(204) if req.method == "HEAD" else Response(200, arm.render(existing))


def _put_group(arm: Arm, req: Request, name: str, existing: dict[str, Any] | None) -> Response:
    body = req.body
    if not isinstance(body, dict):
        raise json_object_required()
    validate.check_members(body, f"resources/{RG_API}/ResourceGroup", "ResourceGroup")
    names.check_resource_group(name)
    location = _group_location(arm, body.get("location"))
    if existing is not None:
        if existing["location"] != location:
            raise Conflict(
                "InvalidResourceGroupLocation",
                f"Invalid resource group location '{body.get('location')}'. The Resource group already "
                f"exists in location '{existing['location']}'.",
            )
        if existing["properties"]["provisioningState"] == "Deleting":
            raise _being_deleted(name)
    res = {
        "id": existing["id"] if existing else arm.rg_id(name),
        "name": existing["name"] if existing else name,
        "type": RG,
        "location": location,
        "properties": {"provisioningState": "Succeeded"},
    }
    if body.get("tags") is not None:
        res["tags"] = validate.tags(body["tags"])
    if body.get("managedBy"):
        res["managedBy"] = body["managedBy"]
    arm.store(res)
    return Response(200 if existing else 201, arm.render(res))


def _delete_group(arm: Arm, req: Request, name: str, existing: dict[str, Any]) -> Response:
    """DELETE: a long-running operation (Location header only) that removes the contents first."""
    forced = req.query.get("forceDeletionTypes")
    if forced and forced not in FORCE_DELETION_TYPES:
        raise BadRequest("InvalidForceDeletionTypes", f"Unsupported forceDeletionTypes '{forced}'.")
    if arm.pending_op_for(existing["id"]):
        raise _being_deleted(name)
    existing["properties"]["provisioningState"] = "Deleting"
    _opid, headers = arm.start_op(
        req, "Microsoft.Resources", existing["location"], "rgdelete", existing["id"], location_only=True
    )
    return Response(202, None, headers)


def list_resources(arm: Arm, req: Request, rg: dict[str, Any]) -> Response:
    _check_api(req)
    if req.method != "GET":
        raise Unmodelled(f"{req.method} {req.path} is not modelled")
    out = []
    for res in sorted(arm.in_rg(rg["name"]), key=lambda r: r["id"].lower()):
        spec = arm.types.get(res["type"].lower())
        if spec is None or not spec.tracked:
            continue
        item = {
            k: res[k]
            for k in ("id", "name", "type", "location", "tags", "sku", "managedBy", "kind")
            if k in res
        }
        out.append(item)
    return Response(200, {"value": out})


CATALOG_API = "2024-07-01"


def location_route(
    arm: Arm, req: Request, provider: str, location: str, rest: list[str], raw: list[str]
) -> Response:
    """/subscriptions/{sub}/providers/{provider}/locations/{loc}/...

    rest/raw: the lower-case / original segments after the location."""
    if req.method != "GET":
        raise Unmodelled(f"{req.method} {req.path} is not modelled")
    if provider.lower() != "microsoft.compute":
        raise Unmodelled(f"route GET {req.path} is not modelled")
    loc = arm.check_location(location)
    if rest == ["vmsizes"]:
        if req.api_version != CATALOG_API:
            apiversions.refuse_unknown("microsoft.compute/locations/vmsizes", req.api_version)
            raise Unmodelled(f"api-version '{req.api_version}' of vmSizes is not modelled")
        return Response(200, {"value": [_vm_size(s) for s in catalog.VM_SIZES]})
    # publishers/{p}/artifacttypes/vmimage/offers/{o}/skus/{s}/versions[/{v}]
    if (
        len(rest) in (9, 10)
        and rest[0] == "publishers"
        and rest[2:4] == ["artifacttypes", "vmimage"]
        and rest[4] == "offers"
        and rest[6] == "skus"
        and rest[8] == "versions"
    ):
        if req.api_version != CATALOG_API:
            apiversions.refuse_unknown("microsoft.compute/locations/publishers", req.api_version)
            raise Unmodelled(f"api-version '{req.api_version}' of virtualMachineImages is not modelled")
        return _image_versions(arm, loc, raw[1], raw[5], raw[7], raw[9] if len(rest) == 10 else None)
    raise Unmodelled(f"route GET {req.path} is not modelled")


def _vm_size(s: catalog.VmSize) -> dict[str, Any]:
    return {
        "name": s.name,
        "numberOfCores": s.cores,
        "osDiskSizeInMB": 1047552,
        "resourceDiskSizeInMB": s.resource_disk_mb,
        "memoryInMB": s.memory_mb,
        "maxDataDiskCount": s.max_data_disks,
    }


def _image_versions(arm: Arm, loc: str, pub: str, offer: str, sku: str, version: str | None) -> Response:
    """The versions of a marketplace SKU, or one version (``latest`` is not a version here)."""
    entry = catalog.find_sku(pub, offer, sku)
    base = (
        f"/Subscriptions/{arm.sub}/Providers/Microsoft.Compute/Locations/{loc}/Publishers/{pub}"
        f"/ArtifactTypes/VMImage/Offers/{offer}/Skus/{sku}/Versions"
    )
    if version is None:
        if entry is None:
            raise NotFound(
                "PlatformImageNotFound",
                f"The platform image '{pub}:{offer}:{sku}' is not available. Verify that all fields in the "
                "storage profile are correct.",
            )
        return Response(200, [{"location": loc, "name": v, "id": f"{base}/{v}"} for v in entry.versions])
    exact = catalog.resolve_version(entry, version) if entry else None
    if entry is None or exact is None or version.lower() == "latest":
        raise NotFound(
            "PlatformImageNotFound",
            f"Artifact: VMImage was not found. The platform image '{pub}:{offer}:{sku}:{version}' is not "
            "available.",
        )
    return Response(200, _image_version(entry, loc, exact, f"{base}/{exact}"))


def _image_version(entry: catalog.MarketplaceSku, loc: str, exact: str, vid: str) -> dict[str, Any]:
    return {
        "location": loc,
        "name": exact,
        "id": vid,
        "properties": {
            "hyperVGeneration": entry.hyper_v_generation,
            "architecture": "x64",
            "osDiskImage": {"operatingSystem": entry.os_type, "sizeInGb": entry.os_disk_gb},
            "dataDiskImages": [],
            "automaticOSUpgradeProperties": {"automaticOSUpgradeSupported": False},
            "imageDeprecationStatus": {"imageState": "Active"},
            "features": [
                {"name": "SecurityType", "value": entry.security_feature},
                {"name": "IsAcceleratedNetworkSupported", "value": "True"},
                {"name": "DiskControllerTypes", "value": "SCSI, NVMe"},
                {"name": "IsHibernateSupported", "value": "True"},
            ],
        },
    }
