"""ansible.windows.win_updates (win_updates.ps1, 3.8.0) as its action plugin drives it.

The action plugin runs the module in three operations (``_operation``): ``start`` begins the
update task in the background and returns ``poll_options`` (the named pipe) and ``cancel_options``
(the cancel event and the task's process id); ``poll`` returns the progress lines the task wrote
since the last poll (``output``: ``{task, result}`` with task ``search_result``, ``download_result``,
``install``, ``install_result``, ``exit``; the exit line is written again until the task is
cancelled); ``cancel`` stops the task. A poll blocks until the task writes a line: while an install
hangs (fault ``update_hangs``), the WinRM command stays running (Receive answers OperationTimeout).

What the task does is Install-WindowsUpdate of the module: reboot check, search, category /
accept / reject / hidden / skip_optional filters, download, install (sandbox/windows/modules/_wu_model.py
is the Windows Update Agent behind it). Not simulated (NotModelled): ``log_path``, a
``server_selection`` other than default, async (``_operation_options.wait``).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sandbox.guest_api import NotModelled
from sandbox.windows.argspec import build_spec
from sandbox.windows.guest import StillRunning
from sandbox.windows.modules import Ctx, ModuleFail, register
from sandbox.windows.modules import _wu_model as wua

SPEC = build_spec("ansible.windows.win_updates", "basic", supports_check_mode=True)
# The module's switch for the camel-case names; anything else is compared as given.
_CATEGORY_NAMES = {
    "CriticalUpdates": "Critical Updates",
    "DefinitionUpdates": "Definition Updates",
    "DeveloperKits": "Developer Kits",
    "FeaturePacks": "Feature Packs",
    "SecurityUpdates": "Security Updates",
    "ServicePacks": "Service Packs",
    "UpdateRollups": "Update Rollups",
}


@register(SPEC)
def main(ctx: Ctx) -> None:
    op = ctx.params["_operation"]
    options = ctx.params["_operation_options"] or {}
    jobs = ctx.state.windows_update["jobs"]
    if op == "cancel":
        for name, job in list(jobs.items()):
            if job["cancel_id"] == options.get("cancel_id"):
                del jobs[name]
        return
    if op == "poll":
        job = jobs.get(str(options.get("pipe_name")))
        if job is None:
            raise ModuleFail("Timed out waiting for server pipe to be available")
        _poll(ctx, job)
        return
    if options.get("wait"):
        raise NotModelled("win_updates with async (_operation_options.wait) is not simulated")
    if ctx.params["log_path"]:
        raise NotModelled("win_updates log_path is not simulated")
    if ctx.params["server_selection"] != "default":
        raise NotModelled(f"win_updates server_selection {ctx.params['server_selection']} is not simulated")
    task_id = str(uuid.uuid4())
    pipe = f"Ansible.Windows.WinUpdates-{task_id}"
    job = {
        "pipe_name": pipe,
        "cancel_id": f"Global\\Ansible.Windows.WinUpdates-{task_id}",
        "task_pid": 4000 + int(task_id[:4], 16) % 60000,
        "lines": [],
        "delivered": 0,
        "hung": False,
    }
    _run_task(ctx, job, for_testing=op == "test")
    jobs[pipe] = job
    ctx.result["cancel_options"] = {"cancel_id": job["cancel_id"], "task_pid": job["task_pid"]}
    ctx.result["poll_options"] = {"pipe_name": pipe}


def _poll(ctx: Ctx, job: dict[str, Any]) -> None:
    """Receive-ProgressOutput: what is there; when nothing is, wait for the next line."""
    fresh = job["lines"][job["delivered"] :]
    if fresh:
        job["delivered"] = len(job["lines"])
        ctx.result["output"] = fresh
        return
    if job["lines"] and job["lines"][-1]["task"] == "exit":
        ctx.result["output"] = [job["lines"][-1]]  # written again until the cancel
        return
    state, pipe = ctx.state, job["pipe_name"]

    def resume() -> dict[str, Any] | None:
        # Still hung while the job exists; once cancelled the pipe is gone and the read fails.
        if pipe in state.windows_update["jobs"]:
            return None
        return {"failed": True, "msg": "Unhandled exception while executing module: the pipe was closed"}

    raise StillRunning(resume)


def _categories(params: dict[str, Any]) -> list[str]:
    return [_CATEGORY_NAMES.get(c, c) for c in params["category_names"]]


def _in_list(values: list[str], patterns: list[str]) -> bool:
    """Test-InList: any value -imatch any pattern (.NET regex; Python's for the patterns we meet)."""
    for pattern in patterns:
        try:
            regex = re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise NotModelled(f"win_updates accept/reject pattern {pattern!r} ({exc})") from exc
        if any(regex.search(v) for v in values):
            return True
    return False


def _filter(params: dict[str, Any], updates: list[dict[str, Any]]) -> tuple[list, list]:
    categories = _categories(params)
    accept, reject = params["accept_list"] or [], params["reject_list"] or []
    selected, filtered = [], []
    for upd in updates:
        match = [upd["title"], upd["kb"]]
        reasons = []
        if accept and not _in_list(match, accept):
            reasons.append("accept_list")
        if reject and _in_list(match, reject):
            reasons.append("reject_list")
        cat_match = not categories or any(
            c == "*" or c.lower() in (x.lower() for x in upd["categories"]) for c in categories
        )
        if not cat_match:
            reasons.append("category_names")
        if params["skip_optional"] and upd["browse_only"]:
            reasons.append("skip_optional")
        if reasons:
            filtered.append({"id": upd["id"], "reasons": reasons})
        else:
            selected.append(upd)
    return selected, filtered


def _info(upd: dict[str, Any]) -> dict[str, Any]:
    """Format-UpdateInfo (the keys the action plugin reads, and the rest of the real record)."""
    return {
        "id": upd["id"],
        "title": upd["title"],
        "description": upd["title"],
        "kb": [upd["kb"]],
        "type": "Software",
        "deployment_action": "Installation",
        "auto_select_on_websites": not upd["browse_only"],
        "browse_only": upd["browse_only"],
        "revision_number": 200,
        "categories": list(upd["categories"]),
        "is_installed": False,
        "is_hidden": False,
        "is_present": False,
        "reboot_required": False,
        "impact": "Normal",
        "reboot_behaviour": {
            "never": "NeverReboots",
            "always": "AlwaysRequiresReboot",
            "can_request": "CanRequestReboot",
        }[upd["reboot"]],
        "is_beta": False,
        "is_downloaded": upd["downloaded"],
        "is_mandatory": False,
        "is_uninstallable": True,
        "auto_selection": "LetWindowsUpdateDecide",
        "auto_download": "LetWindowsUpdateDecide",
    }


def _run_task(ctx: Ctx, job: dict[str, Any], *, for_testing: bool) -> None:
    """Install-WindowsUpdate, writing its progress lines into the job."""
    st, params = ctx.state, ctx.params
    lines: list[dict[str, Any]] = job["lines"]
    exit_result: dict[str, Any] = {
        "changed": False,
        "failed": False,
        "reboot_required": wua.reboot_required(st),
    }

    def finish(message: str | None = None, hresult: int | None = None) -> None:
        if message is not None:
            exit_result["failed"] = True
            exit_result["exception"] = {"message": message, "exception": message}
            if hresult is not None:
                exit_result["exception"]["hresult"] = hresult
        lines.append({"task": "exit", "result": exit_result})

    if for_testing:
        finish()
        return
    offered = wua.offered(st)
    selected, filtered = _filter(params, offered)
    lines.append(
        {"task": "search_result", "result": {"updates": [_info(u) for u in offered], "filtered": filtered}}
    )
    if ctx.check_mode or params["state"] == "searched" or not selected:
        exit_result["changed"] = bool(selected) and params["state"] != "searched"
        finish()
        return
    if exit_result["reboot_required"]:
        finish("A reboot is required before more updates can be installed")
        return
    to_download = [u for u in selected if not u["downloaded"]]
    if to_download:
        for upd in to_download:
            upd["downloaded"] = True
        exit_result["changed"] = True
        info = [{"id": u["id"], "result_code": 2, "hresult": 0} for u in to_download]
        lines.append({"task": "download_result", "result": {"info": info}})
    if params["state"] == "downloaded":
        finish()
        return
    _install(st, job, selected, exit_result, finish)


def _install(st: Any, job: dict[str, Any], selected: list, exit_result: dict[str, Any], finish: Any) -> None:
    lines = job["lines"]
    if wua.servicing_reboot_pending(st):
        exit_result["changed"] = True
        finish(
            "Installing updates: Exception from HRESULT: 0x80240016", wua._signed(wua.E_INSTALL_NOT_ALLOWED)
        )
        return
    hung = wua.hangs(st, selected)
    for n, upd in enumerate(selected):
        if upd["kb"] == hung:
            job["hung"] = True
            return  # InstallAsync never completes: no result, no exit line
        progress = {
            "CurrentUpdateId": upd["id"],
            "CurrentUpdateIndex": n,
            "CurrentUpdatePercentComplete": 100,
            "PercentComplete": int(100 * (n + 1) / len(selected)),
        }
        lines.append(
            {"task": "install", "result": {"progress": progress, "result": {"ResultCode": 2, "HResult": 0}}}
        )
    exit_result["changed"] = True
    info, failed = [], False
    for upd in selected:
        code, hresult, reboot = wua.install(st, upd)
        failed = failed or code != 2
        exit_result["reboot_required"] = exit_result["reboot_required"] or reboot
        info.append({"id": upd["id"], "result_code": code, "hresult": hresult, "reboot_required": reboot})
    lines.append({"task": "install_result", "result": {"info": info}})
    if failed:
        finish("Failed to install all updates - see updates for more information")
        return
    exit_result["reboot_required"] = wua.reboot_required(st)
    finish()
