"""The sandbox's sample EXE installer: a product the sandbox's own tests build as a real PE file.

Keyed by its version resource (CompanyName ``avd.golden sandbox``, ProductName ``Sample EXE
installer``). Run with ``/quiet`` it does what a typical per-machine setup.exe does: copies its
program to ``C:\\Program Files\\<ProductName>\\``, writes an Uninstall entry named after the
ProductName with the version resource's ProductVersion, and exits 0. Without ``/quiet`` it would
show a window: exit code 1602 (ERROR_INSTALL_USEREXIT), as a silent build would see it time out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.windows.installers.model import InstallerFile, InstallResult, register_exe

if TYPE_CHECKING:
    from sandbox.windows.state import WindowsState

UNINSTALL_KEY = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"


@register_exe({"CompanyName": "avd.golden sandbox", "ProductName": "Sample EXE installer"})
def sample_setup(state: WindowsState, file: InstallerFile, arguments: str) -> InstallResult:
    if "/quiet" not in arguments.lower().split():
        return InstallResult(1602, stderr="The installer needs /quiet to run without a window.")
    props = file.properties
    folder = f"C:\\Program Files\\{props['ProductName']}"
    state.fs.mkdir(folder)
    state.fs.write(f"{folder}\\{props.get('OriginalFilename', 'setup.exe')}", file.data)
    key = f"{UNINSTALL_KEY}\\{props['ProductName']}"
    for name, value in (
        ("DisplayName", props["ProductName"]),
        ("DisplayVersion", props.get("ProductVersion", "")),
        ("Publisher", props["CompanyName"]),
        ("InstallLocation", folder),
        ("UninstallString", f'"{folder}\\{props.get("OriginalFilename", "setup.exe")}" /uninstall'),
    ):
        state.registry.set_value(key, name, "REG_SZ", value)
    return InstallResult(0, stdout="Installed.", changes=[folder])
