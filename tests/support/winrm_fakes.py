"""Test doubles for the transport tests: a tiny in-memory Guest, a world and ARM callbacks.

The real Guest lives in sandbox/windows/state.py (another helper's work); these fakes model only what
the transport tests need, so a transport bug cannot hide behind the state implementation.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import json
import random
import threading
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from sandbox.guest_api import NotModelled, RunCommandResult
from sandbox.windows.guest import WinRMListener

PASSWORD = "Sandbox-Passw0rd!x"  # test-only credential of the fake guest


def nt_hash(password: str) -> bytes:
    from spnego._ntlm_raw.crypto import ntowfv1

    return ntowfv1(password)


def make_cert(address: str, computer_name: str) -> tuple[str, str]:
    """A self-signed listener certificate like the bootstrap script makes (SAN IP + DNS)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, computer_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(address)), x509.DNSName(computer_name.lower())]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return cert_pem, key_pem


def random_loopback() -> str:
    """An address in 127.0.0.0/8 unlikely to collide with parallel tests (each binds <ip>:5986)."""
    return f"127.{random.randint(100, 250)}.{random.randint(0, 255)}.{random.randint(2, 254)}"  # noqa: S311


@dataclass
class FakeGuest:
    """Just enough Windows: a few modules, files, a boot time and the listener config."""

    name: str = "vm-test"
    vm_id: str = "/subscriptions/x/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm-test"
    computer_name: str = "AVDBUILD01"
    admin_username: str = "avdadmin"
    nt_hash: bytes = field(default_factory=lambda: nt_hash(PASSWORD))
    admin_enabled: bool = True
    listener: WinRMListener | None = None
    boot: int = 133_000_000_000_000_000
    files: dict[str, bytes] = field(default_factory=dict)
    registry: dict[str, Any] = field(default_factory=dict)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    reboots: int = 0

    def winrm_listener(self) -> WinRMListener | None:
        return self.listener

    def firewall_allows(self, source_address: str, port: int) -> bool:
        return True  # this double has no guest firewall: the NSG stand-in decides

    def boot_time_filetime(self) -> int:
        return self.boot

    def reboot(self) -> None:
        self.reboots += 1
        self.boot += 10_000_000 * 60

    power_request: tuple[str, float] | None = None

    def take_power_request(self) -> tuple[str, float] | None:
        request, self.power_request = self.power_request, None
        return request

    def power_on(self) -> None:
        self.boot += 10_000_000 * 3600

    def power_off(self) -> None:
        self.calls.append(("power_off", None))

    def shutdown(self) -> None:
        self.calls.append(("shutdown", None))

    def run_module(self, module, args, *, check_mode, diff, module_path, internal=None):
        self.calls.append(("module", (module, args, check_mode, diff)))
        if module == "ansible.windows.win_ping":
            if args.get("data") == "crash":
                raise Exception("boom")
            return {"changed": False, "ping": args.get("data", "pong")}
        if module == "ansible.windows.win_regedit":
            key = f"{args['path']}\\{args.get('name')}"
            before = self.registry.get(key)
            changed = before != args.get("data")
            if changed and not check_mode:
                self.registry[key] = args.get("data")
            result: dict[str, Any] = {"changed": changed, "data_changed": changed, "data_type_changed": False}
            if diff:
                result["diff"] = {"before": f"{key} = {before}\n", "after": f"{key} = {args.get('data')}\n"}
            return result
        if module == "ansible.windows.async_status":
            path = args["_async_dir"].replace("%USERPROFILE%", f"C:\\Users\\{self.admin_username}")
            data = self.files.get(f"{path}\\{args['jid']}".lower())
            if data is None:
                return {"failed": True, "msg": f"could not find job at '{path}'", "started": 1, "finished": 1}
            return json.loads(data)
        if module == "ansible.windows.win_copy":
            return self._win_copy(args, check_mode)
        if module == "ansible.windows.win_shell":
            if args.get("_raw_params") == "shutdown /s /t 0":
                self.power_request = ("shutdown", 0.0)
            if args.get("_raw_params") == "shutdown /r /t 5":
                self.power_request = ("reboot", 5.0)
            return {"changed": True, "rc": 0, "stdout": "", "stderr": "", "cmd": args.get("_raw_params")}
        raise NotModelled(f"module {module}")

    def _win_copy(self, args: dict[str, Any], check_mode: bool) -> dict[str, Any]:
        dest = args["dest"].lower()
        if args.get("_copy_mode") == "query":
            wanted = []
            for item in args.get("files", []):
                current = self.files.get(dest)
                if current is None or hashlib.sha1(current).hexdigest() != item["checksum"]:  # noqa: S324
                    wanted.append(item)
            return {"changed": False, "files": wanted, "directories": [], "symlinks": []}
        if args.get("_copy_mode") == "single":
            data = self.files[args["src"].lower()]
            if not check_mode:
                self.files[dest] = data
            return {"changed": True, "dest": args["dest"], "checksum": hashlib.sha1(data).hexdigest()}  # noqa: S324
        raise NotModelled(f"win_copy mode {args.get('_copy_mode')}")

    def write_async_result(self, async_dir: str, jid: str, result: dict[str, Any]) -> str:
        path = async_dir.replace("%USERPROFILE%", f"C:\\Users\\{self.admin_username}") + "\\" + jid
        self.files[path.lower()] = json.dumps(result).encode()
        return path

    def run_raw(self, script: str) -> tuple[str, str, int]:
        if script.strip() == "hostname":
            return self.computer_name + "\r\n", "", 0
        raise NotModelled(f"raw script {script.splitlines()[0] if script else ''}")

    def mkdtemp(self, base: str, name: str) -> str:
        path = base.replace("%TEMP%", f"C:\\Users\\{self.admin_username}\\AppData\\Local\\Temp") + "\\" + name
        self.files[path.lower() + "\\"] = b""
        return path

    def put_file(self, path: str, data: bytes) -> None:
        self.files[path.lower()] = data

    def read_file(self, path: str) -> bytes:
        if path.lower() + "\\" in self.files:
            raise IsADirectoryError(path)
        try:
            return self.files[path.lower()]
        except KeyError:
            raise FileNotFoundError(path) from None

    def remove_path(self, path: str) -> None:
        prefix = path.lower().rstrip("\\.").rstrip("\\")
        for key in [k for k in self.files if k == prefix or k.startswith(prefix + "\\")]:
            del self.files[key]

    def run_command(self, script: str, parameters: list[dict]) -> RunCommandResult:
        if hashlib.sha256(script.encode()).hexdigest() and script.startswith("# bootstrap"):
            return RunCommandResult(stdout=self.listener.cert_pem if self.listener else "")
        raise NotModelled("run command")

    def image_state(self) -> str:
        return "IMAGE_STATE_COMPLETE"

    def inject_fault(self, spec: dict[str, Any]) -> None:
        raise ValueError(f"unknown fault kind {spec.get('kind')!r}")

    def dump(self) -> dict[str, Any]:
        return {"computer_name": self.computer_name, "boot": self.boot}

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name}


class FakeWorld:
    """World without persistence (WindowsGuestHost skips saving when write_json is missing)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()


class FakeArm:
    """ArmCallbacks: an allow-list of client addresses stands in for the NSG rules."""

    def __init__(self) -> None:
        self.allowed: set[str] | None = None  # None: everything allowed
        self.shutdowns: list[str] = []
        self.checks: list[tuple[str, str, int]] = []

    def guest_shutdown(self, vm_id: str) -> None:
        self.shutdowns.append(vm_id)

    def winrm_allowed(self, vm_id: str, source_address: str, port: int) -> bool:
        self.checks.append((vm_id, source_address, port))
        return self.allowed is None or source_address in self.allowed
