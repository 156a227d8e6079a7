"""Windows Installer packages, read from the MSI's own database with msitools' ``msiinfo``.

``properties`` is the Property table (ProductCode, ProductVersion, ProductName, Manufacturer,
ALLUSERS, ARP* ...). ``install`` is what ``msiexec /i`` leaves on a machine for a per-machine
package: the files of the File table in the folders the Directory table resolves to (the content
extracted with ``msiextract``), the HKLM values of the Registry table and the Uninstall entry
Windows Installer writes (always in the 64-bit view), plus a verbose log in Windows Installer's
words. Not modelled (fails loudly): per-user installs (ALLUSERS empty), registry roots other than
HKLM, standard folders not listed in ``STANDARD_FOLDERS``. Custom actions and services are not run
(their tables are ignored: the sandbox cannot execute them; a real Windows runs them).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.guest_api import NotModelled
from sandbox.windows.installers.model import InstallerFile, InstallResult

if TYPE_CHECKING:
    from sandbox.windows.state import WindowsState

UNINSTALL_KEY = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"
PFRO_KEY = r"HKLM\SYSTEM\CurrentControlSet\Control\Session Manager"
STANDARD_FOLDERS = {
    "ProgramFiles64Folder": "C:\\Program Files",
    "ProgramFilesFolder": "C:\\Program Files (x86)",
    "CommonFiles64Folder": "C:\\Program Files\\Common Files",
    "CommonFilesFolder": "C:\\Program Files (x86)\\Common Files",
    "CommonAppDataFolder": "C:\\ProgramData",
    "WindowsFolder": "C:\\Windows",
    "System64Folder": "C:\\Windows\\System32",
    "SystemFolder": "C:\\Windows\\SysWOW64",
    "ProgramMenuFolder": "C:\\ProgramData\\Microsoft\\Windows\\Start Menu\\Programs",
    "DesktopFolder": "C:\\Users\\Public\\Desktop",
}
_PROPERTY_ARG = re.compile(r'([A-Z_][A-Z0-9_.]*)=("[^"]*"|\S+)')


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise NotModelled(f"msitools' {name} is not installed (make setup installs it): cannot read the MSI")
    return path


def _table(path: Path, table: str) -> list[dict[str, str]]:
    """Rows of one table as ``msiinfo export`` prints them (names, types, table line, rows)."""
    out = subprocess.run(
        [_tool("msiinfo"), "export", str(path), table],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    if out.returncode != 0:
        raise NotModelled(f"msiinfo could not read table {table} of {path.name}: {out.stderr.strip()}")
    lines = out.stdout.replace("\r\n", "\n").split("\n")
    names = lines[0].split("\t")
    return [dict(zip(names, line.split("\t"), strict=False)) for line in lines[3:] if line]


def _tables(path: Path) -> set[str]:
    out = subprocess.run([_tool("msiinfo"), "tables", str(path)], capture_output=True, text=True, check=False)
    return set(out.stdout.split())


def _with_file(data: bytes, fn: Any) -> Any:
    with tempfile.TemporaryDirectory(prefix="sandbox-msi-") as tmp:
        path = Path(tmp) / "package.msi"
        path.write_bytes(data)
        return fn(path)


def properties(data: bytes) -> dict[str, str]:
    """The Property table (NotModelled when the file is no readable MSI database)."""
    return _with_file(
        data, lambda p: {row["Property"]: row.get("Value", "") for row in _table(p, "Property")}
    )


def _long(name: str) -> str:
    """The target long name of a DefaultDir / FileName value (``target:source``, ``short|long``)."""
    return name.split(":", 1)[0].split("|")[-1]


def _directories(path: Path, public: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Directory id -> (absolute path on the guest, the path msiextract uses below its root)."""
    rows = {r["Directory"]: r for r in _table(path, "Directory")}
    out: dict[str, tuple[str, str]] = {}

    def resolve(ident: str) -> tuple[str, str]:
        if ident not in out:
            row = rows[ident]
            parent = row.get("Directory_Parent") or ""
            name = _long(row.get("DefaultDir", "."))
            if not parent or parent == ident:  # the root, TARGETDIR
                out[ident] = (public.get(ident, "C:").rstrip("\\"), "")
                return out[ident]
            base, rel = resolve(parent)
            rel = rel if name == "." else f"{rel}/{name}".lstrip("/")
            if ident in public:
                out[ident] = (public[ident].rstrip("\\"), rel)
            elif ident in STANDARD_FOLDERS:
                out[ident] = (STANDARD_FOLDERS[ident], rel)
            elif ident.endswith("Folder") and not rows[parent].get("Directory_Parent"):
                raise NotModelled(f"MSI {path.name}: standard folder {ident} is not modelled by the sandbox")
            else:
                out[ident] = (base if name == "." else f"{base}\\{name}", rel)
        return out[ident]

    for ident in rows:
        resolve(ident)
    return out


def _arguments(arguments: str) -> dict[str, str]:
    return {k: v.strip('"') for k, v in _PROPERTY_ARG.findall(arguments or "")}


def _version_dword(version: str) -> int:
    parts = [int(p) if p.isdigit() else 0 for p in ([*version.split("."), "0", "0", "0"])[:3]]
    return (parts[0] & 0xFF) << 24 | (parts[1] & 0xFF) << 16 | (parts[2] & 0xFFFF)


def _log(props: dict[str, str], status: int, lines: list[str]) -> str:
    stamp = time.strftime("%d/%m/%Y  %H:%M:%S", time.gmtime())
    name, version = props.get("ProductName", ""), props.get("ProductVersion", "")
    done = (
        "Installation completed successfully."
        if status in (0, 3010, 1641)
        else "Installation operation failed."
    )
    return "\r\n".join(
        [
            f"=== Verbose logging started: {stamp}  Build type: SHIP UNICODE 5.00.10011.00  "
            "Calling process: C:\\Windows\\system32\\msiexec.exe ===",
            *lines,
            f"MSI (s) (A4:B8) [00:00:01:000]: Product: {name} -- {done}",
            f"MSI (s) (A4:B8) [00:00:01:000]: Windows Installer installed the product. Product Name: {name}. "
            f"Product Version: {version}. Product Language: {props.get('ProductLanguage', '1033')}. "
            f"Manufacturer: {props.get('Manufacturer', '')}. Installation success or error status: {status}.",
            f"=== Verbose logging stopped: {stamp} ===",
            "",
        ]
    )


def install(state: WindowsState, file: InstallerFile, arguments: str, exit_code: int | None) -> InstallResult:
    """``msiexec /i <file> /qn /norestart <arguments>``; ``exit_code`` is an armed fault's code."""
    props = dict(file.properties)
    public = _arguments(arguments)
    props.update(public)
    code = props.get("ProductCode", "")
    if not code:
        raise NotModelled(f"MSI {file.path} has no ProductCode in its Property table")
    if props.get("ALLUSERS", "") not in ("1", "2"):
        raise NotModelled(
            f"MSI {file.path}: a per-user install (ALLUSERS empty) is not modelled by the sandbox"
        )
    existing = state.registry.get_value(f"{UNINSTALL_KEY}\\{code}", "DisplayVersion")
    if existing is not None and existing.data != props.get("ProductVersion"):
        lines = [f"MSI (s) (A4:B8): Another version of this product is already installed ({existing.data})."]
        return InstallResult(1638, log=_log(props, 1638, lines))
    if exit_code is not None and exit_code not in (0, 3010, 1641):
        lines = [
            "MSI (s) (A4:B8): Note: 1: 1708",
            "Action ended 00:00:01: InstallFinalize. Return value 3.",
            "Action ended 00:00:01: INSTALL. Return value 3.",
        ]
        return InstallResult(exit_code, log=_log(props, exit_code, lines))
    changes = _with_file(file.data, lambda p: _apply(state, p, props, public))
    status = exit_code or 0
    if status in (3010, 1641):
        # A file in use is replaced at the next boot: what makes Windows Installer ask for a restart.
        state.registry.set_value(
            PFRO_KEY,
            "PendingFileRenameOperations",
            "REG_MULTI_SZ",
            [
                f"\\??\\C:\\Config.Msi\\{code}.rbf",
                "",
            ],
        )
    lines = [f"MSI (s) (A4:B8): Executing op: FileCopy(Name={c})" for c in changes]
    return InstallResult(
        status, log=_log(props, status, lines), reboot_required=status in (3010, 1641), changes=changes
    )


def _apply(state: WindowsState, path: Path, props: dict[str, str], public: dict[str, str]) -> list[str]:
    dirs = _directories(path, public)
    components = {r["Component"]: r for r in _table(path, "Component")}
    with tempfile.TemporaryDirectory(prefix="sandbox-msiextract-") as tmp:
        subprocess.run(
            [_tool("msiextract"), "-C", tmp, str(path)], capture_output=True, check=False, timeout=60
        )
        written = []
        for row in _table(path, "File"):
            target, rel = dirs[components[row["Component_"]]["Directory_"]]
            name = _long(row["FileName"])
            extracted = Path(tmp, rel, name)
            data = extracted.read_bytes() if extracted.is_file() else b"\0" * int(row.get("FileSize") or 0)
            state.fs.mkdir(target)
            state.fs.write(f"{target}\\{name}", data)
            written.append(f"{target}\\{name}")
    if "Registry" in _tables(path):
        for row in _table(path, "Registry"):
            _registry_row(state, path.name, row, props, dirs)
    location = props.get("ARPINSTALLLOCATION") or ""
    key = f"{UNINSTALL_KEY}\\{props['ProductCode']}"
    version = props.get("ProductVersion", "")
    values = {
        "DisplayName": ("REG_SZ", props.get("ProductName", "")),
        "DisplayVersion": ("REG_SZ", version),
        "Publisher": ("REG_SZ", props.get("Manufacturer", "")),
        "InstallDate": ("REG_SZ", time.strftime("%Y%m%d", time.gmtime())),
        "InstallLocation": ("REG_SZ", location),
        "InstallSource": ("REG_SZ", "C:\\ProgramData\\avd-golden\\"),
        "UninstallString": ("REG_EXPAND_SZ", f"MsiExec.exe /X{props['ProductCode']}"),
        "ModifyPath": ("REG_EXPAND_SZ", f"MsiExec.exe /I{props['ProductCode']}"),
        "WindowsInstaller": ("REG_DWORD", 1),
        "Version": ("REG_DWORD", _version_dword(version)),
        "VersionMajor": ("REG_DWORD", _version_dword(version) >> 24),
        "VersionMinor": ("REG_DWORD", (_version_dword(version) >> 16) & 0xFF),
        "Language": ("REG_DWORD", int(props.get("ProductLanguage") or 0)),
    }
    if props.get("ARPSYSTEMCOMPONENT") == "1":
        values["SystemComponent"] = ("REG_DWORD", 1)
    for name, (kind, data) in values.items():
        state.registry.set_value(key, name, kind, data)
    return written


def _registry_row(
    state: WindowsState,
    msi: str,
    row: dict[str, str],
    props: dict[str, str],
    dirs: dict[str, tuple[str, str]],
) -> None:
    root = row.get("Root", "")
    if root not in ("2", "-1"):
        raise NotModelled(
            f"MSI {msi}: Registry row {row.get('Registry')} has root {root}; only HKLM is modelled"
        )

    def expand(text: str) -> str:
        def one(m: re.Match[str]) -> str:
            ref = m.group(1)
            return dirs[ref][0] + "\\" if ref in dirs else props.get(ref, "")

        return re.sub(r"\[([A-Za-z_][A-Za-z0-9_.]*)\]", one, text)

    key, name, value = f"HKLM\\{expand(row['Key'])}", expand(row.get("Name", "")), row.get("Value", "")
    if value.startswith("#x"):
        state.registry.set_value(key, name, "REG_BINARY", list(bytes.fromhex(value[2:])))
    elif value.startswith("#") and not value.startswith("##"):
        state.registry.set_value(key, name, "REG_DWORD", int(value[1:]))
    else:
        state.registry.set_value(key, name, "REG_SZ", expand(value.removeprefix("#")))
