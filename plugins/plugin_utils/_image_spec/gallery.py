"""The ``gallery`` section: the Azure Compute Gallery, its gallery image definition, the version.

``gallery.image_definition`` is Azure's resource the image versions belong to (not the spec).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import Checker
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.messages import type_name
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.naming import (
    check_gallery_image_identifier,
    check_gallery_image_name,
    check_gallery_name,
    check_region,
    check_resource_group_name,
)
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.publish import check_publish_section
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.schema import (
    HYPER_V_GENERATIONS,
    REPLICA_STORAGE_TYPES,
    SECURITY_TYPES,
)
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.versions import check_version_section


def check_gallery(
    c: Checker, root: Mapping[str, Any], location: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate ``gallery``; return it normalised and its ``image_definition`` on its own."""
    with c.section(c.mapping(root, "gallery", "gallery", required=True)) as data:
        return _check_gallery_fields(c, data, location)


def _check_gallery_fields(
    c: Checker, data: dict[str, Any], location: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    c.unknown_keys(data, "gallery", "gallery")
    rg = c.string(data, "resource_group", "gallery", required=True)
    if isinstance(rg, str) and rg.strip():
        check_resource_group_name(c, rg, "gallery.resource_group")
    name = c.string(data, "name", "gallery", required=True)
    check_gallery_name(c, name)
    # false: the gallery and its resource group must exist (the preflight phase checks it).
    create = c.boolean(data, "create_if_missing", "gallery", default=False)
    image_def = _check_image_definition(c, data)
    version = check_version_section(c, data)
    regions = _check_target_regions(c, data, location)
    exclude = c.boolean(data, "exclude_from_latest", "gallery", default=False)
    eol = _check_eol(c, data.get("end_of_life_date"))
    normal = {
        "resource_group": rg,
        "name": name,
        "create_if_missing": create,
        "image_definition": image_def,
        "version": version,
        "target_regions": regions,
        "exclude_from_latest": exclude,
        "end_of_life_date": eol,
        "publish": check_publish_section(c, data),
    }
    return normal, image_def


def _check_image_definition(c: Checker, gallery: Mapping[str, Any]) -> dict[str, Any]:
    path = "gallery.image_definition"
    with c.section(c.mapping(gallery, "image_definition", path, required=True)) as data:
        return _check_image_definition_fields(c, data, path)


def _check_image_definition_fields(c: Checker, data: dict[str, Any], path: str) -> dict[str, Any]:
    c.unknown_keys(data, path, path)
    name = c.string(data, "name", path, required=True)
    check_gallery_image_name(c, f"{path}.name", name)
    normal: dict[str, Any] = {"name": name}
    for key in ("publisher", "offer", "sku"):
        value = c.string(data, key, path, required=True)
        check_gallery_image_identifier(c, f"{path}.{key}", value)
        normal[key] = value
    normal["hyper_v_generation"] = c.choice(
        data, "hyper_v_generation", path, HYPER_V_GENERATIONS, default="V2"
    )
    normal["security_type"] = c.choice(data, "security_type", path, SECURITY_TYPES, default="TrustedLaunch")
    return normal


def _check_target_regions(
    c: Checker, gallery: Mapping[str, Any], location: str | None
) -> list[dict[str, Any]]:
    path = "gallery.target_regions"
    raw = gallery.get("target_regions")
    if raw is None:
        return (
            [{"name": location, "replica_count": 1, "storage_account_type": "Standard_LRS"}]
            if location
            else []
        )
    if not isinstance(raw, list):
        c.error(path, f"must be a list of regions, got {type_name(raw)}")
        return []
    if not raw:
        c.error(path, "must list at least one region")
        return []
    regions: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        region = _check_target_region(c, path, index, item, seen)
        if region is not None:
            regions.append(region)
    if location and regions and location not in seen and all(r["name"] is not None for r in regions):
        c.error(
            path,
            f"must include the build location {location!r}: Azure requires the source region among an "
            "image version's target regions",
        )
    return regions


def _check_target_region(
    c: Checker, path: str, index: int, item: Any, seen: dict[str, int]
) -> dict[str, Any] | None:
    """Validate entry ``index``; None (reported) when it is not a mapping. ``seen``: region -> index."""
    field = f"{path}[{index}]"
    if isinstance(item, str):
        # A bare region name is a convenient shorthand for {name: <region>}.
        item = {"name": item}
    if not isinstance(item, Mapping):
        c.error(
            field, f"must be a mapping with name, replica_count, storage_account_type, got {type_name(item)}"
        )
        return None
    c.unknown_keys(item, "gallery.target_regions[]", field)
    name = check_region(c, item.get("name"), f"{field}.name")
    if name is not None:
        if name in seen:
            c.error(f"{field}.name", f"{name!r} is listed twice (also {path}[{seen[name]}])")
        seen.setdefault(name, index)
    replicas = c.integer(item, "replica_count", field, 1, 100, default=1)
    storage = c.choice(item, "storage_account_type", field, REPLICA_STORAGE_TYPES, default="Standard_LRS")
    return {"name": name, "replica_count": replicas, "storage_account_type": storage}


def _check_eol(c: Checker, raw: Any) -> str | None:
    field = "gallery.end_of_life_date"
    if raw is None:
        return None
    when = c.date(field, raw)
    if when is None:
        return None
    if when <= c.today:
        c.error(field, f"must be in the future (today is {c.today.isoformat()}), got {when.isoformat()}")
    return when.isoformat()
