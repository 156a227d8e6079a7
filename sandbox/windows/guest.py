"""The interface between the WinRM transport (wsman/transport/host) and the simulated Windows state.

The transport side (sandbox/windows/wsman.py, transport.py, host.py) speaks WS-Management, NTLM and
TLS, parses Ansible's exec manifests and recognises the raw scripts that action plugins send. It
never touches registry, files or services itself: it calls a ``Guest``, one simulated Windows
machine, implemented by the state side in sandbox/windows/state.py.

Rules for both sides:
- Everything is called with ``World.lock`` held (one process, one lock; see sandbox/guest_api.py),
  so implementations do not lock on their own and never block or sleep.
- Anything the guest does not simulate raises ``sandbox.guest_api.NotModelled`` with a message that
  names it (module, option, script line). The transport turns it into a failed result; it is never
  swallowed.
- Windows paths are passed as the client sent them (backslashes, any case, possibly with
  ``%VAR%``); the guest owns path normalisation and environment expansion.
- No clear-text password is stored: the guest keeps the NT hash (MD4 of the UTF-16LE password),
  which is all NTLM verification needs.

State side entry points (module-level functions in sandbox/windows/state.py)::

    def create_guest(spec: VmSpec, arm: ArmCallbacks) -> Guest
        # ARM created the VM: seed the state from spec.image; compute nt_hash from
        # spec.admin_password and forget the password.
    def load_guest(data: dict, arm: ArmCallbacks) -> Guest
        # Inverse of Guest.to_dict() (persistence across a sandbox restart).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sandbox.guest_api import RunCommandResult

# Port of the HTTPS listener; fixed because the product's inventory uses it (docs/contracts.md section 6).
WINRM_HTTPS_PORT = 5986


class StillRunning(Exception):
    """Raised by a module that has produced no output yet (a win_updates poll while an install
    hangs): the WinRM command keeps running. ``resume()`` is asked again at each Receive, with the
    lock held; it returns the module's result once there is one, else None."""

    def __init__(self, resume: Callable[[], dict[str, Any] | None]) -> None:
        super().__init__("module still running")
        self.resume = resume


@dataclass(frozen=True)
class WinRMListener:
    """The HTTPS WinRM listener configured inside the guest (the bootstrap run command's effect).

    ``cert_pem`` is the listener's self-signed certificate (SAN IP:<public ip>, DNS:<computer
    name>); ``key_pem`` its private key (PKCS#8 or traditional PEM, unencrypted). The transport binds
    <public ip>:5986 with exactly this certificate, so a client pinning it (ca_trust_path) validates.
    """

    cert_pem: str
    key_pem: str
    port: int = WINRM_HTTPS_PORT


class Guest(Protocol):
    """One simulated Windows machine (implemented in sandbox/windows/state.py)."""

    name: str  # the VM resource name (what faults and dumps are keyed by)
    vm_id: str  # full ARM id, lower-case
    computer_name: str
    admin_username: str  # the local administrator WinRM authenticates (NTLM, case-insensitive)
    nt_hash: bytes  # 16 bytes: MD4(UTF-16LE(password))
    admin_enabled: bool  # a disabled administrator fails WinRM authentication (401)

    # --- power, boot, listener -------------------------------------------------------------------

    def winrm_listener(self) -> WinRMListener | None:
        """The HTTPS listener if the guest has one configured (else None: nothing listens)."""

    def firewall_allows(self, source_address: str, port: int) -> bool:
        """Whether the guest firewall admits inbound TCP <port> from source_address: blocked unless an
        enabled inbound Allow rule matches (the bootstrap's rule names the controller's address), a
        matching Block rule wins. Asked after the NSGs, before the TLS handshake."""

    def boot_time_filetime(self) -> int:
        """LastBootUpTime as a Windows FILETIME (100 ns ticks since 1601-01-01 UTC)."""

    def reboot(self) -> None:
        """Complete a reboot: new boot time, pending-reboot flags cleared, reboot-time effects
        applied (e.g. recreate HKLM:\\...\\Winlogon\\AutoLogonChecked, which win_reboot waits for).
        The transport calls this after the simulated downtime; connections are refused meanwhile."""

    def power_on(self) -> None:
        """ARM started the VM: a fresh boot (new boot time, pending reboot cleared)."""

    def power_off(self) -> None:
        """ARM stopped or deallocated the VM (no guest-side effect beyond being off)."""

    def take_power_request(self) -> tuple[str, float] | None:
        """("reboot" | "shutdown", delay seconds) once after a module, raw script or run command asked
        Windows to restart or shut down (shutdown.exe /r|/s, sysprep /reboot|/shutdown), else None.
        The transport calls it after delivering each answer (Receive / run command): a reboot takes
        the listener down for the downtime and then calls reboot(); a shutdown calls shutdown()."""

    def shutdown(self) -> None:
        """Guest-initiated shutdown (e.g. sysprep /shutdown): calls ArmCallbacks.guest_shutdown,
        which makes ARM call GuestHost.vm_power(vm_id, "stopped") (the listener is then stopped)."""

    # --- Ansible modules ------------------------------------------------------------------------

    def run_module(
        self,
        module: str,
        args: dict[str, Any],
        *,
        check_mode: bool,
        diff: bool,
        module_path: str,
        internal: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Run one Ansible module and return its JSON result (what the module prints on stdout).

        ``module``: FQCN resolved from the script the manifest carries, e.g.
        "ansible.windows.win_ping"; fact gathering arrives as "ansible.windows.setup" (the
        manifest names it ansible.legacy.setup; the script is ansible.windows' setup.ps1).
        ``args``: complex_args without the ``_ansible_*`` keys (action-plugin private keys such as
        win_copy's ``_copy_mode`` stay). ``module_path``: the manifest's script name, e.g.
        "ansible_collections.ansible.windows.plugins.modules.win_ping.ps1". ``internal``: the
        ``_ansible_*`` keys (``_ansible_remote_tmp``, ``_ansible_no_log``, ...), for modules that
        need them. Return a failure as ``{"failed": True, "msg": ...}``; raise NotModelled for an
        unknown module or option."""

    def write_async_result(self, async_dir: str, jid: str, result: dict[str, Any]) -> str:
        """Async task support (async_wrapper.ps1 + async_watchdog.ps1): the transport runs the module
        at once and hands over the job's final record (started/finished/ansible_job_id/results_file
        plus the module result). Create ``async_dir`` (``%VAR%`` expanded, e.g.
        ``%USERPROFILE%\\.ansible_async``) if missing, write the record as JSON to
        ``<async_dir>\\<jid>`` and return that full path. The state side's
        ``ansible.windows.async_status`` module reads the same file (``_async_dir`` + ``jid``)."""

    def run_raw(self, script: str) -> tuple[str, str, int]:
        """A raw PowerShell script (``raw`` task, or an action-plugin script the transport does not
        own). Recognise it by content; return (stdout, stderr, rc) or raise NotModelled."""

    # --- files (action-plugin transfers) -------------------------------------------------------

    def mkdtemp(self, base: str, name: str) -> str:
        """powershell_mkdtemp.ps1: create directory <expanded base>\\<name>; return its full path."""

    def put_file(self, path: str, data: bytes) -> None:
        """Write a file (winrm_put_file.ps1); the parent directory must exist."""

    def read_file(self, path: str) -> bytes:
        """Read a file (fetch). Raises FileNotFoundError / IsADirectoryError."""

    def remove_path(self, path: str) -> None:
        """Remove-Item -Force -Recurse; missing paths are ignored."""

    # --- Azure-side hooks, faults, persistence --------------------------------------------------

    def run_command(self, script: str, parameters: list[dict]) -> RunCommandResult:
        """An Azure run command (RunPowerShellScript), recognised by exact content; may configure
        the WinRM listener (then winrm_listener() returns it). Unknown -> NotModelled."""

    def image_state(self) -> str:
        """HKLM\\...\\Setup\\State ImageState, e.g. IMAGE_STATE_COMPLETE."""

    def inject_fault(self, spec: dict[str, Any]) -> None:
        """A non-transport fault (sysprep AppX, BitLocker, ...). ValueError for an unknown kind."""

    def dump(self) -> dict[str, Any]:
        """A JSON-able view of the state for /_sandbox/state (no secrets: no hash, no key)."""

    def to_dict(self) -> dict[str, Any]:
        """Full state for persistence (includes nt_hash hex and the listener key)."""
