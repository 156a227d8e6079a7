"""``WindowsGuestHost``: the Windows side of the sandbox as the ARM emulator sees it (guest_api.GuestHost).

It keeps one ``Vm`` per ARM virtual machine: the simulated Windows state (a ``Guest`` from
sandbox/windows/state.py), its public address, power state, the WinRM listener and the WinRM faults
armed for it. A listener runs exactly while the VM is running, has an address and the guest has a
configured HTTPS listener (the bootstrap run command's effect); reboots take it down for a while.

Persistence: ``windows-guests.json`` in the world's state directory (written after every change,
atomically, mode 0600: it holds NT hashes and listener keys, never a clear password).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sandbox.guest_api import ArmCallbacks, NotModelled, RunCommandResult, VmSpec
from sandbox.windows import state
from sandbox.windows.faults import WinrmFaults
from sandbox.windows.guest import WINRM_HTTPS_PORT, Guest
from sandbox.windows.ntlm_auth import NtlmAccount
from sandbox.windows.wsman import Listener, WsmanService

log = logging.getLogger(__name__)

STATE_FILE = "windows-guests.json"


@dataclass
class RebootTiming:
    """How long a guest-initiated reboot takes (seconds). ``delay`` is win_reboot's own
    ``shutdown.exe /t 2``: the shell that ran it stays usable that long, so the client can still
    close it (a shorter delay made win_reboot fail on a loaded machine with "shell not found")."""

    delay: float = 2.0
    downtime: float = 2.0


@dataclass
class Vm:
    """One VM's Windows side (implements transport.Runtime)."""

    host: WindowsGuestHost
    guest: Guest
    address: str | None = None
    power: str = "running"
    listener: Listener | None = None
    rebooting: bool = False
    faults: WinrmFaults = field(default_factory=WinrmFaults)
    modules: dict[str, int] = field(default_factory=dict)
    # When each module invocation started (epoch seconds, module), for bench/ to place it in a phase.
    module_log: list[tuple[float, str]] = field(default_factory=list)
    service: WsmanService = field(init=False)

    def __post_init__(self) -> None:
        self.service = WsmanService(self)

    # --- identity ------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.guest.name

    @property
    def computer_name(self) -> str:
        return self.guest.computer_name

    @property
    def lock(self) -> Any:
        return self.host.lock

    def account(self) -> NtlmAccount:
        with self.lock:
            return NtlmAccount(self.guest.admin_username, self.guest.nt_hash, self.guest.admin_enabled)

    def connection_allowed(self, source: str, port: int) -> bool:
        """The NSGs first (Azure drops the packet before it reaches the VM), then the guest firewall."""
        with self.lock:
            if not self.host.arm.winrm_allowed(self.guest.vm_id, source, port):
                return False
            if not self.guest.firewall_allows(source, port):
                log.info("guest %s: firewall refuses %s to port %d", self.name, source, port)
                return False
            return True

    # --- transport.Runtime ---------------------------------------------------------------------------
    def record_unmodelled(self, what: str) -> None:
        self.host.record_unmodelled(self.name, what)

    def count_module(self, module: str) -> None:
        self.modules[module] = self.modules.get(module, 0) + 1
        self.module_log.append((time.time(), module))

    def after_answer(self) -> None:
        """An answer went out: apply a restart or shutdown the guest asked for while producing it."""
        request = self.guest.take_power_request()
        if request is None:
            return
        action, _delay = request  # the delay is scaled down to RebootTiming.delay
        if action == "reboot":
            self.request_reboot()
        elif action == "shutdown":
            timer = threading.Timer(self.host.reboot_timing.delay, self._shut_down)
            timer.daemon = True
            timer.start()

    def _shut_down(self) -> None:
        with self.lock:
            if self.power == "running" and self.host.vms.get(self.guest.vm_id) is self:
                # -> ArmCallbacks.guest_shutdown -> GuestHost.vm_power(stopped) stops the listener.
                self.guest.shutdown()
                self.host.save()

    def request_reboot(self) -> None:
        """shutdown.exe /r: go down shortly after answering, come back after the downtime."""
        downtime = self.host.reboot_timing.downtime
        if self.faults.take("slow_reboot"):
            downtime = self.faults.slow_reboot_seconds
        timer = threading.Timer(self.host.reboot_timing.delay, self._go_down, args=(downtime,))
        timer.daemon = True
        timer.start()

    def reboot_on_its_own(self) -> None:
        """The guest_reboot fault: go down now (the caller drops the connection), back after the
        fault's downtime. Called with the lock held, so the reboot starts on a timer thread."""
        downtime = self.faults.guest_reboot_seconds or self.host.reboot_timing.downtime
        timer = threading.Timer(0.0, self._go_down, args=(downtime,))
        timer.daemon = True
        timer.start()

    def _go_down(self, downtime: float) -> None:
        with self.lock:
            if self.power != "running" or self.rebooting:
                return
            self.rebooting = True
            self.service.shells.clear()
            self.reconcile()
        log.info("guest %s rebooting (down for %.1fs)", self.name, downtime)
        timer = threading.Timer(downtime, self._come_back)
        timer.daemon = True
        timer.start()

    def _come_back(self) -> None:
        with self.lock:
            if not self.rebooting or self.host.vms.get(self.guest.vm_id) is not self:
                return
            self.rebooting = False
            if self.power == "running":
                self.guest.reboot()
            self.host.save()
            self.reconcile()

    # --- listener ------------------------------------------------------------------------------------
    def reconcile(self) -> None:
        """Start, restart or stop the listener to match power, address and the guest's config."""
        config = self.guest.winrm_listener() if self.power == "running" and not self.rebooting else None
        wanted = config is not None and self.address is not None
        current = self.listener
        if current is not None and (
            not wanted
            or current.closing
            or current.address != self.address
            or config is None
            or current.cert_pem != config.cert_pem
        ):
            current.stop()
            self.listener = current = None
        if wanted and current is None and config is not None and self.address is not None:
            self.listener = self._bind(self.address, config.port, config.cert_pem, config.key_pem)

    def _bind(self, address: str, port: int, cert_pem: str, key_pem: str) -> Listener:
        # A just-closed socket on the same address may linger for a moment after a reboot.
        for attempt in range(20):
            try:
                return Listener(self, address, port, cert_pem, key_pem)
            except OSError:
                if attempt == 19:
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")

    def stop_listener(self) -> None:
        if self.listener is not None:
            self.listener.stop()
            self.listener = None

    def winrm_dump(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "power": self.power,
            "listening": self.listener is not None,
            "port": self.listener.port if self.listener else None,
            "rebooting": self.rebooting,
            "faults": self.faults.dump(),
            "module_invocations": dict(self.modules),
            "module_log": [list(entry) for entry in self.module_log],
        }


class WindowsGuestHost:
    """guest_api.GuestHost for the ARM emulator; every public method runs with World.lock held."""

    def __init__(self, world: Any, arm: ArmCallbacks) -> None:
        self.world = world
        self.arm = arm
        self.lock = world.lock
        self.vms: dict[str, Vm] = {}
        # Gallery image versions (lower-case id) -> the Windows state captured into them.
        self.images: dict[str, dict[str, Any]] = {}
        self.unmodelled: list[dict[str, str]] = []
        self.reboot_timing = RebootTiming()
        self._load()

    def _trusted_ca(self) -> str | None:
        """The sandbox CA, which the guests trust as a root (HTTPS downloads, Authenticode chains)
        the way a real VM trusts the public roots."""
        ca = getattr(self.world, "ca", None)
        return str(ca.cert) if ca is not None else None

    # --- persistence ---------------------------------------------------------------------------------
    def _load(self) -> None:
        data = self.world.read_json(STATE_FILE, default=None) if hasattr(self.world, "read_json") else None
        if not data:
            return
        for vm_id, entry in data.get("vms", {}).items():
            guest = state.load_guest(entry["guest"], self.arm)
            guest.trusted_ca = self._trusted_ca()
            # Listeners come back when ARM re-announces addresses and power after a restart.
            self.vms[vm_id] = Vm(self, guest, address=None, power=entry.get("power", "running"))
        self.images = dict(data.get("images", {}))

    def save(self) -> None:
        if not hasattr(self.world, "write_json"):
            return
        data = {
            "vms": {
                vm_id: {"guest": vm.guest.to_dict(), "power": vm.power} for vm_id, vm in self.vms.items()
            },
            "images": self.images,
        }
        self.world.write_json(STATE_FILE, data)

    # --- GuestHost -----------------------------------------------------------------------------------
    def vm_created(self, spec: VmSpec) -> None:
        vm_id = spec.vm_id.lower()
        old = self.vms.pop(vm_id, None)
        if old is not None:
            old.stop_listener()
        if spec.image_version_id is None:
            guest = state.create_guest(spec, self.arm)
        else:
            image = self.images.get(spec.image_version_id.lower())
            if image is None:
                raise NotModelled(f"no captured Windows state for image version {spec.image_version_id}")
            guest = state.specialize_guest(image, spec, self.arm)
        guest.trusted_ca = self._trusted_ca()
        self.vms[vm_id] = Vm(self, guest)
        self.save()

    def image_captured(self, version_id: str, vm_id: str) -> None:
        vm = self._vm(vm_id)
        self.images[version_id.lower()] = vm.guest.to_dict()
        self.save()

    def image_deleted(self, version_id: str) -> None:
        if self.images.pop(version_id.lower(), None) is not None:
            self.save()

    def vm_address(self, vm_id: str, address: str | None) -> None:
        vm = self.vms.get(vm_id.lower())
        if vm is None:
            return
        vm.address = address
        vm.reconcile()

    def vm_power(self, vm_id: str, state: str) -> None:
        vm = self.vms.get(vm_id.lower())
        if vm is None:
            return
        if state == "running":
            if vm.power != "running":
                vm.guest.power_on()
                vm.power = "running"
        elif state in ("stopped", "deallocated"):
            if vm.power == "running":
                vm.guest.power_off()
            vm.power = state
            vm.rebooting = False
            vm.service.shells.clear()
        else:
            raise ValueError(f"unknown power state {state!r}")
        vm.reconcile()
        self.save()

    def vm_deleted(self, vm_id: str) -> None:
        vm = self.vms.pop(vm_id.lower(), None)
        if vm is not None:
            vm.stop_listener()
            self.save()

    def image_state(self, vm_id: str) -> str:
        return self._vm(vm_id).guest.image_state()

    def set_image_state(self, vm_id: str, value: str) -> None:
        """Control endpoint shortcut (POST /_sandbox/guests/<vm>/image-state), test use only."""
        vm = self._vm(vm_id)
        setter = getattr(vm.guest, "set_image_state", None)
        if setter is None:
            raise NotModelled("this guest cannot set ImageState directly")
        setter(value)
        self.save()

    def set_admin_password(self, vm_id: str, username: str, password: str) -> None:
        # Called by ARM with World.lock held, like every method of this class.
        guest = self._vm(vm_id).guest
        if username.lower() != guest.admin_username.lower():
            raise NotModelled(
                f"VMAccessAgent for a user other than the administrator ({username!r}; creating or renaming "
                "accounts is not simulated)"
            )
        # Only the NT hash is kept, as for the password of the VM create.
        guest.nt_hash = state.nt_hash(password)
        guest.admin_enabled = True
        self.save()

    def run_command(self, vm_id: str, script: str, parameters: list[dict]) -> RunCommandResult:
        vm = self._vm(vm_id)
        try:
            result = vm.guest.run_command(script, parameters)
        except NotModelled as exc:
            self.record_unmodelled(vm.name, f"run command: {exc}")
            raise
        vm.reconcile()
        vm.after_answer()
        self.save()
        return result

    def inject_fault(self, spec: dict) -> None:
        if spec.get("target") != "winrm":
            raise ValueError(f"not a Windows fault: target {spec.get('target')!r}")
        vm = self._vm_by_name(str(spec.get("vm", "")))
        if WinrmFaults.owns(spec):
            vm.faults.arm(spec)
        else:
            vm.guest.inject_fault(spec)

    def clear_faults(self) -> None:
        """DELETE /_sandbox/faults: disarm every WinRM fault (the guest's own faults too, if it can)."""
        for vm in self.vms.values():
            vm.faults.clear()
            clear = getattr(vm.guest, "clear_faults", None)
            if clear is not None:
                clear()

    def dump(self) -> dict:
        return {vm.name: dict(vm.guest.dump(), winrm=vm.winrm_dump()) for vm in self.vms.values()}

    # --- extras for the control endpoint, tests and benchmarks ------------------------------------
    def record_unmodelled(self, vm_name: str, what: str) -> None:
        log.warning("guest %s: not simulated: %s", vm_name, what)
        self.unmodelled.append({"vm": vm_name, "what": what})

    def module_invocations(self) -> int:
        return sum(sum(vm.modules.values()) for vm in self.vms.values())

    def reset(self) -> None:
        """POST /_sandbox/reset: forget every guest and stop every listener."""
        for vm in self.vms.values():
            vm.stop_listener()
        self.vms.clear()
        self.images.clear()
        self.unmodelled.clear()
        self.save()

    def close(self) -> None:
        """Process shutdown: stop listening (state stays on disk)."""
        for vm in self.vms.values():
            vm.stop_listener()
        self.save()

    def _vm(self, vm_id: str) -> Vm:
        vm = self.vms.get(vm_id.lower())
        if vm is None:
            raise NotModelled(f"no guest for VM {vm_id}")
        return vm

    def _vm_by_name(self, name: str) -> Vm:
        for vm in self.vms.values():
            if vm.name.lower() == name.lower():
                return vm
        raise ValueError(f"no guest VM named {name!r}")


__all__ = ["WINRM_HTTPS_PORT", "RebootTiming", "Vm", "WindowsGuestHost"]
