"""The WinRM listener driven by the real ARM emulator (in process): address pool, run command
bootstrap, NSG evaluation, power and delete, as a build sees them.

Uses the ARM unit tests' in-process emulator helpers (tests/support/arm_emulator.py) with the
real WindowsGuestHost instead of their NullGuestHost.
"""

from __future__ import annotations

import base64
import json
import random
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from winrm.protocol import Protocol

from sandbox.arm.app import create_arm
from sandbox.world import World
from tests.support.arm_emulator import PASSWORD, Emu, issue_token, winrm_rule
from tests.support.build_vm import BOOTSTRAP

API = "2024-07-01"


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[Emu]:
    from sandbox.windows.host import WindowsGuestHost

    world = World(tmp_path / "state", pki_dir=tmp_path / "pki")
    pool = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.0/24"  # noqa: S311
    arm = create_arm(world, None, vm_address_pool=pool, probe_bind=False)
    host = WindowsGuestHost(world, arm)
    host.reboot_timing.downtime = 0.5
    arm.guests = world.guests = host
    token = issue_token(arm)
    try:
        yield Emu(arm, host, world, token)  # type: ignore[arg-type] - a real GuestHost in the slot
    finally:
        with arm.lock:
            host.close()


def _bootstrap(emu: Emu, vm_id: str, address: str, tmp_path: Path) -> Path:
    """The windows_connect flow: run command with the bootstrap script, pin the printed certificate."""
    body = {
        "commandId": "RunPowerShellScript",
        "script": BOOTSTRAP.read_text(encoding="utf-8").splitlines(),
        "parameters": [
            {"name": "PublicAddress", "value": address},
            {"name": "ComputerName", "value": "avdbuild01"},
            {"name": "ControllerAddress", "value": "127.0.0.1"},
        ],
    }
    accepted = emu.call("POST", f"{vm_id}/runCommand", body, api=API)
    assert accepted.status == 202, accepted
    emu.done(accepted)
    result = emu.call("GET", accepted.headers["Location"])
    assert result.status == 200, result
    stdout = result.body["value"][0]["message"]
    der = base64.b64decode(json.loads(stdout.strip().splitlines()[-1])["certificate"])
    pem = tmp_path / "winrm-vm1.pem"
    pem.write_text(ssl.DER_cert_to_PEM_cert(der))
    return pem


def _hostname(address: str, pem: Path) -> bytes:
    protocol = Protocol(
        f"https://{address}:5986/wsman",
        transport="ntlm",
        username="avdadmin",
        password=PASSWORD,
        server_cert_validation="validate",
        ca_trust_path=str(pem),
        operation_timeout_sec=5,
        read_timeout_sec=10,
    )
    shell = protocol.open_shell()
    command = protocol.run_command(
        shell, "powershell", ["-EncodedCommand", base64.b64encode("hostname".encode("utf-16-le")).decode()]
    )
    stdout, _, rc = protocol.get_command_output(shell, command)
    protocol.cleanup_command(shell, command)
    protocol.close_shell(shell)
    assert rc == 0
    return stdout


def test_build_vm_listener_follows_arm(emu: Emu, tmp_path: Path):
    ids = emu.network()  # NSG: 5986 from 127.0.0.1 only
    created = emu.vm(ids)
    assert created.status in (200, 201), created
    vm_id = ids["vm"]
    host = emu.guest
    vm = host.vms[vm_id.lower()]
    address = vm.address
    assert address is not None and address.startswith("127.")
    assert vm.listener is None  # nothing listens before the bootstrap script ran

    pem = _bootstrap(emu, vm_id, address, tmp_path)
    assert _hostname(address, pem).strip().lower() == b"avdbuild01"

    # The NSG now only admits another address: the controller is refused.
    r = emu.call(
        "PUT",
        ids["nsg"],
        {"location": "westeurope", "properties": {"securityRules": [winrm_rule("198.51.100.7")]}},
        api="2024-03-01",
    )
    assert r.status == 200, r
    emu.done(r)
    with pytest.raises(requests.exceptions.ConnectionError):
        _hostname(address, pem)
    r = emu.call(
        "PUT",
        ids["nsg"],
        {"location": "westeurope", "properties": {"securityRules": [winrm_rule()]}},
        api="2024-03-01",
    )
    emu.done(r)

    with emu.arm.lock:
        boot = vm.guest.boot_time_filetime()
    emu.done(emu.call("POST", f"{vm_id}/powerOff", api=API))
    with pytest.raises(requests.exceptions.ConnectionError):
        _hostname(address, pem)
    emu.done(emu.call("POST", f"{vm_id}/start", api=API))
    assert _hostname(address, pem).strip().lower() == b"avdbuild01"
    with emu.arm.lock:
        assert vm.guest.boot_time_filetime() > boot

    emu.done(emu.call("DELETE", vm_id, api=API))
    assert vm_id.lower() not in host.vms
    with pytest.raises(requests.exceptions.ConnectionError):
        _hostname(address, pem)
    assert host.unmodelled == [] and emu.arm.unmodelled == []
