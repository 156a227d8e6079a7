"""An Azure Image Builder template (an AVD Custom Image Template is one) as an image definition.

``import_aib_template`` reads an ``Microsoft.VirtualMachineImages/imageTemplates`` resource (as
``az image builder show`` prints it, or an ARM deployment template holding exactly one) and maps
what has a declarative equivalent here: the marketplace source, the build VM, the subnet, the
gallery target and its regions, Windows Update, and the AVD Custom Image Template scripts whose
effect the roles already model. Everything else (inline PowerShell, arbitrary scripts, File
customizers) is listed in ``not_imported`` with the reason, never dropped silently: a script's
effect cannot be known from its URL. AIB names an existing image definition without its
publisher/offer/sku, so those come from ``identity`` or are listed in ``to_complete``.
Nothing here imports Ansible.
"""

from __future__ import annotations

import re
from typing import Any

TEMPLATE_TYPE = "microsoft.virtualmachineimages/imagetemplates"
_GALLERY_IMAGE = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.Compute/galleries/"
    r"(?P<gallery>[^/]+)/images/(?P<image>[^/]+)(?:/versions/(?P<version>[^/]+))?$",
    re.IGNORECASE,
)
# AVD Custom Image Template scripts (Azure/RDS-Templates, CustomImageTemplateScripts_*) whose whole
# effect, without parameters, is a setting the avd / optimization sections already express.
CIT_SCRIPTS: dict[str, tuple[str, Any]] = {
    "timezoneredirection.ps1": ("avd.time_zone_redirection", True),
    "disablestoragesense.ps1": ("avd.storage_sense", False),
    "windowsoptimization.ps1": ("optimization.profile", "auto"),
}


class AibImportError(ValueError):
    """The template is not one this importer can read (the message names the field)."""


def _template_resource(document: Any) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise AibImportError("template: is not a JSON object")
    if "resources" in document:  # an ARM deployment template
        found = [r for r in document["resources"] if str(r.get("type", "")).lower() == TEMPLATE_TYPE]
        if len(found) != 1:
            raise AibImportError(f"resources: expected one {TEMPLATE_TYPE} resource, found {len(found)}")
        return found[0]
    if str(document.get("type", TEMPLATE_TYPE)).lower() != TEMPLATE_TYPE:
        raise AibImportError(f"type: is {document.get('type')!r}, not {TEMPLATE_TYPE}")
    return document


def _source(props: dict[str, Any]) -> dict[str, Any]:
    source = props.get("source") or {}
    if source.get("type") != "PlatformImage":
        # A gallery or managed image source is a layered build, which this tool does not build yet.
        raise AibImportError(
            f"properties.source.type: {source.get('type')!r} is not supported, only PlatformImage"
        )
    return {k: source[k] for k in ("publisher", "offer", "sku", "version") if source.get(k)}


def _set(spec: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = spec
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def _gallery(props: dict[str, Any], identity: dict[str, str], out: dict[str, Any]) -> dict[str, Any]:
    spec_notes, todo = out["not_imported"], out["to_complete"]
    shared = [d for d in props.get("distribute") or [] if d.get("type") == "SharedImage"]
    for other in props.get("distribute") or []:
        if other.get("type") != "SharedImage":
            spec_notes.append(f"distribute {other.get('type')}: only a gallery (SharedImage) is published")
    if not shared:
        raise AibImportError("properties.distribute: no SharedImage target (a gallery image definition)")
    spec_notes.extend(
        f"distribute SharedImage {d.get('galleryImageId')}: one gallery per definition" for d in shared[1:]
    )
    target = shared[0]
    match = _GALLERY_IMAGE.match(str(target.get("galleryImageId", "")))
    if not match:
        raise AibImportError("properties.distribute[0].galleryImageId: is not a gallery image or version id")
    definition = {"name": match["image"]}
    for key in ("publisher", "offer", "sku"):
        if identity.get(key):
            definition[key] = identity[key]
        else:
            todo.append(f"gallery.image_definition.{key}: AIB names an existing definition without it")
    gallery = {"resource_group": match["rg"], "name": match["gallery"], "image_definition": definition}
    if match["version"]:
        gallery["version"] = {"strategy": "explicit", "value": match["version"]}
    regions = target.get("targetRegions") or [{"name": n} for n in target.get("replicationRegions") or []]
    if regions:
        gallery["target_regions"] = [
            {
                "name": r["name"],
                **({"replica_count": r["replicaCount"]} if r.get("replicaCount") else {}),
                **({"storage_account_type": r["storageAccountType"]} if r.get("storageAccountType") else {}),
            }
            for r in regions
        ]
    if "excludeFromLatest" in target:
        gallery["exclude_from_latest"] = bool(target["excludeFromLatest"])
    return gallery


def _customizer(step: dict[str, Any], index: int, spec: dict[str, Any], notes: list[str]) -> None:
    kind, label = step.get("type"), f"customize[{index}] {step.get('type')} {step.get('name', '')}".rstrip()
    if kind == "WindowsRestart":
        notes.append(f"{label}: not needed, each role reboots when a change needs it")
    elif kind == "WindowsUpdate":
        spec["windows_update"] = {"enabled": True}
        if step.get("searchCriteria") or step.get("filters"):
            notes.append(f"{label}: searchCriteria/filters not imported; set windows_update.categories")
    elif kind == "PowerShell" and not step.get("inline"):
        script = str(step.get("scriptUri", "")).rsplit("/", 1)[-1].lower()
        if script in CIT_SCRIPTS:
            _set(spec, *CIT_SCRIPTS[script])
        else:
            notes.append(f"{label}: script {step.get('scriptUri')!r} has no declarative equivalent here")
    else:
        notes.append(f"{label}: inline commands and files have no declarative equivalent here")


def import_aib_template(document: Any, name: str, identity: dict[str, str] | None = None) -> dict[str, Any]:
    """``{"spec": <image definition>, "not_imported": [...], "to_complete": [...]}``."""
    resource = _template_resource(document)
    props = resource.get("properties")
    if not isinstance(props, dict):
        raise AibImportError("properties: missing")
    out: dict[str, Any] = {"not_imported": [], "to_complete": []}
    spec: dict[str, Any] = {"name": name, "source": _source(props)}
    if resource.get("location"):
        spec["location"] = resource["location"]
    vm = props.get("vmProfile") or {}
    build_vm = {"size": vm["vmSize"]} if vm.get("vmSize") else {}
    if vm.get("osDiskSizeGB"):  # 0 means the image's own size in AIB: keep ours
        build_vm["os_disk_size_gb"] = vm["osDiskSizeGB"]
    if build_vm:
        spec["build_vm"] = build_vm
    subnet = (vm.get("vnetConfig") or {}).get("subnetId")
    if subnet:
        spec["network"] = {"mode": "existing_subnet", "existing_subnet_id": subnet}
    spec["gallery"] = _gallery(props, identity or {}, out)
    for index, step in enumerate(props.get("customize") or []):
        _customizer(step, index, spec, out["not_imported"])
    if props.get("buildTimeoutInMinutes"):
        out["not_imported"].append("buildTimeoutInMinutes: each phase has its own bound (avd_phase_timeouts)")
    out["spec"] = spec
    return out
