"""A VM from a gallery image version: the captured state after OOBE and specialize."""

from __future__ import annotations

import dataclasses

import pytest

from sandbox.guest_api import NotModelled
from sandbox.windows.state import (
    COMPUTER_NAME_KEY,
    IMAGE_STATE_GENERALIZED,
    WindowsState,
    nt_hash,
    specialize_guest,
)
from tests.support.windows_state import FakeArm, spec

POLICY = r"HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services"


def _captured(guest: WindowsState) -> dict:
    guest.registry.set_value(POLICY, "fEnableTimeZoneRedirection", "REG_DWORD", 1)
    guest.set_image_state(IMAGE_STATE_GENERALIZED)
    guest.listener_reset_at_boot = True
    return guest.to_dict()


def test_specialize_keeps_the_image_and_gives_the_vm_its_own_identity(
    guest: WindowsState, arm: FakeArm
) -> None:
    removed = guest.appx_provisioned.pop(0)["name"]
    image = _captured(guest)
    new = dataclasses.replace(
        spec(name="vm-validate-1"),
        computer_name="avdval01",
        admin_username="valadmin",
        admin_password="Other-Pa55word-1!",
    )
    vm = specialize_guest(image, new, arm)
    # What the build put into the image is there.
    assert vm.registry.get_value(POLICY, "fEnableTimeZoneRedirection").data == 1
    assert removed not in [p["name"] for p in vm.appx_user["valadmin"]]
    assert {p["name"] for p in vm.appx_provisioned} <= {p["name"] for p in vm.appx_user["valadmin"]}
    # Specialize: a new SID, the osProfile's computer name and administrator, OOBE done.
    assert vm.machine_sid != guest.machine_sid and vm.admin_sid == vm.machine_sid + "-500"
    assert vm.registry.open(f"HKU\\{vm.admin_sid}") is not None
    assert vm.registry.open(f"HKU\\{guest.admin_sid}") is None
    assert (vm.computer_name, vm.registry.get_value(COMPUTER_NAME_KEY, "ComputerName").data) == (
        "avdval01",
    ) * 2
    assert (vm.admin_username, vm.nt_hash) == ("valadmin", nt_hash("Other-Pa55word-1!"))
    assert vm.image_state() == "IMAGE_STATE_COMPLETE"
    assert vm.listener is None and vm.certificates == {}
    assert vm.vm_id.endswith("/vm-validate-1") and vm.name == "vm-validate-1"
    # The captured copy is untouched (another VM from it specializes again).
    assert image["computer_name"] == "avdbuild01"


def test_the_build_admin_retired_in_the_image_comes_back_with_the_new_vms_password(
    guest: WindowsState, arm: FakeArm
) -> None:
    build_hash = guest.nt_hash
    guest.nt_hash, guest.admin_enabled = bytes(range(16)), False  # what Stop-BuildVm.ps1 leaves
    image = _captured(guest)
    assert image["admin_enabled"] is False and image["nt_hash"] != build_hash.hex()
    new = dataclasses.replace(spec(name="vm-validate-2"), admin_password="Other-Pa55word-1!")
    vm = specialize_guest(image, new, arm)
    assert vm.admin_enabled is True
    assert vm.nt_hash == nt_hash("Other-Pa55word-1!")
    assert WindowsState.from_dict(vm.to_dict(), arm).admin_enabled is True


def test_an_image_that_was_not_generalized_is_not_simulated(guest: WindowsState, arm: FakeArm) -> None:
    with pytest.raises(NotModelled, match="not generalized"):
        specialize_guest(guest.to_dict(), spec(name="vm2"), arm)


def test_registry_value_lost_fault(guest: WindowsState) -> None:
    guest.registry.set_value(POLICY, "x", "REG_DWORD", 1)
    guest.inject_fault({"kind": "registry_value_lost", "path": POLICY, "name": "x"})
    assert guest.registry.get_value(POLICY, "x") is None
    with pytest.raises(ValueError, match="no value"):
        guest.inject_fault({"kind": "registry_value_lost", "path": POLICY, "name": "x"})
