"""The preflight decisions, in pure Python (no Ansible imports, unit-tested).

The role avd.golden.azure_preflight makes read-only ARM look-ups before anything exists; this
module turns what they found into problems, one sentence per problem, each starting with the
image spec field to fix (``<dotted.field>: <reason>``), as the validate phase words its own.

``checks`` (what the build asks for) has the keys ``source`` ({publisher, offer, sku, version}),
``location``, ``vm_size``, ``gallery_resource_group``, ``gallery_name``, ``create_if_missing``,
``image_definition`` ({name, publisher, offer, sku, hyper_v_generation, security_type}),
``version_strategy``, ``version`` (None for increment) and ``build_id``.

``found`` (what Azure answered) has the keys ``marketplace_error`` (str: the SKU's version list
failed, with Azure's message; "" when it did not), ``marketplace_versions`` (list of names),
``marketplace_image`` (the resolved version's ``properties``, None when Azure answered 404),
``vm_sizes`` (names offered in the region; None when not looked up), ``gallery_resource_group``
(bool: it exists), ``gallery`` (the gallery info module's item, None when missing or not looked
up), ``image_definition`` (the definition's ``properties``, None when missing or not looked up)
and ``image_version`` (the version info module's item, None when missing or not looked up).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

BUILD_ID_TAG = "avd-build-id"
# Marketplace SecurityType feature values that allow Trusted Launch.
_TRUSTED_LAUNCH_FEATURES = (
    "TrustedLaunchSupported",
    "TrustedLaunchAndConfidentialVmSupported",
    "TrustedLaunch",
)


class PreflightInputError(ValueError):
    """The role handed over something that is not what this module expects (names the key)."""


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split("."))


def marketplace_version(names: Iterable[Any] | None, asked: str) -> str:
    """The exact version ``asked`` resolves to among the SKU's published ``names``; "" for none.

    ``latest`` is the highest version compared part by part as integers (Azure's order);
    an exact version resolves to itself when it is published. Names that are not dotted
    integers are ignored for ``latest``.
    """
    published = [str(n.get("name") if isinstance(n, Mapping) else n) for n in names or []]
    if str(asked).lower() != "latest":
        return asked if asked in published else ""
    numeric = [n for n in published if re.fullmatch(r"\d+(\.\d+)*", n)]
    return max(numeric, key=_version_key) if numeric else ""


def _source_ref(source: Mapping[str, Any]) -> str:
    return f"{source['publisher']}:{source['offer']}:{source['sku']}"


def _marketplace_problems(checks: Mapping[str, Any], found: Mapping[str, Any]) -> list[str]:
    source, where = checks["source"], checks["location"]
    ref = _source_ref(source)
    if found.get("marketplace_error"):
        return [
            f"source.sku: the marketplace image {ref} is not available in {where}: "
            f"{_one_line(found['marketplace_error'])}"
        ]
    names = found.get("marketplace_versions") or []
    exact = marketplace_version(names, source["version"])
    if not exact:
        if str(source["version"]).lower() == "latest":
            return [f"source.sku: the marketplace image {ref} has no published version in {where}"]
        newest = marketplace_version(names, "latest")
        return [
            f"source.version: {source['version']} is not a published version of {ref} in {where}"
            + (f" (the newest is {newest}; or use latest)" if newest else "")
        ]
    image = found.get("marketplace_image")
    if image is None:
        return [f"source.version: {ref}:{exact} is not available in {where}"]
    return _image_features_problems(checks, f"{ref}:{exact}", image)


def _image_features_problems(checks: Mapping[str, Any], ref: str, image: Mapping[str, Any]) -> list[str]:
    definition = checks["image_definition"]
    problems = []
    generation = image.get("hyperVGeneration") or "V1"
    if generation != definition["hyper_v_generation"]:
        problems.append(
            f"gallery.image_definition.hyper_v_generation: is {definition['hyper_v_generation']}, but the "
            f"source image {ref} is {generation}; a gallery image version takes only a VM of the "
            "definition's generation"
        )
    security = _feature(image.get("features"), "SecurityType", "")
    if definition["security_type"] == "TrustedLaunch" and (
        generation != "V2" or (security and security not in _TRUSTED_LAUNCH_FEATURES)
    ):
        problems.append(
            f"gallery.image_definition.security_type: TrustedLaunch, but the source image {ref} does not "
            f"support Trusted Launch ({generation}, SecurityType {security or 'not set'}); use a Gen2 "
            "source or security_type Standard"
        )
    return problems


def _feature(features: Any, name: str, default: str) -> str:
    for item in features or []:
        if isinstance(item, Mapping) and str(item.get("name", "")).lower() == name.lower():
            return str(item.get("value", default))
    return default


def _size_problems(checks: Mapping[str, Any], found: Mapping[str, Any]) -> list[str]:
    sizes = found.get("vm_sizes")
    if sizes is None:
        return []
    offered = {str(s).lower() for s in sizes}
    if str(checks["vm_size"]).lower() in offered:
        return []
    return [f"build_vm.size: {checks['vm_size']} is not offered in {checks['location']}"]


def _gallery_problems(checks: Mapping[str, Any], found: Mapping[str, Any]) -> list[str]:
    rg, name = checks["gallery_resource_group"], checks["gallery_name"]
    gallery = found.get("gallery")
    if gallery:
        return _gallery_location_problems(checks, gallery)
    if checks["create_if_missing"]:
        return []
    hint = "create it first, or set gallery.create_if_missing: true to let the build create it"
    if not found.get("gallery_resource_group"):
        return [
            f"gallery.resource_group: the resource group {rg} does not exist; {hint} and the gallery",
            f"gallery.name: the gallery {name} does not exist (its resource group {rg} does not either)",
        ]
    return [f"gallery.name: the gallery {name} does not exist in the resource group {rg}; {hint}"]


def _region(value: Any) -> str:
    return str(value or "").replace(" ", "").lower()


def _gallery_location_problems(checks: Mapping[str, Any], gallery: Mapping[str, Any]) -> list[str]:
    if not gallery.get("location") or _region(gallery["location"]) == _region(checks["location"]):
        return []
    return [
        f"gallery.name: the gallery {checks['gallery_name']} is in {gallery['location']}, but the build's "
        f"location is {checks['location']}; the image definition and its versions live in the gallery's "
        "region"
    ]


def _definition_problems(checks: Mapping[str, Any], found: Mapping[str, Any]) -> list[str]:
    existing = found.get("image_definition")
    if not existing:
        return []
    want = checks["image_definition"]
    name = want["name"]
    prefix = f"the existing image definition {name} in the gallery {checks['gallery_name']}"
    fix = "Azure cannot change it: use another image definition name"
    problems = []
    os_type, os_state = existing.get("osType", "Windows"), existing.get("osState", "Generalized")
    if str(os_type).lower() != "windows" or str(os_state).lower() != "generalized":
        problems.append(
            f"gallery.image_definition.name: {prefix} is {os_type}/{os_state}, the build publishes "
            f"Windows/Generalized; {fix}"
        )
    generation = existing.get("hyperVGeneration") or "V1"
    if generation != want["hyper_v_generation"]:
        problems.append(
            f"gallery.image_definition.hyper_v_generation: {prefix} is {generation}, the spec says "
            f"{want['hyper_v_generation']}; {fix}"
        )
    security = _feature(existing.get("features"), "SecurityType", "Standard") or "Standard"
    if (security == "TrustedLaunch") != (want["security_type"] == "TrustedLaunch"):
        problems.append(
            f"gallery.image_definition.security_type: {prefix} has security type {security}, the spec "
            f"says {want['security_type']}; {fix}"
        )
    identifier = existing.get("identifier") or {}
    for key in ("publisher", "offer", "sku"):
        if key in identifier and identifier[key] != want[key]:
            problems.append(
                f"gallery.image_definition.{key}: {prefix} has {key} {identifier[key]}, the spec says "
                f"{want[key]}; {fix}"
            )
    return problems


def _version_problems(checks: Mapping[str, Any], found: Mapping[str, Any]) -> list[str]:
    existing = found.get("image_version")
    version = checks.get("version")
    if not existing or not version or checks["version_strategy"] == "increment":
        return []
    owner = (existing.get("tags") or {}).get(BUILD_ID_TAG)
    if owner and owner == checks["build_id"]:
        return []  # this build published it: a re-run reconciles it (gallery_capture)
    where = f"{checks['gallery_name']}/{checks['image_definition']['name']}"
    made_by = f"published by the build {owner}" if owner else "not published by this build"
    if checks["version_strategy"] == "explicit":
        return [
            f"gallery.version.value: the image version {version} already exists in {where} ({made_by}); "
            "choose another value, or use the increment strategy"
        ]
    return [
        f"gallery.version.strategy: date gives {version}, which already exists in {where} ({made_by}): "
        "another build started in the same minute; start again in a minute, or use the increment strategy"
    ]


_CHECK_KEYS = (
    "source",
    "location",
    "vm_size",
    "gallery_resource_group",
    "gallery_name",
    "create_if_missing",
    "image_definition",
    "version_strategy",
    "version",
    "build_id",
)


def preflight_problems(checks: Mapping[str, Any], found: Mapping[str, Any]) -> list[str]:
    """Every problem the look-ups show, in the order of the image spec; [] when the build may start."""
    if not isinstance(checks, Mapping) or not isinstance(found, Mapping):
        raise PreflightInputError("checks and found must be mappings")
    missing = [key for key in _CHECK_KEYS if key not in checks]
    if missing:
        raise PreflightInputError(f"checks lacks {', '.join(missing)}")
    return [
        *_marketplace_problems(checks, found),
        *_size_problems(checks, found),
        *_gallery_problems(checks, found),
        *_definition_problems(checks, found),
        *_version_problems(checks, found),
    ]


def _one_line(text: Any) -> str:
    """Azure's error as one line: its first line, whitespace collapsed."""
    first = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return re.sub(r"\s+", " ", first)
