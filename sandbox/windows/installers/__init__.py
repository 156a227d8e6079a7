"""What an installer does inside a simulated guest (docs/contracts.md, "Applications").

The modules that run installers (ansible.windows.win_package, avd.golden.win_appx_provision) hand
the file to ``run``. The file's format decides, from its own bytes, never from its name:

- **MSI** (an OLE compound file): ProductCode, ProductVersion, ProductName and Manufacturer are
  read from the database's Property table, the files from its Directory, Component and File
  tables (``msi.py``, with msitools' ``msiinfo``); installing writes the Uninstall entry Windows
  Installer writes and the files. Any MSI installs: that is what Windows Installer does.
- **EXE** (a PE file): what it does is a behaviour registered with ``register_exe``, keyed by the
  version resource the real file carries (ProductName, CompanyName, ...; ``pe.py`` reads it). An
  EXE that no behaviour matches fails loudly naming the file and what it carries.
- **MSIX / APPX** and bundles (a ZIP with AppxManifest.xml or AppxMetadata/AppxBundleManifest.xml):
  provisioning adds the identity the manifest declares; ``register_msix`` adds the effects of a
  product on top (keyed by the identity name).

Other parts of the sandbox add product behaviours (FSLogix, Teams, ...) by calling
``register_exe`` / ``register_msix`` (``sandbox.windows.installers.model``) from a module of this
package listed in ``model.BEHAVIOUR_MODULES``.

Faults (``installer_exit``, ``sandbox/windows/state.py``): the next install of a matching installer
exits with the given code; 3010 and 1641 install and leave a reboot pending, others install
nothing and write Windows Installer's failure lines to the log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.guest_api import NotModelled
from sandbox.windows.installers import msi as msi_db
from sandbox.windows.installers import msix, pe
from sandbox.windows.installers.model import (
    OLE_MAGIC,
    REBOOT_CODES,
    ZIP_MAGIC,
    InstallerFile,
    InstallResult,
    exe_behaviour,
    register_exe,
    register_msix,
    take_exit_fault,
)

if TYPE_CHECKING:
    from sandbox.windows.state import WindowsState

__all__ = ["InstallResult", "InstallerFile", "identify", "register_exe", "register_msix", "run"]


def identify(path: str, data: bytes) -> InstallerFile:
    """Read what the file carries; NotModelled naming the file when it is no installer format."""
    if data.startswith(OLE_MAGIC):
        return InstallerFile(path, data, "msi", msi_db.properties(data))
    if data.startswith(b"MZ"):
        return InstallerFile(path, data, "exe", pe.version_strings(data))
    if data.startswith(ZIP_MAGIC):
        return InstallerFile(path, data, "msix", msix.identity(data))
    raise NotModelled(f"installer {path}: not an MSI, EXE or MSIX file (starts with {data[:8].hex()})")


def run(state: WindowsState, path: str, arguments: str) -> tuple[InstallerFile, InstallResult]:
    """Run the installer at ``path`` on the guest (MSI as ``msiexec /i``, EXE with its
    ``arguments``); an armed ``installer_exit`` fault decides the exit code first."""
    file = identify(path, state.fs.read(path))
    fault = take_exit_fault(state, file)
    if file.kind == "msi":
        return file, msi_db.install(state, file, arguments, fault)
    if file.kind != "exe":
        raise NotModelled(
            f"installer {path}: a {file.kind} package is provisioned, not run (win_appx_provision)"
        )
    behaviour = exe_behaviour(file)
    if fault is not None and fault not in (0, *REBOOT_CODES):
        return file, InstallResult(fault, stderr=f"{file.name} exited with {fault}")
    result = behaviour(state, file, arguments)
    if fault in REBOOT_CODES and result.rc == 0:
        result.rc, result.reboot_required = fault, True
    return file, result
