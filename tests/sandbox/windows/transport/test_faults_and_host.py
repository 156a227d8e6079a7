"""Fault specs and WindowsGuestHost lifecycle with the real guest state (persistence, re-announce)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from sandbox.windows.faults import WinrmFaults
from sandbox.windows.host import WindowsGuestHost
from tests.support.build_vm import BuildVm


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "drop_connection", "count": 0}, "count: must be an integer >= 1"),
        ({"kind": "drop_connection", "count": "2"}, "count: must be an integer >= 1"),
        ({"kind": "slow_reboot", "seconds": -1}, "seconds: must be a number"),
        ({"kind": "slow_reboot", "seconds": 601}, "seconds: must be a number"),
        ({"kind": "teleport"}, "kind: unknown WinRM fault 'teleport'"),
        ({"kind": "guest_reboot", "seconds": 0}, "seconds: must be a number"),
        ({"kind": "drop_connection", "seconds": 3}, "fields not known for a drop_connection fault: seconds"),
        ({"kind": "guest_reboot", "when": "now"}, "fields not known for a guest_reboot fault: when"),
    ],
)
def test_bad_fault_specs_name_the_field(spec, message):
    with pytest.raises(ValueError, match=message):
        WinrmFaults().arm(spec)


def test_faults_are_counted_and_consumed_in_order():
    faults = WinrmFaults()
    faults.arm({"kind": "operation_timeout", "count": 2})
    faults.arm({"kind": "drop_connection"})
    faults.arm({"kind": "slow_reboot", "seconds": 3})
    assert faults.dump() == {"operation_timeout": 2, "drop_connection": 1, "slow_reboot": 1}
    assert faults.take("drop_connection", "operation_timeout") == "drop_connection"
    assert faults.take("drop_connection", "operation_timeout") == "operation_timeout"
    assert faults.take("slow_reboot") == "slow_reboot" and faults.slow_reboot_seconds == 3.0
    faults.clear()
    assert faults.take("operation_timeout") is None and faults.dump() == {}


def _listening(address: str) -> bool:
    try:
        socket.create_connection((address, 5986), timeout=1).close()
    except OSError:
        return False
    return True


def test_guest_state_survives_a_restart_and_listens_again_after_reannounce(tmp_path: Path):

    vm = BuildVm(tmp_path)
    assert _listening(vm.address)
    with vm.host.lock:
        vm.guest.registry.set_value(r"HKLM\SOFTWARE\AvdSelftest", "Persisted", "REG_SZ", "yes")
        boot = vm.guest.boot_time_filetime()
    vm.close()  # process exit: listener stops, state is written
    assert not _listening(vm.address)
    assert (tmp_path / "state" / "windows-guests.json").stat().st_mode & 0o777 == 0o600
    assert vm.password not in (tmp_path / "state" / "windows-guests.json").read_text()

    host = WindowsGuestHost(vm.world, vm.arm)
    try:
        with host.lock:
            assert not _listening(vm.address)  # nothing listens until ARM re-announces
            host.vm_address(vm.vm_id, vm.address)
            host.vm_power(vm.vm_id, "running")  # still running: not a new boot
            guest = host.vms[vm.vm_id].guest
            assert guest.boot_time_filetime() == boot
            assert guest.registry.get_value(r"HKLM\SOFTWARE\AvdSelftest", "Persisted").data == "yes"
        assert _listening(vm.address)
        with host.lock:
            host.vm_power(vm.vm_id, "deallocated")
        assert not _listening(vm.address)
        with host.lock:
            host.vm_power(vm.vm_id, "running")
            assert host.vms[vm.vm_id].guest.boot_time_filetime() > boot  # a start is a boot
        assert _listening(vm.address)
        with host.lock:
            dump = host.dump()[vm.name]
        assert dump["winrm"]["listening"] is True and dump["winrm"]["address"] == vm.address
        with host.lock:
            host.reset()
        assert not _listening(vm.address) and host.vms == {}
    finally:
        with host.lock:
            host.close()
