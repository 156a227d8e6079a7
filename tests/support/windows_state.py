"""Simulated guests seeded from marketplace images, with a controllable clock (the fixtures that use
them are in tests/sandbox/windows/state/conftest.py)."""

from __future__ import annotations

from sandbox.guest_api import SourceImage, VmSpec

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
