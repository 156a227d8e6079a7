"""Microsoft.Compute galleries (2019-07-01 / 2022-03-03 as GenericRestClient sends them; 2019-03-01
for the _info modules' GETs), image definitions (2022-03-03, 2023-07-03) and image versions
(2023-07-03, from a generalized VM)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sandbox.arm import names, validate
from sandbox.arm.catalog import LOCATIONS
from sandbox.arm.errors import (
    Conflict,
    InvalidParameter,
    NotFound,
    OperationNotAllowed,
    PropertyChangeNotAllowed,
    Unmodelled,
    missing_parameter,
    nested_resources_exist,
)
from sandbox.arm.handlers import Registry, ResourceHandler, TypeSpec
from sandbox.arm.values import Request, utcnow

if TYPE_CHECKING:
    from sandbox.arm.core import Arm

GALLERY = "Microsoft.Compute/galleries"
IMAGE = "Microsoft.Compute/galleries/images"
VERSION = "Microsoft.Compute/galleries/images/versions"
VM = "Microsoft.Compute/virtualMachines"

SECURITY_TYPES = [
    "Standard",
    "TrustedLaunch",
    "TrustedLaunchSupported",
    "ConfidentialVM",
    "ConfidentialVMSupported",
    "TrustedLaunchAndConfidentialVmSupported",
]
REPLICA_STORAGE = ["Standard_LRS", "Standard_ZRS", "Premium_LRS"]


def register(registry: Registry) -> None:
    def m(
        schema: str | None, patch: str | None = None, extra: dict[str, str | None] | None = None
    ) -> dict[str, str | None]:
        out: dict[str, str | None] = {"GET": None, "DELETE": None, "LIST": None}
        if schema:
            out["PUT"] = schema
        if patch:
            out["PATCH"] = patch
        out.update(extra or {})
        return out

    registry.add(
        TypeSpec(
            GALLERY,
            {
                "2019-07-01": m("compute/2019-07-01/Gallery", "compute/2019-07-01/Gallery"),
                "2022-03-03": m("compute/2022-03-03/Gallery", "compute/2022-03-03/Gallery"),
                "2019-03-01": {"GET": None, "LIST": None},
            },
            GalleryHandler(),
        ),
        TypeSpec(
            IMAGE,
            {
                "2022-03-03": m("compute/2022-03-03/GalleryImage", "compute/2022-03-03/GalleryImage"),
                "2023-07-03": m("compute/2023-07-03/GalleryImage"),
                "2019-03-01": {"GET": None, "LIST": None},
            },
            ImageHandler(),
            tracked=False,
        ),
        TypeSpec(
            VERSION,
            {
                "2023-07-03": m(
                    "compute/2023-07-03/GalleryImageVersion", "compute/2023-07-03/GalleryImageVersionUpdate"
                ),
                "2019-03-01": {"GET": None, "LIST": None},
                "2024-03-03": {"LIST": None},  # az sig image-version list (azure-cli 2.91)
            },
            VersionHandler(),
            tracked=False,
        ),
    )


def _props(body: dict[str, Any]) -> dict[str, Any]:
    p = body.get("properties")
    return p if isinstance(p, dict) else {}


def _immutable(existing: dict[str, Any] | None, new: dict[str, Any], keys: list[str]) -> None:
    if existing is None:
        return
    for key in keys:
        old = validate.get(existing, key)
        val = validate.get(new, key)
        same = old.lower() == val.lower() if isinstance(old, str) and isinstance(val, str) else old == val
        if not same:
            raise PropertyChangeNotAllowed(key.rsplit(".", 1)[-1], target=key)


def _location_of_parent(arm: Arm, body: dict[str, Any], parent: dict[str, Any], what: str) -> str:
    """A nested gallery resource lives in its gallery's location."""
    location = arm.check_location(body.get("location"))
    if location != parent["location"]:
        raise InvalidParameter(
            f"{what} '{location}' must be the gallery's location '{parent['location']}'.", target="location"
        )
    return location


def _date(value: Any, field: str) -> str:
    try:
        d = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidParameter(f"The value '{value}' of {field} is not a valid date.", target=field) from exc
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.UTC)
    if d < dt.datetime.now(dt.UTC):
        raise InvalidParameter(f"The {field} '{value}' must be in the future.", target=field)
    return d.strftime("%Y-%m-%dT%H:%M:%S+00:00")


class GalleryHandler(ResourceHandler):
    def build(self, arm: Arm, req: Request, rid: str, existing: dict[str, Any] | None) -> dict[str, Any]:
        body = req.body
        name = rid.rsplit("/", 1)[-1]
        names.check_gallery_name(name)
        location = arm.check_location(body.get("location"))
        if existing is not None and existing["location"] != location:
            raise PropertyChangeNotAllowed(
                "location",
                target="location",
            )
        props = _props(body)
        for key in ("sharingProfile", "softDeletePolicy", "sharingStatus"):
            if props.get(key):
                raise Unmodelled(f"gallery property {key} is not modelled")
        res: dict[str, Any] = {
            "id": existing["id"] if existing else rid,
            "name": existing["name"] if existing else name,
            "type": GALLERY,
            "location": location,
            "properties": {
                "identifier": {"uniqueName": f"{arm.sub[:8].upper()}-{name.upper()}"},
                "provisioningState": "Creating",
            },
        }
        if props.get("description") is not None:
            res["properties"]["description"] = str(props["description"])
        tags = validate.body_tags(body)
        if tags is not None:
            res["tags"] = tags
        return res

    def patch(self, arm: Arm, req: Request, existing: dict[str, Any]) -> dict[str, Any]:
        body = req.body
        props = _props(body)
        if body.get("tags") is not None:
            existing["tags"] = validate.body_tags(body) or {}
        if props.get("description") is not None:
            existing["properties"]["description"] = str(props["description"])
        return existing

    def check_delete(self, arm: Arm, req: Request, res: dict[str, Any]) -> None:
        if arm.children(res["id"]):
            raise nested_resources_exist(res["id"])


IMMUTABLE_IMAGE_PROPERTIES = [
    "properties.osType",
    "properties.osState",
    "properties.hyperVGeneration",
    "properties.identifier.publisher",
    "properties.identifier.offer",
    "properties.identifier.sku",
    "properties.architecture",
]
OTHER_IMAGE_FEATURES = ("IsAcceleratedNetworkSupported", "DiskControllerTypes", "IsHibernateSupported")


def _image_identifier(arm: Arm, gallery: dict[str, Any], name: str, props: dict[str, Any]) -> dict[str, Any]:
    """publisher/offer/sku, required and unique in the gallery."""
    ident = props.get("identifier") or {}
    for k in ("publisher", "offer", "sku"):
        v = ident.get(k)
        if not v:
            raise missing_parameter(f"identifier.{k}", target=f"identifier.{k}")
        if len(str(v)) > 128:
            raise InvalidParameter(f"identifier.{k} is longer than 128 characters.", target=f"identifier.{k}")
    for sibling in arm.children(gallery["id"]):
        if sibling["name"].lower() == name.lower():
            continue
        sid = sibling["properties"]["identifier"]
        if all(str(sid[k]).lower() == str(ident[k]).lower() for k in ("publisher", "offer", "sku")):
            raise Conflict(
                "GalleryImageDefinitionIdentifierAlreadyExists",
                f"Gallery image definition '{sibling['name']}' already uses the identifier "
                f"{ident['publisher']}/{ident['offer']}/{ident['sku']} in this gallery.",
            )
    return {k: ident[k] for k in ("publisher", "offer", "sku")}


def _image_feature(f: dict[str, Any], gen: str) -> dict[str, str]:
    fname, fval = f.get("name"), f.get("value")
    if fname == "SecurityType":
        fval = validate.enum({"v": fval}, "v", SECURITY_TYPES)
        if fval != "Standard" and gen != "V2":
            raise InvalidParameter(
                f"The security type '{fval}' is only supported for HyperVGeneration V2 images.",
                target="features",
            )
        if fval.startswith("Confidential"):
            raise Unmodelled("confidential VM gallery images are not modelled")
    elif fname not in OTHER_IMAGE_FEATURES:
        raise InvalidParameter(f"The feature '{fname}' is not supported.", target="features")
    return {"name": str(fname), "value": str(fval)}


def _image_features(props: dict[str, Any], gen: str) -> list[dict[str, str]]:
    features = []
    names = set()
    for f in props.get("features") or []:
        fname, fval = f.get("name"), f.get("value")
        if not fname or fval is None:
            raise InvalidParameter("Each gallery image feature needs a name and a value.", target="features")
        if fname.lower() in names:
            raise InvalidParameter(f"Feature '{fname}' is specified more than once.", target="features")
        names.add(fname.lower())
        features.append(_image_feature(f, gen))
    return features


def _image_properties(arm: Arm, gallery: dict[str, Any], name: str, props: dict[str, Any]) -> dict[str, Any]:
    os_type = validate.enum(props, "osType", ["Windows", "Linux"])
    os_state = validate.enum(props, "osState", ["Generalized", "Specialized"])
    if os_type is None:
        raise missing_parameter("osType", target="osType")
    if os_state is None:
        raise missing_parameter("osState", target="osState")
    ident = _image_identifier(arm, gallery, name, props)
    gen = validate.enum(props, "hyperVGeneration", ["V1", "V2"]) or "V1"
    arch = validate.enum(props, "architecture", ["x64", "Arm64"]) or "x64"
    features = _image_features(props, gen)
    if props.get("purchasePlan") or props.get("disallowed"):
        raise Unmodelled("gallery image purchasePlan/disallowed are not modelled")
    p: dict[str, Any] = {
        "osType": os_type,
        "osState": os_state,
        "identifier": ident,
        "hyperVGeneration": gen,
        "architecture": arch,
        "provisioningState": "Creating",
    }
    if features:
        p["features"] = features
    for key in ("description", "eula", "privacyStatementUri", "releaseNoteUri"):
        if props.get(key) is not None:
            p[key] = str(props[key])
    if props.get("endOfLifeDate"):
        p["endOfLifeDate"] = _date(props["endOfLifeDate"], "endOfLifeDate")
    if props.get("recommended"):
        p["recommended"] = props["recommended"]
    return p


class ImageHandler(ResourceHandler):
    def build(self, arm: Arm, req: Request, rid: str, existing: dict[str, Any] | None) -> dict[str, Any]:
        body = req.body
        name = rid.rsplit("/", 1)[-1]
        names.check_image_definition_name(rid.split("/")[-3], name)
        gallery = arm.get(rid.rsplit("/", 2)[0])
        assert gallery is not None
        location = _location_of_parent(arm, body, gallery, "The gallery image location")
        res: dict[str, Any] = {
            "id": existing["id"] if existing else rid,
            "name": existing["name"] if existing else name,
            "type": IMAGE,
            "location": location,
            "properties": _image_properties(arm, gallery, name, _props(body)),
        }
        tags = validate.body_tags(body)
        if tags is not None:
            res["tags"] = tags
        _immutable(existing, res, IMMUTABLE_IMAGE_PROPERTIES)
        if existing is not None and _security_type(existing) != _security_type(res):
            raise PropertyChangeNotAllowed("features", target="properties.features")
        return res

    def patch(self, arm: Arm, req: Request, existing: dict[str, Any]) -> dict[str, Any]:
        raise Unmodelled("PATCH of a gallery image definition is not modelled")

    def check_delete(self, arm: Arm, req: Request, res: dict[str, Any]) -> None:
        if arm.children(res["id"]):
            raise nested_resources_exist(res["id"])


def _security_type(image: dict[str, Any]) -> str:
    for f in image["properties"].get("features") or []:
        if f["name"] == "SecurityType":
            return f["value"]
    return "Standard"


def _check_regions(
    arm: Arm, regions: Any, location: str, default_count: int, default_sa: str
) -> list[dict[str, Any]]:
    out = []
    seen = set()
    for i, r in enumerate(regions or []):
        name = r.get("name")
        loc = arm.check_location(name, target=f"publishingProfile.targetRegions[{i}].name")
        if loc in seen:
            raise InvalidParameter(
                f"Target region '{name}' is specified more than once.",
                target="publishingProfile.targetRegions",
            )
        seen.add(loc)
        count = r.get("regionalReplicaCount", default_count)
        if not isinstance(count, int) or not 1 <= count <= 100:
            raise InvalidParameter(
                f"The regional replica count {count} of region '{name}' must be an integer from 1 to 100.",
                target=f"publishingProfile.targetRegions[{i}].regionalReplicaCount",
            )
        sa = validate.enum(r, "storageAccountType", REPLICA_STORAGE) or default_sa
        if r.get("encryption") or r.get("confidentialVMEncryptionType"):
            raise Unmodelled("target region encryption is not modelled")
        entry: dict[str, Any] = {
            "name": arm_location_display(loc),
            "regionalReplicaCount": count,
            "storageAccountType": sa,
        }
        if r.get("excludeFromLatest") is not None:
            entry["excludeFromLatest"] = bool(r["excludeFromLatest"])
        out.append(entry)
    if not out:
        out = [
            {
                "name": arm_location_display(location),
                "regionalReplicaCount": default_count,
                "storageAccountType": default_sa,
            }
        ]
    if location not in seen and regions:
        raise InvalidParameter(
            f"The target regions of a gallery image version must include its location '{location}'.",
            target="publishingProfile.targetRegions",
        )
    return out


def arm_location_display(loc: str) -> str:
    return LOCATIONS.get(loc, loc)


SOURCE_VM = "properties.storageProfile.source.virtualMachineId"
# VM security type -> the image definition security types a version from it may have.
COMPATIBLE_SECURITY = {
    "Standard": {"Standard", "TrustedLaunchSupported", "TrustedLaunchAndConfidentialVmSupported"},
    "TrustedLaunch": {"TrustedLaunch", "TrustedLaunchSupported", "TrustedLaunchAndConfidentialVmSupported"},
}


def _check_version_name(name: str) -> None:
    names.check_image_version_name(name)


def _check_source_unchanged(existing: dict[str, Any], src: dict[str, Any]) -> None:
    old_src = existing["properties"]["storageProfile"]["source"]
    if (
        src
        and str(src.get("virtualMachineId", old_src.get("virtualMachineId"))).lower()
        != str(old_src.get("virtualMachineId")).lower()
    ):
        raise PropertyChangeNotAllowed("source", target="properties.storageProfile.source")


def _source_vm(arm: Arm, storage: dict[str, Any], location: str) -> dict[str, Any]:
    """The generalized VM a new version is captured from."""
    src = storage.get("source") or {}
    if storage.get("osDiskImage") or storage.get("dataDiskImages"):
        raise Unmodelled("gallery image versions from disks/snapshots are not modelled (source VM only)")
    if src.get("id") and not src.get("virtualMachineId"):
        raise Unmodelled("gallery image versions from a managed image or another version are not modelled")
    vm_id = src.get("virtualMachineId")
    if not vm_id:
        raise missing_parameter("storageProfile.source", target="properties.storageProfile.source")
    vm = arm.get(vm_id)
    if vm is None or vm["type"] != VM:
        raise NotFound(
            "NotFound",
            f"The entity was not found in this Azure location. Source virtual machine '{vm_id}' not found.",
            target=SOURCE_VM,
        )
    if vm["location"] != location:
        raise InvalidParameter(
            f"The source virtual machine '{vm_id}' must be in the image version's location '{location}'.",
            target=SOURCE_VM,
        )
    if not arm.internal.get(vm["id"].lower(), {}).get("generalized"):
        raise OperationNotAllowed(
            f"The source virtual machine '{vm['id']}' must be generalized to create a gallery image version "
            "for a gallery image definition with osState 'Generalized'. Generalize the VM and try again.",
            target=SOURCE_VM,
        )
    return vm


def _check_source_matches_image(arm: Arm, vm: dict[str, Any], image: dict[str, Any]) -> None:
    """OS type, Hyper-V generation and security type of the VM fit the image definition."""
    if image["properties"]["osState"] != "Generalized":
        raise Unmodelled("specialized gallery images are not modelled")
    os_disk = vm["properties"]["storageProfile"]["osDisk"]
    if os_disk["osType"] != image["properties"]["osType"]:
        raise InvalidParameter(
            f"The OS type '{os_disk['osType']}' of the source does not match the gallery image's "
            f"OS type '{image['properties']['osType']}'.",
            target="properties.storageProfile",
        )
    vm_gen = arm.internal.get(vm["id"].lower(), {}).get("hyperVGeneration", "V2")
    if vm_gen != image["properties"]["hyperVGeneration"]:
        raise InvalidParameter(
            f"The HyperVGeneration '{vm_gen}' of the source virtual machine does not match the "
            f"HyperVGeneration '{image['properties']['hyperVGeneration']}' of the gallery image definition.",
            target=SOURCE_VM,
        )
    vm_sec = (vm["properties"].get("securityProfile") or {}).get("securityType") or "Standard"
    img_sec = _security_type(image)
    if img_sec not in COMPATIBLE_SECURITY.get(vm_sec, set()):
        raise InvalidParameter(
            f"The security type '{vm_sec}' of the source virtual machine is not compatible with the security "
            f"type '{img_sec}' of the gallery image definition '{image['name']}'. Use an image definition "
            f"with feature SecurityType={vm_sec}.",
            target=SOURCE_VM,
        )


def _new_version(rid: str, location: str, vm: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    safety = {"allowDeletionOfReplicatedLocations": True, "reportedForPolicyViolation": False}
    if props.get("safetyProfile", {}).get("allowDeletionOfReplicatedLocations") is not None:
        safety["allowDeletionOfReplicatedLocations"] = bool(
            props["safetyProfile"]["allowDeletionOfReplicatedLocations"]
        )
    if props.get("securityProfile"):
        raise Unmodelled("gallery image version securityProfile is not modelled")
    os_disk = vm["properties"]["storageProfile"]["osDisk"]
    return {
        "id": rid,
        "name": rid.rsplit("/", 1)[-1],
        "type": VERSION,
        "location": location,
        "properties": {
            "publishingProfile": {},
            "storageProfile": {
                "source": {"virtualMachineId": vm["id"]},
                "osDiskImage": {
                    "sizeInGB": os_disk.get("diskSizeGB", 127),
                    "hostCaching": "ReadWrite",
                    "source": {},
                },
            },
            "safetyProfile": safety,
            "provisioningState": "Creating",
        },
    }


class VersionHandler(ResourceHandler):
    def build(self, arm: Arm, req: Request, rid: str, existing: dict[str, Any] | None) -> dict[str, Any]:
        body = req.body
        _check_version_name(rid.rsplit("/", 1)[-1])
        image = arm.get(rid.rsplit("/", 2)[0])
        assert image is not None
        location = _location_of_parent(arm, body, image, "The gallery image version location")
        props = _props(body)
        pub = props.get("publishingProfile") or {}
        storage = props.get("storageProfile") or {}
        if existing is not None:
            # A full PUT on an existing version may change only the publishing profile and tags.
            _check_source_unchanged(existing, storage.get("source") or {})
            res = dict(existing)
            res["properties"] = dict(existing["properties"])
        else:
            vm = _source_vm(arm, storage, location)
            _check_source_matches_image(arm, vm, image)
            res = _new_version(rid, location, vm, props)
        self._apply_publishing(arm, res, pub, location)
        tags = validate.body_tags(body)
        if tags is not None:
            res["tags"] = tags
        return res

    @staticmethod
    def _apply_publishing(arm: Arm, res: dict[str, Any], pub: dict[str, Any], location: str) -> None:
        old = res["properties"].get("publishingProfile") or {}
        count = pub.get("replicaCount", old.get("replicaCount", 1))
        if not isinstance(count, int) or not 1 <= count <= 100:
            raise InvalidParameter(
                f"The replica count {count} must be an integer from 1 to 100.",
                target="publishingProfile.replicaCount",
            )
        sa = validate.enum(pub, "storageAccountType", REPLICA_STORAGE) or old.get(
            "storageAccountType", "Standard_LRS"
        )
        if pub.get("replicationMode") not in (None, "Full"):
            raise Unmodelled("shallow replication is not modelled")
        if pub.get("targetExtendedLocations"):
            raise Unmodelled("targetExtendedLocations are not modelled")
        regions = pub.get("targetRegions")
        out = {
            "targetRegions": _check_regions(arm, regions, location, count, sa)
            if regions is not None or not old
            else old["targetRegions"],
            "replicaCount": count,
            "excludeFromLatest": bool(pub.get("excludeFromLatest", old.get("excludeFromLatest", False))),
            "publishedDate": old.get("publishedDate") or utcnow(),
            "storageAccountType": sa,
        }
        eol = pub.get("endOfLifeDate")
        if eol:
            out["endOfLifeDate"] = _date(eol, "publishingProfile.endOfLifeDate")
        elif old.get("endOfLifeDate"):
            out["endOfLifeDate"] = old["endOfLifeDate"]
        res["properties"]["publishingProfile"] = out

    def patch(self, arm: Arm, req: Request, existing: dict[str, Any]) -> dict[str, Any]:
        body = req.body
        props = _props(body)
        if props.get("storageProfile") and props["storageProfile"].get("source"):
            _check_source_unchanged(existing, props["storageProfile"]["source"])
        self._apply_publishing(arm, existing, props.get("publishingProfile") or {}, existing["location"])
        if body.get("tags") is not None:
            existing["tags"] = validate.body_tags(body) or {}
        return existing

    def on_provisioned(self, arm: Arm, res: dict[str, Any], created: bool) -> None:
        """The OS disk is captured now: the source VM's marketplace image and its Windows state."""
        lid = res["id"].lower()
        if arm.internal.get(lid, {}).get("source_image"):
            return  # a PUT that only changed the publishing profile
        vm = arm.get(res["properties"]["storageProfile"]["source"]["virtualMachineId"])
        assert vm is not None
        ref = vm["properties"]["storageProfile"]["imageReference"]
        source = arm.internal.get(vm["id"].lower(), {}).get("source_image") if ref.get("id") else ref
        if source is None:
            raise Unmodelled("capturing a VM without a recorded source image is not modelled")
        arm.meta(lid)["source_image"] = {k: source[k] for k in ("publisher", "offer", "sku", "exactVersion")}
        if arm.guests is not None and arm.internal.get(vm["id"].lower(), {}).get("guest_created"):
            arm.guests.image_captured(lid, vm["id"].lower())

    def on_deleted(self, arm: Arm, res: dict[str, Any]) -> None:
        if arm.guests is not None:
            arm.guests.image_deleted(res["id"].lower())

    def get(self, arm: Arm, req: Request, res: dict[str, Any]) -> dict[str, Any]:
        out = arm.render(res)
        assert out is not None
        expand = (req.query.get("$expand") or "").lower()
        if expand == "replicationstatus":
            regions = out["properties"]["publishingProfile"]["targetRegions"]
            state = out["properties"]["provisioningState"]
            done = state == "Succeeded"
            # A replication_failed fault: that region Failed, the others replicated.
            failed = (
                arm.internal.get(res["id"].lower(), {}).get("failed_region") if state == "Failed" else None
            )

            def region_state(name: str) -> str:
                if failed is not None:
                    return "Failed" if name.replace(" ", "").lower() == failed else "Completed"
                return "Completed" if done else "Replicating"

            out["properties"]["replicationStatus"] = {
                "aggregatedState": "Failed" if failed else ("Completed" if done else "InProgress"),
                "summary": [
                    {
                        "region": r["name"],
                        "state": region_state(r["name"]),
                        "details": "Failed with internal server error."
                        if region_state(r["name"]) == "Failed"
                        else "",
                        "progress": 100 if region_state(r["name"]) == "Completed" else 0,
                    }
                    for r in regions
                ],
            }
        elif expand:
            raise Unmodelled(f"$expand={req.query.get('$expand')} on gallery image versions is not modelled")
        return out
