"""ansible.windows.win_optional_feature, win_capability and async_status."""

from __future__ import annotations

import fnmatch
import json

from sandbox.windows.argspec import build_spec
from sandbox.windows.modules import Ctx, ModuleFail, register
from sandbox.windows.modules import _winpath as wp
from sandbox.windows.state import CBS_REBOOT_KEY, REBOOT_FEATURES

OPTIONAL_FEATURE = build_spec("ansible.windows.win_optional_feature", "basic", supports_check_mode=True)
CAPABILITY = build_spec("ansible.windows.win_capability", "basic", supports_check_mode=True)
ASYNC_STATUS = build_spec(
    "ansible.windows.async_status", "legacy", extra_options={"_async_dir": {"type": "path", "required": True}}
)


def _feature(ctx: Ctx, name: str) -> str | None:
    return next((n for n in ctx.state.optional_features if n.lower() == name.lower()), None)


@register(OPTIONAL_FEATURE)
def optional_feature(ctx: Ctx) -> None:
    p = ctx.params
    feats = ctx.state.optional_features
    ctx.result["reboot_required"] = False
    changed: list[str] = []
    for name in p["name"]:
        real = _feature(ctx, name)
        if real is None:
            raise ModuleFail(f"Failed to find feature '{name}'")
        st = feats[real]
        enable = p["state"] == "present"
        if (enable and not st.startswith("Enabled")) or (not enable and not st.startswith("Disabled")):
            changed.append(real)
    if not changed:
        return
    if p["state"] == "present" and p["source"] and not ctx.state.fs.exists(ctx.path(p["source"])):
        raise ModuleFail(f"Path could not be found '{p['source']}'")
    if not ctx.check_mode:
        reboot = any(n.lower() in REBOOT_FEATURES for n in changed)
        for n in changed:
            if p["state"] == "present":
                feats[n] = "EnablePending" if n.lower() in REBOOT_FEATURES else "Enabled"
            else:
                feats[n] = "DisablePending" if n.lower() in REBOOT_FEATURES else "Disabled"
        if reboot:
            ctx.state.registry.create(CBS_REBOOT_KEY)  # DISM marks a servicing reboot as pending
        ctx.result["reboot_required"] = reboot
    ctx.result["changed"] = True


@register(CAPABILITY)
def capability(ctx: Ctx) -> None:
    p = ctx.params
    caps = ctx.state.capabilities
    ctx.result["capabilities"] = []
    ctx.result["reboot_required"] = False
    changed: list[str] = []
    for name in p["name"]:
        matches = [n for n in caps if fnmatch.fnmatch(n.lower(), name.lower())]
        if not matches:
            raise ModuleFail(f"Failed to find capability '{name}'")
        for n in matches:
            st = caps[n]
            present = p["state"] == "present"
            if (present and st not in ("Installed", "InstallPending")) or (
                not present and st not in ("NotPresent", "Staged", "Removed", "RemovePending")
            ):
                changed.append(n)
    if changed:
        if not ctx.check_mode:
            for n in changed:
                caps[n] = "Installed" if p["state"] == "present" else "NotPresent"
        ctx.result["changed"] = True
    ctx.result["capabilities"] = changed


@register(ASYNC_STATUS)
def async_status(ctx: Ctx) -> None:
    p = ctx.params
    jid = p["jid"]
    log_path = wp.join(ctx.path(p["_async_dir"]), jid)
    fs = ctx.state.fs
    if not fs.exists(log_path):
        ctx.result = {"changed": False, "ansible_job_id": jid, "started": 1, "finished": 1}
        raise ModuleFail(f"could not find job at '{p['_async_dir']}'")
    if p["mode"] == "cleanup":
        fs.remove(log_path)
        ctx.result = {"changed": False, "ansible_job_id": jid, "erased": log_path}
        return
    raw = fs.read(log_path).decode("utf-8-sig")
    if not raw.strip():
        ctx.result = {
            "changed": False,
            "results_file": log_path,
            "ansible_job_id": jid,
            "started": 1,
            "finished": 0,
        }
        return
    try:
        data = json.loads(raw)
    except ValueError:
        ctx.result = {
            "changed": False,
            "ansible_job_id": jid,
            "results_file": log_path,
            "started": 1,
            "finished": 1,
        }
        raise ModuleFail("Could not parse job output: ") from None
    if "started" not in data:
        data["finished"] = 1
        data["ansible_job_id"] = jid
    elif "finished" not in data:
        data["finished"] = 0
    data.setdefault("changed", False)
    ctx.result = data
