"""A recording GuestHost for the ARM emulator's own unit tests.

It is never used by `serve`: the product path loads sandbox.windows.host.WindowsGuestHost, or runs
with no guest side at all (then guest-dependent requests answer 501). It simulates nothing about
Windows: it records the calls ARM makes, and answers ImageState and run commands exactly as a test
told it to.
"""

from __future__ import annotations

from typing import Any

from sandbox.guest_api import NotModelled, RunCommandResult, VmSpec


class NullGuestHost:
    """Records every GuestHost call; run_command answers only scripts a test registered."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.specs: dict[str, VmSpec] = {}
        self.addresses: dict[str, str | None] = {}
        self.power: dict[str, str] = {}
        self.image_states: dict[str, str] = {}
        self.scripts: dict[str, RunCommandResult] = {}
        self.faults: list[dict] = []
        self.unmodelled: list[dict[str, str]] = []

    def vm_created(self, spec: VmSpec) -> None:
        self.calls.append(("vm_created", spec.vm_id))
        self.specs[spec.vm_id] = spec
        self.image_states.setdefault(spec.vm_id, "IMAGE_STATE_COMPLETE")

    def image_captured(self, version_id: str, vm_id: str) -> None:
        self.calls.append(("image_captured", (version_id, vm_id)))

    def image_deleted(self, version_id: str) -> None:
        self.calls.append(("image_deleted", version_id))

    def vm_address(self, vm_id: str, address: str | None) -> None:
        self.calls.append(("vm_address", (vm_id, address)))
        self.addresses[vm_id] = address

    def vm_power(self, vm_id: str, state: str) -> None:
        self.calls.append(("vm_power", (vm_id, state)))
        self.power[vm_id] = state

    def vm_deleted(self, vm_id: str) -> None:
        self.calls.append(("vm_deleted", vm_id))
        self.specs.pop(vm_id, None)
        self.addresses.pop(vm_id, None)
        self.power.pop(vm_id, None)

    def image_state(self, vm_id: str) -> str:
        return self.image_states.get(vm_id, "IMAGE_STATE_COMPLETE")

    def set_image_state(self, vm_id: str, value: str) -> None:
        self.calls.append(("set_image_state", (vm_id, value)))
        self.image_states[vm_id] = value

    def run_command(self, vm_id: str, script: str, parameters: list[dict]) -> RunCommandResult:
        self.calls.append(("run_command", (vm_id, script)))
        if script not in self.scripts:
            raise NotModelled(f"test guest: script not registered: {script[:40]!r}")
        return self.scripts[script]

    def set_admin_password(self, vm_id: str, username: str, password: str) -> None:
        # The user only: a test checks that the password arrived without keeping it.
        self.calls.append(("set_admin_password", (vm_id, username, len(password))))

    def inject_fault(self, spec: dict) -> None:
        if spec.get("kind") not in ("drop_connection",):
            raise ValueError(f"unknown fault kind {spec.get('kind')!r}")
        self.faults.append(spec)

    def clear_faults(self) -> None:
        self.faults.clear()

    def dump(self) -> dict:
        return {spec.computer_name: {"power": self.power.get(vm)} for vm, spec in self.specs.items()}

    def reset(self) -> None:
        for vm_id in list(self.specs):
            self.vm_deleted(vm_id)
        self.image_states.clear()
        self.unmodelled.clear()

    def close(self) -> None:
        self.calls.append(("close", None))
