"""The contract between the ARM emulator (sandbox.arm) and the simulated Windows guests
(sandbox.windows).

The ARM side owns Azure resources and power state; the Windows side owns everything inside the
guest (registry, files, services, sysprep state, the WinRM listener). They run in one process and
share one lock (``World.lock``), so calls in either direction are plain method calls.

ARM -> guests: the emulator calls a ``GuestHost`` (implemented by sandbox.windows).
Guests -> ARM: a guest calls back through ``ArmCallbacks`` (implemented by sandbox.arm).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class NotModelled(Exception):
    """Raised when something the product sends is not simulated. The caller turns it into a loud
    failure (HTTP 501 / a failed module result) that names what is missing; it is never ignored."""


@dataclass(frozen=True)
class SourceImage:
    """The marketplace image a VM was created from, with the version ARM resolved."""

    publisher: str
    offer: str
    sku: str
    exact_version: str


@dataclass(frozen=True)
class VmSpec:
    """What the guest needs to know about a VM when ARM creates it."""

    vm_id: str  # full ARM id, lower-case is the key everywhere
    computer_name: str
    admin_username: str
    admin_password: str  # never logged, never persisted in clear (store an NT hash)
    image: SourceImage
    security_type: str | None  # "TrustedLaunch" or None
    secure_boot: bool
    vtpm: bool
    # Created from a gallery image version (lower-case id): the guest starts from the state captured
    # into it (after specialize) instead of the marketplace image's seed.
    image_version_id: str | None = None


@dataclass
class RunCommandResult:
    stdout: str = ""
    stderr: str = ""
    exit_code: int = 0
    extra: dict = field(default_factory=dict)


class GuestHost(Protocol):
    """Implemented by sandbox.windows; called by the ARM emulator with World.lock held."""

    unmodelled: list[dict[str, str]]
    """What the guests were asked and do not simulate (the control endpoint lists it; tests
    assert it is empty)."""

    def vm_created(self, spec: VmSpec) -> None:
        """A VM finished provisioning: seed its Windows state from spec.image."""

    def image_captured(self, version_id: str, vm_id: str) -> None:
        """A gallery image version was created from the (generalized) VM: keep a copy of its
        Windows state under the version's id for the VMs created from it. NotModelled when the VM
        has no guest."""

    def image_deleted(self, version_id: str) -> None:
        """The gallery image version was deleted: forget its captured state."""

    def vm_address(self, vm_id: str, address: str | None) -> None:
        """The public IP (a loopback address such as 127.0.0.2) reachable for this VM changed;
        None when it has none. A started WinRM listener binds <address>:5986."""

    def vm_power(self, vm_id: str, state: str) -> None:
        """ARM changed the power state: "running", "stopped" or "deallocated". Stopping drops the
        guest's WinRM listener; starting boots the guest (new boot time)."""

    def vm_deleted(self, vm_id: str) -> None:
        """The VM was deleted: stop its listener and forget its state."""

    def image_state(self, vm_id: str) -> str:
        """HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Setup\\State ImageState, e.g.
        IMAGE_STATE_COMPLETE or IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE. ARM generalize requires the
        latter."""

    def set_image_state(self, vm_id: str, value: str) -> None:
        """The control endpoint's shortcut (POST /_sandbox/guests/<vm>/image-state): set ImageState
        as if sysprep had run. Test use only."""

    def run_command(self, vm_id: str, script: str, parameters: list[dict]) -> RunCommandResult:
        """Execute a RunPowerShellScript run command. The script is recognised by its exact content
        (sha-256); an unknown script raises NotModelled."""

    def set_admin_password(self, vm_id: str, username: str, password: str) -> None:
        """The VMAccessAgent extension reset the local administrator's password (and enabled the
        account), as ``az vm user update`` does; an unknown user raises NotModelled."""

    def inject_fault(self, spec: dict) -> None:
        """A fault for the Windows side from the control endpoint, e.g.
        {"target": "winrm", "kind": "drop_connection", "vm": "<name>", "count": 1}.
        Raises ValueError for a kind it does not know."""

    def clear_faults(self) -> None:
        """DELETE /_sandbox/faults: disarm every Windows-side fault."""

    def dump(self) -> dict:
        """The guests' state for the control endpoint's dump (no secrets)."""

    def reset(self) -> None:
        """POST /_sandbox/reset: forget every guest and stop every listener."""

    def close(self) -> None:
        """The process is shutting down: stop listening; the state stays on disk."""


class ArmCallbacks(Protocol):
    """Implemented by sandbox.arm; called by guests with World.lock held."""

    def guest_shutdown(self, vm_id: str) -> None:
        """The guest shut itself down (e.g. sysprep /shutdown): PowerState becomes stopped."""

    def winrm_allowed(self, vm_id: str, source_address: str, port: int) -> bool:
        """Whether the NSGs on the VM's NIC and subnet allow inbound TCP <port> from source_address
        (Azure's rule evaluation by priority; DenyAllInBound at the end)."""
