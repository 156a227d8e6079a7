"""Windows Update rounds with a cap and loop detection (pure Python; the role's decisions).

The role ``avd.golden.windows_update`` drives ``ansible.windows.win_updates`` itself, one round
at a time, instead of the module's own ``reboot: true`` loop: that loop has no cap on rounds, and
its loop detection fails the task. Here each round is a search, then an install of exactly what
the search offered minus what must not install, then a reboot when Windows asks for one:

- ``plan``: the round's filters from the role inputs, the shipped deny list and the manifest part
  of an earlier run (KBs it installed and KBs it found looping), or why the phase is skipped
  (disabled, or the source image is recent enough: the "already current" shortcut);
- ``after_search``: what the search offered: a KB offered again after it installed is a loop, so it
  joins the reject list with a warning naming it; the rest is what this round installs;
- ``after_install``: what installed (KB, title, round), what failed (KB, HRESULT), whether a
  reboot is needed;
- ``manifest_results``: the ``updates`` manifest part's input (docs/contracts.md section 7).

KBs are matched by anchored patterns (``^KB5062553$``): win_updates treats each accept/reject entry
as a regex against the title and every ``KB<n>``, so a bare ``KB506255`` would also match KB5062553.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

KB_RE = re.compile(r"^KB[0-9]{6,8}\Z")
# Classification names as ansible.windows.win_updates documents them (the module maps the
# CamelCase ones to Windows Update's spelled-out names). Upgrades (feature updates) are left out:
# they move the image off its marketplace SKU's build.
CATEGORIES = (
    "SecurityUpdates",
    "CriticalUpdates",
    "UpdateRollups",
    "DefinitionUpdates",
    "Updates",
    "FeaturePacks",
    "ServicePacks",
    "Tools",
    "Drivers",
    "DeveloperKits",
    "Application",
    "Connectors",
    "Guidance",
)
DEFAULT_CATEGORIES = ("SecurityUpdates", "CriticalUpdates", "UpdateRollups", "DefinitionUpdates")
_VERSION_RE = re.compile(r"^(?P<build>[0-9]+)\.(?P<ubr>[0-9]+)\.(?P<date>[0-9]{6})\Z")


class UpdatePlanError(ValueError):
    """Bad role input or deny-list data; the message names the field."""


def kb_pattern(kb: str) -> str:
    return f"^{kb}$"


def normalize_kb(value: Any, field: str) -> str:
    """``KB5062553`` (any case) -> ``KB5062553``; UpdatePlanError naming ``field`` otherwise."""
    if not isinstance(value, str) or not KB_RE.match(value.strip().upper()):
        raise UpdatePlanError(
            f"{field}: must be a KB number like KB5062553 (KB and 6 to 8 digits), got {value!r}"
        )
    return value.strip().upper()


def image_date(version: Any) -> _dt.date | None:
    """The date a marketplace image version ``<build>.<UBR>.<YYMMDD>`` ends in; None when it has none."""
    match = _VERSION_RE.match(str(version or ""))
    if not match:
        return None
    try:
        return _dt.datetime.strptime(match["date"], "%y%m%d").date()
    except ValueError:
        return None


def image_build(version: Any) -> str | None:
    match = _VERSION_RE.match(str(version or ""))
    return match["build"] if match else None


def deny_list(data: Any) -> list[dict[str, Any]]:
    """The shipped deny list, checked: ``[{kb, builds, reason, reference}]``."""
    entries = data.get("windows_update_deny_list") if isinstance(data, Mapping) else None
    if not isinstance(entries, list):
        raise UpdatePlanError("windows_update_deny_list: must be a list of {kb, builds, reason, reference}")
    out = []
    for n, entry in enumerate(entries):
        field = f"windows_update_deny_list[{n}]"
        if not isinstance(entry, Mapping) or set(entry) - {"kb", "builds", "reason", "reference"}:
            raise UpdatePlanError(f"{field}: must be a mapping of kb, builds, reason, reference")
        builds = entry.get("builds") or []
        if not isinstance(builds, list) or not all(isinstance(b, str) and b.isdigit() for b in builds):
            raise UpdatePlanError(f"{field}.builds: must be a list of build numbers as strings, like '26100'")
        for key in ("reason", "reference"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise UpdatePlanError(f"{field}.{key}: must be a non-empty string")
        out.append(
            {
                "kb": normalize_kb(entry.get("kb"), f"{field}.kb"),
                "builds": list(builds),
                "reason": entry["reason"],
                "reference": entry["reference"],
            }
        )
    return out


def plan(
    settings: Mapping[str, Any],
    shipped: Any,
    source_version: Any = "",
    today: Any = None,
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What the phase does: ``run`` (or ``skip_reason``), the round filters and the carried state.

    ``settings``: the role inputs (enabled, categories, skip_optional, include, exclude,
    use_deny_list, already_current_days); ``shipped``: the role's deny-list file; ``source_version``:
    the exact marketplace version the build VM came from (empty when unknown); ``previous``: the
    ``updates`` manifest part of an earlier run on this build, if any.
    """
    include = [
        normalize_kb(k, f"windows_update_include[{n}]") for n, k in enumerate(settings.get("include") or [])
    ]
    excluded, warnings = _exclusions(settings, shipped, source_version, include)
    state = _carried(previous)
    skip_reason, warning = _shortcut(settings.get("already_current_days"), source_version, _day(today))
    if not settings.get("enabled", False):
        skip_reason, warning = "windows_update.enabled is false", ""
    return {
        "run": not skip_reason,
        "skip_reason": skip_reason,
        "categories": list(settings.get("categories") or DEFAULT_CATEGORIES),
        "skip_optional": bool(settings.get("skip_optional", True)),
        "accept": [kb_pattern(k) for k in include],
        "reject": sorted(
            {kb_pattern(e["kb"]) for e in excluded} | {kb_pattern(x["kb"]) for x in state["looping"]}
        ),
        "excluded": excluded,
        "installed": state["installed"],
        "looping": state["looping"],
        "to_install": [],
        "failed": [],
        "reboot_required": False,
        "done": False,
        "capped": False,
        "left": [],
        "failure": "",
        "cap_message": "",
        "warnings": warnings + ([warning] if warning else []) + [_loop_warning(x) for x in state["looping"]],
    }


def _exclusions(
    settings: Mapping[str, Any], shipped: Any, source_version: Any, include: list[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The image spec's exclusions, then the shipped deny list's entries for the source's build."""
    excluded, warnings = [], []
    for n, item in enumerate(settings.get("exclude") or []):
        kb = normalize_kb(
            item.get("kb") if isinstance(item, Mapping) else item, f"windows_update_exclude[{n}]"
        )
        reason = item.get("reason") if isinstance(item, Mapping) else None
        excluded.append(
            {"kb": kb, "reason": reason or "excluded by the image spec", "source": "windows_update.exclude"}
        )
    build = image_build(source_version)
    if settings.get("use_deny_list", True):
        for entry in deny_list(shipped):
            if build and entry["builds"] and build not in entry["builds"]:
                continue
            if entry["kb"] in include:
                warnings.append(
                    f"{entry['kb']} is on the shipped deny list ({entry['reason']}) but "
                    "windows_update.include names it, so it may install"
                )
                continue
            excluded.append({"kb": entry["kb"], "reason": entry["reason"], "source": "deny_list.yml"})
    return excluded, warnings


def _shortcut(days: Any, source_version: Any, day: _dt.date) -> tuple[str, str]:
    """(skip reason, warning) of the "already current" shortcut."""
    if days is None:
        return "", ""
    made = image_date(source_version)
    if made is None:
        return "", (
            f"windows_update.already_current_days is set but the source image version {source_version!r} "
            "carries no date (<build>.<UBR>.<YYMMDD>), so updates run"
        )
    age = (day - made).days
    if age <= int(days):
        return (
            f"the source image version {source_version} is {age} days old, "
            f"no older than windows_update.already_current_days ({days})"
        ), ""
    return "", ""


def _day(today: Any) -> _dt.date:
    if today in (None, ""):
        return _dt.datetime.now(_dt.UTC).date()
    if isinstance(today, _dt.date):
        return today
    return _dt.date.fromisoformat(str(today))


def _carried(previous: Mapping[str, Any] | None) -> dict[str, list[dict[str, Any]]]:
    """KBs an earlier run installed and found looping, from its manifest part."""
    installed, looping = [], []
    for entry in (previous or {}).get("entries", []):
        if entry.get("kind") == "update" and entry.get("changed") and isinstance(entry.get("after"), Mapping):
            installed.append({"kb": entry["id"], **entry["after"]})
    for failed in (previous or {}).get("failed", []):
        if failed.get("kind") == "update":
            looping.append({"kb": failed["id"], "error": failed.get("error", "")})
    return {"installed": installed, "looping": looping}


def _loop_warning(loop: Mapping[str, Any]) -> str:
    return f"{loop['kb']} is excluded: {loop['error']}"


def _kbs(info: Mapping[str, Any]) -> list[str]:
    """win_updates returns KB numbers without the KB prefix."""
    return [f"KB{k}" if not str(k).upper().startswith("KB") else str(k).upper() for k in info.get("kb") or []]


def _select_pattern(info: Mapping[str, Any]) -> str:
    kbs = _kbs(info)
    return kb_pattern(kbs[0]) if kbs else "^" + re.escape(str(info.get("title", ""))) + "$"


def after_search(
    state: Mapping[str, Any],
    search: Mapping[str, Any],
    round_no: int,
    max_rounds: int,
    check_mode: bool = False,
) -> dict[str, Any]:
    """The state after a round's search (``search``: win_updates' result with state=searched)."""
    if search.get("failed"):
        raise UpdatePlanError(f"round {round_no}: the Windows Update search failed: {search.get('msg', '')}")
    out = {**state, "to_install": [], "warnings": list(state["warnings"]), "reject": list(state["reject"])}
    out["looping"] = list(state["looping"])
    # The same update (its Windows Update id) offered again. A new revision of a KB that ships
    # often under one number (definitions KB2267602, the MSRT KB890830) has a new id: not a loop.
    installed = {i["update_id"]: i for i in state["installed"] if i.get("update_id")}
    offered = sorted(
        (search.get("updates") or {}).values(), key=lambda u: (str(u.get("title")), str(u.get("id")))
    )
    for info in offered:
        first = installed.get(str(info.get("id", "")))
        again = [first["kb"]] if first else []
        if first:
            error = (
                f"offered again after it installed in round {first.get('round', '?')} "
                f"(a reinstalling update: {info.get('title', '')})"
            )
            out["looping"].append({"kb": again[0], "error": error})
            out["reject"] = sorted(set(out["reject"]) | {kb_pattern(again[0])})
            out["warnings"].append(_loop_warning({"kb": again[0], "error": error}))
            continue
        out["to_install"].append(
            {
                "kb": (_kbs(info) or [""])[0],
                "title": str(info.get("title", "")),
                "categories": list(info.get("categories") or []),
                "update_id": str(info.get("id", "")),
                "round": round_no,
                "pattern": _select_pattern(info),
            }
        )
    if round_no > max_rounds:
        # The confirming search after the last allowed round: anything left is what the cap stopped.
        out.update(done=True, capped=bool(out["to_install"]), left=out["to_install"], to_install=[])
        out["cap_message"] = cap_message(out, max_rounds) if out["capped"] else ""
    elif not out["to_install"] or check_mode:
        out["done"] = True
    out["what_if"] = bool(check_mode)  # to_install is then what the manifest's what-if lists
    return out


def after_install(state: Mapping[str, Any], install: Mapping[str, Any], round_no: int) -> dict[str, Any]:
    """The state after a round's install (win_updates' result with state=installed, reboot=false)."""
    out = {**state, "installed": list(state["installed"]), "failed": []}
    for info in sorted((install.get("updates") or {}).values(), key=lambda u: str(u.get("title"))):
        kb = (_kbs(info) or [str(info.get("title", ""))])[0]
        if info.get("installed"):
            out["installed"].append(
                {
                    "kb": kb,
                    "title": str(info.get("title", "")),
                    "round": round_no,
                    "categories": list(info.get("categories") or []),
                    "update_id": str(info.get("id", "")),
                }
            )
        elif "failure_hresult_code" in info:
            code = int(info["failure_hresult_code"]) & 0xFFFFFFFF
            out["failed"].append(
                {
                    "kb": kb,
                    "title": str(info.get("title", "")),
                    "hresult": f"0x{code:08X}",
                    "msg": info.get("failure_msg", ""),
                }
            )
    if install.get("failed") and not out["failed"]:
        out["failed"].append({"kb": "", "title": "", "hresult": "", "msg": str(install.get("msg", ""))})
    out["reboot_required"] = bool(install.get("reboot_required"))
    out["to_install"] = []
    out["failure"] = failure_message(out, round_no) if out["failed"] else ""
    return out


def failure_message(state: Mapping[str, Any], round_no: int) -> str:
    parts = []
    for f in state["failed"]:
        name = f"{f['kb']} ({f['title']})" if f["kb"] else "the install"
        parts.append(
            f"{name} failed{' with ' + f['hresult'] if f['hresult'] else ''}: {f['msg']}".rstrip(": ")
        )
    return f"Windows Update round {round_no}: " + "; ".join(parts)


def cap_message(state: Mapping[str, Any], max_rounds: int) -> str:
    left = ", ".join(f"{u['kb'] or u['title']} ({u['title']})" for u in state["left"])
    return (
        f"Windows Update still offers updates after {max_rounds} rounds (windows_update.max_rounds): {left}. "
        "Raise max_rounds, or exclude what keeps coming back (windows_update.exclude)"
    )


def step(
    state: Mapping[str, Any],
    result: Mapping[str, Any],
    event: str,
    round_no: int,
    max_rounds: int = 1,
    check_mode: bool = False,
) -> dict[str, Any]:
    """``after_search`` or ``after_install`` by ``event`` (the filter's entry point)."""
    if event == "search":
        return after_search(state, result, int(round_no), int(max_rounds), bool(check_mode))
    if event == "install":
        return after_install(state, result, int(round_no))
    raise UpdatePlanError(f"event: must be search or install, got {event!r}")


def manifest(state: Mapping[str, Any]) -> dict[str, Any]:
    """build_manifest's ``results``, ``info`` and ``warnings`` for the ``updates`` part."""
    return {
        "results": manifest_results(state),
        "info": manifest_info(state, state.get("skip_reason", "")),
        "warnings": sorted(set(state["warnings"])),
    }


def manifest_results(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``results`` of build_manifest for the ``updates`` part: each installed KB (title, round,
    categories) and each looping KB (as ``failed``, with its warning)."""
    changes = [
        {
            "name": i["kb"],
            "source": "windows_update",
            "before": None,
            "after": {
                "title": i.get("title", ""),
                "round": i.get("round"),
                "categories": i.get("categories", []),
                "update_id": i.get("update_id", ""),
            },
        }
        for i in state["installed"] + (state["to_install"] if state.get("what_if") else [])
    ]
    looping = _unique(state["looping"])
    return [
        {
            "kind": "update",
            "items": [{"name": x["kb"], "source": "windows_update"} for x in looping],
            "result": {
                "changes": changes,
                "not_installed": [{"name": x["kb"], "error": x["error"]} for x in looping],
            },
        }
    ]


def manifest_info(state: Mapping[str, Any], skip_reason: str = "") -> dict[str, Any]:
    """Facts of the part that a re-run reproduces (so it changes nothing)."""
    return {
        "categories": list(state["categories"]),
        "excluded": [
            {"kb": e["kb"], "reason": e["reason"], "source": e["source"]} for e in state["excluded"]
        ],
        "skipped": skip_reason,
    }


def _unique(items: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    seen: dict[str, Mapping[str, Any]] = {}
    for item in items:
        seen.setdefault(item["kb"], item)
    return list(seen.values())
