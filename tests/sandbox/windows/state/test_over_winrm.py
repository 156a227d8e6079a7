"""The simulated guest behind the real WinRM listener, driven by ansible-playbook (integration)."""

from __future__ import annotations

import base64
import json
import os
import random
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from sandbox.windows.host import WindowsGuestHost
from tests.support.paths import REPO
from tests.support.windows_state import PASSWORD, FakeArm, spec

ROOT = REPO
PLAYBOOK = Path(__file__).parent / "playbooks" / "roundtrip.yml"


class _World:
    def __init__(self) -> None:
        self.lock = threading.RLock()


@pytest.mark.integration
def test_playbook_round_trip(tmp_path):
    address = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.{random.randint(2, 254)}"  # noqa: S311
    arm = FakeArm()
    host = WindowsGuestHost(_World(), arm)
    host.reboot_timing.downtime = 1.0
    vm = spec()
    vm_id = vm.vm_id.lower()
    try:
        with host.lock:
            host.vm_created(vm)
            host.vm_address(vm_id, address)
            result = host.run_command(
                vm_id,
                (ROOT / "roles/windows_connect/files/Enable-WinRMHttps.ps1").read_text(),
                [
                    {"name": "PublicAddress", "value": address},
                    {"name": "ComputerName", "value": "avdbuild01"},
                    {"name": "ControllerAddress", "value": "127.0.0.1"},
                ],
            )
        der = base64.b64decode(json.loads(result.stdout)["certificate"])
        pem = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
        (tmp_path / "winrm.pem").write_bytes(pem)
        (tmp_path / "inventory.ini").write_text(
            "[win]\n"
            f"vm ansible_host={address} ansible_connection=winrm ansible_port=5986 "
            "ansible_winrm_scheme=https "
            "ansible_winrm_transport=ntlm ansible_winrm_server_cert_validation=validate "
            f"ansible_winrm_ca_trust_path={tmp_path / 'winrm.pem'} ansible_user=avdadmin\n"
        )
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
        proc = subprocess.run(
            [
                str(Path(sys.executable).with_name("ansible-playbook")),
                "-i",
                str(tmp_path / "inventory.ini"),
                "-e",
                json.dumps({"ansible_password": PASSWORD}),
                str(PLAYBOOK),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
        assert PASSWORD not in proc.stdout
        with host.lock:
            assert host.unmodelled == []
            guest = host.vms[vm_id].guest
            assert guest.image_state() == "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
            assert (
                guest.registry.get_value(
                    r"HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services",
                    "fEnableTimeZoneRedirection",
                ).data
                == 1
            )
            assert guest.fs.read(r"C:\Build\hello.txt") == b"hello\r\n"
    finally:
        with host.lock:
            host.close()
