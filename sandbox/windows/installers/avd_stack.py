"""The AVD software stack's EXE installers in the simulated guest (the hook of ``model.py``).

Each behaviour is keyed by the version resource the real file carries and does what the vendor
documents for the silent command line the product uses; any other command line is not modelled.
The keys ([Unc]: no source lists the exact strings; the tests' files carry them), all with
CompanyName ``Microsoft Corporation``, and the one command line each is modelled for:

- VC_redist.x64.exe: OriginalFilename ``VC_redist.x64.exe``; ``/install /quiet /norestart``.
- FSLogixAppsSetup.exe: ProductName ``Microsoft FSLogix Apps``; ``/install /quiet /norestart``.
- The WebView2 Runtime standalone installer: ProductName ``Microsoft Edge WebView2 Runtime``;
  ``/silent /install``.
- teamsbootstrapper.exe: OriginalFilename ``teamsbootstrapper.exe``; ``-p -o <MSIX>``.
- OneDriveSetup.exe: ProductName ``Microsoft OneDrive``; ``/allusers``.
- The Office Deployment Tool's setup.exe: ProductName ``Office Deployment Tool``;
  ``/configure <file>`` (``odt.py``).

The version a product installs is the installer's ProductVersion. The program files it leaves are
copies of the installer, so they are real PE files whose version resource carries that version:
a file-version detection reads a real resource, not a note the sandbox keeps. A newer version
already installed is left alone and the installer exits with 1638 (ERROR_PRODUCT_VERSION, "another
version of this product is already installed"), as the Burn bundles (VC++, FSLogix) do.

What it cannot prove: the drivers FSLogix loads, the WebRTC/MMR services at a user's logon, Teams'
first run, OneDrive's per-user setup at sign-in, and Office's content (see ``odt.py``).
"""

from __future__ import annotations

import json
import re
import shlex
import time
import uuid
from typing import TYPE_CHECKING

from sandbox.guest_api import NotModelled
from sandbox.windows.installers import identify, msix, odt
from sandbox.windows.installers.model import InstallerFile, InstallResult, register_exe
from sandbox.windows.state import Service

if TYPE_CHECKING:
    from sandbox.windows.state import WindowsState

UNINSTALL = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"
UNINSTALL_WOW = r"HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall"
MS = "Microsoft Corporation"
NEWER_INSTALLED = 1638
FSLOGIX_APPS = r"C:\Program Files\FSLogix\Apps"
VC_RUNTIMES = r"HKLM\SOFTWARE\Microsoft\VisualStudio\14.0\VC\Runtimes\x64"
WEBVIEW2_CLIENT = (
    r"HKLM\SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
)
ONEDRIVE_DIR = r"C:\Program Files\Microsoft OneDrive"
TEAMS_NAME = "MSTeams"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"[0-9]+", text)[:4])


def _switches(arguments: str, expected: set[str], installer: str) -> None:
    given = {a.lower() for a in arguments.split()}
    if given != expected:
        raise NotModelled(
            f"{installer}: the command line {arguments!r} is not modelled "
            f"(modelled: {' '.join(sorted(expected))})"
        )


def _uninstall_entry(state: WindowsState, base: str, key: str, name: str, version: str) -> None:
    for value, data in (("DisplayName", name), ("DisplayVersion", version), ("Publisher", MS)):
        state.registry.set_value(f"{base}\\{key}", value, "REG_SZ", data)


def _entries(state: WindowsState, base: str, display_name: str) -> dict[str, str]:
    """The Uninstall entries named ``display_name``: {key: DisplayVersion}."""
    root = state.registry.open(base)
    found = {}
    for sub in list(root.subkey_names()) if root else []:
        key = f"{base}\\{sub}"
        name = state.registry.get_value(key, "DisplayName")
        if name is not None and name.data == display_name:
            version = state.registry.get_value(key, "DisplayVersion")
            found[key] = version.data if version is not None else ""
    return found


def _drop_entries(state: WindowsState, base: str, display_name: str) -> str | None:
    """Remove the Uninstall entries named ``display_name``; the highest DisplayVersion they had."""
    entries = _entries(state, base, display_name)
    for key in entries:
        state.registry.delete_key(key)
    return max(entries.values(), key=_version) if entries else None


def _service(state: WindowsState, name: str, display: str, path: str, *, driver: bool = False) -> None:
    svc = Service(
        name=name,
        display_name=display,
        path=path,
        description=display,
        start_mode="manual" if driver else "auto",
        state="stopped" if driver else "started",
        service_type="file_system_driver" if driver else "win32_own_process",
    )
    state.services[name.lower()] = svc
    state.sync_services()


@register_exe({"CompanyName": MS, "OriginalFilename": "VC_redist.x64.exe"})
def vc_redist(state: WindowsState, file: InstallerFile, arguments: str) -> InstallResult:
    _switches(arguments, {"/install", "/quiet", "/norestart"}, file.name)
    version = file.properties["ProductVersion"]
    installed = state.registry.get_value(VC_RUNTIMES, "Version")
    if installed is not None and _version(installed.data) > _version(version):
        return InstallResult(NEWER_INSTALLED, log=f"A newer version ({installed.data}) is already installed.")
    parts = [*_version(version), 0, 0, 0, 0][:4]
    state.registry.set_value(VC_RUNTIMES, "Installed", "REG_DWORD", 1)
    state.registry.set_value(VC_RUNTIMES, "Version", "REG_SZ", "v{}.{}.{}.{:02d}".format(*parts))
    for name, part in zip(("Major", "Minor", "Bld", "Rbld"), parts, strict=True):
        state.registry.set_value(VC_RUNTIMES, name, "REG_DWORD", part)
    title = f"Microsoft Visual C++ 2015-2022 Redistributable (x64) - {version}"
    _drop_entries(state, UNINSTALL_WOW, title)
    _uninstall_entry(state, UNINSTALL_WOW, f"{{{uuid.uuid5(uuid.NAMESPACE_URL, title)}}}", title, version)
    for dll in ("vcruntime140.dll", "vcruntime140_1.dll", "msvcp140.dll"):
        state.fs.write(f"C:\\Windows\\System32\\{dll}", file.data, make_parents=True)
    return InstallResult(0, changes=[VC_RUNTIMES])


@register_exe({"CompanyName": MS, "ProductName": "Microsoft FSLogix Apps"})
def fslogix(state: WindowsState, file: InstallerFile, arguments: str) -> InstallResult:
    """FSLogixAppsSetup: installs or upgrades in place (services, drivers, the four local groups,
    its Uninstall entry); a newer FSLogix is not downgraded (1638)."""
    _switches(arguments, {"/install", "/quiet", "/norestart"}, file.name)
    version = file.properties["ProductVersion"]
    newer = [
        v
        for v in _entries(state, UNINSTALL, "Microsoft FSLogix Apps").values()
        if _version(v) > _version(version)
    ]
    if newer:
        return InstallResult(NEWER_INSTALLED, log=f"FSLogix {newer[0]} is newer than {version}.")
    upgraded = _drop_entries(state, UNINSTALL, "Microsoft FSLogix Apps")
    _uninstall_entry(
        state,
        UNINSTALL,
        f"{{{uuid.uuid5(uuid.NAMESPACE_URL, 'fslogix-' + version)}}}",
        "Microsoft FSLogix Apps",
        version,
    )
    for exe in ("frxsvc.exe", "frxccds.exe", "frx.exe", "frxccd.exe"):
        state.fs.write(f"{FSLOGIX_APPS}\\{exe}", file.data, make_parents=True)
    state.registry.set_value(r"HKLM\SOFTWARE\FSLogix\Apps", "InstallPath", "REG_SZ", FSLOGIX_APPS + "\\")
    state.registry.create(r"HKLM\SOFTWARE\FSLogix\Profiles")
    _service(state, "frxsvc", "FSLogix Apps Services", f'"{FSLOGIX_APPS}\\frxsvc.exe"')
    _service(state, "frxccds", "FSLogix Cloud Caching Service", f'"{FSLOGIX_APPS}\\frxccds.exe"')
    for driver in ("frxdrv", "frxdrvvt", "frxccd"):
        _service(state, driver, driver, f"\\SystemRoot\\System32\\drivers\\{driver}.sys", driver=True)
    _groups(state)
    # Replacing loaded drivers needs a restart [Unc: FSLogix's exit code on an upgrade].
    return InstallResult(3010 if upgraded else 0, reboot_required=bool(upgraded), changes=[FSLOGIX_APPS])


def _groups(state: WindowsState) -> None:
    """The four local groups FSLogix creates; the include lists hold Everyone (FSLogix's docs)."""
    rid = 1000 + len(state.local_groups)
    for name, members in (
        ("FSLogix ODFC Exclude List", []),
        ("FSLogix ODFC Include List", ["S-1-1-0"]),
        ("FSLogix Profile Exclude List", []),
        ("FSLogix Profile Include List", ["S-1-1-0"]),
    ):
        if name not in state.local_groups:
            state.local_groups[name] = {
                "sid": f"{state.machine_sid}-{rid}",
                "description": name,
                "members": members,
            }
            rid += 1


@register_exe({"CompanyName": MS, "ProductName": "Microsoft Edge WebView2 Runtime"})
def webview2(state: WindowsState, file: InstallerFile, arguments: str) -> InstallResult:
    """The standalone WebView2 Runtime installer: per machine; an equal or newer runtime stays."""
    _switches(arguments, {"/silent", "/install"}, file.name)
    version = file.properties["ProductVersion"]
    installed = state.registry.get_value(WEBVIEW2_CLIENT, "pv")
    if installed is not None and _version(installed.data) >= _version(version):
        return InstallResult(0, log=f"WebView2 Runtime {installed.data} is already installed.")
    state.registry.set_value(WEBVIEW2_CLIENT, "pv", "REG_SZ", version)
    state.registry.set_value(WEBVIEW2_CLIENT, "name", "REG_SZ", "Microsoft Edge WebView2 Runtime")
    _uninstall_entry(
        state, UNINSTALL_WOW, "Microsoft EdgeWebView", "Microsoft Edge WebView2 Runtime", version
    )
    folder = f"C:\\Program Files (x86)\\Microsoft\\EdgeWebView\\Application\\{version}"
    state.fs.write(f"{folder}\\msedgewebview2.exe", file.data, make_parents=True)
    return InstallResult(0, changes=[folder])


@register_exe({"CompanyName": MS, "OriginalFilename": "teamsbootstrapper.exe"})
def teams_bootstrapper(state: WindowsState, file: InstallerFile, arguments: str) -> InstallResult:
    """``teamsbootstrapper.exe -p -o <MSIX>``: provisions the given Teams MSIX for every user and
    prints its JSON result. Without ``-o`` it would download Teams from the Internet (not modelled)."""
    args = shlex.split(arguments, posix=False)
    if len(args) != 3 or args[0].lower() != "-p" or args[1].lower() != "-o":
        raise NotModelled(
            f"{file.name}: the command line {arguments!r} is not modelled (modelled: -p -o <MSIX>)"
        )
    path = args[2].strip('"')
    if not state.fs.is_file(path):
        return _teams_result(0x80070002, f"the offline package {path} does not exist")  # ERROR_FILE_NOT_FOUND
    package = identify(path, state.fs.read(path))
    if package.kind != "msix" or package.properties.get("Name") != TEAMS_NAME:
        return _teams_result(
            0x80070057, f"{path} is not the Teams MSIX (identity {package.properties.get('Name')!r})"
        )
    error = msix.provision(state, package)
    if error is not None:
        return _teams_result(0x800B0100, error)
    version = package.properties["Version"]
    arch = package.properties.get("ProcessorArchitecture", "x64")
    folder = f"C:\\Program Files\\WindowsApps\\{TEAMS_NAME}_{version}_{arch}__8wekyb3d8bbwe"
    state.fs.write(f"{folder}\\ms-teams.exe", file.data, make_parents=True)
    return InstallResult(0, stdout=json.dumps({"success": True}, indent=2), changes=[folder])


def _teams_result(code: int, why: str) -> InstallResult:
    """A failed bootstrapper run: exit code 1 [Unc] and ``{"success": false, "errorCode": ...}``."""
    out = json.dumps({"success": False, "errorCode": f"0x{code:08X}"}, indent=2)
    return InstallResult(1, stdout=out, stderr=why)


@register_exe({"CompanyName": MS, "ProductName": "Microsoft OneDrive"})
def onedrive(state: WindowsState, file: InstallerFile, arguments: str) -> InstallResult:
    """``OneDriveSetup.exe /allusers``: per machine into Program Files when AllUsersInstall=1 is set
    first (AVD's "Install Office on a custom VHD image"); otherwise [Unc] the per-user install into
    the running account's profile, which a golden image must not carry."""
    _switches(arguments, {"/allusers"}, file.name)
    version = file.properties["ProductVersion"]
    flag = state.registry.get_value(r"HKLM\SOFTWARE\Microsoft\OneDrive", "AllUsersInstall")
    if flag is None or flag.data != 1:
        folder = f"{state.user_profile}\\AppData\\Local\\Microsoft\\OneDrive"
        state.fs.write(f"{folder}\\OneDrive.exe", file.data, make_parents=True)
        return InstallResult(0, changes=[folder])
    state.fs.write(f"{ONEDRIVE_DIR}\\OneDrive.exe", file.data, make_parents=True)
    state.registry.set_value(r"HKLM\SOFTWARE\Microsoft\OneDrive", "Version", "REG_SZ", version)
    _uninstall_entry(state, UNINSTALL, "OneDriveSetup.exe", "Microsoft OneDrive", version)
    return InstallResult(0, changes=[ONEDRIVE_DIR])


@register_exe({"CompanyName": MS, "ProductName": "Office Deployment Tool"})
def office_deployment_tool(state: WindowsState, file: InstallerFile, arguments: str) -> InstallResult:
    """``setup.exe /configure <file>``: reads the configuration as ODT does (``odt.py``), installs
    Click-to-Run, and logs to the configuration's Logging folder."""
    args = shlex.split(arguments, posix=False)
    if len(args) != 2 or args[0].lower() != "/configure":
        raise NotModelled(
            f"{file.name}: the command line {arguments!r} is not modelled (modelled: /configure <file>)"
        )
    path = args[1].strip('"')
    lines = [f"Office Deployment Tool {file.properties.get('ProductVersion', '')}: /configure {path}"]
    try:
        if not state.fs.is_file(path):
            raise odt.OdtRefused(odt.SCENARIO_FAILED, f"the configuration file {path} does not exist")
        config = odt.parse(state.fs.read(path).decode("utf-8-sig"))
        odt.configure(state, config)
        _service(state, "ClickToRunSvc", "Microsoft Office Click-to-Run Service", f'"{odt.C2R_EXE}" /service')
        code = 0
        lines.append(f"Installed {', '.join(config.products)} {config.version}")
    except odt.OdtRefused as refused:
        code = refused.code
        lines.append(f"Error {refused.code}: {refused}")
        config = None
    _odt_log(state, config, "\r\n".join(lines))
    return InstallResult(code, log="\n".join(lines))


def _odt_log(state: WindowsState, config: odt.Configuration | None, text: str) -> None:
    """ODT's log, named <computer>-<date>-<time>.log, in the Logging Path (default %temp%)."""
    env = state.env()
    folder = (config.log_path if config and config.log_path else None) or env.get("TEMP", r"C:\Windows\Temp")
    for name, value in env.items():
        folder = re.sub(f"%{re.escape(name)}%", lambda _m, v=value: v, folder, flags=re.IGNORECASE)
    if config is not None and config.log_level.lower() == "off":
        return
    stamp = time.strftime("%Y%m%d-%H%M", time.gmtime(state.clock()))
    state.fs.write(f"{folder}\\{state.computer_name.upper()}-{stamp}.log", text.encode(), make_parents=True)
