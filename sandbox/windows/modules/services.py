"""ansible.windows.win_service and ansible.windows.win_service_info over the simulated SCM.

Simulated win_service options: name, state, start_mode, display_name, description, path (creates
a service), dependencies/dependency_action, force_dependent_services, and state=absent. Options that
would change something the sandbox does not model (failure actions, SID info, required privileges,
pre-shutdown timeout, error control, load order group, service type, desktop interaction, account)
raise NotModelled naming the option rather than pretending.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from sandbox.guest_api import NotModelled
from sandbox.windows.argspec import build_spec
from sandbox.windows.modules import Ctx, ModuleFail, Unhandled, register
from sandbox.windows.modules import _winpath as wp
from sandbox.windows.state import Service

SERVICE = build_spec(
    "ansible.windows.win_service",
    "basic",
    supports_check_mode=True,
    required_by={"password": ("username",)},
)
SERVICE_INFO = build_spec("ansible.windows.win_service_info", "basic", supports_check_mode=True)

_UNMODELLED = (
    "error_control",
    "failure_actions",
    "failure_actions_on_non_crash_failure",
    "failure_command",
    "failure_reboot_msg",
    "failure_reset_period_sec",
    "load_order_group",
    "pre_shutdown_timeout_ms",
    "required_privileges",
    "service_type",
    "sid_info",
    "username",
    "password",
    "update_password",
)

_ACCOUNT_NAMES = {
    "localsystem": "LocalSystem",
    "nt authority\\system": "LocalSystem",
    "system": "LocalSystem",
}


def find(ctx: Ctx, name: str) -> Service | None:
    """Get-ServiceFromName: by service name or display name (case-insensitive)."""
    svc = ctx.state.services.get(name.lower())
    if svc:
        return svc
    return next((s for s in ctx.state.services.values() if s.display_name.lower() == name.lower()), None)


def depended_by(ctx: Ctx, svc: Service) -> list[str]:
    return sorted(
        s.name for s in ctx.state.services.values() if svc.name.lower() in [d.lower() for d in s.dependencies]
    )


def _diff(ctx: Ctx, svc: Service | None) -> Any:
    if svc is None:
        return ""
    d: dict[str, Any] = {
        "dependencies": list(svc.dependencies),
        "description": svc.description,
        "desktop_interact": False,
        "display_name": svc.display_name,
        "error_control": svc.error_control,
        "failure_actions": [],
        "failure_actions_on_non_crash_failure": False,
        "failure_command": None,
        "failure_reboot_msg": None,
        "failure_reset_period_sec": 0,
        "load_order_group": "",
        "name": svc.name,
        "path": svc.path,
        "pre_shutdown_timeout_ms": 180000,
        "required_privileges": [],
        "service_type": svc.service_type,
        "sid_info": "none",
        "start_mode": svc.start_mode,
        "state": svc.state,
    }
    if svc.service_type not in ("kernel_driver", "file_system_driver"):
        d["username"] = svc.username
        d["password"] = "REDACTED"  # noqa: S105 - what win_service's diff shows
    return d


def _stop(ctx: Ctx, svc: Service, force: bool) -> None:
    """Stop-Service: refuses when running services depend on it, unless -Force."""
    running_deps = [
        d for d in depended_by(ctx, svc) if ctx.state.services[d.lower()].state in ("started", "paused")
    ]
    if running_deps and not force and not ctx.check_mode:
        raise Unhandled(
            f"Cannot stop service '{svc.display_name} ({svc.name})' because it has dependent services. "
            "It can only "
            "be stopped if the Force flag is set."
        )
    if not ctx.check_mode:
        for d in running_deps:
            ctx.state.services[d.lower()].state = "stopped"
        svc.state = "stopped"


def _start(ctx: Ctx, svc: Service) -> None:
    """Start-Service: a disabled service cannot start; dependencies start first."""
    if ctx.check_mode:
        return  # Start-Service -WhatIf
    if svc.start_mode == "disabled":
        raise Unhandled(
            f"Service '{svc.display_name} ({svc.name})' cannot be started due to the following error: "
            "Cannot start "
            f"service {svc.name} on computer '.'."
        )
    for dep in svc.dependencies:
        dsvc = ctx.state.services.get(dep.lower())
        if dsvc and dsvc.state != "started":
            _start(ctx, dsvc)
    svc.state = "started"


@register(SERVICE)
def service(ctx: Ctx) -> None:
    p = ctx.params
    for opt in _UNMODELLED:
        if p.get(opt) is not None:
            raise NotModelled(f"win_service option '{opt}' is not simulated by the sandbox")
    if p["desktop_interact"]:
        raise NotModelled("win_service option 'desktop_interact' is not simulated by the sandbox")
    path = p["path"]
    if path is not None:
        path = wp.expand_env(path, ctx.state.env())  # [Environment]::ExpandEnvironmentVariables
    ctx.result["exists"] = False
    svc = find(ctx, p["name"])
    ctx.diff["before"] = _diff(ctx, svc)
    if p["state"] == "absent":
        _remove(ctx, svc)
    elif _detect(p, svc):
        _present(ctx, svc, path)
    else:
        ctx.diff["after"] = ctx.diff["before"]
    _report(ctx)


def _remove(ctx: Ctx, svc: Service | None) -> None:
    if svc:
        _stop(ctx, svc, ctx.params["force_dependent_services"])
        if not ctx.check_mode:
            del ctx.state.services[svc.name.lower()]
            ctx.state.registry.delete_key(f"HKLM\\SYSTEM\\CurrentControlSet\\Services\\{svc.name}")
        ctx.result["changed"] = True
    ctx.diff["after"] = ""


def _detect(p: dict[str, Any], svc: Service | None) -> bool:
    """Whether the module does anything but report (the service exists or something is asked)."""
    return (
        svc is not None
        or any(
            p[k] is not None
            for k in ("description", "display_name", "dependencies", "path", "start_mode", "state")
        )
        or p["dependency_action"] != "set"
    )


def _present(ctx: Ctx, svc: Service | None, path: str | None) -> None:
    p = ctx.params
    name = p["name"]
    created = False
    if svc is None:
        if path is None:
            raise ModuleFail(f"Service '{name}' is not installed, need to set 'path' to create a new service")
        new = Service(name=name, display_name=name, path=path)
        if not ctx.check_mode:
            ctx.state.services[name.lower()] = new
            svc = new
        ctx.result["changed"] = True
        created = True
    after: dict[str, Any] = {"name": svc.name if svc else name}
    ctx.diff["after"] = after
    view = svc or Service(name=name, display_name=name, path=path or "")
    after.update({"username": view.username, "password": "REDACTED"} if svc else {})
    after["dependencies"] = _set_dependencies(ctx, svc, view)
    for opt in ("description", "display_name", "path"):
        want = p[opt] if opt != "path" else path
        if want is not None and getattr(view, opt) != want:
            if svc and not ctx.check_mode:
                setattr(svc, opt, want)
            if not created or opt != "path":
                ctx.result["changed"] = True
        after[opt] = want if want is not None else getattr(view, opt)
    after["desktop_interact"] = False
    after["error_control"] = view.error_control
    after["service_type"] = view.service_type
    if p["start_mode"] is not None:
        after["start_mode"] = p["start_mode"]
        if svc is not None and svc.start_mode != p["start_mode"]:
            if not ctx.check_mode:
                svc.start_mode = p["start_mode"]
            ctx.result["changed"] = True
    else:
        after["start_mode"] = view.start_mode
    # state (always last)
    after["state"] = view.state if p["state"] is None else p["state"]
    if p["state"] is not None and svc is not None:
        _set_state(ctx, svc, p["state"])


def _set_dependencies(ctx: Ctx, svc: Service | None, view: Service) -> list[str]:
    """The dependencies after the change (dependency_action set, add or remove)."""
    p = ctx.params
    deps = p["dependencies"]
    current = list(view.dependencies)
    if deps is None:
        return current
    lower = [d.lower() for d in current]
    if p["dependency_action"] == "set":
        new_deps = list(deps)
    elif p["dependency_action"] == "add":
        new_deps = current + [d for d in deps if d.lower() not in lower]
    else:
        new_deps = [d for d in current if d.lower() not in [x.lower() for x in deps]]
    for d in new_deps:
        if d.lower() not in ctx.state.services:
            raise ModuleFail(f"Failed to find dependency service '{d}'")
    if sorted(x.lower() for x in new_deps) != sorted(lower):
        if svc and not ctx.check_mode:
            svc.dependencies = new_deps
        ctx.result["changed"] = True
    return new_deps


def _set_state(ctx: Ctx, svc: Service, state: str) -> None:
    force = ctx.params["force_dependent_services"]
    if state == "started" and svc.state != "started":
        _start(ctx, svc)
        ctx.result["changed"] = True
    elif state == "stopped" and svc.state != "stopped":
        _stop(ctx, svc, force)
        ctx.result["changed"] = True
    elif state == "restarted":
        if svc.state != "stopped":
            _stop(ctx, svc, force)
        _start(ctx, svc)
        ctx.result["changed"] = True
    elif state == "paused" and svc.state != "paused":
        if not svc.can_pause_and_continue:
            raise ModuleFail(f"failed to pause service {svc.name}: The service does not support pausing")
        if not ctx.check_mode:
            svc.state = "paused"
        ctx.result["changed"] = True


_REPORTED = ("dependencies", "description", "desktop_interact", "display_name", "name", "path", "start_mode")


def _report(ctx: Ctx) -> None:
    """The module's return values, from the diff's after state."""
    after = ctx.diff.get("after")
    if not after:
        return
    r = ctx.result
    r["exists"] = True
    for k in (
        "dependencies",
        "description",
        "desktop_interact",
        "display_name",
        "name",
        "path",
        "start_mode",
    ):
        r[k] = after.get(k)
    username = after.get("username")
    r["username"] = _ACCOUNT_NAMES.get(str(username).lower(), username) if username else username
    r["state"] = str(after.get("state", "")).replace("_", "")
    if r["state"] in ("restarted", "started"):
        r["state"] = "running"
    r["can_pause_and_continue"] = None
    r["depended_by"] = []
    live = find(ctx, after["name"])
    if live:
        r["depended_by"] = depended_by(ctx, live)
        r["can_pause_and_continue"] = live.can_pause_and_continue


@register(SERVICE_INFO)
def service_info(ctx: Ctx) -> None:
    name = ctx.params["name"]
    services = [s for s in ctx.state.services.values() if not name or s.name == name]
    if not services and name:
        # Get-Service -Name: case-insensitive, wildcards
        services = [s for s in ctx.state.services.values() if fnmatch.fnmatch(s.name.lower(), name.lower())]
    ctx.result["exists"] = bool(services)
    ctx.result["services"] = [_info(ctx, s) for s in sorted(services, key=lambda s: s.name.lower())]


def _info(ctx: Ctx, s: Service) -> dict[str, Any]:
    return {
        "checkpoint": 0,
        "controls_accepted": (["stop", "pause_continue"] if s.can_pause_and_continue else ["stop"])
        if s.state == "started"
        else [],
        "dependencies": list(s.dependencies),
        "dependency_of": depended_by(ctx, s),
        "description": s.description,
        "desktop_interact": False,
        "display_name": s.display_name,
        "error_control": s.error_control,
        "failure_actions": [],
        "failure_actions_on_non_crash_failure": False,
        "failure_command": None,
        "failure_reboot_msg": None,
        "failure_reset_period_sec": 0,
        "launch_protection": "none",
        "load_order_group": "",
        "name": s.name,
        "path": s.path,
        "pre_shutdown_timeout_ms": 180000,
        "preferred_node": None,
        "process_id": 0 if s.state != "started" else 1000 + sum(map(ord, s.name)),
        "required_privileges": [],
        "service_exit_code": 0,
        "service_flags": [],
        "service_type": s.service_type,
        "sid_info": "none",
        "start_mode": s.start_mode,
        "state": s.state,
        "triggers": [],
        "username": s.username,
        "wait_hint_ms": 0,
        "win32_exit_code": 0 if s.state == "started" else 1077,
    }
