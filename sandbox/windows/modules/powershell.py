"""ansible.windows.win_powershell: scripts recognised by exact content (sandbox/windows/scripts.py).

Semantics from win_powershell.ps1: creates/removes short-circuit with a msg; in check mode a script
whose param block does not declare SupportsShouldProcess is skipped (changed=true, "skipped, running
in check mode"), otherwise it runs with -WhatIf; ``parameters`` are bound to the script's params;
$Ansible.Changed (default true), $Ansible.Result, $Ansible.Diff and the output stream become
changed, result, diff and output; a terminating error sets failed and fills ``error``.
"""

from __future__ import annotations

from typing import Any

from sandbox.guest_api import NotModelled
from sandbox.windows import scripts
from sandbox.windows.argspec import build_spec
from sandbox.windows.modules import Ctx, ModuleFail, register

SPEC = build_spec(
    "ansible.windows.win_powershell",
    "basic",
    supports_check_mode=True,
    required_one_of=(("path", "script"),),
    mutually_exclusive=(("path", "script"),),
)


def _error_record(message: str) -> dict[str, Any]:
    return {
        "output": f"{message}\r\n",
        "error_details": None,
        "exception": {
            "message": message,
            "type": "System.Management.Automation.RuntimeException",
            "help_link": None,
            "source": "System.Management.Automation",
            "hresult": -2146233087,
            "inner_exception": None,
        },
        "target_object": None,
        "category_info": {
            "category": "NotSpecified",
            "category_id": 0,
            "activity": "",
            "reason": "RuntimeException",
            "target_name": "",
            "target_type": "",
        },
        "fully_qualified_error_id": "RuntimeException",
        "script_stack_trace": "at <ScriptBlock>, <No file>: line 1",
        "pipeline_iteration_info": [],
    }


@register(SPEC)
def main(ctx: Ctx) -> None:
    p = ctx.params
    r = ctx.result
    r.update(
        result={},
        host_out="",
        host_err="",
        output=[],
        error=[],
        warning=[],
        verbose=[],
        debug=[],
        information=[],
    )
    if p["executable"]:
        raise NotModelled(
            "win_powershell option 'executable' (a separate PowerShell process) is not simulated"
        )
    if p["arguments"]:
        raise NotModelled("win_powershell option 'arguments' is not simulated")
    if p["sensitive_parameters"]:
        raise NotModelled("win_powershell option 'sensitive_parameters' is not simulated")
    if p["creates"] and ctx.state.fs.exists(ctx.path(p["creates"])):
        r["msg"] = f"skipped, since {p['creates']} exists"
        return
    if p["removes"] and not ctx.state.fs.exists(ctx.path(p["removes"])):
        r["msg"] = f"skipped, since {p['removes']} does not exist"
        return
    if p["script"] is not None:
        text = p["script"]
    else:
        path = ctx.path(p["path"])
        if not ctx.state.fs.is_file(path):
            raise ModuleFail(f"Could not find or access '{p['path']}' on Windows host")
        text = ctx.state.fs.read(path).decode("utf-8-sig")
    name = scripts.identify(text, "win_powershell")
    eff = scripts.EFFECTS[name]
    if ctx.check_mode and not eff.supports_should_process:
        r["changed"] = True
        r["msg"] = "skipped, running in check mode"
        return
    try:
        run = scripts.run_effect(
            ctx.state, name, p["parameters"] or {}, check_mode=ctx.check_mode, channel="win_powershell"
        )
    except scripts.ScriptError as exc:
        r["failed"] = True
        r["changed"] = True  # $Ansible.Changed keeps its default when the script stops early
        r["error"] = [_error_record(str(exc))]
        return
    r["result"] = run.result
    r["changed"] = run.changed
    r["output"] = list(run.output)
    for k, v in run.diff.items():
        ctx.diff[k] = v
