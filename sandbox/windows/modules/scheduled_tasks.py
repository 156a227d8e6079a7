"""avd.golden.win_scheduled_task_state over the simulated Task Scheduler
(plugins/modules/win_scheduled_task_state.ps1).

Tasks are WindowsState.scheduled_tasks entries ``{path, name, state}`` (state Ready, Running, Queued
or Disabled). Each item is resolved like ``Get-ScheduledTask -TaskPath <path> -TaskName <name>``
(both wildcards, case-insensitive; results by path, then name; a later item wins), the module fails
before changing anything when ``missing=fail`` and something is missing, then each task whose
enabled-ness differs becomes Ready (Enable-ScheduledTask) or Disabled (Disable-ScheduledTask).
"""

from __future__ import annotations

from typing import Any

from sandbox.windows.argspec import build_spec
from sandbox.windows.modules import Ctx, ModuleFail, register
from sandbox.windows.modules._wildcard import like

SPEC = build_spec("avd.golden.win_scheduled_task_state", "basic", supports_check_mode=True)


def task_path(path: str) -> str:
    """A missing leading or trailing \\ is added (not after a final *)."""
    if not path.startswith("\\"):
        path = "\\" + path
    if not path.endswith(("\\", "*")):
        path += "\\"
    return path


def find(ctx: Ctx, path: str, name: str) -> list[dict[str, Any]]:
    found = [t for t in ctx.state.scheduled_tasks.values() if like(t["path"], path) and like(t["name"], name)]
    return sorted(found, key=lambda t: (t["path"].lower(), t["name"].lower()))


@register(SPEC)
def scheduled_task_state(ctx: Ctx) -> None:
    plan: dict[str, tuple[dict[str, Any], bool, str | None]] = {}
    missing: list[str] = []
    for item in ctx.params["tasks"]:
        path = task_path(item["path"] or "\\")  # an explicit null is the root too
        found = find(ctx, path, item["name"])
        if not found:
            missing.append(path + item["name"])
        for task in found:
            plan[(task["path"] + task["name"]).lower()] = (task, item["enabled"], item["source"])
    changes: list[dict[str, Any]] = []
    ctx.result.update(changes=changes, missing=missing)
    if missing and ctx.params["missing"].lower() == "fail":  # a choice in any case, as given
        raise ModuleFail(f"scheduled tasks not found: {', '.join(missing)}")
    before: dict[str, str] = {}
    after: dict[str, str] = {}
    for task, enabled, source in plan.values():
        state = task["state"]
        if (state != "Disabled") == enabled:
            continue
        target = "Ready" if enabled else "Disabled"
        if not ctx.check_mode:
            task["state"] = target
        changes.append(
            {"path": task["path"], "name": task["name"], "before": state, "after": target, "source": source}
        )
        ctx.result["changed"] = True
        before[task["path"] + task["name"]] = state
        after[task["path"] + task["name"]] = target
    ctx.diff.update(before={"tasks": before}, after={"tasks": after})
