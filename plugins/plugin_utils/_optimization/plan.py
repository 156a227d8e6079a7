"""The optimization plan of an image: the profile's items, the overrides, the switches, AppX.

``build_plan`` takes the normalised ``optimization`` and ``appx`` sections of an image spec and
returns what the optimize and appx phases apply, every item in the format the collection's
modules take, with a ``source`` label ("Services.json#3", "appx.remove[0]"). The validate phase
calls it too and refuses the spec on any error, so a bad file or override never reaches a build.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._optimization import appx as _appx
from ansible_collections.avd.golden.plugins.plugin_utils._optimization import profiles
from ansible_collections.avd.golden.plugins.plugin_utils._optimization.items import (
    CATEGORIES,
    EMPTY_NUMBER_WARNING,
    REGISTRY_CATEGORIES,
    Entry,
)
from ansible_collections.avd.golden.plugins.plugin_utils._optimization.reader import ConfigError, read_folder
from ansible_collections.avd.golden.plugins.plugin_utils._optimization.values import (
    FieldError,
    data,
    default_user_path,
    registry_path,
)

START_MODES = ("auto", "delayed", "manual", "disabled")
# A registry path that names its hive (the rest of a default-user path is a key in that hive).
_HIVE_PREFIX = re.compile(r"^\s*(registry::|hklm|hkcu|hkey_)", re.IGNORECASE)
_KIND_LIST = {"registry": "registry", "service": "services", "task": "tasks"}


def build_plan(
    optimization: Mapping[str, Any],
    appx: Mapping[str, Any],
    sku: str,
    session: str | None,
    base_dir: str | Path | None,
    *,
    need_files: bool = True,
) -> dict[str, Any]:
    """The plan (see the module docstring); raise ConfigError listing every problem.

    With ``need_files`` false, a user folder that cannot be found without ``base_dir`` is not
    read (the overrides are then not checked against it) instead of being an error.
    """
    errors: list[str] = []
    name, entries = profile_entries(optimization, sku, session, base_dir, errors, need_files)
    plan: dict[str, Any] = {
        "profile": name,
        "registry": [],
        "services": [],
        "tasks": [],
        "appx": [],
        "disk_cleanup": bool(optimization.get("disk_cleanup")),
        "warnings": [],
        "skipped": [],
    }
    if entries is not None:
        apply_overrides(entries, optimization.get("overrides") or [], name or "", errors)
        _add_entries(plan, entries, optimization, appx, errors)
    _add_user_appx(plan, appx)
    if errors:
        raise ConfigError(errors)
    return plan


def profile_entries(
    optimization: Mapping[str, Any],
    sku: str,
    session: str | None,
    base_dir: str | Path | None,
    errors: list[str],
    need_files: bool = True,
) -> tuple[str | None, dict[str, list[Entry]] | None]:
    """(profile name, entries per category); entries None when there is nothing to read."""
    if not optimization.get("enabled"):
        return None, None
    path = optimization.get("path")
    if path:
        folder = Path(path) if Path(path).is_absolute() else Path(base_dir) / path if base_dir else None
        if folder is None:
            if need_files:
                errors.append(
                    f"optimization.path: {path!r} is relative and no base_dir (the image spec's "
                    "directory) was given"
                )
            return f"path:{path}", None
        return f"path:{path}", read_folder(folder, str(path), errors)
    name = optimization.get("profile") or "auto"
    if name == "auto":
        name, why = profiles.choose(sku, session)
        if name is None:
            errors.append(f"optimization.profile: {why}")
            return None, None
    try:
        return name, profiles.load(name)
    except ConfigError as exc:
        errors.extend(exc.errors)
        return name, None


def find(entries: list[Entry], category: str, wanted: str) -> Entry | str:
    """The entry an override names (full identity, or a short name that is unique); else why not."""
    key = canonical(category, wanted)
    for entry in entries:
        if entry.ident == key:
            return entry
    short = [e for e in entries if e.name.lower() == wanted.strip().lower()]
    if len(short) == 1:
        return short[0]
    if short:
        labels = ", ".join(e.label for e in short)
        return f"{wanted!r} is the name of {len(short)} items ({labels}): give the full one"
    names = sorted({e.name for e in entries})
    hint = difflib.get_close_matches(wanted, names, n=1, cutoff=0.6)
    return f"no such item in {category}" + (f"; did you mean {hint[0]!r}?" if hint else "")


def canonical(category: str, wanted: str) -> str:
    """The identity (as ``Entry.ident``) of the item an override names by its full name."""
    try:
        if category in REGISTRY_CATEGORIES and category != "Autologgers":
            path, _, name = wanted.strip().rpartition("\\")
            if category == "DefaultUserSettings" and not _HIVE_PREFIX.match(path):
                hive, key = "default_user", "\\".join(p.strip() for p in path.split("\\") if p.strip())
            elif category == "DefaultUserSettings":
                hive, key, _user = default_user_path(path)
            else:
                hive, key = registry_path(path)
                hive = "default_user" if hive == "HKCU" else hive
            return f"{hive}\\{key}\\{name.strip()}".lower()
        if category == "Autologgers":
            return registry_path(wanted)[1].lower()
    except FieldError:
        return wanted.strip().lower()
    if category == "ScheduledTasks" and "\\" in wanted:
        folder, _, name = wanted.strip().rpartition("\\")
        return (
            "\\" + "".join(p.strip() + "\\" for p in folder.split("\\") if p.strip()) + name.strip()
        ).lower()
    return wanted.strip().lower()


def apply_overrides(
    entries: dict[str, list[Entry]], overrides: list[Mapping[str, Any]], profile: str, errors: list[str]
) -> None:
    """Turn items on or off and change values as ``optimization.overrides`` says."""
    for number, override in enumerate(overrides):
        where = f"optimization.overrides[{number}]"
        category, wanted = override.get("category"), override.get("item")
        if category not in entries:
            errors.append(f"{where}.category: profile {profile} has no {category} items")
            continue
        entry = find(entries[category], category, str(wanted))
        if isinstance(entry, str):
            errors.append(f"{where}.item: {entry} (profile {profile})")
            continue
        if "value" in override and override["value"] is not None:
            _set_value(entry, override["value"], f"{where}.value", errors)
        entry.apply = override.get("action") != "skip"
        entry.source += f" ({where})"


def _set_value(entry: Entry, value: Any, where: str, errors: list[str]) -> None:
    if entry.kind == "service":
        if value not in START_MODES:
            errors.append(
                f"{where}: a service's value is its start mode ({', '.join(START_MODES)}), got {value!r}"
            )
            return
        entry.item["start_mode"] = value
    elif entry.kind == "registry" and entry.category != "Autologgers":
        try:
            entry.item["data"] = data(value, entry.item["type"])
        except FieldError as exc:
            errors.append(f"{where}: {exc}")
        entry.warnings = [w for w in entry.warnings if w != EMPTY_NUMBER_WARNING]
    else:
        errors.append(f"{where}: {entry.category} items have no value to change; use action apply or skip")


def _add_entries(
    plan: dict[str, Any],
    entries: dict[str, list[Entry]],
    optimization: Mapping[str, Any],
    appx: Mapping[str, Any],
    errors: list[str],
) -> None:
    selected = set(optimization.get("categories") or CATEGORIES)
    if not optimization.get("network", True):
        selected.discard("LanManWorkstation")
    keep = appx.get("keep") or []
    for category in CATEGORIES:
        for entry in entries.get(category, []):
            plan["warnings"].extend(f"{entry.where}: {n}" for n in entry.notes)
            reason = _skip_reason(entry, category, selected, optimization, keep, errors)
            if reason:
                plan["skipped"].append(
                    {"category": category, "item": entry.label, "source": entry.source, "reason": reason}
                )
                continue
            plan["warnings"].extend(f"{entry.where}: {w}" for w in entry.warnings)
            item = {**entry.item, "source": entry.source}
            if entry.kind == "appx":
                item["on_failure"] = appx.get("on_failure") or "fail"
                plan["appx"].append(item)
            else:
                plan[_KIND_LIST[entry.kind]].append(item)


def _skip_reason(
    entry: Entry,
    category: str,
    selected: set[str],
    optimization: Mapping[str, Any],
    keep: list[str],
    errors: list[str],
) -> str:
    if not entry.apply:
        return "not applied by its configuration (Skip/Unchanged) or by an override"
    if category not in selected:
        return (
            "optimization.network is false"
            if category == "LanManWorkstation" and (not optimization.get("network", True))
            else "category not in optimization.categories"
        )
    if entry.kind == "appx":
        why = _appx.protected(entry.item["name"])
        if why:
            errors.append(f"{entry.where}: AppxPackage: {why}")
            return "protected"
        kept = _appx.kept(entry.item["name"], keep)
        if kept:
            return f"kept by appx.keep {kept!r}"
        clash = _appx.conflict(entry.item["name"], keep)
        if clash:
            errors.append(
                f"{entry.where}: AppxPackage: the pattern would also remove {clash!r}, "
                "which appx.keep lists; name the packages to remove instead of a pattern"
            )
            return "conflicts with appx.keep"
    return ""


def _add_user_appx(plan: dict[str, Any], appx: Mapping[str, Any]) -> None:
    """Add ``appx.remove`` (validated) to the plan; a user entry replaces the profile's for that name."""
    for number, wanted in enumerate(appx.get("remove") or []):
        item = {
            "name": wanted["name"],
            "on_failure": wanted["on_failure"],
            "source": f"appx.remove[{number}]",
        }
        plan["appx"] = [a for a in plan["appx"] if a["name"].lower() != item["name"].lower()]
        plan["appx"].append(item)
