"""Image specs: validation, defaults, image versions and build naming (pure Python).

An image spec is one YAML file under ``images/`` (format: ``images/README.md``). The
validator checks everything at once and returns every problem as ``"<dotted.field>: <reason>"``
so a user fixes a file in one pass, before any Azure resource exists. The thin filter plugin
``plugins/filter/image_spec.py`` exposes these functions to Ansible.

Nothing here imports Ansible, so the unit tests exercise it directly.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import difflib
import hashlib
import ipaddress
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._azure_data import (
    AZURE_REGIONS,
    VM_SIZE_PATTERN,
    WINDOWS_TIME_ZONES,
    trusted_launch_family,
)

INT32_MAX = 2147483647

# Azure allows 50 tags per resource; the build adds its own (see RESERVED_TAG_COUNT).
AZURE_MAX_TAGS = 50
RESERVED_TAG_PREFIX = "avd-build-"
RESERVED_TAG_KEYS = (
    "avd-build-id",
    "avd-build-owner",
    "avd-build-delete-after",
    "avd-build-awx-job",
    "avd-image",
)
RESERVED_TAG_COUNT = len(RESERVED_TAG_KEYS)
MAX_SPEC_TAGS = AZURE_MAX_TAGS - RESERVED_TAG_COUNT
_SECRET_TAG_RE = re.compile(r"password|passwd|secret|token|credential")
TAG_KEY_FORBIDDEN = set("<>%&\\?/")

OS_DISK_TYPES = ("Standard_LRS", "StandardSSD_LRS", "Premium_LRS")
REPLICA_STORAGE_TYPES = ("Standard_LRS", "Standard_ZRS", "Premium_LRS")
NETWORK_MODES = ("temporary", "existing_subnet")
VERSION_STRATEGIES = ("date", "increment", "explicit")
HYPER_V_GENERATIONS = ("V1", "V2")
SECURITY_TYPES = ("TrustedLaunch", "Standard")
SOURCE_PUBLISHER = "MicrosoftWindowsDesktop"
SOURCE_OFFERS = ("windows-11", "windows-10", "office-365")

# Build ids must leave room for the longest derived name: "osdisk-<id>" and "vnet-<id>" (64).
BUILD_ID_MAX = 56
_BUILD_ID_SUFFIX_LEN = len("-20261127213000-abcd")
BUILD_ID_RE = re.compile(
    r"^(?P<name>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)-(?P<ts>[0-9]{14})-(?P<hex>[0-9a-f]{4})$"
)

_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_SKU_RE = re.compile(r"^win(?P<os>10|11)-(?P<release>[0-9]{2}h[0-9])-(?P<edition>[a-z0-9-]+?)(?P<g2>-g2)?$")
_MARKETPLACE_VERSION_RE = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
_LENIENT_VERSION_RE = re.compile(r"^([0-9]+)\.([0-9]+)\.([0-9]+)$")
_IMAGE_VERSION_RE = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_RG_RE = re.compile(r"^[-\w.()]{1,90}$")
_GALLERY_RE = re.compile(r"^[A-Za-z0-9._]{1,80}$")
_IMAGE_DEF_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,78}[A-Za-z0-9])?$")
_IMAGE_DEF_FIELD_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_SUBNET_ID_RE = re.compile(
    r"^/subscriptions/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"/resourceGroups/[-\w.()]{1,90}(?<!\.)"
    r"/providers/Microsoft\.Network/virtualNetworks/[A-Za-z0-9][-\w.]{0,62}[\w]"
    r"/subnets/[A-Za-z0-9](?:[-\w.]{0,78}[\w])?$",
    re.IGNORECASE,
)

# Editions the validator accepts, by offer. Pro is refused: AVD does not support it as a host.
_EDITIONS = {
    "avd": ("multi", ("windows-10", "windows-11")),
    "avd-m365": ("multi", ("office-365",)),
    "ent": ("single", ("windows-10", "windows-11")),
    "entn": ("single", ("windows-10", "windows-11")),
}

# Known keys per mapping, in the order the normalised image spec is written.
_KEYS: dict[str, tuple[str, ...]] = {
    "": ("name", "description", "source", "location", "build_vm", "network", "gallery", "windows", "tags"),
    "source": ("publisher", "offer", "sku", "version"),
    "build_vm": ("size", "os_disk_size_gb", "os_disk_type", "resource_group"),
    "network": ("mode", "address_prefix", "existing_subnet_id"),
    "gallery": (
        "resource_group",
        "name",
        "image_definition",
        "version",
        "target_regions",
        "exclude_from_latest",
        "end_of_life_date",
    ),
    "gallery.image_definition": ("name", "publisher", "offer", "sku", "hyper_v_generation", "security_type"),
    "gallery.version": ("strategy", "value"),
    "gallery.target_regions[]": ("name", "replica_count", "storage_account_type"),
    "windows": ("time_zone",),
}

# Keys people reach for that the tool deliberately does not support, with the reason.
_REFUSED_KEYS = {
    "source.id": "custom or managed image sources are not supported: builds start from a fresh "
    "marketplace platform image (publisher/offer/sku/version)",
    "source.image_id": "custom or managed image sources are not supported: builds start from a fresh "
    "marketplace platform image (publisher/offer/sku/version)",
    "source.managed_image": "managed images are not supported: builds start from a fresh marketplace "
    "platform image and capture straight to the gallery",
}


class ImageSpecError(ValueError):
    """Raised with every validation error when an image spec is not valid."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("image spec is not valid:\n" + "\n".join(self.errors))


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, list | tuple):
        return "list"
    return type(value).__name__


def _show(value: Any) -> str:
    """Render a bad value for an error message without dumping large structures."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 100 else repr(value[:97] + "...")
    if isinstance(value, Mapping | list | tuple):
        return f"a {_type_name(value)}"
    return str(value)


def _join(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def _suggest(word: str, choices: Iterable[str]) -> str:
    """Return a ``; did you mean 'x'?`` hint when a close match exists."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered:
        return f"; did you mean {lowered[word.lower()]!r}?"
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not match:
        match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        match = [lowered[m] for m in match]
    return f"; did you mean {match[0]!r}?" if match else ""


class _Checker:
    """Collects errors while walking an image spec and builds the normalised copy."""

    def __init__(self, today: _dt.date) -> None:
        self.errors: list[str] = []
        self.today = today
        # Depth of missing required sections: their children are not reported again as missing.
        self._missing = 0

    @contextlib.contextmanager
    def section(self, data: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
        """Yield a section's mapping ({} when absent); inside an absent one, skip "is required"."""
        self._missing += data is None
        try:
            yield data or {}
        finally:
            self._missing -= data is None

    def error(self, field: str, reason: str) -> None:
        self.errors.append(f"{field}: {reason}")

    # -- structure ---------------------------------------------------------------------------
    def mapping(
        self, parent: Mapping[str, Any], key: str, path: str, required: bool
    ) -> dict[str, Any] | None:
        """Return a sub-mapping; None (with an error if required) when it is missing or wrong."""
        value = parent.get(key)
        if value is None:
            if required and not self._missing:
                self.error(path, "is required")
            return None
        if not isinstance(value, Mapping):
            self.error(path, f"must be a mapping, got {_type_name(value)}")
            return None
        return dict(value)

    def unknown_keys(self, data: Mapping[str, Any], spec: str, path: str) -> None:
        allowed = _KEYS[spec]
        for key in data:
            if not isinstance(key, str):
                self.error(_join(path, str(key)), "keys must be strings")
                continue
            if key in allowed:
                continue
            field = _join(path, key)
            refused = _REFUSED_KEYS.get(_join(spec, key))
            if refused:
                self.error(field, refused)
            else:
                self.error(field, f"unknown key{_suggest(key, allowed)}")

    # -- scalars -----------------------------------------------------------------------------
    def string(
        self, data: Mapping[str, Any], key: str, path: str, *, required: bool = False, default: Any = None
    ) -> Any:
        field = _join(path, key)
        value = data.get(key)
        if value is None:
            if required and not self._missing:
                self.error(field, "is required")
            return default
        if not isinstance(value, str):
            self.error(field, f"must be a string, got {_type_name(value)} {_show(value)}")
            return default
        if not value.strip():
            if required:
                self.error(field, "must not be empty")
                return default
            return value
        return value

    def choice(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        choices: tuple[str, ...],
        *,
        default: str | None = None,
        required: bool = False,
    ) -> str | None:
        value = self.string(data, key, path, required=required, default=None)
        if value is None:
            return default
        if value not in choices:
            self.error(
                _join(path, key),
                f"must be one of {', '.join(choices)}, got {_show(value)}{_suggest(value, choices)}",
            )
            return default
        return value

    def integer(
        self, data: Mapping[str, Any], key: str, path: str, low: int, high: int, *, default: int
    ) -> int:
        field = _join(path, key)
        value = data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.error(field, f"must be an integer from {low} to {high}, got {_show(value)}")
            return default
        return int(value)

    def boolean(self, data: Mapping[str, Any], key: str, path: str, *, default: bool) -> bool:
        value = data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(_join(path, key), f"must be true or false, got {_show(value)}")
            return default
        return value

    def region(self, value: Any, field: str) -> str | None:
        if value is None:
            if not self._missing:
                self.error(field, "is required")
            return None
        if not isinstance(value, str):
            self.error(field, f"must be an Azure region name, got {_type_name(value)} {_show(value)}")
            return None
        if value in AZURE_REGIONS:
            return value
        squashed = value.replace(" ", "").lower()
        if squashed in AZURE_REGIONS:
            self.error(field, f"use the region's programmatic name {squashed!r}, got {_show(value)}")
        else:
            self.error(
                field, f"unknown Azure region {_show(value)}{_suggest(squashed, sorted(AZURE_REGIONS))}"
            )
        return None

    def resource_group_name(self, value: str | None, field: str) -> None:
        if value is None:
            return
        if not _RG_RE.match(value) or value.endswith("."):
            self.error(
                field,
                "must be 1-90 characters: letters, digits, underscores, hyphens, periods and "
                f"parentheses, not ending with a period; got {_show(value)}",
            )


def _check_source(c: _Checker, root: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate ``source``; return the normalised section and facts about the SKU."""
    facts: dict[str, Any] = {"generation": None, "session": None, "os": None}
    with c.section(c.mapping(root, "source", "source", required=True)) as data:
        return _check_source_fields(c, data, facts)


def _check_source_fields(
    c: _Checker, data: dict[str, Any], facts: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    c.unknown_keys(data, "source", "source")
    publisher = c.string(data, "publisher", "source", default=SOURCE_PUBLISHER)
    if publisher != SOURCE_PUBLISHER and isinstance(data.get("publisher"), str):
        c.error(
            "source.publisher",
            f"must be {SOURCE_PUBLISHER} (Windows 10/11 client images), got {_show(publisher)}",
        )
    offer = c.choice(data, "offer", "source", SOURCE_OFFERS, required=True)
    sku = c.string(data, "sku", "source", required=True)
    if isinstance(sku, str) and sku.strip():
        facts.update(_check_sku(c, sku, offer))
    version = c.string(data, "version", "source", default="latest")
    if isinstance(version, str) and version != "latest" and not _MARKETPLACE_VERSION_RE.match(version):
        c.error(
            "source.version",
            f"must be 'latest' or an exact marketplace version like 26100.4061.250510, got {_show(version)}",
        )
    normal = {"publisher": publisher, "offer": offer, "sku": sku, "version": version}
    return normal, facts


def _check_sku(c: _Checker, sku: str, offer: str | None) -> dict[str, Any]:
    """Check a marketplace SKU's shape against its offer; return generation and session type."""
    match = _SKU_RE.match(sku)
    if not match:
        c.error(
            "source.sku",
            "must be a Windows 10/11 client SKU like win11-24h2-avd, win11-24h2-avd-m365, "
            f"win11-24h2-ent or win10-22h2-avd-g2, got {_show(sku)}",
        )
        return {}
    os_major, edition, gen2 = match["os"], match["edition"], bool(match["g2"])
    if edition in ("pro", "pron"):
        c.error(
            "source.sku",
            f"{sku!r} is a Windows Pro image, which AVD does not support as a session host; use an "
            "-avd (multi-session) or -ent (single-session) SKU",
        )
        return {}
    if edition not in _EDITIONS:
        c.error(
            "source.sku",
            f"unknown edition {edition!r} in {sku!r}; expected one of {', '.join(_EDITIONS)}"
            f"{_suggest(edition, _EDITIONS)}",
        )
        return {}
    session, offers = _EDITIONS[edition]
    if os_major == "11" and gen2:
        c.error("source.sku", f"Windows 11 SKUs are all Gen2 and have no -g2 suffix, got {sku!r}")
    if offer is not None:
        expected_os = {"windows-11": "11", "windows-10": "10"}.get(offer)
        if offer not in offers:
            c.error("source.sku", f"{sku!r} is not published under offer {offer!r}; use offer {offers[0]!r}")
        elif expected_os and expected_os != os_major:
            c.error("source.sku", f"{sku!r} is a Windows {os_major} SKU, but source.offer is {offer!r}")
    generation = "V2" if (os_major == "11" or gen2) else "V1"
    return {"generation": generation, "session": session, "os": os_major}


def _check_build_vm(c: _Checker, root: Mapping[str, Any]) -> dict[str, Any]:
    data = c.mapping(root, "build_vm", "build_vm", required=False) or {}
    c.unknown_keys(data, "build_vm", "build_vm")
    size = c.string(data, "size", "build_vm", default="Standard_D4s_v5")
    if isinstance(data.get("size"), str) and not VM_SIZE_PATTERN.match(size):
        c.error("build_vm.size", f"is not an Azure VM size name like Standard_D4s_v5, got {_show(size)}")
    disk = c.integer(data, "os_disk_size_gb", "build_vm", 127, 4095, default=128)
    disk_type = c.choice(data, "os_disk_type", "build_vm", OS_DISK_TYPES, default="Premium_LRS")
    rg = c.string(data, "resource_group", "build_vm", default=None)
    c.resource_group_name(rg, "build_vm.resource_group")
    return {"size": size, "os_disk_size_gb": disk, "os_disk_type": disk_type, "resource_group": rg}


def _check_network(c: _Checker, root: Mapping[str, Any]) -> dict[str, Any]:
    data = c.mapping(root, "network", "network", required=False) or {}
    c.unknown_keys(data, "network", "network")
    mode = c.choice(data, "mode", "network", NETWORK_MODES, default="temporary")
    prefix = c.string(data, "address_prefix", "network", default=None)
    subnet_id = c.string(data, "existing_subnet_id", "network", default=None)
    if mode == "temporary":
        if subnet_id is not None:
            c.error("network.existing_subnet_id", "is only used with network.mode existing_subnet")
        prefix = prefix if prefix is not None else "10.250.0.0/24"
        if "address_prefix" not in data or isinstance(data.get("address_prefix"), str):
            _check_private_prefix(c, prefix)
    elif mode == "existing_subnet":
        if prefix is not None:
            c.error("network.address_prefix", "is only used with network.mode temporary")
            prefix = None
        if subnet_id is None:
            if data.get("existing_subnet_id") is None:
                c.error("network.existing_subnet_id", "is required when network.mode is existing_subnet")
        elif not _SUBNET_ID_RE.match(subnet_id):
            c.error(
                "network.existing_subnet_id",
                "must be a subnet resource id like /subscriptions/<guid>/resourceGroups/<rg>/providers/"
                f"Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>, got {_show(subnet_id)}",
            )
    return {"mode": mode, "address_prefix": prefix, "existing_subnet_id": subnet_id}


_PRIVATE_NETS = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def _check_private_prefix(c: _Checker, prefix: str) -> None:
    field = "network.address_prefix"
    try:
        net = ipaddress.ip_network(prefix, strict=True)
    except ValueError as exc:
        c.error(field, f"must be an IPv4 CIDR prefix like 10.250.0.0/24, got {_show(prefix)} ({exc})")
        return
    if "/" not in prefix:
        c.error(field, f"must be a CIDR prefix with a length, like 10.250.0.0/24, got {_show(prefix)}")
        return
    if net.version != 4 or not any(net.subnet_of(p) for p in _PRIVATE_NETS):
        c.error(
            field,
            "must be a private (RFC 1918) IPv4 prefix inside 10.0.0.0/8, 172.16.0.0/12 or "
            f"192.168.0.0/16, got {_show(prefix)}",
        )
    elif not 16 <= net.prefixlen <= 28:
        c.error(field, f"prefix length must be from /16 to /28, got /{net.prefixlen}")


def _check_gallery(
    c: _Checker, root: Mapping[str, Any], location: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    with c.section(c.mapping(root, "gallery", "gallery", required=True)) as data:
        return _check_gallery_fields(c, data, location)


def _check_gallery_fields(
    c: _Checker, data: dict[str, Any], location: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    c.unknown_keys(data, "gallery", "gallery")
    rg = c.string(data, "resource_group", "gallery", required=True)
    if isinstance(rg, str) and rg.strip():
        c.resource_group_name(rg, "gallery.resource_group")
    name = c.string(data, "name", "gallery", required=True)
    if (
        isinstance(name, str)
        and name.strip()
        and (not _GALLERY_RE.match(name) or name[0] in "._" or name[-1] in "._")
    ):
        c.error(
            "gallery.name",
            "must be 1-80 letters, digits, periods and underscores, not starting or ending with a period "
            f"or underscore, got {_show(name)}",
        )
    image_def = _check_image_def(c, data)
    version = _check_version(c, data)
    regions = _check_target_regions(c, data, location)
    exclude = c.boolean(data, "exclude_from_latest", "gallery", default=False)
    eol = _check_eol(c, data.get("end_of_life_date"))
    normal = {
        "resource_group": rg,
        "name": name,
        "image_definition": image_def,
        "version": version,
        "target_regions": regions,
        "exclude_from_latest": exclude,
        "end_of_life_date": eol,
    }
    return normal, image_def


def _check_image_def(c: _Checker, gallery: Mapping[str, Any]) -> dict[str, Any]:
    path = "gallery.image_definition"
    with c.section(c.mapping(gallery, "image_definition", path, required=True)) as data:
        return _check_image_def_fields(c, data, path)


def _check_image_def_fields(c: _Checker, data: dict[str, Any], path: str) -> dict[str, Any]:
    c.unknown_keys(data, path, path)
    name = c.string(data, "name", path, required=True)
    if isinstance(name, str) and name.strip() and not _IMAGE_DEF_NAME_RE.match(name):
        c.error(
            f"{path}.name",
            "must be 1-80 letters, digits, hyphens, periods and underscores, starting and ending with a "
            f"letter or digit, got {_show(name)}",
        )
    normal: dict[str, Any] = {"name": name}
    for key in ("publisher", "offer", "sku"):
        value = c.string(data, key, path, required=True)
        if isinstance(value, str) and value.strip() and not _IMAGE_DEF_FIELD_RE.match(value):
            c.error(
                f"{path}.{key}",
                f"must be 1-128 letters, digits, hyphens, periods and underscores, got {_show(value)}",
            )
        normal[key] = value
    normal["hyper_v_generation"] = c.choice(
        data, "hyper_v_generation", path, HYPER_V_GENERATIONS, default="V2"
    )
    normal["security_type"] = c.choice(data, "security_type", path, SECURITY_TYPES, default="TrustedLaunch")
    return normal


def _check_image_version_string(c: _Checker, field: str, value: str) -> None:
    match = _IMAGE_VERSION_RE.match(value)
    if not match:
        c.error(
            field,
            "must be MAJOR.MINOR.PATCH with each part a whole number without leading zeros, "
            f"like 1.2.3, got {_show(value)}",
        )
    elif any(int(part) > INT32_MAX for part in match.groups()):
        c.error(field, f"each part must be from 0 to {INT32_MAX} (Azure stores them as int32), got {value!r}")


def _check_version(c: _Checker, gallery: Mapping[str, Any]) -> dict[str, Any]:
    path = "gallery.version"
    data = c.mapping(gallery, "version", path, required=False) or {}
    c.unknown_keys(data, path, path)
    strategy = c.choice(data, "strategy", path, VERSION_STRATEGIES, default="date")
    raw = data.get("value")
    value: str | None = None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        c.error(f"{path}.value", f'must be a quoted string like "1.2.3", got {_type_name(raw)} {raw}')
    else:
        value = c.string(data, "value", path, default=None)
    if strategy == "explicit":
        if value is None and raw is None:
            c.error(f"{path}.value", "is required when gallery.version.strategy is explicit")
        elif value is not None:
            _check_image_version_string(c, f"{path}.value", value)
    elif raw is not None:
        c.error(
            f"{path}.value", f"is only used with gallery.version.strategy explicit (strategy is {strategy})"
        )
        value = None
    return {"strategy": strategy, "value": value}


def _check_target_regions(
    c: _Checker, gallery: Mapping[str, Any], location: str | None
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
        c.error(path, f"must be a list of regions, got {_type_name(raw)}")
        return []
    if not raw:
        c.error(path, "must list at least one region")
        return []
    regions: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        field = f"{path}[{index}]"
        if isinstance(item, str):
            # A bare region name is a convenient shorthand for {name: <region>}.
            item = {"name": item}
        if not isinstance(item, Mapping):
            c.error(
                field,
                f"must be a mapping with name, replica_count, storage_account_type, got {_type_name(item)}",
            )
            continue
        c.unknown_keys(item, "gallery.target_regions[]", field)
        name = c.region(item.get("name"), f"{field}.name")
        if name is not None:
            if name in seen:
                c.error(f"{field}.name", f"{name!r} is listed twice (also {path}[{seen[name]}])")
            seen.setdefault(name, index)
        replicas = c.integer(item, "replica_count", field, 1, 100, default=1)
        storage = c.choice(item, "storage_account_type", field, REPLICA_STORAGE_TYPES, default="Standard_LRS")
        regions.append({"name": name, "replica_count": replicas, "storage_account_type": storage})
    if location and regions and location not in seen and all(r["name"] is not None for r in regions):
        c.error(
            path,
            f"must include the build location {location!r}: Azure requires the source region among an "
            "image version's target regions",
        )
    return regions


def _check_eol(c: _Checker, raw: Any) -> str | None:
    field = "gallery.end_of_life_date"
    if raw is None:
        return None
    when: _dt.date | None = None
    if isinstance(raw, _dt.datetime):
        when = raw.date()
    elif isinstance(raw, _dt.date):
        when = raw
    elif isinstance(raw, str):
        try:
            when = _dt.date.fromisoformat(raw) if re.match(r"^\d{4}-\d{2}-\d{2}$", raw) else None
        except ValueError:
            when = None
        if when is None:
            c.error(field, f"must be a real date written YYYY-MM-DD, got {_show(raw)}")
            return None
    else:
        c.error(field, f"must be a date written YYYY-MM-DD, got {_type_name(raw)} {_show(raw)}")
        return None
    if when <= c.today:
        c.error(field, f"must be in the future (today is {c.today.isoformat()}), got {when.isoformat()}")
    return when.isoformat()


def _check_windows(c: _Checker, root: Mapping[str, Any]) -> dict[str, Any]:
    data = c.mapping(root, "windows", "windows", required=False) or {}
    c.unknown_keys(data, "windows", "windows")
    tz = c.string(data, "time_zone", "windows", default="UTC")
    if isinstance(data.get("time_zone"), str) and tz not in WINDOWS_TIME_ZONES:
        c.error(
            "windows.time_zone",
            f"unknown Windows time zone id {_show(tz)}{_suggest(tz, sorted(WINDOWS_TIME_ZONES))} "
            "(ids as `tzutil /l` prints them, e.g. 'W. Europe Standard Time')",
        )
    return {"time_zone": tz}


def _check_tags(c: _Checker, root: Mapping[str, Any]) -> dict[str, str]:
    raw = root.get("tags")
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        c.error("tags", f"must be a mapping of tag names to values, got {_type_name(raw)}")
        return {}
    if len(raw) > MAX_SPEC_TAGS:
        c.error(
            "tags",
            f"at most {MAX_SPEC_TAGS} tags: Azure allows {AZURE_MAX_TAGS} per resource and the build "
            f"adds {RESERVED_TAG_COUNT} of its own, got {len(raw)}",
        )
    tags: dict[str, str] = {}
    lowered: dict[str, str] = {}
    for key, value in raw.items():
        field = f"tags.{key}"
        if not isinstance(key, str) or not key:
            c.error(f"tags.{key}", "tag names must be non-empty strings")
            continue
        if len(key) > 512:
            c.error(f"tags.{key[:40]}...", f"tag names are at most 512 characters, got {len(key)}")
            continue
        bad = sorted(set(key) & TAG_KEY_FORBIDDEN)
        if bad:
            c.error(field, f"tag names must not contain {' '.join(bad)} (Azure forbids < > % & \\ ? /)")
        low = key.lower()
        if _SECRET_TAG_RE.search(low):
            c.error(
                field, "tags must not carry secrets: tags are readable by anyone who can read the resource"
            )
        if low.startswith(RESERVED_TAG_PREFIX) or low in RESERVED_TAG_KEYS:
            c.error(field, f"is reserved for the build's own tags ({', '.join(RESERVED_TAG_KEYS)})")
        if low in lowered:
            c.error(field, f"duplicates tag {lowered[low]!r} (Azure tag names are case-insensitive)")
        lowered.setdefault(low, key)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            c.error(field, f"tag values must be strings, got {_type_name(value)}")
            continue
        text = str(value)
        if len(text) > 256:
            c.error(field, f"tag values are at most 256 characters, got {len(text)}")
        tags[key] = text
    return tags


def _cross_checks(
    c: _Checker, facts: Mapping[str, Any], build_vm: Mapping[str, Any], image_def: Mapping[str, Any]
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
            "(plugins/plugin_utils/_azure_data.py); use e.g. Standard_D4s_v5, or set "
            "gallery.image_definition.security_type Standard",
        )


def _check(data: Any, today: _dt.date) -> tuple[list[str], dict[str, Any]]:
    c = _Checker(today)
    if not isinstance(data, Mapping):
        c.error("(root)", f"an image spec must be a mapping, got {_type_name(data)}")
        return c.errors, {}
    c.unknown_keys(data, "", "")
    name = c.string(data, "name", "", required=True)
    if isinstance(name, str) and name.strip() and not (3 <= len(name) <= 40 and _NAME_RE.match(name)):
        c.error(
            "name",
            "must be 3-40 lower-case letters, digits and hyphens, starting and ending with a letter or "
            f"digit (it is used in the build id and resource names), got {_show(name)}",
        )
    description = c.string(data, "description", "", default="")
    source, facts = _check_source(c, data)
    location = c.region(data.get("location"), "location")
    build_vm = _check_build_vm(c, data)
    network = _check_network(c, data)
    gallery, image_def = _check_gallery(c, data, location)
    windows = _check_windows(c, data)
    tags = _check_tags(c, data)
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
    }
    return c.errors, normal


def _today(today: _dt.date | str | None) -> _dt.date:
    if today is None:
        return _dt.datetime.now(_dt.UTC).date()
    if isinstance(today, str):
        return _dt.date.fromisoformat(today)
    return today


def validate_image_spec(data: Any, today: _dt.date | str | None = None) -> list[str]:
    """Return every problem in ``data`` as ``"<dotted.field>: <reason>"`` (empty when valid)."""
    errors, _ = _check(data, _today(today))
    return errors


def normalize_image_spec(data: Any, today: _dt.date | str | None = None) -> dict[str, Any]:
    """Return the image spec with every default filled; raise ImageSpecError when invalid."""
    errors, normal = _check(data, _today(today))
    if errors:
        raise ImageSpecError(errors)
    return normal


def source_facts(definition: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``{"generation": V1|V2, "session": multi|single, "os": 10|11}`` for a valid image spec."""
    c = _Checker(_dt.date.min)
    return _check_sku(c, definition["source"]["sku"], definition["source"]["offer"])


# -- image versions -----------------------------------------------------------------------------


def _utc(moment: _dt.datetime | None) -> _dt.datetime:
    if moment is None:
        return _dt.datetime.now(_dt.UTC)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=_dt.UTC)
    return moment.astimezone(_dt.UTC)


def date_image_version(moment: _dt.datetime | None = None) -> str:
    """Return the ``date`` strategy version ``YYYY.MMDD.HHMM`` (UTC) for ``moment``.

    Azure parses each part as an int32, so parts carry no leading zeros: 5 January 2027 09:30
    is ``2027.105.930``. The order of versions still follows the order of build times.
    """
    m = _utc(moment)
    return f"{m.year}.{m.month * 100 + m.day}.{m.hour * 100 + m.minute}"


def parse_image_version(value: str) -> tuple[int, int, int]:
    """Parse ``MAJOR.MINOR.PATCH`` into a tuple; raise ValueError on anything else.

    Leading zeros are accepted here (Azure parses each part as an integer, and galleries written by
    other tools may hold ``2026.0105.0930``); only our own explicit values must avoid them.
    """
    match = _LENIENT_VERSION_RE.match(value) if isinstance(value, str) else None
    if not match or any(int(p) > INT32_MAX for p in match.groups()):
        raise ValueError(f"not a gallery image version (MAJOR.MINOR.PATCH, int32 parts): {value!r}")
    major, minor, patch = (int(p) for p in match.groups())
    return major, minor, patch


def next_image_version(existing: Iterable[Any] | None) -> str:
    """Return the highest existing version with the patch part plus one; ``1.0.0`` when none.

    Items may be version strings or mappings with a ``name`` (as the gallery info modules return).
    """
    versions: list[tuple[int, int, int]] = []
    for item in existing or []:
        name = item.get("name") if isinstance(item, Mapping) else item
        versions.append(parse_image_version(name))
    if not versions:
        return "1.0.0"
    major, minor, patch = max(versions)
    if patch >= INT32_MAX:
        raise ValueError(f"cannot increment {major}.{minor}.{patch}: the patch part is at the int32 limit")
    return f"{major}.{minor}.{patch + 1}"


def image_version(definition: Mapping[str, Any], build_started: _dt.datetime | None = None) -> str | None:
    """Return the version the build publishes; None for ``increment`` (resolved against the gallery)."""
    version = definition["gallery"]["version"]
    if version["strategy"] == "explicit":
        return version["value"]
    if version["strategy"] == "date":
        return date_image_version(build_started)
    return None


# -- build ids, names, context ------------------------------------------------------------------


def new_build_id(name: str, moment: _dt.datetime | None = None, suffix: str | None = None) -> str:
    """Return ``<name>-<yyyymmddHHMMSS>-<4 hex>``, the name part shortened to fit BUILD_ID_MAX."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(f"build ids are made from a valid image spec name, got {name!r}")
    suffix = suffix if suffix is not None else secrets.token_hex(2)
    if not re.fullmatch(r"[0-9a-f]{4}", suffix):
        raise ValueError(f"the build id suffix must be 4 lower-case hex digits, got {suffix!r}")
    stem = name[: BUILD_ID_MAX - _BUILD_ID_SUFFIX_LEN].rstrip("-")
    return f"{stem}-{_utc(moment).strftime('%Y%m%d%H%M%S')}-{suffix}"


def parse_build_id(build_id: str) -> tuple[str, _dt.datetime]:
    """Return the name part and the UTC start time encoded in a build id; raise ValueError."""
    match = BUILD_ID_RE.match(build_id) if isinstance(build_id, str) else None
    if not match or len(build_id) > BUILD_ID_MAX:
        raise ValueError(
            f"not a build id (<name>-<yyyymmddHHMMSS>-<4 hex>, at most {BUILD_ID_MAX} characters): "
            f"{build_id!r}"
        )
    try:
        started = _dt.datetime.strptime(match["ts"], "%Y%m%d%H%M%S").replace(tzinfo=_dt.UTC)
    except ValueError as exc:
        raise ValueError(f"build id {build_id!r} has an impossible timestamp: {exc}") from None
    return match["name"], started


def computer_name(build_id: str) -> str:
    """Return the Windows computer name: ``avdb`` + 11 hex chars of a hash (15, NetBIOS limit)."""
    return "avdb" + hashlib.sha256(build_id.encode()).hexdigest()[:11]


def build_names(build_id: str) -> dict[str, str]:
    """Return the Azure resource names derived from a build id (all within Azure's limits)."""
    parse_build_id(build_id)
    return {
        "resource_group": f"rg-avdbuild-{build_id}",
        "vnet": f"vnet-{build_id}",
        "subnet": "snet-build",
        "nsg": f"nsg-{build_id}",
        "public_ip": f"pip-{build_id}",
        "nic": f"nic-{build_id}",
        "vm": f"vm-{build_id}",
        "os_disk": f"osdisk-{build_id}",
        "computer_name": computer_name(build_id),
    }


# Azure's length limits for the names above (Microsoft.Resources / Network / Compute rules).
NAME_LIMITS = {
    "resource_group": 90,
    "vnet": 64,
    "subnet": 80,
    "nsg": 80,
    "public_ip": 80,
    "nic": 80,
    "vm": 64,
    "os_disk": 80,
    "computer_name": 15,
}


def _iso(moment: _dt.datetime) -> str:
    return moment.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_context(
    definition: Mapping[str, Any],
    build_id: str,
    owner: str | None,
    ttl_hours: int = 24,
    artifacts_root: str = "artifacts",
    awx_job_id: str | int | None = None,
) -> dict[str, Any]:
    """Return the ``avd_build`` dict (docs/contracts.md section 3) for a normalised image spec.

    Everything is derived from the build id (its timestamp is the build start), so the same id
    always gives the same context: re-running the validate phase for a build changes nothing.
    """
    # A generated id is always valid, so a bad one came from the user's avd_build_id: name it.
    try:
        name_part, started = parse_build_id(build_id)
    except ValueError as exc:
        raise ValueError(f"avd_build_id: {exc}") from None
    if not definition["name"].startswith(name_part):
        raise ValueError(
            f"avd_build_id: build id {build_id!r} does not belong to image spec {definition['name']!r}"
        )
    if isinstance(ttl_hours, bool) or not isinstance(ttl_hours, int) or not 1 <= ttl_hours <= 8760:
        raise ValueError(f"avd_build_ttl_hours must be an integer from 1 to 8760, got {ttl_hours!r}")
    owner = (owner or "").strip() or "unknown"
    names = build_names(build_id)
    delete_after = started + _dt.timedelta(hours=ttl_hours)
    artifacts_dir = os.path.join(os.path.realpath(os.path.expanduser(artifacts_root)), build_id)
    rg = definition["build_vm"]["resource_group"]
    tags = {
        "avd-build-id": build_id,
        "avd-build-owner": owner[:256],
        "avd-build-delete-after": _iso(delete_after),
        "avd-image": definition["name"],
    }
    if awx_job_id not in (None, ""):
        tags["avd-build-awx-job"] = str(awx_job_id)[:256]
    tags.update(definition.get("tags") or {})
    facts = source_facts(definition)
    return {
        "id": build_id,
        "artifacts_dir": artifacts_dir,
        "ledger_path": os.path.join(artifacts_dir, "ledger.json"),
        "owner": owner,
        "created_at": _iso(started),
        "delete_after": _iso(delete_after),
        "ttl_hours": ttl_hours,
        "resource_group": rg or names["resource_group"],
        "resource_group_created_by_build": rg is None,
        "location": definition["location"],
        "names": {k: v for k, v in names.items() if k != "resource_group"},
        "tags": tags,
        "image_version": image_version(definition, started),
        "image_version_strategy": definition["gallery"]["version"]["strategy"],
        "source_hyper_v_generation": facts.get("generation"),
        "session_type": facts.get("session"),
    }


# -- secrets ------------------------------------------------------------------------------------

# Passwords Azure refuses outright for a VM's admin account.
_AZURE_DISALLOWED_PASSWORDS = frozenset(
    {
        "abc@123",
        "iloveyou!",
        "p@$$w0rd",
        "p@ssw0rd",
        "p@ssword123",
        "pa$$word",
        "pass@word1",
        "password!",
        "password1",
        "password22",
    }
)


def password_meets_azure_complexity(password: Any, min_length: int = 12) -> bool:
    """Return whether ``password`` is accepted by Azure for a Windows VM admin account.

    Azure requires 12-123 characters, three of: lower case, upper case, digit, special
    character (non-alphanumeric, no control characters), and refuses a short list of common
    passwords. ``min_length`` raises the floor (the build uses 24).
    """
    if not isinstance(password, str):
        return False
    if not max(12, min_length) <= len(password) <= 123:
        return False
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in password):
        return False
    classes = (
        any(ch.islower() for ch in password),
        any(ch.isupper() for ch in password),
        any(ch.isdigit() for ch in password),
        any(not ch.isalnum() for ch in password),
    )
    return sum(classes) >= 3 and password.lower() not in _AZURE_DISALLOWED_PASSWORDS
