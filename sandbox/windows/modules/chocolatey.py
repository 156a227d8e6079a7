"""chocolatey.chocolatey.win_chocolatey over the simulated guest: ``state: present`` of one package
at a pinned ``version`` from an HTTPS feed (``source``).

Chocolatey must be on the image (``C:\\ProgramData\\chocolatey\\bin\\choco.exe``): bootstrapping it
from ``bootstrap_script`` is not simulated. The package is fetched for real from the NuGet v2 feed,
``<source>/package/<id>/<version>``, over HTTPS trusting the sandbox CA; the ``.nupkg``'s own
``.nuspec`` must name that id and version; it is unpacked under ``C:\\ProgramData\\chocolatey\\lib\\<id>``
(its install script is not run: the sandbox cannot execute PowerShell). Installed at another
version, the module fails as win_chocolatey does. An ``installer_exit`` fault keyed by the package id
gives choco's exit code (0, 1605, 1614, 1641, 3010 succeed, as the module's SuccessExitCodes).
Everything else (other states, several names, credentials, proxies, package parameters, pins,
checksums, ...) raises NotModelled naming the option.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from typing import Any

from sandbox.guest_api import NotModelled
from sandbox.windows import downloads
from sandbox.windows.argspec import build_spec
from sandbox.windows.modules import Ctx, register

SPEC = build_spec("chocolatey.chocolatey.win_chocolatey", "basic", supports_check_mode=True)
CHOCO = r"C:\ProgramData\chocolatey\bin\choco.exe"
LIB = r"C:\ProgramData\chocolatey\lib"
SUCCESS = (0, 1605, 1614, 1641, 3010)
# Options the role does not use and the sandbox does not model, with the values that mean "unset".
_UNMODELLED: dict[str, tuple[Any, ...]] = {
    "allow_multiple": (False,),
    "allow_prerelease": (False,),
    "checksum": (None,),
    "choco_args": (None, []),
    "force": (False,),
    "ignore_checksums": (False,),
    "ignore_dependencies": (False,),
    "override_args": (False,),
    "package_params": (None,),
    "pinned": (None,),
    "proxy_url": (None,),
    "proxy_username": (None,),
    "proxy_password": (None,),
    "skip_scripts": (False,),
    "source_username": (None,),
    "source_password": (None,),
}


def _installed(ctx: Ctx, package: str) -> str | None:
    path = f"{LIB}\\{package}\\{package}.nuspec"
    if not ctx.state.fs.is_file(path):
        return None
    return _nuspec(ctx.state.fs.read(path))[1]


def _nuspec(data: bytes) -> tuple[str, str]:
    root = ET.fromstring(data)  # noqa: S314 - a nuspec the test feed serves
    meta = {el.tag.rsplit("}", 1)[-1]: (el.text or "") for el in root.iter()}
    return meta.get("id", ""), meta.get("version", "")


def _check_options(p: dict[str, Any]) -> str:
    for name, unset in _UNMODELLED.items():
        if p.get(name) not in unset:
            raise NotModelled(f"win_chocolatey option '{name}' is not simulated by the sandbox")
    if p["state"] != "present" or len(p["name"]) != 1:
        raise NotModelled("win_chocolatey: only state=present of one package is simulated")
    if not p.get("version"):
        raise NotModelled("win_chocolatey without a pinned version is not simulated")
    source = p.get("source") or ""
    if not source.lower().startswith("https://"):
        raise NotModelled(f"win_chocolatey source {source!r}: only an HTTPS feed URL is simulated")
    return source


@register(SPEC)
def win_chocolatey(ctx: Ctx) -> None:
    p, r = ctx.params, ctx.result
    source = _check_options(p)
    if not ctx.state.fs.is_file(CHOCO):
        raise NotModelled(
            "win_chocolatey: bootstrapping Chocolatey is not simulated (the image has no choco.exe)"
        )
    package, version = p["name"][0], p["version"]
    r["rc"] = 0
    current = _installed(ctx, package)
    if current == version:
        return
    if current is not None:
        raise ctx.fail(
            f"Chocolatey package '{package}' is already installed with version(s) '{current}' "
            f"but was expecting '{version}'. Either change the expected version, set state=latest or "
            "state=upgrade, set allow_multiple=yes, or set force=yes to continue"
        )
    command = (
        f"{CHOCO} install -r --no-progress -y {package} --timeout {p['timeout']} --version {version} "
        f"--source {source}"
    )
    r.update(changed=True, command=command)
    if ctx.check_mode:
        return
    _install(ctx, package, version, source, command)


def _install(ctx: Ctx, package: str, version: str, source: str, command: str) -> None:
    r = ctx.result
    url = f"{source.rstrip('/')}/package/{package}/{version}"
    try:
        answer = downloads.fetch(url, ctx.state.trusted_ca, timeout=float(ctx.params["timeout"]))
    except OSError as err:
        answer = None
        stdout = f"Unable to load the service index for source {source}. {err}"
    if answer is not None and answer.status == 200:
        archive = zipfile.ZipFile(io.BytesIO(answer.body))
        spec_name = next((n for n in archive.namelist() if n.lower().endswith(".nuspec")), None)
        if spec_name is None or _nuspec(archive.read(spec_name))[0].lower() != package.lower():
            raise NotModelled(f"the feed's package {package} {version} is not a nupkg of that id")
        rc = _fault_rc(ctx, package)
        if rc in SUCCESS:
            for name in archive.namelist():
                if not name.endswith("/") and not name.startswith(("_rels/", "package/", "[Content_Types]")):
                    target = f"{LIB}\\{package}\\" + (
                        "\\".join(name.split("/")) if name != spec_name else f"{package}.nuspec"
                    )
                    ctx.state.fs.write(target, archive.read(name), make_parents=True)
            r.update(rc=rc, stdout="Chocolatey installed 1/1 packages.", failed=False)
            return
        stdout = f"{package} not installed. An error occurred during installation: exit code {rc}."
    elif answer is not None:
        rc, stdout = 1, f"{package} not installed. The package was not found with the source(s) listed."
    else:
        rc = 1
    r.update(rc=rc, stdout=stdout, command=command)
    raise ctx.fail(f"Error installing package(s) '{package}'")


def _fault_rc(ctx: Ctx, package: str) -> int:
    for fault in ctx.state.faults.installer_exit:
        if fault["count"] > 0 and re.fullmatch(re.escape(str(fault["installer"])), package, re.I):
            fault["count"] -= 1
            return int(fault["rc"])
    return 0
