"""A whole image spec: validate every section, fill the defaults, check across sections."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.applications import check_applications
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.avd import check_avd, check_default_user
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.avd_stack import check_avd_stack
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.azure_data import (
    VM_SIZE_PATTERN,
    WINDOWS_TIME_ZONES,
    trusted_launch_family,
)
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import Checker, ImageSpecError
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.downloads import check_downloads_section
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.gallery import check_gallery
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.languages import check_languages
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.messages import show, suggest, type_name
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.naming import (
    check_region,
    check_resource_group_name,
    check_spec_name,
)
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.network import check_network
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.optimization import check_optimization
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.schema import OS_DISK_TYPES
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.source import check_sku, check_source
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.tags import check_tags
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.windows_update import (
    check_windows_update,
)


def validate_image_spec(data: Any, today: _dt.date | str | None = None, base_dir: Any = None) -> list[str]:
    """Return every problem in ``data`` as ``"<dotted.field>: <reason>"`` (empty when valid).

    ``base_dir`` is the spec file's directory: ``optimization.path`` is read relative to it (without
    it, a relative folder is not read).
    """
    errors, _ = _check(data, _today(today), base_dir)
    return errors


def normalize_image_spec(
    data: Any, today: _dt.date | str | None = None, base_dir: Any = None
) -> dict[str, Any]:
    """Return the image spec with every default filled; raise ImageSpecError when invalid."""
    errors, normal = _check(data, _today(today), base_dir)
    if errors:
        raise ImageSpecError(errors)
    return normal


def source_facts(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``{"generation": V1|V2, "session": multi|single, "os": 10|11}`` for a valid image spec."""
    c = Checker(_dt.date.min)
    return check_sku(c, spec["source"]["sku"], spec["source"]["offer"])


def _today(today: _dt.date | str | None) -> _dt.date:
    if today is None:
        return _dt.datetime.now(_dt.UTC).date()
    if isinstance(today, str):
        return _dt.date.fromisoformat(today)
    return today


def _check(data: Any, today: _dt.date, base_dir: Any = None) -> tuple[list[str], dict[str, Any]]:
    c = Checker(today)
    if not isinstance(data, Mapping):
        c.error("(root)", f"an image spec must be a mapping, got {type_name(data)}")
        return c.errors, {}
    c.unknown_keys(data, "", "")
    name = c.string(data, "name", "", required=True)
    check_spec_name(c, name)
    description = c.string(data, "description", "", default="", multiline=True)
    source, facts = check_source(c, data)
    location = check_region(c, data.get("location"), "location")
    build_vm = _check_build_vm(c, data)
    network = check_network(c, data)
    gallery, image_def = check_gallery(c, data, location)
    windows = _check_windows(c, data)
    tags = check_tags(c, data)
    avd = check_avd(c, data)
    default_user = check_default_user(c, data)
    optimization, appx = check_optimization(c, data, source, facts.get("session"), base_dir)
    downloads = check_downloads_section(c, data)
    windows_update = check_windows_update(c, data, source)
    applications = check_applications(c, data)
    avd_stack = check_avd_stack(c, data, {**facts, "offer": source.get("offer")})
    languages = check_languages(c, data, facts.get("os"))
    _cross_checks(c, facts, build_vm, image_def)
    normal = {
        "name": name,
        "description": description,
        "source": source,
        "location": location,
        "build_vm": build_vm,
        "network": network,
        "gallery": gallery,
        "windows": windows,
        "tags": tags,
        "avd": avd,
        "default_user": default_user,
        "optimization": optimization,
        "appx": appx,
        "downloads": downloads,
        "windows_update": windows_update,
        "applications": applications,
        "avd_stack": avd_stack,
        "languages": languages,
    }
    return c.errors, normal


def _check_build_vm(c: Checker, root: Mapping[str, Any]) -> dict[str, Any]:
    data = c.mapping(root, "build_vm", "build_vm", required=False) or {}
    c.unknown_keys(data, "build_vm", "build_vm")
    size = c.string(data, "size", "build_vm", default="Standard_D4s_v5")
    if isinstance(data.get("size"), str) and not VM_SIZE_PATTERN.match(size):
        c.error("build_vm.size", f"is not an Azure VM size name like Standard_D4s_v5, got {show(size)}")
    disk = c.integer(data, "os_disk_size_gb", "build_vm", 127, 4095, default=128)
    disk_type = c.choice(data, "os_disk_type", "build_vm", OS_DISK_TYPES, default="Premium_LRS")
    rg = c.string(data, "resource_group", "build_vm", default=None)
    check_resource_group_name(c, rg, "build_vm.resource_group")
    return {"size": size, "os_disk_size_gb": disk, "os_disk_type": disk_type, "resource_group": rg}


def _check_windows(c: Checker, root: Mapping[str, Any]) -> dict[str, Any]:
    data = c.mapping(root, "windows", "windows", required=False) or {}
    c.unknown_keys(data, "windows", "windows")
    tz = c.string(data, "time_zone", "windows", default="UTC")
    if isinstance(data.get("time_zone"), str) and tz not in WINDOWS_TIME_ZONES:
        c.error(
            "windows.time_zone",
            f"unknown Windows time zone id {show(tz)}{suggest(tz, sorted(WINDOWS_TIME_ZONES))} "
            "(ids as `tzutil /l` prints them, e.g. 'W. Europe Standard Time')",
        )
    return {"time_zone": tz}


def _cross_checks(
    c: Checker, facts: Mapping[str, Any], build_vm: Mapping[str, Any], image_def: Mapping[str, Any]
) -> None:
    """Checks that span sections: Trusted Launch needs Gen2 everywhere and a capable size."""
    gen, security = image_def.get("hyper_v_generation"), image_def.get("security_type")
    source_gen = facts.get("generation")
    if security == "TrustedLaunch" and gen == "V1":
        c.error(
            "gallery.image_definition.hyper_v_generation",
            "must be V2 when gallery.image_definition.security_type is TrustedLaunch "
            "(Trusted Launch is Gen2 only)",
        )
    if source_gen == "V1" and (gen == "V2" or security == "TrustedLaunch"):
        c.error(
            "source.sku",
            "is a Gen1 (V1) image; gallery.image_definition.hyper_v_generation V2 and security_type "
            "TrustedLaunch need a Gen2 source: use the -g2 SKU, or set hyper_v_generation V1 and "
            "security_type Standard",
        )
    if source_gen == "V2" and gen == "V1":
        c.error(
            "gallery.image_definition.hyper_v_generation",
            "must be V2: the source image (source.sku) is Gen2 and a Gen2 VM can only be captured "
            "into a V2 gallery image definition",
        )
    size = build_vm.get("size")
    capable = isinstance(size, str) and trusted_launch_family(size) is not None
    if security == "TrustedLaunch" and isinstance(size, str) and VM_SIZE_PATTERN.match(size) and not capable:
        c.error(
            "build_vm.size",
            f"{size} is not in the list of Trusted Launch-capable size families "
            "(plugins/plugin_utils/_image_spec/azure_data.py); use e.g. Standard_D4s_v5, or set "
            "gallery.image_definition.security_type Standard",
        )
