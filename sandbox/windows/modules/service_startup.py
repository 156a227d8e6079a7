"""avd.golden.win_service_startup over the simulated SCM (plugins/modules/win_service_startup.ps1).

The PowerShell lists the Win32 services and per-user templates from the registry (Type bits 0x10,
0x20; instances, bit 0x80, left out), matches each item with ``-like`` (a later item wins), fails
before changing anything when ``missing=fail`` and something is missing, then sets each start mode
that differs. Here a template is a service of type user_own_process/user_share_process and an
instance a service named ``<template>_<suffix>``; the start mode lives on the Service record, which
WindowsState.sync_services mirrors into Start/DelayedAutostart as the PowerShell reads them.
"""

from __future__ import annotations

from sandbox.windows.argspec import build_spec
from sandbox.windows.modules import Ctx, ModuleFail, register
from sandbox.windows.modules._wildcard import like
from sandbox.windows.state import Service

SPEC = build_spec("avd.golden.win_service_startup", "basic", supports_check_mode=True)

TEMPLATE_TYPES = ("user_own_process", "user_share_process")
_DRIVER_TYPES = ("kernel_driver", "file_system_driver")


def candidates(ctx: Ctx) -> list[Service]:
    """Win32 services and per-user templates, in registry (name) order; drivers and instances out."""
    services = [s for s in ctx.state.services.values() if s.service_type not in _DRIVER_TYPES]
    templates = {s.name.lower() for s in services if s.service_type in TEMPLATE_TYPES}

    def instance(s: Service) -> bool:
        base, sep, _ = s.name.rpartition("_")
        return bool(sep) and base.lower() in templates

    return sorted((s for s in services if not instance(s)), key=lambda s: s.name.lower())


@register(SPEC)
def service_startup(ctx: Ctx) -> None:
    services = candidates(ctx)
    plan: dict[str, tuple[Service, str, str | None]] = {}
    missing: list[str] = []
    for item in ctx.params["services"]:
        found = [s for s in services if like(s.name, item["name"])]
        if not found:
            missing.append(item["name"])
        for svc in found:
            plan[svc.name.lower()] = (svc, item["start_mode"], item["source"])
    changes: list[dict[str, object]] = []
    ctx.result.update(changes=changes, missing=missing)
    # Ansible.Basic accepts a choice in any case and passes it on as given; PowerShell's -eq ignores case.
    if missing and ctx.params["missing"].lower() == "fail":
        raise ModuleFail(f"services not found: {', '.join(missing)}")
    before: dict[str, str] = {}
    after: dict[str, str] = {}
    for svc, mode, source in plan.values():
        current = svc.start_mode
        if current == mode.lower():
            continue
        if not ctx.check_mode:
            svc.start_mode = mode.lower()
        changes.append({"name": svc.name, "before": current, "after": mode, "source": source})
        ctx.result["changed"] = True
        before[svc.name] = current
        after[svc.name] = mode
    ctx.diff.update(before={"services": before}, after={"services": after})
