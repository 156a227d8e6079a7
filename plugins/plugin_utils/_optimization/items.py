"""One item of each of the 8 categories, in VDOT's format and in WDOT's, to an ``Entry``.

VDOT says whether to apply an item with ``VDIState`` (AppX, tasks, services: ``Disabled`` applies,
``Unchanged``/``Enabled`` leave it; policies and Edge: ``Enabled`` applies), ``SetProperty``
(default-user settings, LanMan) or ``Disabled`` (autologgers); WDOT with ``OptimizationState``
``Apply``/``Skip`` everywhere. Field names are matched in any case, as PowerShell does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._optimization.values import (
    FieldError,
    data,
    default_user_path,
    flag,
    registry_path,
    state,
    text,
    value_type,
)

CATEGORIES = (
    "AppxPackages",
    "ScheduledTasks",
    "Services",
    "Autologgers",
    "DefaultUserSettings",
    "LanManWorkstation",
    "PolicyRegSettings",
    "EdgeSettings",
)
REGISTRY_CATEGORIES = (
    "Autologgers",
    "DefaultUserSettings",
    "LanManWorkstation",
    "PolicyRegSettings",
    "EdgeSettings",
)
# Where each category's item is named, for error messages before the item is understood.
NAME_FIELDS = {
    "AppxPackages": ("AppxPackage",),
    "ScheduledTasks": ("ScheduledTask",),
    "Services": ("Name",),
    "Autologgers": ("KeyName",),
    "DefaultUserSettings": ("HivePath", "KeyName"),
    "LanManWorkstation": ("Name",),
    "PolicyRegSettings": ("RegItemPath", "RegItemValueName"),
    "EdgeSettings": ("RegItemPath", "RegItemValueName"),
}
# VDOT's state field per category: (field, values that apply, values that leave the item alone).
_VDOT_STATE: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "AppxPackages": ("VDIState", ("Disabled",), ("Unchanged", "Enabled")),
    "ScheduledTasks": ("VDIState", ("Disabled",), ("Unchanged", "Enabled")),
    "Services": ("VDIState", ("Disabled",), ("Unchanged", "Enabled")),
    "Autologgers": ("Disabled", (), ()),
    "DefaultUserSettings": ("SetProperty", (), ()),
    "LanManWorkstation": ("SetProperty", (), ()),
    "PolicyRegSettings": ("VDIState", ("Enabled",), ("Disabled", "Unchanged")),
    "EdgeSettings": ("VDIState", ("Enabled",), ("Disabled", "Unchanged")),
}
# Words of VDOT's VDIState that WDOT's own files still carry in OptimizationState; WDOT applies
# only "Apply", so an item with one of them is not applied (with a note saying so).
_VDOT_WORDS = ("Unchanged", "Disabled", "Enabled")
EMPTY_NUMBER_WARNING = (
    "an empty number: written as 0, as VDOT and WDOT write it (PowerShell reads '' as 0); set the "
    "value you mean in the file or with an override"
)
HKCU_WARNING = (
    "an HKCU entry: written to the default user hive (C:\\Users\\Default\\NTUSER.DAT, so every new "
    "profile gets it), not to the build account's HKCU"
)


class ItemError(ValueError):
    """A field of an item is wrong: ``field`` names it, the message is the reason."""

    def __init__(self, field_name: str, reason: str) -> None:
        self.field = field_name
        super().__init__(reason)


@dataclass
class Entry:
    """One item of a configuration file, understood."""

    category: str
    source: str  # label for the manifest: "<file>#<n>"
    name: str  # short name: service, task, package, autologger, registry value name
    ident: str  # full identity, lowercase: what overrides and profile layers match on
    apply: bool
    kind: str  # registry | service | task | appx
    item: dict[str, Any]
    label: str = ""  # the item's name as its file writes it
    where: str = ""  # how errors and warnings name it: "<file>: item <n> (<label>)"
    warnings: list[str] = field(default_factory=list)  # reported when the item is applied
    notes: list[str] = field(default_factory=list)  # reported whether applied or not


def fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The item's fields by lowercase name (PowerShell reads JSON property names in any case)."""
    return {str(k).strip().lower(): v for k, v in raw.items()}


def label(category: str, raw: Mapping[str, Any]) -> str:
    f = fields(raw)
    parts = [str(f[n.lower()]).strip() for n in NAME_FIELDS[category] if isinstance(f.get(n.lower()), str)]
    return "\\".join(p for p in parts if p) or "?"


def parse(category: str, raw: Any, source: str, defaults: Mapping[str, Any] | None = None) -> Entry:
    """Understand one item (a mapping) of ``category``; raise ItemError naming the bad field."""
    if not isinstance(raw, Mapping):
        raise ItemError("(item)", f"must be a JSON object, got {type(raw).__name__}")
    f = fields(raw)
    if defaults:
        f = {**{k.lower(): v for k, v in defaults.items()}, **f}
    apply, note = _apply(category, f)
    entry = _PARSERS[category](f)
    entry.category, entry.source, entry.apply, entry.label = category, source, apply, label(category, raw)
    entry.notes += [note] if note else []
    return entry


def _get(f: Mapping[str, Any], name: str, convert: Callable[[Any], Any]) -> Any:
    try:
        return convert(f.get(name.lower()))
    except FieldError as exc:
        raise ItemError(name, str(exc)) from None


def _apply(category: str, f: Mapping[str, Any]) -> tuple[bool, str | None]:
    """Whether the item applies, and a note when its state word is one WDOT leaves alone."""
    vdot, apply, skip = _VDOT_STATE[category]
    has_wdot, has_vdot = "optimizationstate" in f, vdot.lower() in f
    if has_wdot and has_vdot:
        raise ItemError(
            f"{vdot}, OptimizationState", "give one of them (VDOT files use the first, WDOT files the second)"
        )
    if has_wdot:
        word = f["optimizationstate"]
        if isinstance(word, str) and word.strip().lower() in (w.lower() for w in _VDOT_WORDS):
            return False, (
                f"OptimizationState {word.strip()!r} is not Apply: not applied, as WDOT does "
                "(write Apply or Skip)"
            )
        return _get(f, "OptimizationState", lambda v: state(v, ("Apply",), ("Skip",))), None
    if not has_vdot:
        raise ItemError("OptimizationState", f"is required (Apply or Skip; {vdot} in a VDOT file)")
    if not apply:
        return _get(f, vdot, flag), None
    return _get(f, vdot, lambda v: state(v, apply, skip)), None


def _appx(f: Mapping[str, Any]) -> Entry:
    name = _get(f, "AppxPackage", lambda v: text(v, "a package name"))
    return Entry("", "", name, name.lower(), False, "appx", {"name": name})


def _task(f: Mapping[str, Any]) -> Entry:
    full = _get(f, "ScheduledTask", lambda v: text(v, "a task name"))
    folder, _, name = full.rpartition("\\")
    if not name.strip():
        raise ItemError("ScheduledTask", f"names a folder but no task, got {full!r}")
    # A name alone (as VDOT and WDOT files give them) is looked up in every folder, like
    # Get-ScheduledTask <name>; our profiles give the full path.
    parts = [p.strip() for p in folder.split("\\") if p.strip()]
    path = "\\" + "".join(p + "\\" for p in parts) if "\\" in full else "\\*"
    item = {"path": path, "name": name.strip(), "enabled": False}
    return Entry("", "", item["name"], (path + item["name"]).lower(), False, "task", item)


def _service(f: Mapping[str, Any]) -> Entry:
    name = _get(f, "Name", lambda v: text(v, "a service name"))
    return Entry("", "", name, name.lower(), False, "service", {"name": name, "start_mode": "disabled"})


def _autologger(f: Mapping[str, Any]) -> Entry:
    hive, key = _get(f, "KeyName", registry_path)
    if hive != "HKLM":
        raise ItemError(
            "KeyName", "must be an HKLM:\\SYSTEM\\CurrentControlSet\\Control\\WMI\\Autologger\\<name> key"
        )
    item = {"hive": "HKLM", "key": key, "name": "Start", "type": "dword", "data": 0}
    return Entry("", "", key.rpartition("\\")[2], key.lower(), False, "registry", item)


def _registry(
    f: Mapping[str, Any], hive: str, key: str, name_field: str, type_field: str, data_field: str
) -> Entry:
    """A registry entry from the value's name, type and data fields."""
    name = _get(f, name_field, lambda v: v.strip() if isinstance(v, str) else text(v, "a value name"))
    kind = _get(f, type_field, value_type)
    raw = f.get(data_field.lower())
    empty = kind in ("dword", "qword") and isinstance(raw, str) and not raw.strip()
    value = 0 if empty else _get(f, data_field, lambda v: data(v, kind))
    item = {"hive": hive, "key": key, "name": name, "type": kind, "data": value}
    entry = Entry("", "", name, f"{hive}\\{key}\\{name}".lower(), False, "registry", item)
    entry.warnings += [EMPTY_NUMBER_WARNING] if empty else []
    return entry


def _policy(f: Mapping[str, Any]) -> Entry:
    hive, key = _get(f, "RegItemPath", registry_path)
    target = "default_user" if hive == "HKCU" else hive
    entry = _registry(f, target, key, "RegItemValueName", "RegItemValueType", "RegItemValue")
    if hive == "HKCU":
        entry.warnings.append(HKCU_WARNING)
    return entry


def _default_user(f: Mapping[str, Any]) -> Entry:
    hive, key, user = _get(f, "HivePath", default_user_path)
    entry = _registry(f, hive, key, "KeyName", "PropertyType", "PropertyValue")
    if not user:
        entry.warnings.append(
            "a machine key (not HKLM:\\VDOT_TEMP\\... or HKCU:\\...): written to HKLM as given"
        )
    return entry


def _lanman(f: Mapping[str, Any]) -> Entry:
    hive, key = _get(f, "HivePath", registry_path)
    return _registry(
        f, "default_user" if hive == "HKCU" else hive, key, "Name", "PropertyType", "PropertyValue"
    )


_PARSERS: dict[str, Callable[[Mapping[str, Any]], Entry]] = {
    "AppxPackages": _appx,
    "ScheduledTasks": _task,
    "Services": _service,
    "Autologgers": _autologger,
    "DefaultUserSettings": _default_user,
    "LanManWorkstation": _lanman,
    "PolicyRegSettings": _policy,
    "EdgeSettings": _policy,
}
