"""The ``windows_update`` section: what Windows Update installs in the image, and its bounds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import Checker
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.messages import show, suggest, type_name
from ansible_collections.avd.golden.plugins.plugin_utils._windows_update import (
    CATEGORIES,
    DEFAULT_CATEGORIES,
    KB_RE,
    image_date,
)

ON_MAX_ROUNDS = ("fail", "warn")
EXCLUDE_KEYS = ("kb", "reason")


def check_windows_update(c: Checker, root: Mapping[str, Any], source: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``windows_update``; absent, it is off (every other field at its default)."""
    data = c.mapping(root, "windows_update", "windows_update", required=False)
    present = data is not None
    data = data or {}
    c.unknown_keys(data, "windows_update", "windows_update")
    exclude = _exclude(c, data)
    include: list[str] = []
    for n, value in enumerate(_list(c, data, "include")):
        kb = _kb(c, value, f"windows_update.include[{n}]")
        if kb in {e["kb"] for e in exclude}:
            c.error(
                f"windows_update.include[{n}]", f"{kb} is also in windows_update.exclude; keep it in one list"
            )
        elif kb in include:
            c.error(f"windows_update.include[{n}]", f"{kb} is listed twice")
        elif kb:
            include.append(kb)
    normal = {
        "enabled": c.boolean(data, "enabled", "windows_update", default=present),
        "categories": _categories(c, data),
        "skip_optional": c.boolean(data, "skip_optional", "windows_update", default=True),
        "include": include,
        "exclude": exclude,
        "deny_list": c.boolean(data, "deny_list", "windows_update", default=True),
        "max_rounds": c.integer(data, "max_rounds", "windows_update", 1, 20, default=5),
        "on_max_rounds": c.choice(data, "on_max_rounds", "windows_update", ON_MAX_ROUNDS, default="fail"),
        "already_current_days": None,
        "timeout_minutes": c.integer(data, "timeout_minutes", "windows_update", 10, 1440, default=240),
    }
    if data.get("already_current_days") is not None:
        normal["already_current_days"] = (
            c.integer(data, "already_current_days", "windows_update", 1, 365, default=0) or None
        )
        version = source.get("version")
        if isinstance(version, str) and version != "latest" and image_date(version) is None:
            c.error(
                "windows_update.already_current_days",
                f"needs a source.version that ends in its date (<build>.<UBR>.<YYMMDD>), got {show(version)}",
            )
    return normal


def _list(c: Checker, data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        c.error(f"windows_update.{key}", f"must be a list, got {type_name(value)}")
        return []
    return value


def _kb(c: Checker, value: Any, field: str) -> str | None:
    if not isinstance(value, str) or not KB_RE.match(value.strip().upper()):
        c.error(field, f"must be a KB number like KB5062553 (KB and 6 to 8 digits), got {show(value)}")
        return None
    return value.strip().upper()


def _exclude(c: Checker, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for n, item in enumerate(_list(c, data, "exclude")):
        field = f"windows_update.exclude[{n}]"
        reason = None
        if isinstance(item, Mapping):
            for key in item:
                if key not in EXCLUDE_KEYS:
                    c.error(f"{field}.{key}", f"unknown key{suggest(str(key), EXCLUDE_KEYS)}")
            reason = c.string(item, "reason", field, default=None)
            kb = _kb(c, item.get("kb"), f"{field}.kb")
        else:
            kb = _kb(c, item, field)
        if kb is None:
            continue
        if kb in {e["kb"] for e in out}:
            c.error(field, f"{kb} is listed twice")
            continue
        out.append({"kb": kb, "reason": reason})
    return out


def _categories(c: Checker, data: Mapping[str, Any]) -> list[str]:
    if data.get("categories") is None:
        return list(DEFAULT_CATEGORIES)
    value = _list(c, data, "categories")
    if isinstance(data.get("categories"), list) and not value:
        c.error("windows_update.categories", "must name at least one category")
    out: list[str] = []
    for n, name in enumerate(value):
        field = f"windows_update.categories[{n}]"
        if name == "Upgrades":
            c.error(
                field,
                "Upgrades (feature updates) would move the image off its source SKU's build; not allowed",
            )
        elif name == "*":
            c.error(
                field,
                f"'*' would include Upgrades (feature updates); list the categories: {', '.join(CATEGORIES)}",
            )
        elif not isinstance(name, str) or name not in CATEGORIES:
            spaced = isinstance(name, str) and name.replace(" ", "") in CATEGORIES
            hint = f" (write {name.replace(' ', '')})" if spaced else suggest(str(name), CATEGORIES)
            c.error(
                field, f"unknown Windows Update category {show(name)}{hint}; one of {', '.join(CATEGORIES)}"
            )
        elif name in out:
            c.error(field, f"{name} is listed twice")
        else:
            out.append(name)
    return out or list(DEFAULT_CATEGORIES)
