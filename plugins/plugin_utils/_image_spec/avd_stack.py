"""The ``avd_stack`` section: the AVD software stack, each component pinned.

Every part is optional; a part that is given names its installer as a download (``downloads``:
url or blob, a SHA-256 always, a signer if wanted) and the version that installer carries, which
the role checks after the install and records in the manifest. Nothing is "latest": there are no
default installers, because the tool cannot vouch for a Microsoft file's hash it has not seen, so
the image spec pins each one. The rules of the Office Deployment Tool (product and app IDs,
channels, languages) are in ``plugins/plugin_utils/_odt.py``; the components' installation is the
role ``avd_stack`` (``roles/avd_stack/README.md``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils import _odt
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import Checker
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.downloads import check_download
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.messages import join, show, type_name
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.schema import KEYS

# A version as an installer carries it: 2 to 4 dot-separated numbers (MSI ProductVersion,
# Uninstall DisplayVersion, MSIX Identity Version, file version).
_VERSION_RE = re.compile(r"[0-9]{1,9}(\.[0-9]{1,9}){1,3}\Z")
_GUID_RE = re.compile(r"\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}\Z")
# The MSI parts: Windows Installer records an MSI by its ProductCode, which changes per release, so
# the image spec pins it with the file (the tool cannot know Microsoft's codes ahead).
MSI_PARTS = ("multimedia_redirection", "webrtc_redirector")
PINNED = ("fslogix", "multimedia_redirection", "onedrive", "vc_redist")
TEAMS_PARTS = ("webrtc_redirector", "webview2", "bootstrapper", "msix")
PRODUCT_EDITIONS = ("pro", "standard")


def check_avd_stack(c: Checker, root: Mapping[str, Any], facts: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``avd_stack``; return it normalised (an absent part is None)."""
    data = c.mapping(root, "avd_stack", "avd_stack", required=False) or {}
    c.unknown_keys(data, "avd_stack", "avd_stack")
    out: dict[str, Any] = {key: _pinned(c, data, key, "avd_stack") for key in PINNED}
    out["teams"] = _check_teams(c, data)
    out["m365_apps"] = _check_m365(c, data, facts)
    if out["vc_redist"] is None and data.get("vc_redist") is None:
        for needs in ("teams", "multimedia_redirection"):
            if out[needs] is not None:
                c.error(
                    "avd_stack.vc_redist",
                    f"is required with avd_stack.{needs}: the Microsoft Visual C++ Redistributable (x64) "
                    "it needs (Microsoft installs it before the WebRTC Redirector and the MMR host)",
                )
                break
    _cross_checks(c, out)
    return {key: out[key] for key in KEYS["avd_stack"]}


def _pinned(c: Checker, parent: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> Any:
    """``{version, download}`` of one installer at ``path.key``; None when absent (or wrong)."""
    field = join(path, key)
    data = c.mapping(parent, key, field, required=required)
    if data is None:
        return None
    msi = key in MSI_PARTS
    c.unknown_keys(data, "avd_stack.pinned_msi" if msi else "avd_stack.pinned", field)
    version = c.string(data, "version", field, required=True)
    if isinstance(version, str) and version.strip() and not _VERSION_RE.match(version):
        hint = " (never latest: pin the version the file carries)" if version.lower() == "latest" else ""
        c.error(
            join(field, "version"),
            f"must be the installer's version as dot-separated numbers, e.g. 1.2.3.4{hint}, "
            f"got {show(version)}",
        )
    download = check_download(c, data.get("download"), join(field, "download"))
    if not msi:
        return {"version": version, "download": download}
    code = c.string(data, "product_code", field, required=True)
    if isinstance(code, str) and code.strip() and not _GUID_RE.match(code):
        c.error(
            join(field, "product_code"), f"must be the MSI's ProductCode, a GUID in braces, got {show(code)}"
        )
    return {"version": version, "download": download, "product_code": code.upper() if code else code}


def _check_teams(c: Checker, root: Mapping[str, Any]) -> dict[str, Any] | None:
    data = c.mapping(root, "teams", "avd_stack.teams", required=False)
    if data is None:
        return None
    path = "avd_stack.teams"
    c.unknown_keys(data, path, path)
    # WebView2 is inbox on Windows 11 (with Edge): pin it only to install a given runtime.
    return {part: _pinned(c, data, part, path, required=part != "webview2") for part in TEAMS_PARTS}


def _check_m365(c: Checker, root: Mapping[str, Any], facts: Mapping[str, Any]) -> dict[str, Any] | None:
    path = "avd_stack.m365_apps"
    data = c.mapping(root, "m365_apps", path, required=False)
    if data is None:
        return None
    c.unknown_keys(data, path, path)
    multi = facts.get("session") != "single"
    m365: dict[str, Any] = {
        "odt": _pinned(c, data, "odt", path, required=True),
        "version": c.string(data, "version", path, required=True),
        "suite": c.choice(data, "suite", path, _odt.SUITES, default="O365ProPlusRetail"),
        "architecture": _architecture(c, data, path),
        "channel": c.string(data, "channel", path, default="MonthlyEnterprise"),
        "languages": _strings(c, data, "languages", path, default=["en-us"]),
        "fallback_language": c.string(data, "fallback_language", path),
        "exclude_apps": _exclude_apps(c, data, path),
        "visio": c.choice(data, "visio", path, PRODUCT_EDITIONS),
        "project": c.choice(data, "project", path, PRODUCT_EDITIONS),
        # Microsoft: Microsoft 365 Apps on a shared (multi-session) host needs shared computer activation.
        "shared_computer_activation": c.boolean(data, "shared_computer_activation", path, default=multi),
        "updates": _updates(c, data, path),
        "remove_msi": c.boolean(data, "remove_msi", path, default=True),
    }
    before = len(c.errors)
    for field, reason in _odt.problems(m365):
        c.error(join(path, field), reason)
    if len(c.errors) == before:
        m365["languages"] = [_odt.language_code(x) or x for x in m365["languages"]]
    if facts.get("offer") == "office-365" and m365["architecture"] == "32":
        c.error(
            join(path, "architecture"),
            "must be 64 on an office-365 source image: it has 64-bit Microsoft 365 Apps installed, and ODT "
            "fails an install whose OfficeClientEdition differs from the installed one",
        )
    return m365


def _architecture(c: Checker, data: Mapping[str, Any], path: str) -> str:
    value = data.get("architecture")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is None:
        return "64"
    if value not in _odt.ARCHITECTURES:
        c.error(join(path, "architecture"), f"must be 64 or 32 (OfficeClientEdition), got {show(value)}")
        return "64"
    return value


def _strings(c: Checker, data: Mapping[str, Any], key: str, path: str, *, default: list[str]) -> list[str]:
    value = data.get(key)
    field = join(path, key)
    if value is None:
        return list(default)
    if not isinstance(value, list) or not all(isinstance(v, str) and c.single_line(field, v) for v in value):
        c.error(field, f"must be a list of one-line strings, got {type_name(value)}")
        return list(default)
    return list(value)


def _exclude_apps(c: Checker, data: Mapping[str, Any], path: str) -> list[str]:
    """``exclude_apps`` as given, or the complement of ``apps`` (the apps to keep); not both."""
    if data.get("apps") is not None and data.get("exclude_apps") is not None:
        c.error(path, "give apps (the apps to install) or exclude_apps (the apps to leave out), not both")
    if data.get("apps") is not None:
        apps = _strings(c, data, "apps", path, default=[])
        for i, app in enumerate(apps):
            if app not in _odt.EXCLUDE_APPS:
                c.error(
                    f"{path}.apps[{i}]", f"{app!r} is not an app ODT knows ({', '.join(_odt.EXCLUDE_APPS)})"
                )
        return [app for app in _odt.EXCLUDE_APPS if app not in apps]
    # Microsoft's AVD sample: no OneDrive per user (the per-machine one is avd_stack.onedrive),
    # Teams from its own installer, no Skype for Business (AVD does not support it).
    return _strings(c, data, "exclude_apps", path, default=["Groove", "Lync", "OneDrive", "Teams"])


def _updates(c: Checker, data: Mapping[str, Any], path: str) -> dict[str, Any]:
    field = join(path, "updates")
    updates = c.mapping(data, "updates", field, required=False) or {}
    c.unknown_keys(updates, field, field)
    return {
        # Off by default, as Microsoft's AVD sample: the image is rebuilt to update Office.
        "enabled": c.boolean(updates, "enabled", field, default=False),
        "channel": c.string(updates, "channel", field),
        "update_path": c.string(updates, "update_path", field),
        "office_mgmt_com": c.boolean(updates, "office_mgmt_com", field, default=False),
    }


def _cross_checks(c: Checker, out: Mapping[str, Any]) -> None:
    m365 = out["m365_apps"]
    if m365 is None:
        return
    for component, app, why in (
        ("onedrive", "OneDrive", "installs OneDrive per machine; ODT would add a per-user copy"),
        ("teams", "Teams", "provisions new Teams with its bootstrapper; ODT would install another copy"),
    ):
        if out[component] is not None and app not in m365["exclude_apps"]:
            c.error(
                "avd_stack.m365_apps.exclude_apps",
                f"must exclude {app} when avd_stack.{component} is set: that part {why}",
            )
