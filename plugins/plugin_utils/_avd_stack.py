"""The AVD software stack as the role ``avd_stack`` installs it (pure Python, unit-tested).

``plan`` turns the normalised ``avd_stack`` section (``_image_spec/avd_stack.py``) into the
normalised application entries that ``roles/windows_applications/tasks/install.yml`` installs
(docs/contracts.md, "Applications"), in Microsoft's order, plus the steps around them that only the
stack has: registry values an installer reads (OneDrive's AllUsersInstall) or Teams needs
(IsWVDEnvironment), the Teams MSIX the bootstrapper provisions from, the ODT configuration file,
and what is checked afterwards. ``manifest_info`` is what the manifest part records per component.

How each component is installed and detected, and why (the silent switches are the vendors'):

- VC++ 2015-2022 Redistributable (x64): ``/install /quiet /norestart``; 1638 (a newer version is
  installed, ERROR_PRODUCT_VERSION) also counts as done; detected by vcruntime140.dll's version.
- FSLogix: ``FSLogixAppsSetup.exe /install /quiet /norestart`` installs or upgrades in place;
  detected by frxsvc.exe's version, so an older FSLogix in the image is upgraded.
- Remote Desktop WebRTC Redirector and the multimedia redirection host: MSIs, detected by the
  product code the image spec pins (Windows Installer's own record).
- WebView2 Runtime (standalone installer): ``/silent /install``; detected by EdgeUpdate's ``pv``
  value of the runtime's client key, which Microsoft documents for detecting the runtime.
- Teams: ``teamsbootstrapper.exe -p -o <MSIX>`` provisions the MSIX for every user; detected by the
  provisioned package's folder (``WindowsApps\\MSTeams_<version>_x64__8wekyb3d8bbwe``), then
  checked as a provisioned package at that version.
- OneDrive: ``AllUsersInstall=1`` first, then ``OneDriveSetup.exe /allusers`` (per machine, into
  Program Files); detected by OneDrive.exe's version.
- Microsoft 365 Apps: ``setup.exe /configure <file>`` with the generated file; detected by
  Click-to-Run's ``VersionToReport``, then checked against the products, edition and activation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils import _odt
from ansible_collections.avd.golden.plugins.plugin_utils._applications import installer_file_name

TEAMS_PUBLISHER_ID = "8wekyb3d8bbwe"
TEAMS_PACKAGE = "MSTeams"
WEBVIEW2_CLIENT = (
    r"HKLM\SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
)
C2R_CONFIG = r"HKLM\SOFTWARE\Microsoft\Office\ClickToRun\Configuration"
# (component, display name, kind, arguments, extra exit codes) in the order Microsoft installs
# them: the runtime before the redirectors that need it, WebView2 and the redirector before Teams.
COMPONENTS = (
    ("vc_redist", "Visual C++ Redistributable (x64)", "exe", "/install /quiet /norestart", [1638]),
    ("fslogix", "Microsoft FSLogix Apps", "exe", "/install /quiet /norestart", []),
    ("webrtc_redirector", "Remote Desktop WebRTC Redirector Service", "msi", "", []),
    ("webview2", "Microsoft Edge WebView2 Runtime", "exe", "/silent /install", []),
    ("teams", "Microsoft Teams (new) for VDI", "exe", None, []),
    ("multimedia_redirection", "Remote Desktop Multimedia Redirection", "msi", "", []),
    ("onedrive", "Microsoft OneDrive (per machine)", "exe", "/allusers", []),
    ("m365_apps", "Microsoft 365 Apps", "exe", None, []),
)  # fmt: skip
FILE_DETECTION = {
    "vc_redist": r"C:\Windows\System32\vcruntime140.dll",
    "fslogix": r"C:\Program Files\FSLogix\Apps\frxsvc.exe",
    "onedrive": r"C:\Program Files\Microsoft OneDrive\OneDrive.exe",
}
DEFAULT_EXIT_CODES = [0, 3010, 1641]
# A newer runtime serves what needs the pinned one (its installer then exits 1638 and changes nothing).
NEWER_IS_FINE = ("avd_stack.vc_redist",)
REBOOT_EXIT_CODES = [3010, 1641]


def _pins(stack: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Each installed component's pin ({version, download, ...}) by component name."""
    teams = stack.get("teams") or {}
    pins = {key: stack.get(key) for key in ("vc_redist", "fslogix", "multimedia_redirection", "onedrive")}
    pins["webrtc_redirector"] = teams.get("webrtc_redirector")
    pins["webview2"] = teams.get("webview2")
    pins["teams"] = teams.get("bootstrapper")
    m365 = stack.get("m365_apps")
    pins["m365_apps"] = {**m365["odt"], "version": m365["version"]} if m365 else None
    return {k: v for k, v in pins.items() if v}


def msix_path(work_dir: str, stack: Mapping[str, Any]) -> str | None:
    """Where the Teams MSIX is downloaded on the build VM (None without Teams)."""
    teams = stack.get("teams")
    if not teams:
        return None
    return f"{_dir(work_dir)}\\teams\\{installer_file_name(teams['msix']['download'])}"


def odt_paths(work_dir: str) -> dict[str, str]:
    """The ODT configuration file and the folder ODT logs to."""
    return {"config": f"{_dir(work_dir)}\\m365\\configuration.xml", "logs": f"{_dir(work_dir)}\\m365\\logs"}


def plan(stack: Mapping[str, Any], work_dir: str, timeout_minutes: int = 60) -> dict[str, Any]:
    """The stack's application entries (install order) and the steps around them."""
    pins = _pins(stack)
    entries = []
    for component, name, kind, arguments, extra_codes in COMPONENTS:
        pin = pins.get(component)
        if pin is None:
            continue
        entries.append(
            {
                "name": name,
                "kind": kind,
                "version": pin["version"],
                "download": pin["download"],
                "package": None,
                "arguments": _arguments(component, arguments, work_dir, stack),
                "exit_codes": DEFAULT_EXIT_CODES + extra_codes,
                "reboot_exit_codes": list(REBOOT_EXIT_CODES),
                "detection": _detection(component, pin, stack),
                "timeout_minutes": timeout_minutes,
                "source": _source(component),
            }
        )
    teams = _teams(stack, work_dir)
    checks = list(entries)
    if teams:
        # After the bootstrapper: MSTeams provisioned for every user at the MSIX's version.
        checks.append(
            {
                "name": "Microsoft Teams (provisioned)",
                "kind": "msix",
                "version": teams["version"],
                "detection": {
                    "product_code": None,
                    "registry": None,
                    "file": None,
                    "package_name": TEAMS_PACKAGE,
                },
            }
        )
    return {
        "applications": entries,
        "checks": checks,
        "registry": _registry(stack),
        "teams": teams,
        "m365_apps": _m365(stack, work_dir),
    }


def problems(
    plan_: Mapping[str, Any], detected: Mapping[str, Any], c2r: Mapping[str, Any] | None
) -> list[str]:
    """What the installers did not leave as the image spec pins it, one message per component.

    ``detected`` is win_app_detect's result for ``plan_["checks"]``; ``c2r`` win_reg_stat's result
    for Click-to-Run's configuration key (None without Microsoft 365 Apps).
    """
    found = {str(d.get("name")).lower(): d for d in detected.get("applications", [])}
    out = []
    for check in plan_["checks"]:
        hit = found.get(check["name"].lower()) or {}
        newer = check.get("source") in NEWER_IS_FINE and _newer_or_equal(hit.get("version"), check["version"])
        if not hit.get("installed") and not newer:
            seen = f" (found {hit['version']})" if hit.get("version") else ""
            out.append(
                f"{check.get('source') or 'avd_stack.teams.msix'}: {check['name']} is not installed at "
                f"{check['version']} after its installer ran{seen}: {_how(check)}"
            )
    m365 = plan_.get("m365_apps")
    if m365 and c2r is not None:
        out += _c2r_problems(m365, c2r)
    return out


def _newer_or_equal(found: Any, pinned: str) -> bool:
    def parts(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in text.split(".") if p.isdigit())

    return isinstance(found, str) and bool(found) and parts(found) >= parts(pinned)


def _how(check: Mapping[str, Any]) -> str:
    detection = check["detection"]
    if detection.get("package_name"):
        return f"{detection['package_name']} is not provisioned at that version"
    if detection.get("file"):
        return f"{detection['file']['path']} is missing or at another version (is the pin the file's?)"
    if detection.get("registry"):
        reg = detection["registry"]
        return f"{reg['key']}\\{reg['name']} is not {reg['value']!r}"
    return f"no Uninstall entry {detection.get('product_code')} (is the pinned product code the MSI's?)"


def _c2r_problems(m365: Mapping[str, Any], c2r: Mapping[str, Any]) -> list[str]:
    values = {k.lower(): v.get("value") for k, v in (c2r.get("properties") or {}).items()}
    installed = [p for p in str(values.get("productreleaseids") or "").split(",") if p]
    out = []
    missing = [p for p in m365["products"] if p not in installed]
    if missing:
        out.append(
            f"avd_stack.m365_apps: Click-to-Run lists {installed or 'no products'}, not {', '.join(missing)}"
        )
    for name, want, what in (
        ("platform", m365["platform"], "architecture"),
        ("sharedcomputerlicensing", m365["shared_computer_activation"], "shared_computer_activation"),
    ):
        if str(values.get(name)) != want:
            out.append(f"avd_stack.m365_apps.{what}: Click-to-Run records {values.get(name)!r}, not {want!r}")
    return out


def _arguments(component: str, arguments: str | None, work_dir: str, stack: Mapping[str, Any]) -> str:
    if component == "teams":
        return f'-p -o "{msix_path(work_dir, stack)}"'
    if component == "m365_apps":
        return f'/configure "{odt_paths(work_dir)["config"]}"'
    return arguments or ""


def _detection(component: str, pin: Mapping[str, Any], stack: Mapping[str, Any]) -> dict[str, Any]:
    detection: dict[str, Any] = {"product_code": None, "registry": None, "file": None, "package_name": None}
    if component in FILE_DETECTION:
        detection["file"] = {"path": FILE_DETECTION[component], "version": pin["version"]}
    elif component in ("webrtc_redirector", "multimedia_redirection"):
        detection["product_code"] = pin["product_code"]
    elif component == "webview2":
        detection["registry"] = {"key": WEBVIEW2_CLIENT, "name": "pv", "value": pin["version"]}
    elif component == "teams":
        folder = teams_folder(stack["teams"]["msix"]["version"])
        detection["file"] = {"path": f"{folder}\\ms-teams.exe", "version": None}
    else:  # m365_apps
        detection["registry"] = {"key": C2R_CONFIG, "name": "VersionToReport", "value": pin["version"]}
    return detection


def teams_folder(version: str) -> str:
    """The folder Windows stages a provisioned package in: Program Files\\WindowsApps\\<full name>."""
    return rf"C:\Program Files\WindowsApps\{TEAMS_PACKAGE}_{version}_x64__{TEAMS_PUBLISHER_ID}"


def _source(component: str) -> str:
    if component in ("webrtc_redirector", "webview2"):
        return f"avd_stack.teams.{component}"
    if component == "teams":
        return "avd_stack.teams.bootstrapper"
    return f"avd_stack.{component}"


def _registry(stack: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Values written before the installs (win_registry_set items)."""
    items = []
    if stack.get("onedrive"):
        # Read by OneDriveSetup /allusers, and OneDrive started at every sign-in (AVD's "Install
        # Office on a custom VHD image").
        items.append(_dword(r"SOFTWARE\Microsoft\OneDrive", "AllUsersInstall", "avd_stack.onedrive"))
        items.append(
            {
                **_dword(r"SOFTWARE\Microsoft\Windows\CurrentVersion\Run", "OneDrive", "avd_stack.onedrive"),
                "type": "string",
                "data": f"{FILE_DETECTION['onedrive']} /background",
            }
        )
    if stack.get("teams"):
        # Teams' media optimization on AVD reads it ("Use Microsoft Teams on Azure Virtual Desktop").
        items.append(_dword(r"SOFTWARE\Microsoft\Teams", "IsWVDEnvironment", "avd_stack.teams"))
    return items


def _dword(key: str, name: str, source: str) -> dict[str, Any]:
    return {
        "hive": "HKLM",
        "key": key,
        "name": name,
        "type": "dword",
        "data": 1,
        "state": "present",
        "source": source,
    }


def _teams(stack: Mapping[str, Any], work_dir: str) -> dict[str, Any] | None:
    teams = stack.get("teams")
    if not teams:
        return None
    msix = teams["msix"]
    path = msix_path(work_dir, stack)
    return {
        "msix_path": path,
        "msix_dir": str(path).rsplit("\\", 1)[0],
        # The MSIX as an application entry (kind msix): what a failure message names.
        "entry": {
            "name": "Microsoft Teams MSIX",
            "kind": "msix",
            "version": msix["version"],
            "download": msix["download"],
            "source": "avd_stack.teams.msix",
        },
        "package_name": TEAMS_PACKAGE,
        "version": msix["version"],
    }


def _m365(stack: Mapping[str, Any], work_dir: str) -> dict[str, Any] | None:
    m365 = stack.get("m365_apps")
    if not m365:
        return None
    paths = odt_paths(work_dir)
    return {
        **paths,
        "xml": _odt.configuration_xml(m365, paths["logs"]),
        "version": m365["version"],
        "products": _odt.products(m365),
        "platform": "x64" if m365["architecture"] == "64" else "x86",
        "shared_computer_activation": "1" if m365["shared_computer_activation"] else "0",
    }


def manifest_info(stack: Mapping[str, Any]) -> dict[str, Any]:
    """Per component: version, SHA-256 and download id of each installer (never a URL's query)."""
    info: dict[str, Any] = {}
    for key in ("vc_redist", "fslogix", "multimedia_redirection", "onedrive"):
        if stack.get(key):
            info[key] = _pin_info(stack[key])
    if stack.get("teams"):
        info["teams"] = {part: _pin_info(pin) for part, pin in stack["teams"].items() if pin}
    m365 = stack.get("m365_apps")
    if m365:
        info["m365_apps"] = {
            "version": m365["version"],
            "channel": m365["channel"],
            "architecture": m365["architecture"],
            "products": _odt.products(m365),
            "languages": m365["languages"],
            "exclude_apps": m365["exclude_apps"],
            "shared_computer_activation": m365["shared_computer_activation"],
            "updates_enabled": m365["updates"]["enabled"],
            "odt": _pin_info(m365["odt"]),
        }
    return info


def _pin_info(pin: Mapping[str, Any]) -> dict[str, Any]:
    download = pin["download"]
    return {"version": pin["version"], "sha256": download["sha256"], "download": download["id"]}


def _dir(path: str) -> str:
    return path.rstrip("\\")
