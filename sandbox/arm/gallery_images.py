"""A VM created from a gallery image version: which version a reference names, and whether Azure
would boot it (a base module: the compute provider reads the gallery provider's resources here).

A reference is the id of a version (explicit: its ``excludeFromLatest`` does not matter) or of an
image definition (``latest``: the highest version whose ``excludeFromLatest``, the version's or its
region's, is false). The version must be ``Succeeded`` and replicated to the VM's region; the
definition's osType, Hyper-V generation and SecurityType feature constrain the VM's body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.arm.errors import InvalidParameter, NotFound

if TYPE_CHECKING:
    from sandbox.arm.core import Arm

IMAGE_REF = re.compile(
    r"(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Compute/galleries/[^/]+"
    r"/images/[^/]+(?P<version>/versions/[^/]+)?$"
)
# The image definition security types a VM of each security type may boot from (Azure's Trusted
# Launch documentation: a TrustedLaunch definition needs a Trusted Launch VM; a Standard one, none).
BOOTABLE_SECURITY = {
    "TrustedLaunch": {"TrustedLaunch", "TrustedLaunchSupported", "TrustedLaunchAndConfidentialVmSupported"},
    "Standard": {"Standard", "TrustedLaunchSupported", "TrustedLaunchAndConfidentialVmSupported"},
}


@dataclass(frozen=True)
class GalleryImage:
    """What a VM PUT learns from its gallery image reference."""

    ref_id: str  # as the request spelled it
    version: dict[str, Any]
    definition: dict[str, Any]
    source: dict[str, Any]  # the marketplace image the version was captured from

    @property
    def security_type(self) -> str:
        return security_type_of(self.definition)

    @property
    def generation(self) -> str:
        return self.definition["properties"]["hyperVGeneration"]

    @property
    def os_type(self) -> str:
        return self.definition["properties"]["osType"]

    @property
    def disk_gb(self) -> int:
        return int(self.version["properties"]["storageProfile"]["osDiskImage"]["sizeInGB"])


def security_type_of(definition: dict[str, Any]) -> str:
    for feature in definition["properties"].get("features") or []:
        if feature["name"] == "SecurityType":
            return feature["value"]
    return "Standard"


def _not_available(ref_id: str, location: str) -> NotFound:
    return NotFound(
        "GalleryImageNotFound",
        f"The gallery image {ref_id} is not available in {location} region. Please contact image owner "
        "to replicate to this region, or change your requested region.",
        target="imageReference",
    )


def _region_names(version: dict[str, Any]) -> dict[str, dict[str, Any]]:
    regions = version["properties"]["publishingProfile"].get("targetRegions") or []
    return {r["name"].replace(" ", "").lower(): r for r in regions}


def _in_region(version: dict[str, Any], location: str) -> bool:
    return version["properties"]["provisioningState"] == "Succeeded" and location.lower() in _region_names(
        version
    )


def _latest(arm: Arm, definition: dict[str, Any], location: str) -> dict[str, Any] | None:
    """The highest version in the region that `latest` may pick."""

    def eligible(v: dict[str, Any]) -> bool:
        if not _in_region(v, location):
            return False
        region = _region_names(v)[location.lower()]
        excluded = region.get("excludeFromLatest", v["properties"]["publishingProfile"]["excludeFromLatest"])
        return not excluded

    candidates = [v for v in arm.children(definition["id"]) if eligible(v)]
    if not candidates:
        return None
    return max(candidates, key=lambda v: tuple(int(p) for p in v["name"].split(".")))


def resolve(arm: Arm, ref: dict[str, Any], location: str) -> GalleryImage:
    """The version a VM's ``imageReference.id`` names, checked as Azure checks it on create."""
    ref_id = str(ref.get("id") or "")
    match = IMAGE_REF.match(ref_id)
    if not match:
        raise InvalidParameter(
            f"The value '{ref_id}' of imageReference.id is not a gallery image or image version id.",
            target="imageReference.id",
        )
    for key in ("publisher", "offer", "sku", "version"):
        if ref.get(key):
            raise InvalidParameter(
                f"imageReference.{key} cannot be used together with imageReference.id.",
                target=f"imageReference.{key}",
            )
    def_id = ref_id.rsplit("/versions/", 1)[0] if match["version"] else ref_id
    definition = arm.get(def_id)
    version = arm.get(ref_id) if match["version"] else None
    if definition is None or (match["version"] and version is None):
        raise NotFound(
            "GalleryImageNotFound", f"The gallery image {ref_id} was not found.", target="imageReference"
        )
    if version is None:
        version = _latest(arm, definition, location)
    if version is None or not _in_region(version, location):
        raise _not_available(ref_id, location)
    source = arm.internal.get(version["id"].lower(), {}).get("source_image")
    if source is None:
        raise NotFound(
            "GalleryImageNotFound",
            f"The gallery image {ref_id} has no captured OS disk.",
            target="imageReference",
        )
    return GalleryImage(ref_id, version, definition, source)


def check_vm_fits(image: GalleryImage, os_type: str, security_type: str | None, gen2_size: bool) -> None:
    """The VM body against the image definition: osType, generation, Trusted Launch."""
    if os_type != image.os_type:
        raise InvalidParameter(
            f"The osType '{os_type}' does not match the gallery image's OS type '{image.os_type}'.",
            target="osDisk.osType",
        )
    if image.generation == "V2" and not gen2_size:
        raise InvalidParameter(
            "The selected VM size cannot boot Hypervisor Generation '2'.", target="hardwareProfile.vmSize"
        )
    vm_sec = security_type or "Standard"
    if image.security_type not in BOOTABLE_SECURITY[vm_sec]:
        raise InvalidParameter(
            f"The security type '{vm_sec}' of the virtual machine does not match the security type "
            f"'{image.security_type}' of the gallery image definition '{image.definition['name']}'. "
            f"Create the VM with securityProfile.securityType {image.security_type}.",
            target="securityProfile.securityType",
        )
