"""This collection's application modules over the simulated guest (plugins/modules/win_app_detect.ps1,
win_authenticode.ps1, win_appx_provision.ps1, win_winget.ps1).

- win_app_detect: the Uninstall keys (both views), HKLM values, files with the file version of
  their version resource (sandbox/windows/installers/pe.py), provisioned AppX packages.
- win_authenticode: the file's real signature (sandbox/windows/downloads.py: osslsigncode against
  the sandbox CA the guest trusts), the PowerShell's messages.
- win_appx_provision: the package's own manifest identity (sandbox/windows/installers/msix.py);
  an unsigned package is refused as Windows refuses it; an ``installer_exit`` fault fails it with
  that HRESULT.
- win_winget: not simulated. A winget source is a REST service (or the pre-indexed community
  source) the sandbox does not model; the module fails loudly (NotModelled) rather than pretend.
"""

from __future__ import annotations

from typing import Any

from sandbox.guest_api import NotModelled
from sandbox.windows import downloads, installers
from sandbox.windows.argspec import build_spec
from sandbox.windows.installers import msix, pe
from sandbox.windows.modules import Ctx, register

DETECT = build_spec("avd.golden.win_app_detect", "basic", supports_check_mode=True)
AUTHENTICODE = build_spec(
    "avd.golden.win_authenticode",
    "basic",
    supports_check_mode=True,
    mutually_exclusive=(("thumbprint", "subject"),),
)
PROVISION = build_spec("avd.golden.win_appx_provision", "basic", supports_check_mode=True)
WINGET = build_spec("avd.golden.win_winget", "basic", supports_check_mode=True)
UNINSTALL_VIEWS = (
    r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall",
    r"HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall",
)


def _version(text: str) -> tuple[int, ...]:
    """[System.Version]: missing parts compare lower than 0."""
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [-1] * (4 - len(parts)))


def _detect_one(ctx: Ctx, app: dict[str, Any]) -> dict[str, Any]:
    st, rule = ctx.state, app["detection"]
    if rule.get("product_code"):
        for view in UNINSTALL_VIEWS:
            key = f"{view}\\{rule['product_code']}"
            if st.registry.exists(key):
                value = st.registry.get_value(key, "DisplayVersion")
                return {"installed": True, "version": value.data if value else None, "detected_by": key}
        return {"installed": False, "version": None, "detected_by": f"product code {rule['product_code']}"}
    if rule.get("registry"):
        reg = rule["registry"]
        value = st.registry.get_value(reg["key"], reg["name"])
        data = None if value is None else str(value.data)
        found = data is not None and (reg.get("value") is None or data == reg["value"])
        return {"installed": found, "version": data, "detected_by": f"{reg['key']}\\{reg['name']}"}
    if rule.get("file"):
        path = ctx.path(rule["file"]["path"])
        if not st.fs.is_file(path):
            return {"installed": False, "version": None, "detected_by": path}
        version = pe.fixed_file_version(st.fs.read(path)) or "0.0.0.0"
        wanted = rule["file"].get("version")
        found = wanted is None or _version(wanted) == _version(version)
        return {"installed": found, "version": version, "detected_by": path}
    if rule.get("package_name"):
        pkg = _provisioned(ctx, rule["package_name"])
        found = pkg is not None and _version(pkg["version"]) >= _version(app["version"])
        return {
            "installed": found,
            "version": pkg["version"] if pkg else None,
            "detected_by": f"provisioned {rule['package_name']}",
        }
    raise ctx.fail(f"application {app['name']}: detection has no rule")


def _provisioned(ctx: Ctx, name: str) -> dict[str, Any] | None:
    found = [p for p in ctx.state.appx_provisioned if p["name"] == name]
    return max(found, key=lambda p: _version(p["version"]), default=None)


@register(DETECT)
def win_app_detect(ctx: Ctx) -> None:
    ctx.result["applications"] = [
        {"name": a["name"], **_detect_one(ctx, a)} for a in ctx.params["applications"]
    ]
    ctx.result["changed"] = False


@register(AUTHENTICODE)
def win_authenticode(ctx: Ctx) -> None:
    p, r = ctx.params, ctx.result
    path = ctx.path(p["path"])
    if not ctx.state.fs.is_file(path):
        raise ctx.fail(f"the file '{path}' does not exist")
    sig = downloads.authenticode(ctx.state.fs.read(path), path.rsplit("\\", 1)[-1], ctx.state.trusted_ca)
    r.update(
        status=sig.status,
        status_message=sig.status_message,
        subject=sig.subject,
        thumbprint=sig.thumbprint,
        issuer=sig.issuer,
        changed=False,
    )
    if sig.status != "Valid":
        raise ctx.fail(
            f"the Authenticode signature of '{path}' is not valid: {sig.status} ({sig.status_message})"
        )
    if p.get("thumbprint") and sig.thumbprint != p["thumbprint"].upper():
        raise ctx.fail(
            f"'{path}' is signed by '{sig.subject}' (thumbprint {sig.thumbprint}), not by the pinned "
            f"thumbprint {p['thumbprint']}"
        )
    if p.get("subject") and sig.subject != p["subject"]:
        raise ctx.fail(
            f"'{path}' is signed by '{sig.subject}' (thumbprint {sig.thumbprint}), not by the pinned subject "
            f"'{p['subject']}'"
        )


@register(PROVISION)
def win_appx_provision(ctx: Ctx) -> None:
    p, r = ctx.params, ctx.result
    name, wanted = p["name"], _version(p["version"])
    current = _provisioned(ctx, name)
    r.update(name=name, version=current["version"] if current else None, changed=False)
    if current is not None and _version(current["version"]) >= wanted:
        return
    r["changed"] = True
    if ctx.check_mode:
        return
    path = ctx.path(p["path"])
    if not ctx.state.fs.is_file(path):
        raise ctx.fail(
            f"Add-AppxProvisionedPackage failed for '{p['path']}': The system cannot find the file specified."
        )
    file = installers.identify(path, ctx.state.fs.read(path))
    if file.kind != "msix":
        raise ctx.fail(
            f"Add-AppxProvisionedPackage failed for '{p['path']}': The parameter is incorrect.",
            rc=-2147024809,
        )
    fault = installers.model.take_exit_fault(ctx.state, file)
    error = f"Deployment failed with HRESULT: {fault:#x}" if fault else msix.provision(ctx.state, file)
    if error:
        raise ctx.fail(
            f"Add-AppxProvisionedPackage failed for '{p['path']}': {error}", rc=fault or -2146762496
        )
    behaviour = installers.model.msix_behaviour(file.properties["Name"])
    if behaviour is not None:
        behaviour(ctx.state, file, "")
    current = _provisioned(ctx, name)
    if current is None or _version(current["version"]) < wanted:
        raise ctx.fail(
            f"'{p['path']}' did not provision {name} {p['version']} (the package may name another identity)"
        )
    r["version"] = current["version"]
    r["package_name"] = ctx.state.provisioned_package_name(current)


@register(WINGET)
def win_winget(ctx: Ctx) -> None:
    raise NotModelled(
        f"avd.golden.win_winget ({ctx.params['id']} {ctx.params['version']} from source "
        f"{ctx.params['source']}): winget sources are not modelled by the sandbox"
    )
