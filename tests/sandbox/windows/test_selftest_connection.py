"""Self-tests of the WinRM double with real ansible-playbook: reboots, pinning, NSG, guest firewall
and faults."""

from __future__ import annotations

import socket
import ssl
import time
from pathlib import Path

import pytest

from tests.support.build_vm import BuildVm
from tests.support.winrm_fakes import make_cert

FAULT_KEY = r"HKLM\SOFTWARE\AvdSelftest"


def _fault_value(vm: BuildVm):
    with vm.host.lock:
        return vm.guest.registry.get_value(FAULT_KEY, "fSelftestFault")


def test_win_reboot_survives_the_dropped_connections(build_vm: BuildVm):
    before = build_vm.boot_time()
    result = build_vm.play("reboot.yml")
    assert result.rc == 0, result.explain()
    assert result.task("Reboot")["rebooted"] is True
    assert result.task("Ping after the reboot")["ping"] == "pong"
    assert build_vm.boot_time() > before
    assert build_vm.unmodelled() == []


def test_win_reboot_survives_a_connection_dropped_mid_command(build_vm: BuildVm):
    build_vm.fault("drop_connection")  # hits the first boot-time probe, which win_reboot retries
    result = build_vm.play("reboot.yml")
    assert result.rc == 0, result.explain()
    assert result.task("Reboot")["rebooted"] is True
    assert build_vm.host.vms[build_vm.vm_id].faults.remaining("drop_connection") == 0


def test_slow_reboot_is_waited_for(build_vm: BuildVm):
    build_vm.fault("slow_reboot", seconds=5)
    started = time.monotonic()
    result = build_vm.play("reboot.yml")
    assert result.rc == 0, result.explain()
    assert result.task("Reboot")["rebooted"] is True
    assert time.monotonic() - started >= 5


def test_a_certificate_that_is_not_the_pinned_one_is_refused(build_vm: BuildVm, tmp_path: Path):
    other_pem, _ = make_cert(build_vm.address, build_vm.computer_name)  # same names, other key
    other = tmp_path / "other.pem"
    other.write_text(other_pem)
    result = build_vm.play("one_task.yml", ansible_winrm_ca_trust_path=str(other))
    assert result.rc == 4 and result.stats["unreachable"] == 1
    assert "CERTIFICATE_VERIFY_FAILED" in result.task("Set fSelftestFault")["msg"]
    assert _fault_value(build_vm) is None


def test_a_client_address_the_nsg_does_not_allow_is_refused(build_vm: BuildVm):
    build_vm.arm.allowed = {"198.51.100.10"}  # the controller's public address is someone else
    result = build_vm.play("one_task.yml")
    assert result.rc == 4 and result.stats["unreachable"] == 1
    assert _fault_value(build_vm) is None


def _tls_handshake_from(vm: BuildVm, source: str) -> None:
    """Open a TLS connection to the listener from ``source`` (a loopback address of this host)."""
    context = ssl.create_default_context(cafile=str(vm.cert_path))
    context.check_hostname = False
    with (
        socket.create_connection((vm.address, 5986), timeout=5, source_address=(source, 0)) as raw,
        context.wrap_socket(raw, server_hostname=vm.address),
    ):
        pass


def test_existing_subnet_the_guest_firewall_admits_the_controller_only(build_vm: BuildVm):
    """existing_subnet mode: no NSG of the build, the rest of the VNet reaches the VM; the bootstrap's
    firewall rule (RemoteAddress = the controller) is what refuses the other addresses."""
    build_vm.arm.allowed = None  # no NSG: every source passes the network
    _tls_handshake_from(build_vm, "127.0.0.1")  # the controller
    with pytest.raises(OSError):  # reset before the TLS handshake, like a dropped SYN
        _tls_handshake_from(build_vm, "127.0.0.2")  # another host of the network
    result = build_vm.play("one_task.yml")
    assert result.rc == 0, result.explain()


def test_existing_subnet_a_controller_the_firewall_rule_does_not_name_is_refused(tmp_path: Path):
    vm = BuildVm(tmp_path, controller_address="127.0.0.2")  # the rule admits someone else
    try:
        vm.arm.allowed = None
        with vm.host.lock:
            assert vm.guest.firewall_rules["avd-golden-winrm-https"]["remote_address"] == "127.0.0.2"
        result = vm.play("one_task.yml")
        assert result.rc == 4 and result.stats["unreachable"] == 1
        assert _fault_value(vm) is None
    finally:
        vm.close()


def test_a_connection_dropped_mid_command_fails_the_task_after_the_change(build_vm: BuildVm):
    # What really happens: the module ran on the guest, the answer was lost, and Ansible reports
    # the task failed (not unreachable) with the connection error; it does not re-run the module.
    build_vm.fault("drop_connection")
    result = build_vm.play("one_task.yml")
    assert result.rc == 2 and result.stats["failures"] == 1
    assert "Remote end closed connection without response" in result.task("Set fSelftestFault")["msg"]
    assert _fault_value(build_vm) is not None  # the change was applied before the drop


def test_a_connection_dropped_mid_command_is_survived_by_a_rescue_rerun(build_vm: BuildVm):
    build_vm.fault("drop_connection")
    result = build_vm.play("one_task_retry.yml")
    assert result.rc == 0, result.explain()
    assert result.stats["rescued"] == 1
    first = result.task("Set fSelftestFault with retries")
    assert first["failed"] is True and "attempts" not in first  # until/retries did not retry
    again = result.task("Set fSelftestFault again after the lost connection")
    assert again["changed"] is False  # the lost attempt had already made the change
    assert _fault_value(build_vm) is not None


def test_operation_timeouts_are_retried_by_the_client(build_vm: BuildVm):
    build_vm.fault("operation_timeout", count=3)
    result = build_vm.play("one_task.yml")
    assert result.rc == 0, result.explain()
    assert result.task("Set fSelftestFault")["changed"] is True
    assert build_vm.host.vms[build_vm.vm_id].faults.remaining("operation_timeout") == 0


def test_connections_dropped_while_win_reboot_polls_are_survived(build_vm: BuildVm):
    # As in a real reboot that is slow to settle: once the guest is down, the next two Receive
    # answers after it comes back are lost (win_reboot's boot-time polls), and the play goes on.
    build_vm.fault("slow_reboot", seconds=3)
    running = build_vm.start("reboot.yml")
    vm = build_vm.host.vms[build_vm.vm_id]
    deadline = time.monotonic() + 120
    while not vm.rebooting:
        assert running.proc.poll() is None, running.wait().explain()
        assert time.monotonic() < deadline, "the reboot never started"
        time.sleep(0.05)
    build_vm.fault("drop_connection", count=2)
    result = running.wait()
    assert result.rc == 0, result.explain()
    assert result.task("Reboot")["rebooted"] is True
    assert vm.faults.remaining("drop_connection") == 0  # both drops were hit and survived
    assert result.task("Ping after the reboot")["ping"] == "pong"
