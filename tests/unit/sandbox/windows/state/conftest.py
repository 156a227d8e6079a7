"""Fixtures: simulated guests seeded from marketplace images, with a controllable clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sandbox.guest_api import SourceImage, VmSpec
from sandbox.windows.state import WindowsState, create_guest

MULTI = SourceImage("MicrosoftWindowsDesktop", "windows-11", "win11-24h2-avd", "26100.4061.250510")
SINGLE = SourceImage("MicrosoftWindowsDesktop", "windows-11", "win11-24h2-ent", "26100.4061.250510")
M365 = SourceImage("MicrosoftWindowsDesktop", "office-365", "win11-24h2-avd-m365", "26100.4061.250510")
PASSWORD = "Sandbox-Pa55word!"  # a test-only password


class Clock:
    def __init__(self) -> None:
        self.now = 1_795_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeArm:
    """ArmCallbacks double: records guest-initiated shutdowns."""

    def __init__(self) -> None:
        self.shutdowns: list[str] = []

    def guest_shutdown(self, vm_id: str) -> None:
        self.shutdowns.append(vm_id)

    def winrm_allowed(self, vm_id: str, source_address: str, port: int) -> bool:
        return True


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(WindowsState, "clock", staticmethod(c))
    return c


@pytest.fixture
def arm() -> FakeArm:
    return FakeArm()


def spec(image: SourceImage = MULTI, name: str = "vm-build-1") -> VmSpec:
    return VmSpec(
        vm_id=f"/subscriptions/0000/resourceGroups/rg-test/providers/Microsoft.Compute/virtualMachines/{name}",
        computer_name="avdbuild01",
        admin_username="avdadmin",
        admin_password=PASSWORD,
        image=image,
        security_type="TrustedLaunch",
        secure_boot=True,
        vtpm=True,
    )


@pytest.fixture
def make_guest(clock: Clock, arm: FakeArm) -> Callable[..., WindowsState]:
    def make(image: SourceImage = MULTI) -> WindowsState:
        return create_guest(spec(image), arm)

    return make


@pytest.fixture
def guest(make_guest: Callable[..., WindowsState]) -> WindowsState:
    return make_guest()


@pytest.fixture
def run(guest: WindowsState) -> Callable[..., dict[str, Any]]:
    """run("win_regedit", {...}, check=False, diff=False) -> the module's result."""

    def _run(module: str, args: dict[str, Any], *, check: bool = False, diff: bool = False, **internal: Any):
        fqcn = module if "." in module else f"ansible.windows.{module}"
        internal = {f"_ansible_{k}": v for k, v in internal.items()}
        internal.setdefault("_ansible_check_mode", check)
        internal.setdefault("_ansible_diff", diff)
        return guest.run_module(
            fqcn, args, check_mode=check, diff=diff, module_path=f"{fqcn}.ps1", internal=internal
        )

    return _run
