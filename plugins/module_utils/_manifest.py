"""The image manifest: what the build put into the image, part by part, with old and new values.

Each configuring role writes one part, ``<artifacts>/manifest/<part>.json`` (or, in check mode,
``<artifacts>/whatif/<part>.json``: the what-if list), from the items it planned and the results
of the batch modules that applied them. Shape (``manifest_version`` 1; docs/contracts.md section 7)::

    {"manifest_version": 1, "part": "optimize", "info": {"profile": "win11-multi-session"},
     "entries": [{"kind": "registry", "id": "HKLM\\SOFTWARE\\...\\Name", "hive": "HKLM",
                  "key": "SOFTWARE\\...", "name": "Name", "source": "PolicyRegSettings.json#3",
                  "before": {"type": "REG_DWORD", "data": 1} | null, "after": ..., "changed": true}],
     "missing": [{"kind": "service", "id": "MapsBroker", "source": "..."}],
     "failed": [{"kind": "appx", "id": "...", "error": "..."}],  # on_failure: warn
     "warnings": ["..."]}

A part that exists is merged, not replaced: an entry keeps the ``before`` and ``changed`` of the
first run that changed it, so a re-run (which changes nothing) leaves the record of what the
first run did, and reports no change. ``info`` is merged key by key (a later write's keys win).
"""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.avd.golden.plugins.module_utils import _ledger

MANIFEST_VERSION = 1
KINDS = ("registry", "service", "task", "appx", "firewall_rule", "group", "update", "application", "language")


def registry_id(item: Mapping[str, Any]) -> str:
    """``HKLM\\<key>\\<name>`` or ``DefaultUser\\<key>\\<name>`` ((Default) for the unnamed value)."""
    hive = "DefaultUser" if item.get("hive") == "default_user" else "HKLM"
    return f"{hive}\\{item['key']}\\{item.get('name') or '(Default)'}"


def task_id(item: Mapping[str, Any]) -> str:
    path = item.get("path") or "\\"
    return f"{path.rstrip(chr(92))}\\{item['name']}"


_IDS = {
    "registry": registry_id,
    "service": lambda item: str(item["name"]),
    "task": task_id,
    "appx": lambda item: str(item["name"]),
    "firewall_rule": lambda item: str(item["name"]),
    "group": lambda item: str(item["name"]),
    "update": lambda item: str(item["name"]),  # a KB number
    "application": lambda item: str(item["name"]),
    "language": lambda item: str(item["name"]),  # <kind>/<name> of a language component or setting/<name>
}


def _entries_for(kind: str, items: Iterable[Mapping[str, Any]], result: Mapping[str, Any]) -> dict[str, Any]:
    """Entries, missing and failed of one module result, keyed case-insensitively by id."""
    ident = _IDS[kind]
    entries: dict[str, dict[str, Any]] = {}
    items = list(items)
    # A change that names no source takes its planned item's (the same on every run).
    sources = {ident(item).lower(): item.get("source") for item in items if not _wildcard(item)}
    for change in _changes(kind, result):
        key = ident(change)
        entries[key.lower()] = {
            "kind": kind,
            "id": key,
            **_where(kind, change),
            "source": change.get("source") or sources.get(key.lower()) or "",
            "before": change.get("before"),
            "after": change.get("after"),
            "changed": True,
        }
    missing_names = {str(m).lower() for m in result.get("missing", []) + result.get("not_present", [])}
    # win_appx_remove's not_removed (a result's own `failed` key is the task's failure flag)
    # and windows_update's not_installed (a KB offered again after it installed)
    failed_names = {
        str(f.get("name", "")).lower(): f
        for f in result.get("not_removed", []) + result.get("not_installed", [])
    }
    missing, failed = [], []
    for item in items:
        key = ident(item)
        name = str(item.get("name", "")).lower()
        if name in failed_names:
            failed.append({"kind": kind, "id": key, "error": failed_names[name].get("error", "")})
        elif (name in missing_names or key.lower() in missing_names) and key.lower() not in entries:
            missing.append({"kind": kind, "id": key, "source": item.get("source") or ""})
        elif key.lower() not in entries and not _wildcard(item):
            entries[key.lower()] = {
                "kind": kind,
                "id": key,
                **_where(kind, item),
                "source": item.get("source") or "",
                "before": _desired(kind, item),
                "after": _desired(kind, item),
                "changed": False,
            }
    return {"entries": entries, "missing": missing, "failed": failed}


def _where(kind: str, item: Mapping[str, Any]) -> dict[str, Any]:
    """A registry entry also names its hive, key and value apart: value names may hold backslashes
    (Defender's path exclusions), so the id alone cannot be split back."""
    if kind != "registry":
        return {}
    return {"hive": item.get("hive") or "HKLM", "key": item["key"], "name": item.get("name") or ""}


def _wildcard(item: Mapping[str, Any]) -> bool:
    return any(ch in str(item.get("name", "")) for ch in "*?[")


def _changes(kind: str, result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if kind == "appx":
        return [
            {
                "name": r["name"],
                "source": r.get("source"),
                "before": {"provisioned": r.get("provisioned", []), "users": r.get("users", [])},
                "after": None,
            }
            for r in result.get("removed", [])
        ]
    if isinstance(result.get("results"), list):  # a loop: one module call per item
        changed = []
        for one in result["results"]:
            item = one.get(one.get("ansible_loop_var", "item")) or {}
            if one.get("changed") and isinstance(item, Mapping):
                after = {k: v for k, v in item.items() if k != "source"}
                changed.append({**item, "before": None, "after": after})
        return changed
    return list(result.get("changes", []))


def _desired(kind: str, item: Mapping[str, Any]) -> Any:
    if kind == "registry":
        if item.get("state", "present") == "absent":
            return None
        return {"type": item.get("type", "string"), "data": item.get("data")}
    if kind == "service":  # as win_service_startup reports it: the start mode
        return item.get("start_mode")
    if kind == "task":  # as win_scheduled_task_state reports it
        return "Ready" if item.get("enabled") else "Disabled"
    if kind == "appx":
        return None
    if kind == "language":
        return item.get("value")
    # A firewall rule, a group; an application: {kind, version, sha256, signer}.
    return {k: v for k, v in item.items() if k not in ("name", "source")}


def build_part(
    part: str,
    results: Iterable[Mapping[str, Any]],
    info: Mapping[str, Any] | None = None,
    warnings: Iterable[str] = (),
) -> dict[str, Any]:
    """One manifest part from ``results``: ``[{kind, items, result}]`` as the roles register them."""
    entries: dict[str, dict[str, Any]] = {}
    missing: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    notes = list(warnings)
    for block in results:
        kind = block["kind"]
        if kind not in KINDS:
            raise ValueError(f"results: kind {kind!r} is not one of {', '.join(KINDS)}")
        found = _entries_for(kind, block.get("items") or [], block.get("result") or {})
        entries.update(found["entries"])
        missing += found["missing"]
        failed += found["failed"]
        notes += [str(w) for w in (block.get("result") or {}).get("warnings", [])]
    return {
        "manifest_version": MANIFEST_VERSION,
        "part": part,
        "info": dict(info or {}),
        "entries": sorted(entries.values(), key=lambda e: (e["kind"], e["id"].lower())),
        "missing": missing,
        "failed": failed,
        "warnings": sorted(set(notes)),
    }


def merge(previous: Mapping[str, Any] | None, current: dict[str, Any]) -> dict[str, Any]:
    """``current`` with the first recorded change (``before``, ``after``, ``changed``) of each entry
    kept from ``previous``."""
    if not previous or previous.get("manifest_version") != MANIFEST_VERSION:
        return current
    earlier = {(e["kind"], e["id"].lower()): e for e in previous.get("entries", [])}
    merged = []
    for entry in current["entries"]:
        old = earlier.pop((entry["kind"], entry["id"].lower()), None)
        if old and old.get("changed") and not entry["changed"]:
            entry = {**entry, "before": old.get("before"), "after": old.get("after"), "changed": True}
        merged.append(entry)
    merged += earlier.values()  # recorded by an earlier run, not planned this time: kept
    out = dict(current)
    # Two writes of one part (an install batch, then the role's own record) each keep the other's info.
    out["info"] = {**(previous.get("info") or {}), **current["info"]}
    out["warnings"] = sorted(set(previous.get("warnings") or []) | set(current["warnings"]))
    # What an earlier run removed is not missing now (a removed package is "not present").
    # A pattern (Microsoft.Xbox*) matches the packages it removed then.
    done = [(e["kind"], e["id"].lower()) for e in merged if e.get("changed")]
    out["missing"] = [
        m
        for m in current["missing"]
        if not any(kind == m["kind"] and fnmatch.fnmatchcase(ident, m["id"].lower()) for kind, ident in done)
    ]
    out["entries"] = sorted(merged, key=lambda e: (e["kind"], e["id"].lower()))
    return out


def part_path(artifacts_dir: str, part: str, what_if: bool) -> str:
    return os.path.join(artifacts_dir, "whatif" if what_if else "manifest", f"{part}.json")


def load(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write(path: str, data: Mapping[str, Any]) -> None:
    os.makedirs(os.path.dirname(path), mode=0o750, exist_ok=True)
    _ledger.write_atomic(path, data, mode=0o640)


def load_parts(artifacts_dir: str, what_if: bool = False) -> list[dict[str, Any]]:
    """Every part in the artifacts directory, in file-name order (empty when there is none)."""
    folder = os.path.dirname(part_path(artifacts_dir, "x", what_if))
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".json"))
    except OSError:
        return []
    parts = [load(os.path.join(folder, n)) for n in names]
    return [p for p in parts if p is not None]


def summary(parts: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Per part: entries, changed, missing and failed counts."""
    return {
        p["part"]: {
            "entries": len(p.get("entries", [])),
            "changed": sum(1 for e in p.get("entries", []) if e.get("changed")),
            "missing": len(p.get("missing", [])),
            "failed": len(p.get("failed", [])),
        }
        for p in parts
    }


TAG_VALUE_MAX = 256  # Azure: tag values are at most 256 characters


def _joined(fields: list[str], sep: str) -> str:
    """``fields`` joined within TAG_VALUE_MAX, whole fields only; ``+N`` says how many did not fit."""
    out: list[str] = []
    for i, field in enumerate(fields):
        rest = len(fields) - i - 1
        tail = f"{sep}+{rest}" if rest else ""
        if len(sep.join([*out, field])) + len(tail) > TAG_VALUE_MAX:
            return sep.join([*out, f"+{len(fields) - i}"])
        out.append(field)
    return sep.join(out)


def _stack_versions(info: Mapping[str, Any]) -> list[str]:
    """``<component>=<version>`` of the AVD stack; Teams is the version of its MSIX."""
    fields = []
    for key, component in (info.get("components") or {}).items():
        if key == "teams":
            component = component.get("msix") or {}
        if component.get("version"):
            fields.append(f"{key}={component['version']}")
    return fields


def tags(parts: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The manifest's summary as tags for the image version, within Azure's limits.

    ``avd-image-manifest``: ``<part>=<entries>/<changed>[/<missing>m][/<failed>f]`` per part, ``;``-joined;
    ``avd-image-optimization``: the optimization profile, when a part names one;
    ``avd-image-apps``: ``<name>=<version>`` of each application; ``avd-image-avd-stack``:
    ``<component>=<version>``; ``avd-image-languages``: the languages installed;
    ``avd-image-updates``: the KBs installed. A list longer than a tag value ends with ``+N``.
    """
    parts = list(parts)
    counts = summary(parts)
    fields = []
    for name, c in counts.items():
        field = f"{name}={c['entries']}/{c['changed']}"
        field += f"/{c['missing']}m" if c["missing"] else ""
        field += f"/{c['failed']}f" if c["failed"] else ""
        fields.append(field)
    out = {}
    if fields:
        out["avd-image-manifest"] = ";".join(fields)[:TAG_VALUE_MAX]
    profiles = sorted({str(p["info"]["profile"]) for p in parts if p.get("info", {}).get("profile")})
    if profiles:
        out["avd-image-optimization"] = ",".join(profiles)[:TAG_VALUE_MAX]
    by_part = {str(p.get("part")): p for p in parts}
    lists = {
        "avd-image-apps": (
            ";",
            [
                f"{e['id']}={e['after']['version']}"
                for e in (by_part.get("applications") or {}).get("entries", [])
                if e.get("kind") == "application" and (e.get("after") or {}).get("version")
            ],
        ),
        "avd-image-avd-stack": (";", _stack_versions((by_part.get("avd_stack") or {}).get("info") or {})),
        "avd-image-languages": (
            ",",
            [
                e["id"].split("/", 1)[1]
                for e in (by_part.get("languages") or {}).get("entries", [])
                if e.get("kind") == "language" and e["id"].startswith("language_pack/")
            ],
        ),
        "avd-image-updates": (
            ",",
            [e["id"] for e in (by_part.get("updates") or {}).get("entries", []) if e.get("kind") == "update"],
        ),
    }
    for name, (sep, items) in lists.items():
        if items:
            out[name] = _joined(items, sep)
    return out
