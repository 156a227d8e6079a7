"""avd.golden.win_appx_remove over the simulated AppX state (plugins/modules/win_appx_remove.ps1).

Installed packages are WindowsState.appx_user (per user; frameworks never match), provisioned ones
WindowsState.appx_provisioned. Per item, the package names matching ``-like`` in either list are
handled once each, in name order: every user's copy (by PackageFullName, all users at once, as
``Remove-AppxPackage -AllUsers``), then the provisioned package. A package seeded ``non_removable``
(a system app such as Microsoft.SecHealthUI) refuses: its user copy with Windows' 0x80070032 error
(in check mode the PowerShell predicts it from NonRemovable and says so), its provisioned package
with 0x80070032 "The request is not supported." ([Unc]: reached only when no user has a copy).
"""

from __future__ import annotations

from typing import Any

from sandbox.windows.argspec import build_spec
from sandbox.windows.modules import Ctx, ModuleFail, register
from sandbox.windows.modules._wildcard import like

SPEC = build_spec("avd.golden.win_appx_remove", "basic", supports_check_mode=True)

CHECK_MODE_ERROR = (
    "NonRemovable: Windows refuses to remove this system app (0x80070032, part of Windows and cannot be "
    "uninstalled on a per-user basis); not attempted in check mode"
)


class _Refused(Exception):
    def __init__(self, package: str, error: str) -> None:
        super().__init__(error)
        self.package = package
        self.error = error


def user_error(full_name: str, location: str) -> str:
    """What Remove-AppxPackage throws for a system app (the exception's Message)."""
    return (
        "Deployment failed with HRESULT: 0x80073CFA, Removal failed. Please contact your software vendor. "
        "(Exception from HRESULT: 0x80073CFA)\r\n"
        f"error 0x80070032: AppX Deployment Remove operation on package {full_name} from: {location} "
        "failed. This app is part of Windows and cannot be uninstalled on a per-user basis. An administrator "
        "can attempt to remove the app from the computer using Turn Windows Features on or off. However, it "
        "may not be possible to uninstall the app."
    )


def _installed(ctx: Ctx) -> list[dict[str, Any]]:
    """Get-AppxPackage -AllUsers without frameworks: one entry per PackageFullName."""
    out: dict[str, dict[str, Any]] = {}
    for pkgs in ctx.state.appx_user.values():
        for pkg in pkgs:
            if not pkg.get("framework"):
                out.setdefault(ctx.state.package_full_name(pkg), pkg)
    return list(out.values())


def _remove(ctx: Ctx, users: list[dict[str, Any]], prov: list[dict[str, Any]]) -> None:
    """Every user's copy first, then the provisioned package; raises _Refused on the first refusal."""
    st = ctx.state
    for full in sorted({st.package_full_name(p) for p in users}, key=str.lower):
        pkg = next(p for p in users if st.package_full_name(p) == full)
        if pkg.get("non_removable"):
            location = f"C:\\Windows\\SystemApps\\{pkg['name']}_{pkg['publisher_id']}"
            raise _Refused(full, CHECK_MODE_ERROR if ctx.check_mode else user_error(full, location))
        if not ctx.check_mode:
            for user in st.appx_user:
                st.appx_user[user] = [p for p in st.appx_user[user] if st.package_full_name(p) != full]
            ctx.result["changed"] = True
    for p in prov:
        if ctx.check_mode:
            continue
        if p.get("non_removable"):
            raise _Refused(st.provisioned_package_name(p), "The request is not supported.")
        st.appx_provisioned = [x for x in st.appx_provisioned if x is not p]


@register(SPEC)
def appx_remove(ctx: Ctx) -> None:
    st = ctx.state
    r = ctx.result
    r.update(removed=[], not_present=[], not_removed=[])
    installed = _installed(ctx)
    provisioned = list(st.appx_provisioned)
    done: set[str] = set()
    matched: list[str] = []
    for item in ctx.params["packages"]:
        users = [p for p in installed if like(p["name"], item["name"])]
        prov = [p for p in provisioned if like(p["name"], item["name"])]
        names = sorted({p["name"] for p in users + prov}, key=str.lower)
        if not names:
            r["not_present"].append(item["name"])
        for name in names:
            if name.lower() in done:
                continue
            done.add(name.lower())
            matched.append(name)
            mine = [p for p in users if p["name"] == name], [p for p in prov if p["name"] == name]
            _one(ctx, item, name, *mine)
    gone = {e["name"] for e in r["removed"]}
    ctx.diff.update(
        before={"packages": sorted(matched, key=str.lower)},
        after={"packages": sorted((n for n in matched if n not in gone), key=str.lower)},
    )
    fatal = [f for f in r["not_removed"] if f["on_failure"].lower() == "fail"]  # a choice in any case
    if fatal:
        listed = "; ".join(f"{f['name']} ({f['package']}): {f['error']}" for f in fatal)
        raise ModuleFail(f"AppX packages not removed: {listed}")


def _one(
    ctx: Ctx, item: dict[str, Any], name: str, users: list[dict[str, Any]], prov: list[dict[str, Any]]
) -> None:
    st = ctx.state
    try:
        _remove(ctx, users, prov)
    except _Refused as refused:
        ctx.result["not_removed"].append(
            {
                "name": name,
                "package": refused.package,
                "error": refused.error,
                "on_failure": item["on_failure"],
                "source": item["source"],
            }
        )
        if item["on_failure"].lower() == "warn":
            ctx.warn(f"AppX package {name} ({refused.package}) was not removed: {refused.error}")
        return
    ctx.result["removed"].append(
        {
            "name": name,
            "provisioned": [st.provisioned_package_name(p) for p in prov],
            "users": sorted({st.package_full_name(p) for p in users}, key=str.lower),
            "source": item["source"],
        }
    )
    ctx.result["changed"] = True
