"""The ``avd`` and ``default_user`` sections: AVD session-host settings and per-user defaults.

Every part is optional. The defaults are what an AVD image wants without being asked: time zone
redirection on, Storage Sense off, the Store's auto-update left alone, everything else not
configured. What each setting writes (registry path, value, source) is decided by
``plugins/plugin_utils/_avd_settings.py`` and listed in ``roles/avd_session_host/README.md``.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import Checker
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.messages import join, show, type_name
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.schema import KEYS

DWORD_MAX = 0xFFFFFFFF
QWORD_MAX = 0xFFFFFFFFFFFFFFFF
MS_PER_MINUTE = 60_000
# The session limits are DWORDs in milliseconds: the largest number of minutes that still fits.
MAX_MINUTES = DWORD_MAX // MS_PER_MINUTE
SESSION_LIMITS = ("disconnected_minutes", "idle_minutes", "connection_minutes", "remote_app_logoff_minutes")
SCREEN_CAPTURE_MODES = ("off", "client", "client_and_server")
WATERMARK_CONTENTS = ("connection_id", "device_id")
# (key, low, high, default) of the watermarking options, as the AVD administrative template
# (terminalserver-avd.admx, "Enable watermarking") bounds them; learn.microsoft.com
# azure/virtual-desktop/watermarking.
WATERMARK_NUMBERS = (
    ("qr_scale", 1, 10, 4),
    ("opacity", 100, 9999, 2000),
    ("width_factor", 100, 1000, 320),
    ("height_factor", 100, 1000, 180),
)
FSLOGIX_LOCATION_TYPES = ("vhd_locations", "cloud_cache")
FSLOGIX_VOLUME_TYPES = ("vhdx", "vhd")
REGISTRY_TYPES = ("string", "expandstring", "multistring", "dword", "qword", "binary")
REGISTRY_STATES = ("present", "absent")
# \\server\share[\folder...]: an SMB location as FSLogix takes it.
_UNC_RE = re.compile(r"^\\\\[^\\/\s]+\\[^\\/\x00-\x1f]+(\\[^\\/\x00-\x1f]+)*\\?\Z")
_HIVE_PREFIX_RE = re.compile(
    r"^(HKCU|HKEY_CURRENT_USER|HKU|HKEY_USERS|HKLM|HKEY_LOCAL_MACHINE|HKCR|HKEY_CLASSES_ROOT)(:|\\|\Z)",
    re.IGNORECASE,
)


def check_avd(c: Checker, root: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``avd``; return it with every default filled."""
    data = c.mapping(root, "avd", "avd", required=False) or {}
    c.unknown_keys(data, "avd", "avd")
    mmr = _sub(c, data, "multimedia_redirection")
    return {
        "time_zone_redirection": c.boolean(data, "time_zone_redirection", "avd", default=True),
        "storage_sense": c.boolean(data, "storage_sense", "avd", default=False),
        "session_limits": _check_session_limits(c, data),
        "screen_capture_protection": _check_screen_capture(c, data),
        "watermarking": _check_watermarking(c, data),
        "rdp_shortpath": _check_shortpath(c, data),
        "fslogix": _check_fslogix(c, data),
        "teams_media_optimization": c.boolean(data, "teams_media_optimization", "avd", default=False),
        "multimedia_redirection": {
            browser: c.boolean(mmr, browser, "avd.multimedia_redirection", default=False)
            for browser in KEYS["avd.multimedia_redirection"]
        },
        "store_auto_update": c.boolean(data, "store_auto_update", "avd", default=True),
        "redirection": _check_redirection(c, data),
    }


def check_default_user(c: Checker, root: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Validate ``default_user``: registry values for C:\\Users\\Default\\NTUSER.DAT."""
    raw = root.get("default_user")
    if raw is None:
        return []
    if not isinstance(raw, list):
        c.error("default_user", f"must be a list of registry values, got {type_name(raw)}")
        return []
    items = []
    seen: dict[tuple[str, str], int] = {}
    for index, item in enumerate(raw):
        path = f"default_user[{index}]"
        if not isinstance(item, Mapping):
            c.error(path, f"must be a mapping with key, name, type and data, got {type_name(item)}")
            continue
        checked = _check_default_user_item(c, item, path)
        items.append(checked)
        if isinstance(checked["key"], str) and isinstance(checked["name"], str):
            value = (checked["key"].strip("\\").lower(), checked["name"].lower())
            if value in seen:
                c.error(
                    path, f"sets the same value as default_user[{seen[value]}] (key and name, ignoring case)"
                )
            seen.setdefault(value, index)
    return items


def normalize_avd(image: Mapping[str, Any]) -> tuple[list[str], dict[str, Any], list[dict[str, Any]]]:
    """Return (errors, avd, default_user) of an image spec, the two sections with defaults filled."""
    c = Checker(_dt.date.min)
    avd = check_avd(c, image)
    default_user = check_default_user(c, image)
    return c.errors, avd, default_user


def _sub(c: Checker, data: Mapping[str, Any], key: str) -> dict[str, Any]:
    """A sub-mapping of ``avd`` ({} when absent), its unknown keys reported."""
    path = join("avd", key)
    sub = c.mapping(data, key, path, required=False) or {}
    c.unknown_keys(sub, path, path)
    return sub


def _check_session_limits(c: Checker, data: Mapping[str, Any]) -> dict[str, Any]:
    path = "avd.session_limits"
    limits = _sub(c, data, "session_limits")
    result: dict[str, Any] = {}
    for key in SESSION_LIMITS:
        value = limits.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            c.error(join(path, key), f"must be a whole number of minutes, got {show(value)}")
            value = None
        elif value is not None and not 0 <= value <= MAX_MINUTES:
            c.error(
                join(path, key),
                f"must be from 0 to {MAX_MINUTES} minutes (the registry holds milliseconds in a "
                f"DWORD), got {value}",
            )
            value = None
        result[key] = value
    result["reset_broken"] = c.boolean(limits, "reset_broken", path, default=False)
    return result


def _check_screen_capture(c: Checker, data: Mapping[str, Any]) -> str:
    # YAML 1.1 (PyYAML, Ansible) reads a bare `off` as false: accept it as the same choice.
    value = data.get("screen_capture_protection")
    if value is False:
        return "off"
    if value is True:
        c.error(
            "avd.screen_capture_protection",
            f"must be one of {', '.join(SCREEN_CAPTURE_MODES)}, got true (which protection: client or "
            "client_and_server?)",
        )
        return "off"
    return c.choice(data, "screen_capture_protection", "avd", SCREEN_CAPTURE_MODES, default="off") or "off"


def _check_watermarking(c: Checker, data: Mapping[str, Any]) -> dict[str, Any]:
    path = "avd.watermarking"
    mark = _sub(c, data, "watermarking")
    result: dict[str, Any] = {
        "enabled": c.boolean(mark, "enabled", path, default=False),
        "content": c.choice(mark, "content", path, WATERMARK_CONTENTS, default="connection_id"),
    }
    for key, low, high, default in WATERMARK_NUMBERS:
        result[key] = c.integer(mark, key, path, low, high, default=default)
    return result


def _check_shortpath(c: Checker, data: Mapping[str, Any]) -> dict[str, Any]:
    path = "avd.rdp_shortpath"
    shortpath = _sub(c, data, "rdp_shortpath")
    return {
        "managed_networks": c.boolean(shortpath, "managed_networks", path, default=False),
        "port": c.integer(shortpath, "port", path, 1024, 65535, default=3390),
    }


def _check_fslogix(c: Checker, data: Mapping[str, Any]) -> dict[str, Any]:
    path = "avd.fslogix"
    fsl = _sub(c, data, "fslogix")
    # entra_kerberos is about Azure Files access, not profiles: it needs no enabled of its own.
    if set(fsl) - {"enabled", "entra_kerberos"} and "enabled" not in fsl:
        c.error(
            "avd.fslogix.enabled",
            "is required when avd.fslogix has other settings: true to configure FSLogix profile "
            "containers, false to leave them unconfigured",
        )
    enabled = c.boolean(fsl, "enabled", path, default=False)
    location_type = c.choice(fsl, "location_type", path, FSLOGIX_LOCATION_TYPES, default=None)
    if enabled and location_type is None and fsl.get("location_type") is None:
        c.error(
            "avd.fslogix.location_type",
            "is required when avd.fslogix.enabled is true: vhd_locations (VHDLocations) or "
            "cloud_cache (Cloud Cache, CCDLocations)",
        )
    locations = _check_locations(c, fsl, location_type, enabled)
    return {
        "enabled": enabled,
        "location_type": location_type,
        "locations": locations,
        "size_mb": c.integer(fsl, "size_mb", path, 1, DWORD_MAX, default=30000),
        "volume_type": c.choice(fsl, "volume_type", path, FSLOGIX_VOLUME_TYPES, default="vhdx"),
        "dynamic": c.boolean(fsl, "dynamic", path, default=True),
        "flip_flop_directory_name": c.boolean(fsl, "flip_flop_directory_name", path, default=True),
        "delete_local_profile": c.boolean(fsl, "delete_local_profile", path, default=True),
        "include_groups": _group_members(c, fsl, "include_groups", path),
        "exclude_groups": _group_members(c, fsl, "exclude_groups", path),
        "defender_exclusions": c.boolean(fsl, "defender_exclusions", path, default=True),
        "entra_kerberos": c.boolean(fsl, "entra_kerberos", path, default=False),
    }


def _check_locations(
    c: Checker, fsl: Mapping[str, Any], location_type: str | None, enabled: bool
) -> list[str]:
    field = "avd.fslogix.locations"
    locations = _string_list(c, fsl, "locations", "avd.fslogix")
    if enabled and not locations and fsl.get("locations") is None:
        c.error(field, "is required when avd.fslogix.enabled is true: a list of \\\\server\\share paths")
    for index, location in enumerate(locations):
        where = f"{field}[{index}]"
        lowered = location.lower()
        if location_type == "cloud_cache" and lowered.startswith("type=azure"):
            c.error(
                where,
                "type=azure holds a storage account key: a secret does not belong in an image; give "
                "the \\\\account.file.core.windows.net\\share path (type=smb) instead",
            )
        elif location_type == "cloud_cache" and lowered.startswith("type=smb,"):
            if "connectionstring=" not in lowered:
                c.error(where, f"a Cloud Cache provider needs connectionString=..., got {show(location)}")
        elif not _UNC_RE.match(location):
            c.error(where, f"must be an SMB path like \\\\server\\share, got {show(location)}")
    return locations


# Members of a local group that the build VM (a workgroup machine) can resolve and translate: a
# well-known principal (Everyone, NT AUTHORITY\\..., their SIDs) or a local user (.\\name).
_DOMAIN_SID = re.compile(r"^S-1-(5-21|12-1)-[0-9-]+\Z", re.IGNORECASE)
_LOCAL_GROUP_SID = re.compile(r"^S-1-5-32-[0-9]+\Z", re.IGNORECASE)
_RESOLVABLE_PREFIXES = frozenset({"NT AUTHORITY", "."})
_BY_POLICY = "set domain and Entra ID members by Group Policy or Intune on the session hosts"


def _group_members(c: Checker, data: Mapping[str, Any], key: str, path: str) -> list[str]:
    """FSLogix group members. Refused: local groups (Windows does not nest a local group in a local
    group), and domain or Entra ID principals, by name or SID: the build VM is not joined, so
    Windows can neither resolve the name nor translate the SID (win_group_membership fails)."""
    members = _string_list(c, data, key, path)
    for index, member in enumerate(members):
        prefix = member.split("\\", 1)[0].upper() if "\\" in member else ""
        if prefix == "BUILTIN" or _LOCAL_GROUP_SID.match(member):
            reason = "is a local group, and Windows does not put a local group in a local group"
        elif _DOMAIN_SID.match(member):
            reason = "is a domain or Entra ID SID, which the build VM (not joined) cannot translate"
        elif "@" in member or (prefix and prefix not in _RESOLVABLE_PREFIXES):
            reason = "is a domain or Entra ID name, which the build VM (not domain joined) cannot resolve"
        else:
            continue
        c.error(
            f"{join(path, key)}[{index}]",
            f"{show(member)} {reason}: give a well-known principal (Everyone, NT AUTHORITY\\...) or a "
            f"local user, and {_BY_POLICY}",
        )
    return members


def _string_list(c: Checker, data: Mapping[str, Any], key: str, path: str) -> list[str]:
    field = join(path, key)
    raw = data.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list):
        c.error(field, f"must be a list of strings, got {type_name(raw)}")
        return []
    good = []
    for index, value in enumerate(raw):
        if not isinstance(value, str) or not value.strip():
            c.error(f"{field}[{index}]", f"must be a non-empty string, got {show(value)}")
        elif c.single_line(f"{field}[{index}]", value):
            good.append(value.strip())
    return good


def _check_redirection(c: Checker, data: Mapping[str, Any]) -> dict[str, bool | None]:
    path = "avd.redirection"
    redirection = _sub(c, data, "redirection")
    result: dict[str, bool | None] = {}
    for key in KEYS[path]:
        value = redirection.get(key)
        if value is not None and not isinstance(value, bool):
            c.error(join(path, key), f"must be true (allow), false (block) or absent, got {show(value)}")
            value = None
        result[key] = value
    return result


def _check_default_user_item(c: Checker, item: Mapping[str, Any], path: str) -> dict[str, Any]:
    c.unknown_keys(item, "default_user[]", path)
    key = c.string(item, "key", path, required=True)
    if isinstance(key, str) and key.strip():
        key = key.strip()
        if _HIVE_PREFIX_RE.match(key):
            c.error(
                join(path, "key"),
                "is a path inside the default user hive, without a hive: write 'Software\\...' "
                f"(it is written to C:\\Users\\Default\\NTUSER.DAT, never HKCU), got {show(key)}",
            )
        elif key.startswith("\\"):
            c.error(join(path, "key"), f"must not start with a backslash, got {show(key)}")
    if "name" not in item:
        c.missing(join(path, "name"))
    name = c.string(item, "name", path, default="")
    kind = c.choice(item, "type", path, REGISTRY_TYPES, required=True)
    state = c.choice(item, "state", path, REGISTRY_STATES, default="present")
    result = {"key": key, "name": name, "type": kind, "state": state}
    if state == "present":
        result["data"] = _check_data(c, item, path, kind)
    return result


def _check_data(c: Checker, item: Mapping[str, Any], path: str, kind: str | None) -> Any:
    field = join(path, "data")
    value = item.get("data")
    if value is None:
        c.missing(field)
        return None
    if kind in ("dword", "qword"):
        high = DWORD_MAX if kind == "dword" else QWORD_MAX
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
            c.error(field, f"a {kind} must be an integer from 0 to {high}, got {show(value)}")
    elif kind in ("string", "expandstring") and not isinstance(value, str):
        c.error(field, f"a {kind} must be a string (quote numbers), got {type_name(value)} {show(value)}")
    elif kind == "multistring" and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        c.error(field, f"a multistring must be a list of strings, got {show(value)}")
    elif kind == "binary" and not (
        isinstance(value, list)
        and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value)
    ):
        c.error(field, f"binary data must be a list of byte values 0-255, got {show(value)}")
    return value
