"""Harness for the WinRM double's self-tests: one simulated build VM reached by real ansible-playbook.

The VM is what the ARM emulator would hand over: the real simulated Windows state
(sandbox/windows/state.py) seeded from a marketplace image, its HTTPS listener created by the
product's own bootstrap script (roles/windows_connect/files/Enable-WinRMHttps.ps1) through the
run-command path, and served by WindowsGuestHost on a random loopback address, port 5986. The
controller pins the certificate printed by that script, exactly as the windows_connect role does.
Only ARM is replaced, by a small NSG stand-in (an allow-list of client addresses).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sandbox.guest_api import SourceImage, VmSpec
from sandbox.world import World
from tests.support.paths import REPO
from tests.support.winrm_fakes import random_loopback

PLAYBOOKS = REPO / "tests" / "sandbox" / "windows" / "selftest_playbooks"
BOOTSTRAP = REPO / "roles" / "windows_connect" / "files" / "Enable-WinRMHttps.ps1"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"


class NsgStandIn:
    """ArmCallbacks for a VM whose NSG allows 5986 from ``allowed`` only (None: from anywhere)."""

    def __init__(self) -> None:
        self.allowed: set[str] | None = {"127.0.0.1"}
        self.shutdowns: list[str] = []

    def guest_shutdown(self, vm_id: str) -> None:
        self.shutdowns.append(vm_id)

    def winrm_allowed(self, vm_id: str, source_address: str, port: int) -> bool:
        return port == 5986 and (self.allowed is None or source_address in self.allowed)


class BuildVm:
    """A started WindowsGuestHost with one VM, plus helpers to run playbooks against it."""

    name = "vm-selftest"
    computer_name = "avdbuild01"
    admin = "avdadmin"

    def __init__(self, tmp: Path, controller_address: str = "127.0.0.1") -> None:
        from sandbox.windows.host import WindowsGuestHost

        self.tmp = tmp
        self.world = World(tmp / "state")
        self.arm = NsgStandIn()
        self.host = WindowsGuestHost(self.world, self.arm)
        self.host.reboot_timing.downtime = 1.0
        self.address = random_loopback()
        # What the guest firewall rule admits (the bootstrap's ControllerAddress): the address the
        # controller connects from (loopback connections leave from 127.0.0.1).
        self.controller_address = controller_address
        self.vm_id = (
            "/subscriptions/0000/resourcegroups/rg-selftest/providers/microsoft.compute/virtualmachines/"
            + self.name
        )
        self.password = "Sb1-" + secrets.token_urlsafe(18)  # generated per test, like the product does
        spec = VmSpec(
            vm_id=self.vm_id,
            computer_name=self.computer_name,
            admin_username=self.admin,
            admin_password=self.password,
            image=SourceImage("MicrosoftWindowsDesktop", "windows-11", "win11-24h2-avd", "26100.4061.250510"),
            security_type="TrustedLaunch",
            secure_boot=True,
            vtpm=True,
        )
        with self.host.lock:
            self.host.vm_created(spec)
            self.host.vm_power(self.vm_id, "running")
            self.host.vm_address(self.vm_id, self.address)
            result = self.host.run_command(
                self.vm_id,
                BOOTSTRAP.read_text(encoding="utf-8"),
                [
                    {"name": "PublicAddress", "value": self.address},
                    {"name": "ComputerName", "value": self.computer_name},
                    {"name": "ControllerAddress", "value": self.controller_address},
                ],
            )
        assert result.exit_code == 0, result.stderr
        der = base64.b64decode(json.loads(result.stdout.strip().splitlines()[-1])["certificate"])
        self.cert_path = tmp / f"winrm-{self.name}.pem"
        self.cert_path.write_text(ssl.DER_cert_to_PEM_cert(der))
        self.guest = self.host.vms[self.vm_id].guest

    def close(self) -> None:
        with self.host.lock:
            self.host.close()

    # --- state and faults ------------------------------------------------------------------------
    def fault(self, kind: str, **extra: Any) -> None:
        with self.host.lock:
            self.host.inject_fault({"target": "winrm", "vm": self.name, "kind": kind, **extra})

    def boot_time(self) -> int:
        with self.host.lock:
            return self.guest.boot_time_filetime()

    def unmodelled(self) -> list[dict[str, str]]:
        return list(self.host.unmodelled)

    # --- ansible ---------------------------------------------------------------------------------
    def inventory(self, **overrides: Any) -> Path:
        host_vars = {
            "ansible_host": self.address,
            "ansible_connection": "winrm",
            "ansible_port": 5986,
            "ansible_winrm_scheme": "https",
            "ansible_winrm_transport": "ntlm",
            "ansible_winrm_server_cert_validation": "validate",
            "ansible_winrm_ca_trust_path": str(self.cert_path),
            "ansible_user": self.admin,
            "ansible_password": self.password,
            "ansible_winrm_connection_timeout": 15,
        }
        host_vars.update(overrides)
        path = self.tmp / f"inventory-{secrets.token_hex(4)}.json"
        path.write_text(json.dumps({"all": {"hosts": {"buildvm": host_vars}}}))
        path.chmod(0o600)
        return path

    def _empty_config(self) -> Path:
        """The repository's ansible.cfg is a convenience; the self-tests must not depend on it."""
        path = self.tmp / "ansible.cfg"
        if not path.exists():
            path.write_text("[defaults]\n")
        return path

    def play(self, playbook: str, *args: str, timeout: float = 240, **inventory: Any) -> PlayResult:
        """Run one of selftest_playbooks/*.yml; results come from the ansible.posix.json callback."""
        return self.start(playbook, *args, **inventory).wait(timeout)

    def start(self, playbook: str, *args: str, **inventory: Any) -> RunningPlay:
        """Start a playbook in the background (to inject faults while it runs)."""
        env = dict(
            os.environ,
            ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
            ANSIBLE_HOST_KEY_CHECKING="False",
            ANSIBLE_RETRY_FILES_ENABLED="False",
            ANSIBLE_LOCAL_TEMP=str(self.tmp / "ansible-local"),
            ANSIBLE_CONFIG=str(self._empty_config()),
            ANSIBLE_NOCOLOR="1",
        )
        command = [
            str(ANSIBLE_PLAYBOOK),
            "-i",
            str(self.inventory(**inventory)),
            str(PLAYBOOKS / playbook),
            *args,
        ]
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=self.tmp
        )
        return RunningPlay(proc, time.monotonic())


class RunningPlay:
    """A playbook started with BuildVm.start()."""

    def __init__(self, proc: subprocess.Popen[str], started: float) -> None:
        self.proc = proc
        self.started = started

    def wait(self, timeout: float = 240) -> PlayResult:
        try:
            stdout, stderr = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            stdout, stderr = self.proc.communicate()
        done = subprocess.CompletedProcess(self.proc.args, self.proc.returncode, stdout, stderr)
        return PlayResult(done, time.monotonic() - self.started)


class PlayResult:
    """ansible-playbook's outcome: return code, per-task results of the one host, and the stats."""

    def __init__(self, proc: subprocess.CompletedProcess[str], seconds: float) -> None:
        self.rc = proc.returncode
        self.stderr = proc.stderr
        self.seconds = seconds
        try:
            self.data = json.loads(proc.stdout)
        except ValueError as exc:
            tail = f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
            raise AssertionError(f"no JSON from ansible-playbook (rc {proc.returncode}): {tail}") from exc

    @property
    def stats(self) -> dict[str, int]:
        return self.data["stats"]["buildvm"]

    def task(self, name: str) -> dict[str, Any]:
        """The result of the task with this name (the last one when it ran several times)."""
        found = None
        for play in self.data["plays"]:
            for task in play["tasks"]:
                if task["task"]["name"] == name:
                    found = task["hosts"]["buildvm"]
        if found is None:
            raise AssertionError(f"task {name!r} did not run; stats {self.stats}")
        return found

    def explain(self) -> str:
        return json.dumps(self.data, indent=1)[-4000:] + self.stderr[-2000:]
