"""The installer model's types and the registry of product behaviours (see the package docstring).

Product modules import ``register_exe`` / ``register_msix`` from here and are listed in
``BEHAVIOUR_MODULES``; ``sandbox.windows.installers`` imports them on first use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.guest_api import NotModelled

if TYPE_CHECKING:
    from sandbox.windows.state import WindowsState

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
REBOOT_CODES = (3010, 1641)
# Modules of this package that register product behaviours (imported on first use).
BEHAVIOUR_MODULES: tuple[str, ...] = ("sample",)


@dataclass(frozen=True)
class InstallerFile:
    """An installer as the guest has it: ``properties`` is what the file itself carries (MSI:
    its Property table; EXE: the version resource's strings; MSIX: the identity)."""

    path: str
    data: bytes
    kind: str  # msi | exe | msix
    properties: Mapping[str, str]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def name(self) -> str:
        return self.path.rsplit("\\", 1)[-1]


@dataclass
class InstallResult:
    """What the installer process leaves: its exit code, output, the text of its log (written to
    the log path the command line names, if any) and whether it asked for a reboot."""

    rc: int
    stdout: str = ""
    stderr: str = ""
    log: str = ""
    reboot_required: bool = False
    changes: list[str] = field(default_factory=list)


# A behaviour: (guest state, the file, the command-line arguments after the file) -> result.
Behaviour = Callable[["WindowsState", InstallerFile, str], InstallResult]


@dataclass(frozen=True)
class _ExeBehaviour:
    match: Mapping[str, str]
    behaviour: Behaviour


_EXE: list[_ExeBehaviour] = []
_MSIX: dict[str, Behaviour] = {}


def register_exe(match: Mapping[str, str]) -> Callable[[Behaviour], Behaviour]:
    """Decorator: ``behaviour`` runs for an EXE whose version resource has every key of ``match``
    with that value (case-insensitive), e.g. ``{"ProductName": "Microsoft FSLogix Apps"}``."""

    def deco(fn: Behaviour) -> Behaviour:
        _EXE.append(_ExeBehaviour(dict(match), fn))
        return fn

    return deco


def register_msix(identity_name: str) -> Callable[[Behaviour], Behaviour]:
    """Decorator: extra effects when the MSIX with this identity name is provisioned."""

    def deco(fn: Behaviour) -> Behaviour:
        _MSIX[identity_name.lower()] = fn
        return fn

    return deco


def _load() -> None:
    import importlib

    for name in BEHAVIOUR_MODULES:
        importlib.import_module(f"sandbox.windows.installers.{name}")


def exe_behaviour(file: InstallerFile) -> Behaviour:
    """The registered behaviour of an EXE; NotModelled naming it and what it carries otherwise."""
    _load()
    props = {k.lower(): str(v).lower() for k, v in file.properties.items()}
    for entry in _EXE:
        if all(props.get(k.lower()) == str(v).lower() for k, v in entry.match.items()):
            return entry.behaviour
    carried = ", ".join(f"{k}={v!r}" for k, v in sorted(file.properties.items())) or "no version resource"
    raise NotModelled(f"EXE installer {file.path} is not modelled by the sandbox (it carries {carried})")


def msix_behaviour(identity_name: str) -> Behaviour | None:
    _load()
    return _MSIX.get(identity_name.lower())


def take_exit_fault(state: WindowsState, file: InstallerFile) -> int | None:
    """Consume an armed ``installer_exit`` fault matching this file (by file name, ProductName or
    identity Name, case-insensitive); its exit code, else None."""
    names = {file.name.lower()} | {
        str(file.properties.get(k, "")).lower() for k in ("ProductName", "Name") if file.properties.get(k)
    }
    for fault in state.faults.installer_exit:
        if fault["count"] > 0 and str(fault["installer"]).lower() in names:
            fault["count"] -= 1
            return int(fault["rc"])
    return None


def describe(file: InstallerFile) -> dict[str, Any]:
    """What the sandbox's state dump shows of an installer."""
    return {"path": file.path, "kind": file.kind, "sha256": file.sha256, "properties": dict(file.properties)}
