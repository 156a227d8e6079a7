"""The ``optimization`` and ``appx`` sections: OS optimization profile, overrides, AppX removal.

The shape of both sections is checked here; the profile and configuration files are read by the
package ``plugin_utils._optimization``, which also builds the plan: its errors (a file that does
not parse, an item with a bad field, an override naming no item) are errors of the spec, so the
validate phase refuses them before any Azure resource exists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import Checker
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.messages import show, suggest, type_name
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.schema import (
    APPX_ON_FAILURE,
    OPTIMIZATION_ACTIONS,
)
from ansible_collections.avd.golden.plugins.plugin_utils._optimization import appx as _appx
from ansible_collections.avd.golden.plugins.plugin_utils._optimization import profiles as _profiles
from ansible_collections.avd.golden.plugins.plugin_utils._optimization.items import CATEGORIES
from ansible_collections.avd.golden.plugins.plugin_utils._optimization.plan import build_plan
from ansible_collections.avd.golden.plugins.plugin_utils._optimization.reader import ConfigError

_PACKAGE = re.compile(r"^[A-Za-z0-9.*?_-]{1,128}\Z")


def check_optimization(
    c: Checker, root: Mapping[str, Any], source: Mapping[str, Any], session: str | None, base_dir: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate ``optimization`` and ``appx``; return both normalised sections."""
    before = len(c.errors)
    optimization = _check_optimization(
        c, c.mapping(root, "optimization", "optimization", required=False) or {}
    )
    appx = _check_appx(c, c.mapping(root, "appx", "appx", required=False) or {})
    sku = source.get("sku")
    if len(c.errors) == before and isinstance(sku, str) and session:
        try:
            build_plan(optimization, appx, sku, session, base_dir, need_files=False)
        except ConfigError as exc:
            c.errors.extend(exc.errors)
    return optimization, appx


def _check_optimization(c: Checker, data: dict[str, Any]) -> dict[str, Any]:
    c.unknown_keys(data, "optimization", "optimization")
    names = sorted(_profiles.index())
    profile = c.string(data, "profile", "optimization", default="auto")
    if isinstance(data.get("profile"), str) and profile not in ("auto", *names):
        c.error(
            "optimization.profile",
            f"must be auto or a shipped profile ({', '.join(names)}), "
            f"got {show(profile)}{suggest(profile, names)}",
        )
    path = c.string(data, "path", "optimization", default=None)
    if path is not None and not str(path).strip():
        c.error("optimization.path", "must not be empty")
        path = None
    if path is not None and data.get("profile") not in (None, "auto"):
        c.error("optimization.path", "give either optimization.profile or optimization.path, not both")
    return {
        "enabled": c.boolean(data, "enabled", "optimization", default=True),
        "profile": profile,
        "path": str(Path(path)) if path else None,
        "categories": _check_categories(c, data.get("categories")),
        "overrides": _check_overrides(c, data.get("overrides")),
        "disk_cleanup": c.boolean(data, "disk_cleanup", "optimization", default=False),
        "network": c.boolean(data, "network", "optimization", default=True),
    }


def _check_categories(c: Checker, value: Any) -> list[str]:
    if value is None:
        return list(CATEGORIES)
    field = "optimization.categories"
    if not isinstance(value, list) or not value:
        c.error(field, f"must be a non-empty list of categories ({', '.join(CATEGORIES)}), got {show(value)}")
        return list(CATEGORIES)
    chosen = []
    for number, name in enumerate(value):
        if name not in CATEGORIES:
            hint = suggest(name, CATEGORIES) if isinstance(name, str) else ""
            c.error(f"{field}[{number}]", f"must be one of {', '.join(CATEGORIES)}, got {show(name)}{hint}")
        elif name in chosen:
            c.error(f"{field}[{number}]", f"{name} is listed twice")
        else:
            chosen.append(name)
    return [name for name in CATEGORIES if name in chosen]


def _check_overrides(c: Checker, value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        c.error("optimization.overrides", f"must be a list, got {type_name(value)}")
        return []
    result = []
    for number, raw in enumerate(value):
        path = f"optimization.overrides[{number}]"
        if not isinstance(raw, Mapping):
            c.error(path, f"must be a mapping with category, item and action or value, got {type_name(raw)}")
            continue
        c.unknown_keys(raw, "optimization.overrides[]", path)
        category = c.choice(raw, "category", path, CATEGORIES, required=True)
        item = c.string(raw, "item", path, required=True)
        action = c.choice(raw, "action", path, OPTIMIZATION_ACTIONS, default=None)
        has_value = raw.get("value") is not None
        if action is None and not has_value and "action" not in raw:
            c.error(path, "needs action (apply or skip) or value")
        if action == "skip" and has_value:
            c.error(f"{path}.value", "a value with action skip does nothing: drop one of them")
        result.append(
            {"category": category, "item": item, "action": action or "apply", "value": raw.get("value")}
        )
    return result


def _check_appx(c: Checker, data: dict[str, Any]) -> dict[str, Any]:
    c.unknown_keys(data, "appx", "appx")
    on_failure = c.choice(data, "on_failure", "appx", APPX_ON_FAILURE, default="fail") or "fail"
    keep = [name for _, name in _packages(c, data.get("keep"), "appx.keep")]
    remove = []
    for number, raw in _packages(c, data.get("remove"), "appx.remove", entries=True):
        name, mode = raw if isinstance(raw, tuple) else (raw, None)
        why = _removal_refused(name, keep)
        if why:
            c.error(f"appx.remove[{number}]", why)
            continue
        remove.append({"name": name, "on_failure": mode or on_failure})
    return {"remove": remove, "keep": keep, "on_failure": on_failure}


def _removal_refused(name: str, keep: list[str]) -> str | None:
    """Why ``appx.remove`` may not name ``name`` (protected, kept, or a pattern over a kept name)."""
    kept, clash = _appx.kept(name, keep), _appx.conflict(name, keep)
    if _appx.protected(name):
        return _appx.protected(name)
    if kept:
        return f"is also in appx.keep ({kept!r})"
    if clash:
        return f"the pattern would also remove {clash!r}, which appx.keep lists; name the packages instead"
    return None


def _packages(c: Checker, value: Any, field: str, entries: bool = False) -> list[tuple[int, Any]]:
    """(index, name) of a list of package names or patterns.

    With ``entries`` an element may also be ``{name, on_failure}``: its name comes as
    ``(name, on_failure)``.
    """
    if value is None:
        return []
    if not isinstance(value, list):
        c.error(field, f"must be a list of package names or patterns, got {type_name(value)}")
        return []
    result: list[tuple[int, Any]] = []
    for number, raw in enumerate(value):
        path, mode = f"{field}[{number}]", None
        if entries and isinstance(raw, Mapping):
            c.unknown_keys(raw, "appx.remove[]", path)
            mode = c.choice(raw, "on_failure", path, APPX_ON_FAILURE, default=None)
            raw = c.string(raw, "name", path, required=True)
            if raw is None:
                continue
        if isinstance(raw, str) and not c.single_line(path, raw):
            continue
        if not isinstance(raw, str) or not _PACKAGE.match(raw):
            c.error(
                path,
                "must be a package name or pattern like Microsoft.BingNews or Microsoft.Xbox*, "
                f"got {show(raw)}",
            )
            continue
        result.append((number, (raw, mode) if mode else raw))
    return result
