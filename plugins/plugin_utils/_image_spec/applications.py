"""The ``applications`` section: installers and packages that go into the image.

Each entry names one application: an MSI, an EXE, an MSIX (or bundle) fetched as a download (see
``downloads``), or a winget / Chocolatey package at a pinned version. It says how to install it
silently, which exit codes mean success (3010 and 1641: success, reboot needed), how to detect that
it is already installed (so a re-run skips it) and how long it may take. The normalised entry is the
interface the ``windows_applications`` role installs (docs/contracts.md, "Applications").
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import Checker
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.downloads import check_download
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.messages import join, show, type_name

KINDS = ("msi", "exe", "msix", "winget", "choco")
DOWNLOAD_KINDS = ("msi", "exe", "msix")
PACKAGE_KINDS = ("winget", "choco")
# Exit codes Windows Installer and most installers use for "done, restart needed": 3010
# ERROR_SUCCESS_REBOOT_REQUIRED, 1641 ERROR_SUCCESS_REBOOT_INITIATED (the role reboots once).
REBOOT_EXIT_CODES = (3010, 1641)
DEFAULT_EXIT_CODES = (0, 3010, 1641)
# Silent arguments added to the installer's command line. win_package itself runs msiexec with
# /i <file> /L*V <log> /qn /norestart, so an MSI needs none by default; /quiet /norestart is what
# WiX Burn bundles and most Microsoft EXE installers take.
DEFAULT_ARGUMENTS = {"msi": "", "exe": "/quiet /norestart", "choco": ""}
# File name extensions per kind: the installer a download names must be one.
EXTENSIONS = {"msi": (".msi",), "exe": (".exe",), "msix": (".msix", ".msixbundle", ".appx", ".appxbundle")}
TIMEOUT_MINUTES = (1, 240)
TIMEOUT_DEFAULT = 30
MAX_APPLICATIONS = 100

# A name becomes part of a folder and a log file name on the build VM: keep it to safe characters.
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._+()-]{0,63}\Z")
_GUID_RE = re.compile(r"\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}\Z")
# A pinned version: dotted numbers with an optional pre-release or build suffix (1.2.3, 24.09,
# 2.47.1.2, 1.0.0-beta1); never latest, a range or a wildcard.
_VERSION_RE = re.compile(r"[0-9]+(?:\.[0-9A-Za-z]+){0,4}(?:[-+][0-9A-Za-z.]+)?\Z")
_FILE_VERSION_RE = re.compile(r"[0-9]{1,5}(?:\.[0-9]{1,5}){0,3}\Z")
_PACKAGE_ID_RE = {
    # winget: Publisher.Package (dotted segments); Chocolatey: a NuGet id.
    "winget": re.compile(r"[A-Za-z0-9][A-Za-z0-9-_+]*(?:\.[A-Za-z0-9][A-Za-z0-9-_+]*)+\Z"),
    "choco": re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z"),
}
_HKLM_PREFIXES = ("HKLM\\", "HKEY_LOCAL_MACHINE\\", "HKLM:\\")
_WINDOWS_ABS_PATH = re.compile(r"[A-Za-z]:\\[^<>\"|?*\x00-\x1f]+\Z")
_MSIX_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{2,49}\Z")


def check_applications(c: Checker, root: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Validate ``applications`` (a list); return the normalised entries (docs/contracts.md)."""
    data = root.get("applications")
    if data is None:
        return []
    if not isinstance(data, list):
        c.error("applications", f"must be a list of applications, got {type_name(data)}")
        return []
    if len(data) > MAX_APPLICATIONS:
        c.error("applications", f"must list at most {MAX_APPLICATIONS} applications, got {len(data)}")
    out: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(data):
        field = f"applications[{index}]"
        entry = check_application(c, item, field)
        if entry is None:
            continue
        key = (entry["name"] or "").lower()
        if key and key in seen:
            c.error(
                join(field, "name"),
                f"{show(entry['name'])} is already the name of {seen[key]} (names are unique)",
            )
        seen.setdefault(key, field)
        out.append(entry)
    return out


def check_application(c: Checker, item: Any, field: str) -> dict[str, Any] | None:
    """One application at ``field``; None when it is not even a mapping."""
    if not isinstance(item, Mapping):
        c.error(field, f"must be a mapping (name, kind, ...), got {type_name(item)}")
        return None
    c.unknown_keys(item, "applications[]", field)
    name = c.string(item, "name", field, required=True)
    if isinstance(name, str) and name.strip() and not _NAME_RE.match(name):
        c.error(
            join(field, "name"),
            "must be 1-64 letters, digits, spaces and . _ + ( ) -, starting with a letter or digit, "
            f"got {show(name)}",
        )
    kind = c.choice(item, "kind", field, KINDS, required=True)
    version = _check_version(c, item, field)
    entry: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "version": version,
        "download": None,
        "package": None,
        "arguments": DEFAULT_ARGUMENTS.get(kind or "", ""),
        "exit_codes": list(DEFAULT_EXIT_CODES),
        "reboot_exit_codes": list(REBOOT_EXIT_CODES),
        "detection": {"product_code": None, "registry": None, "file": None, "package_name": None},
        "timeout_minutes": c.integer(
            item, "timeout_minutes", field, *TIMEOUT_MINUTES, default=TIMEOUT_DEFAULT
        ),
        "source": field,
    }
    if kind is None:
        return entry
    if kind in DOWNLOAD_KINDS:
        _check_download_kind(c, item, field, kind, entry)
    else:
        _check_package_kind(c, item, field, kind, entry)
    _check_arguments(c, item, field, kind, entry)
    _check_exit_codes(c, item, field, kind, entry)
    return entry


def _check_version(c: Checker, item: Mapping[str, Any], field: str) -> str | None:
    raw = item.get("version")
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        c.error(
            join(field, "version"), f"must be a quoted string (YAML reads {raw!r} as a number), e.g. '{raw}'"
        )
        return None
    version = c.string(item, "version", field, required=True)
    if version is None or not version.strip():
        return None
    if version.lower() in ("latest", "*", "current", "stable"):
        c.error(
            join(field, "version"), f"must be a pinned version, never {show(version)}: a build is repeatable"
        )
        return None
    if not _VERSION_RE.match(version):
        c.error(
            join(field, "version"),
            f"must be a pinned version like 1.2.3 (no ranges or wildcards), got {show(version)}",
        )
        return None
    return version


def _check_download_kind(
    c: Checker, item: Mapping[str, Any], field: str, kind: str, entry: dict[str, Any]
) -> None:
    if item.get("package") is not None:
        c.error(join(field, "package"), f"is for winget and choco packages; a {kind} comes from download")
    entry["download"] = download = check_download(c, item.get("download"), join(field, "download"))
    _check_extension(c, download, join(field, "download"), kind)
    entry["detection"] = _check_detection(c, item, field, kind)


def _check_extension(c: Checker, download: Mapping[str, Any], field: str, kind: str) -> None:
    if download.get("url"):
        name, where = urllib.parse.unquote(urllib.parse.urlsplit(download["url"]).path), "url"
    elif download.get("blob"):
        name, where = download["blob"]["name"], "blob.name"
    else:
        return
    if not name.lower().endswith(EXTENSIONS[kind]):
        c.error(
            join(field, where),
            f"must name a {' or '.join(EXTENSIONS[kind])} file for kind {kind}, "
            f"got {show(name.rsplit('/', 1)[-1])}",
        )


def _check_package_kind(
    c: Checker, item: Mapping[str, Any], field: str, kind: str, entry: dict[str, Any]
) -> None:
    if item.get("download") is not None:
        c.error(join(field, "download"), f"is for msi, exe and msix; a {kind} package comes from its source")
    if item.get("detection") is not None:
        c.error(
            join(field, "detection"), f"is not used for {kind}: the package manager knows what is installed"
        )
    path = join(field, "package")
    data = c.mapping(item, "package", path, required=True)
    if data is None:
        return
    c.unknown_keys(data, "applications[].package", path)
    pid = c.string(data, "id", path, required=True)
    if isinstance(pid, str) and pid.strip() and not _PACKAGE_ID_RE[kind].match(pid):
        shape = "Publisher.Name (e.g. Git.Git)" if kind == "winget" else "a package id (e.g. 7zip.install)"
        c.error(join(path, "id"), f"must be {shape}, got {show(pid)}")
    source = c.string(data, "source", path, default=None)
    if source is not None and kind == "choco":
        parts = urllib.parse.urlsplit(source)
        if parts.scheme != "https" or not parts.hostname or parts.username or parts.query:
            c.error(
                join(path, "source"), f"must be an https:// feed URL without credentials, got {show(source)}"
            )
    if source is not None and kind == "winget" and not re.match(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z", source):
        c.error(
            join(path, "source"),
            f"must be the name of a configured winget source (e.g. winget), got {show(source)}",
        )
    entry["package"] = {"id": pid, "source": source}


def _check_detection(c: Checker, item: Mapping[str, Any], field: str, kind: str) -> dict[str, Any]:
    path = join(field, "detection")
    out: dict[str, Any] = {"product_code": None, "registry": None, "file": None, "package_name": None}
    data = c.mapping(item, "detection", path, required=True)
    if data is None:
        return out
    c.unknown_keys(data, "applications[].detection", path)
    allowed = {
        "msi": ("product_code",),
        "exe": ("product_code", "registry", "file"),
        "msix": ("package_name",),
    }
    given = [k for k in out if data.get(k) is not None]
    if len(given) != 1 or given[0] not in allowed[kind]:
        c.error(
            path,
            f"a {kind} is detected by exactly one of {', '.join(allowed[kind])}, "
            f"got {', '.join(given) or 'none'}",
        )
        return out
    how = given[0]
    if how == "product_code":
        code = c.string(data, "product_code", path, required=True)
        if isinstance(code, str) and _GUID_RE.match(code):
            out["product_code"] = code.upper()
        elif isinstance(code, str):
            c.error(
                join(path, "product_code"),
                f"must be a GUID in braces like {{01234567-89AB-...}}, got {show(code)}",
            )
    elif how == "registry":
        out["registry"] = _check_registry(c, data, join(path, "registry"))
    elif how == "file":
        out["file"] = _check_file(c, data, join(path, "file"))
    else:
        name = c.string(data, "package_name", path, required=True)
        if isinstance(name, str) and _MSIX_NAME_RE.match(name):
            out["package_name"] = name
        elif isinstance(name, str):
            c.error(
                join(path, "package_name"),
                f"must be the MSIX identity name (3-50 letters, digits, . and -), got {show(name)}",
            )
    return out


def _check_registry(c: Checker, data: Mapping[str, Any], path: str) -> dict[str, Any] | None:
    reg = c.mapping(data, "registry", path, required=True)
    if reg is None:
        return None
    c.unknown_keys(reg, "applications[].detection.registry", path)
    key = c.string(reg, "key", path, required=True)
    name = c.string(reg, "name", path, required=True)
    value = reg.get("value")
    if value is not None and (isinstance(value, bool) or not isinstance(value, str | int)):
        c.error(join(path, "value"), f"must be a string or an integer, got {type_name(value)}")
        value = None
    if not isinstance(key, str) or not isinstance(name, str):
        return None
    prefix = next((p for p in _HKLM_PREFIXES if key.upper().startswith(p)), None)
    if prefix is None:
        c.error(join(path, "key"), f"must be a key under HKLM\\ (the machine's registry), got {show(key)}")
        return None
    sub = key[len(prefix) :].strip("\\")
    if not sub:
        c.error(join(path, "key"), "must name a key below HKLM\\")
        return None
    return {"key": f"HKLM\\{sub}", "name": name, "value": None if value is None else str(value)}


def _check_file(c: Checker, data: Mapping[str, Any], path: str) -> dict[str, Any] | None:
    spec = c.mapping(data, "file", path, required=True)
    if spec is None:
        return None
    c.unknown_keys(spec, "applications[].detection.file", path)
    file_path = c.string(spec, "path", path, required=True)
    version = spec.get("version")
    if version is not None and not (isinstance(version, str) and _FILE_VERSION_RE.match(version)):
        c.error(join(path, "version"), f"must be a quoted file version like '8.7.1.0', got {show(version)}")
        version = None
    if not isinstance(file_path, str) or not file_path.strip():
        return None
    if not _WINDOWS_ABS_PATH.match(file_path) or "%" in file_path:
        c.error(
            join(path, "path"),
            f"must be an absolute path like C:\\Program Files\\App\\app.exe, got {show(file_path)}",
        )
        return None
    return {"path": file_path, "version": version}


def _check_arguments(
    c: Checker, item: Mapping[str, Any], field: str, kind: str, entry: dict[str, Any]
) -> None:
    if item.get("arguments") is None:
        return
    if kind not in DEFAULT_ARGUMENTS:
        c.error(join(field, "arguments"), f"are not used for {kind} (its installer takes no command line)")
        return
    args = c.string(item, "arguments", field, default=None)
    if args is not None:
        entry["arguments"] = args.strip()


def _check_exit_codes(
    c: Checker, item: Mapping[str, Any], field: str, kind: str, entry: dict[str, Any]
) -> None:
    raw = item.get("exit_codes")
    if raw is None:
        return
    path = join(field, "exit_codes")
    if kind not in ("msi", "exe"):
        c.error(path, f"are not used for {kind}: its success codes are the package manager's")
        return
    if not isinstance(raw, list) or not raw:
        c.error(path, f"must be a non-empty list of integers, got {show(raw)}")
        return
    codes: list[int] = []
    for i, code in enumerate(raw):
        if isinstance(code, bool) or not isinstance(code, int) or not -(2**31) <= code < 2**31:
            c.error(f"{path}[{i}]", f"must be an integer exit code, got {show(code)}")
        elif code in codes:
            c.error(f"{path}[{i}]", f"{code} is listed twice")
        else:
            codes.append(code)
    entry["exit_codes"] = codes
    entry["reboot_exit_codes"] = [code for code in codes if code in REBOOT_EXIT_CODES]
