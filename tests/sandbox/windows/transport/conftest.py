"""Fixtures: a WindowsGuestHost serving one fake guest on a random loopback address, port 5986."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.windows.guest import WinRMListener
from sandbox.windows.host import Vm, WindowsGuestHost
from tests.support.winrm_fakes import (
    PASSWORD,
    FakeArm,
    FakeGuest,
    FakeWorld,
    make_cert,
    random_loopback,
)


@dataclass
class WinrmTarget:
    host: WindowsGuestHost
    vm: Vm
    guest: FakeGuest
    arm: FakeArm
    address: str
    cert_path: Path
    password: str = PASSWORD

    @property
    def endpoint(self) -> str:
        return f"https://{self.address}:5986/wsman"

    def protocol(self, **kwargs):
        """A pywinrm Protocol as Ansible builds it (NTLM, cert pinned through the CA bundle)."""
        from winrm.protocol import Protocol

        options = {
            "transport": "ntlm",
            "username": self.guest.admin_username,
            "password": self.password,
            "server_cert_validation": "validate",
            "ca_trust_path": str(self.cert_path),
            "operation_timeout_sec": 5,
            "read_timeout_sec": 10,
        }
        options.update(kwargs)
        return Protocol(self.endpoint, **options)


@pytest.fixture
def winrm_target(tmp_path: Path) -> Iterator[WinrmTarget]:
    address = random_loopback()
    guest = FakeGuest()
    cert_pem, key_pem = make_cert(address, guest.computer_name)
    guest.listener = WinRMListener(cert_pem, key_pem)
    cert_path = tmp_path / "winrm.pem"
    cert_path.write_text(cert_pem)
    arm = FakeArm()
    host = WindowsGuestHost(FakeWorld(), arm)
    host.reboot_timing.delay = 0.05
    host.reboot_timing.downtime = 0.5
    with host.lock:
        vm = Vm(host, guest)
        host.vms[guest.vm_id] = vm
        host.vm_address(guest.vm_id, address)
    assert vm.listener is not None
    try:
        yield WinrmTarget(host, vm, guest, arm, address, cert_path)
    finally:
        with host.lock:
            host.close()
