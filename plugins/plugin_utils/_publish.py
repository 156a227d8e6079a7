"""Safe publishing (docs/contracts.md section 9): what a validation VM must show of the image
manifest, what it showed wrong, and which older image versions a promotion prunes.

Pure Python, no Ansible: the filter plugin ``plugins/filter/publish.py`` exposes it.

The validation is read-only and batched: the manifest's entries become the items of the same
batch modules that applied them (win_registry_set, win_service_startup,
win_scheduled_task_state, win_appx_remove; win_firewall_rule and win_group_membership per item),
run in **check mode** on the validation VM. A check-mode run reports what it *would* change; in an
image that holds what the manifest says that is nothing, so every reported change is a problem.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import Any

PLAN_KEYS = ("registry", "services", "tasks", "appx", "firewall_rules", "groups")
# Entry kinds no batch module re-checks in check mode yet (the KBs, applications and languages the
# build installed): listed under ``unchecked`` with their source, never silently passed.
UNCHECKED_KINDS = ("update", "application", "language")


def _registry_item(part: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {
        "hive": entry.get("hive") or "HKLM",
        "key": entry["key"],
        "name": entry.get("name") or "",
        "source": f"{part}:{entry['id']}",
    }
    after = entry.get("after")
    if after is None:
        item["state"] = "absent"
        return item
    item.update(type=after["type"], data=after["data"], state="present")
    if isinstance(after["data"], Mapping):  # a JSON policy merged key by key
        item["json_merge"] = True
    return item


def _task_item(part: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    path, _, name = entry["id"].rpartition("\\")
    return {
        "path": path + "\\",
        "name": name,
        "enabled": entry["after"] == "Ready",
        "source": f"{part}:{entry['id']}",
    }


def validation_plan(parts: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The check-mode items for every entry of the manifest ``parts`` (as the report holds them).

    Two phases may set the same thing (the AVD settings and the AVD stack both set Teams'
    IsWVDEnvironment): the image holds what the later one wrote, so the later entry (parts come in
    phase order) replaces the earlier one rather than giving the batch module the value twice."""
    plan: dict[str, list[dict[str, Any]]] = {k: [] for k in (*PLAN_KEYS, "unchecked")}
    seen: dict[tuple[str, ...], int] = {}

    def put(key: str, item: dict[str, Any], *identity: str) -> None:
        where = (key, *(str(part).lower() for part in identity))
        if where in seen:
            plan[key][seen[where]] = item
        else:
            seen[where] = len(plan[key])
            plan[key].append(item)

    for part_doc in parts:
        part = str(part_doc.get("part") or "?")
        for entry in part_doc.get("entries") or []:
            kind, ident, after = entry["kind"], entry["id"], entry.get("after")
            source = f"{part}:{ident}"
            if kind == "registry":
                item = _registry_item(part, entry)
                put("registry", item, item["hive"], item["key"].strip("\\"), item["name"])
            elif kind == "service":
                put("services", {"name": ident, "start_mode": after, "source": source}, ident)
            elif kind == "task":
                put("tasks", _task_item(part, entry), ident)
            elif kind == "appx":
                put("appx", {"name": ident, "source": source}, ident)
            elif kind == "firewall_rule":
                put("firewall_rules", {**(after or {}), "name": ident, "source": source}, ident)
            elif kind == "group":
                put("groups", {**(after or {}), "name": ident, "source": source}, ident)
            elif kind in UNCHECKED_KINDS:
                plan["unchecked"].append({"kind": kind, "name": ident, "source": source})
            else:
                raise ValueError(f"manifest part {part}: entry kind {kind!r} cannot be validated")
    return plan


def _show(value: Any) -> str:
    if isinstance(value, Mapping) and set(value) >= {"type", "data"}:
        return f"{value['type']} {value['data']!r}"
    return "absent" if value is None else repr(value)


def _loop_problems(kind: str, result: Mapping[str, Any]) -> list[str]:
    out = []
    for one in result.get("results") or []:
        item = one.get(one.get("ansible_loop_var", "item")) or {}
        if one.get("failed"):
            out.append(f"{kind} {item.get('name', '?')}: the check failed: {one.get('msg', '')}")
        elif one.get("changed"):
            out.append(
                f"{kind} {item.get('name', '?')}: the image differs from the manifest ({item.get('source')})"
            )
    return out


def validation_problems(results: Mapping[str, Any]) -> list[str]:
    """What the check-mode ``results`` (by plan key, as registered; {} for a skipped one) say the
    image lacks, one readable line each, naming the item and the manifest part it came from."""
    out: list[str] = []
    for change in (results.get("registry") or {}).get("changes", []):
        out.append(
            f"registry {change.get('source')}: the image has {_show(change.get('before'))}, "
            f"the manifest says {_show(change.get('after'))}"
        )
    for key, kind in (("services", "service"), ("tasks", "task")):
        for change in (results.get(key) or {}).get("changes", []):
            out.append(
                f"{kind} {change.get('source') or change.get('name')}: the image has {change.get('before')}, "
                f"the manifest says {change.get('after')}"
            )
        out += [f"{kind} {m}: not in the image" for m in (results.get(key) or {}).get("missing", [])]
    for removed in (results.get("appx") or {}).get("removed", []):
        out.append(
            f"appx {removed.get('source') or removed.get('name')}: still in the image, the build removed it"
        )
    out += _loop_problems("firewall_rule", results.get("firewall_rules") or {})
    out += _loop_problems("group", results.get("groups") or {})
    return out


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in name.split("."))


def _end_of_life(version: Mapping[str, Any]) -> _dt.datetime | None:
    raw = ((version.get("properties") or {}).get("publishingProfile") or {}).get("endOfLifeDate")
    if not raw:
        return None
    moment = _dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=_dt.UTC)


def versions_to_prune(
    versions: Iterable[Mapping[str, Any]],
    current: str,
    keep_versions: int | None,
    prune_end_of_life: bool,
    now: _dt.datetime | None = None,
) -> list[dict[str, str]]:
    """The versions a promotion deletes: ``[{name, id, reason}]``, oldest first. The version just
    promoted (``current``) is never one of them; ``keep_versions`` counts it."""
    now = now or _dt.datetime.now(_dt.UTC)
    others = sorted(
        (v for v in versions if v["name"] != current), key=lambda v: _version_key(v["name"]), reverse=True
    )
    prune: dict[str, dict[str, str]] = {}
    if keep_versions is not None:
        for v in others[max(keep_versions - 1, 0) :]:
            prune[v["name"]] = {
                "name": v["name"],
                "id": v["id"],
                "reason": f"more than {keep_versions} versions",
            }
    if prune_end_of_life:
        for v in others:
            eol = _end_of_life(v)
            if eol is not None and eol <= now and v["name"] not in prune:
                prune[v["name"]] = {"name": v["name"], "id": v["id"], "reason": f"end of life {eol.date()}"}
    return sorted(prune.values(), key=lambda p: _version_key(p["name"]))
