"""The WS-Man listener over real TLS + NTLM, driven by pywinrm (the library Ansible's winrm plugin uses)."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import time

import pytest
import requests
import winrm.exceptions
from winrm.protocol import Protocol

from sandbox.windows.guest import WinRMListener
from tests.support.winrm_fakes import make_cert

REBOOT_KEY = r"HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\AutoLogonChecked"


def encoded(script: str) -> list[str]:
    return [
        "-NoProfile",
        "-NonInteractive",
        "-ExecutionPolicy",
        "Unrestricted",
        "-EncodedCommand",
        base64.b64encode(script.encode("utf-16-le")).decode(),
    ]


def run_raw(protocol: Protocol, script: str) -> tuple[bytes, bytes, int]:
    shell = protocol.open_shell(codepage=65001)
    try:
        command = protocol.run_command(shell, "powershell", encoded(script), console_mode_stdin=True)
        out = protocol.get_command_output(shell, command)
        protocol.cleanup_command(shell, command)
        return out
    finally:
        protocol.close_shell(shell)


def module_stdin(module: str, args: dict, *, check_mode: bool = False, diff: bool = False) -> bytes:
    """The bootstrap input Ansible sends for a module (same layout as module_manifest.py builds)."""
    complex_args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff, _ansible_module_name=module)
    namespace, collection, name = module.split(".")
    manifest = {
        "scripts": {},
        "actions": [
            {
                "name": "module_wrapper.ps1",
                "params": {
                    "Script": f"ansible_collections.{namespace}.{collection}.plugins.modules.{name}.ps1",
                    "Environment": {},
                    "Variables": [{"Name": "complex_args", "Value": complex_args, "Scope": "Global"}],
                    "CSharpModules": [],
                    "PowerShellModules": [],
                    "ForModule": True,
                },
                "secure_params": {},
            }
        ],
        "signed_hashlist": [],
    }
    bootstrap = {"name": "exec_wrapper", "script": "# exec_wrapper", "params": {}}
    return f"{json.dumps(bootstrap)}\n\0\0\0\0\n{json.dumps(manifest)}".encode()


def bootstrap_args() -> list[str]:
    from ansible.executor.powershell import module_manifest

    return encoded(module_manifest._get_powershell_script("bootstrap_wrapper.ps1").decode())


def run_module_via(protocol: Protocol, stdin: bytes, chunk: int = 100) -> tuple[bytes, bytes, int]:
    shell = protocol.open_shell(codepage=65001)
    try:
        command = protocol.run_command(shell, "powershell", bootstrap_args(), console_mode_stdin=False)
        for offset in range(0, len(stdin), chunk):
            piece = stdin[offset : offset + chunk]
            protocol.send_command_input(shell, command, piece, end=offset + chunk >= len(stdin))
        out = protocol.get_command_output(shell, command)
        protocol.cleanup_command(shell, command)
        return out
    finally:
        protocol.close_shell(shell)


def test_raw_command_round_trip(winrm_target):
    stdout, stderr, rc = run_raw(winrm_target.protocol(), "hostname")
    assert (stdout, stderr, rc) == (b"AVDBUILD01\r\n", b"", 0)
    assert winrm_target.host.unmodelled == []
    # The NSG was asked about the client address and port 5986.
    assert winrm_target.arm.checks[0][1:] == ("127.0.0.1", 5986)


def test_module_dispatch_with_chunked_stdin_check_mode_and_diff(winrm_target):
    stdin = module_stdin(
        "ansible.windows.win_regedit",
        {"path": r"HKLM:\SOFTWARE\Avd", "name": "x", "data": "1"},
        check_mode=True,
        diff=True,
    )
    stdout, _, rc = run_module_via(winrm_target.protocol(), stdin, chunk=97)
    result = json.loads(stdout)
    assert rc == 0
    assert result["changed"] is True
    assert "diff" in result
    assert winrm_target.guest.registry == {}  # check mode changed nothing
    module, args, check_mode, diff = winrm_target.guest.calls[-1][1]
    assert module == "ansible.windows.win_regedit"
    assert args == {"path": r"HKLM:\SOFTWARE\Avd", "name": "x", "data": "1"}  # no _ansible_* keys
    assert (check_mode, diff) == (True, True)


def test_unknown_module_fails_loudly_and_is_recorded(winrm_target):
    stdout, _, rc = run_module_via(winrm_target.protocol(), module_stdin("community.windows.win_unknown", {}))
    result = json.loads(stdout)
    assert rc == 1
    assert result["failed"] is True
    assert result["msg"].startswith("not simulated: community.windows.win_unknown")
    assert winrm_target.host.unmodelled[0]["vm"] == "vm-test"


def test_unknown_raw_script_and_command_line_are_not_simulated(winrm_target):
    _, stderr, rc = run_raw(winrm_target.protocol(), "Get-Process\nGet-Service")
    assert rc == 1
    assert stderr.startswith(b"not simulated: Get-Process")
    protocol = winrm_target.protocol()
    shell = protocol.open_shell()
    command = protocol.run_command(shell, "cmd.exe", ["/c", "dir"])
    _, stderr, rc = protocol.get_command_output(shell, command)
    assert rc == 1
    assert b"not simulated: command line 'cmd.exe /c dir'" in stderr
    assert len(winrm_target.host.unmodelled) == 2


def test_wrong_password_is_rejected(winrm_target):
    with pytest.raises(winrm.exceptions.InvalidCredentialsError):
        winrm_target.protocol(password="not-the-password").open_shell()


def test_a_disabled_or_repassworded_account_gets_401(winrm_target):
    winrm_target.protocol().open_shell()
    with winrm_target.host.lock:
        winrm_target.guest.admin_enabled = False
    with pytest.raises(winrm.exceptions.InvalidCredentialsError):
        winrm_target.protocol().open_shell()
    with winrm_target.host.lock:
        winrm_target.guest.admin_enabled = True
        winrm_target.guest.nt_hash = bytes(16)  # another password
    with pytest.raises(winrm.exceptions.InvalidCredentialsError):
        winrm_target.protocol().open_shell()


def test_basic_and_anonymous_requests_get_401(winrm_target):
    session = requests.Session()
    session.verify = str(winrm_target.cert_path)
    anonymous = session.post(winrm_target.endpoint, data=b"<x/>", verify=str(winrm_target.cert_path))
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == "Negotiate"
    basic = session.post(
        winrm_target.endpoint,
        data=b"<x/>",
        auth=("avdadmin", winrm_target.password),
        verify=str(winrm_target.cert_path),
    )
    assert basic.status_code == 401


def test_plain_http_is_not_served(winrm_target):
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(f"http://{winrm_target.address}:5986/wsman", data=b"<x/>", timeout=5)


def test_a_certificate_other_than_the_pinned_one_is_refused(winrm_target, tmp_path):
    other_pem, _ = make_cert(winrm_target.address, "OTHERHOST")
    other = tmp_path / "other.pem"
    other.write_text(other_pem)
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        winrm_target.protocol(ca_trust_path=str(other)).open_shell()


def test_listener_certificate_is_the_vm_certificate(winrm_target):
    with socket.create_connection((winrm_target.address, 5986), timeout=5) as raw:
        context = ssl.create_default_context(cafile=str(winrm_target.cert_path))
        with context.wrap_socket(raw, server_hostname=winrm_target.address) as tls:
            der = tls.getpeercert(binary_form=True)
    assert ssl.DER_cert_to_PEM_cert(der).strip() == winrm_target.guest.listener.cert_pem.strip()


def test_client_not_allowed_by_nsg_is_refused(winrm_target):
    winrm_target.arm.allowed = {"203.0.113.7"}
    with pytest.raises(requests.exceptions.ConnectionError):
        winrm_target.protocol().open_shell()
    winrm_target.arm.allowed = {"127.0.0.1"}
    assert run_raw(winrm_target.protocol(), "hostname")[2] == 0


def test_unknown_action_is_a_wsman_fault(winrm_target):
    protocol = winrm_target.protocol()
    shell = protocol.open_shell()
    request = {
        "env:Envelope": protocol._get_soap_header(
            resource_uri="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd",
            action="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Disconnect",
            shell_id=shell,
        )
    }
    request["env:Envelope"]["env:Body"] = {}
    import xmltodict

    with pytest.raises(winrm.exceptions.WSManFaultError) as caught:
        protocol.send_message(xmltodict.unparse(request))
    assert caught.value.fault_subcode == "a:ActionNotSupported"
    assert "Disconnect" in winrm_target.host.unmodelled[0]["what"]


def test_message_encryption_is_rejected_clearly(winrm_target):
    protocol = winrm_target.protocol()
    protocol.open_shell()  # authenticates the pooled connection
    session = protocol.transport.session
    response = session.post(
        winrm_target.endpoint,
        data=b"--Encrypted Boundary--",
        headers={"Content-Type": 'multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted"'},
        verify=str(winrm_target.cert_path),
    )
    assert response.status_code == 400
    assert b"not simulated" in response.content


def test_signalled_command_is_gone(winrm_target):
    protocol = winrm_target.protocol()
    shell = protocol.open_shell()
    command = protocol.run_command(shell, "powershell", encoded("hostname"), console_mode_stdin=True)
    protocol.cleanup_command(shell, command)
    with pytest.raises(winrm.exceptions.WSManFaultError):
        protocol.get_command_output(shell, command)


def test_operation_timeout_fault_then_output(winrm_target):
    with winrm_target.host.lock:
        winrm_target.host.inject_fault(
            {"target": "winrm", "vm": "vm-test", "kind": "operation_timeout", "count": 2}
        )
    protocol = winrm_target.protocol()
    shell = protocol.open_shell()
    command = protocol.run_command(shell, "powershell", encoded("hostname"), console_mode_stdin=True)
    with pytest.raises(winrm.exceptions.WinRMOperationTimeoutError):
        protocol._raw_get_command_output(shell, command)
    # pywinrm (like Ansible) re-issues Receive after an OperationTimeout and then gets the output.
    assert protocol.get_command_output(shell, command) == (b"AVDBUILD01\r\n", b"", 0)
    assert winrm_target.vm.faults.remaining("operation_timeout") == 0


def _regedit_answer_lost(target, fault: dict, name: str, data: str):
    """Arm ``fault``, run win_regedit setting ``name``, and see its answer lost with the connection."""
    with target.host.lock:
        target.host.inject_fault({"target": "winrm", "vm": "vm-test", **fault})
    protocol = target.protocol()
    shell = protocol.open_shell()
    stdin = module_stdin(
        "ansible.windows.win_regedit", {"path": r"HKLM:\SOFTWARE\Avd", "name": name, "data": data}
    )
    command = protocol.run_command(shell, "powershell", bootstrap_args(), console_mode_stdin=False)
    protocol.send_command_input(shell, command, stdin, end=True)
    with pytest.raises(requests.exceptions.ConnectionError, match="without response"):
        protocol.get_command_output(shell, command)
    return protocol, shell, command


def test_dropped_connection_mid_command(winrm_target):
    protocol, shell, command = _regedit_answer_lost(winrm_target, {"kind": "drop_connection"}, "y", "2")
    # The command ran before the connection dropped (as on Windows); a reconnect gets its output.
    assert winrm_target.guest.registry == {r"HKLM:\SOFTWARE\Avd\y": "2"}
    stdout, _, rc = protocol.get_command_output(shell, command)
    assert rc == 0
    assert json.loads(stdout)["changed"] is True


def _boot_time(target) -> int:
    return int(run_raw(target.protocol(), _boot_probe())[0])


def _boot_probe() -> str:
    return (
        "(Get-CimInstance -ClassName Win32_OperatingSystem -Property LastBootUpTime)"
        ".LastBootUpTime.ToFileTime()"
        "; If (-not $?) { If (Get-Variable LASTEXITCODE -ErrorAction SilentlyContinue) "
        "{ exit $LASTEXITCODE } "
        "Else { exit 1 } }"
    )


def _reboot_script() -> str:
    return rf"""$ErrorActionPreference = 'Continue'

if ($True) {{
    Remove-Item -LiteralPath '{REBOOT_KEY}' -Force -ErrorAction SilentlyContinue
}}

$stdout = $null
$stderr = . {{ C:\Windows\System32\shutdown.exe /r /t 2 /c 'Reboot initiated by Ansible' | Set-Variable stdout }} 2>&1 | ForEach-Object ToString

If (Get-Variable LASTEXITCODE -ErrorAction SilentlyContinue) {{
    $rc = $LASTEXITCODE
}} Else {{
    $rc=1
}}

ConvertTo-Json -Compress -InputObject @{{
    stdout = (@($stdout) -join "`n")
    stderr = (@($stderr) -join "`n")
    rc = $rc
}}
"""  # noqa: E501 - the exact text ansible.windows sends


def _send_reboot(protocol: Protocol) -> tuple[bytes, bytes, int]:
    """Run the reboot script; no cleanup afterwards (the guest goes down right after answering)."""
    shell = protocol.open_shell()
    command = protocol.run_command(shell, "powershell", encoded(_reboot_script()), console_mode_stdin=True)
    return protocol.get_command_output(shell, command)


def _wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def _refuses(target) -> bool:
    try:
        socket.create_connection((target.address, 5986), timeout=1).close()
    except OSError:
        return True
    return False


def test_reboot_drops_connections_then_boot_time_changes(winrm_target):
    before = _boot_time(winrm_target)
    protocol = winrm_target.protocol()
    shell = protocol.open_shell()
    stdout, _, rc = _send_reboot(winrm_target.protocol())
    assert rc == 0 and json.loads(stdout) == {"stdout": "", "stderr": "", "rc": 0}
    _wait_until(lambda: _refuses(winrm_target), timeout=5)
    down_at = time.monotonic()
    _wait_until(lambda: not _refuses(winrm_target), timeout=10)
    assert time.monotonic() - down_at >= 0.3  # downtime 0.5 s in this fixture
    assert _boot_time(winrm_target) != before
    assert winrm_target.guest.reboots == 1
    # Shells did not survive the reboot.
    with pytest.raises(winrm.exceptions.WSManFaultError, match="shell was not found"):
        protocol.run_command(shell, "powershell", encoded("hostname"), console_mode_stdin=True)


def test_guest_reboot_fault_restarts_the_guest_after_the_command(winrm_target):
    # The guest restarts on its own right after the command ran: the answer is lost, the listener
    # goes down for the fault's downtime and the guest comes back with a new boot.
    reboots = winrm_target.guest.reboots
    _regedit_answer_lost(winrm_target, {"kind": "guest_reboot", "seconds": 2}, "z", "3")
    assert winrm_target.guest.registry == {r"HKLM:\SOFTWARE\Avd\z": "3"}
    _wait_until(lambda: _refuses(winrm_target), timeout=5)
    _wait_until(lambda: not _refuses(winrm_target), timeout=10)
    assert winrm_target.guest.reboots == reboots + 1
    assert winrm_target.vm.faults.remaining("guest_reboot") == 0


def test_slow_reboot_fault_lengthens_downtime(winrm_target):
    with winrm_target.host.lock:
        winrm_target.host.inject_fault(
            {"target": "winrm", "vm": "vm-test", "kind": "slow_reboot", "seconds": 2}
        )
    _send_reboot(winrm_target.protocol())
    _wait_until(lambda: _refuses(winrm_target), timeout=5)
    down_at = time.monotonic()
    _wait_until(lambda: not _refuses(winrm_target), timeout=10)
    assert time.monotonic() - down_at >= 1.5


def test_power_cycle_stops_and_restarts_the_listener(winrm_target):
    host, vm_id = winrm_target.host, winrm_target.guest.vm_id
    with host.lock:
        host.vm_power(vm_id, "stopped")
    assert _refuses(winrm_target)
    with host.lock:
        host.vm_power(vm_id, "running")
    _wait_until(lambda: not _refuses(winrm_target))
    with host.lock:
        host.vm_deleted(vm_id)
    assert _refuses(winrm_target)


def test_new_listener_certificate_rebinds(winrm_target, tmp_path):
    cert_pem, key_pem = make_cert(winrm_target.address, "AVDBUILD01")
    with winrm_target.host.lock:
        winrm_target.guest.listener = WinRMListener(cert_pem, key_pem)
        winrm_target.vm.reconcile()
    with pytest.raises(requests.exceptions.SSLError):
        winrm_target.protocol().open_shell()  # still pinning the old certificate
    fresh = tmp_path / "fresh.pem"
    fresh.write_text(cert_pem)
    assert run_raw(winrm_target.protocol(ca_trust_path=str(fresh)), "hostname")[2] == 0


def test_unknown_fault_kind_goes_to_the_guest(winrm_target):
    with winrm_target.host.lock, pytest.raises(ValueError, match="unknown fault kind"):
        winrm_target.host.inject_fault({"target": "winrm", "vm": "vm-test", "kind": "bitlocker_on"})


def test_guest_requested_shutdown_reaches_arm_after_the_answer(winrm_target):
    stdout, _, rc = run_module_via(
        winrm_target.protocol(),
        module_stdin("ansible.windows.win_shell", {"_raw_params": "shutdown /s /t 0"}),
    )
    assert rc == 0 and json.loads(stdout)["changed"] is True
    # The real guest forwards shutdown() to ArmCallbacks.guest_shutdown; the fake only records it.
    _wait_until(lambda: ("shutdown", None) in winrm_target.guest.calls, timeout=5)


def test_guest_requested_reboot_takes_the_listener_down(winrm_target):
    before = _boot_time(winrm_target)
    protocol = winrm_target.protocol()
    shell = protocol.open_shell()
    stdin = module_stdin("ansible.windows.win_shell", {"_raw_params": "shutdown /r /t 5"})
    command = protocol.run_command(shell, "powershell", bootstrap_args(), console_mode_stdin=False)
    protocol.send_command_input(shell, command, stdin, end=True)
    assert protocol.get_command_output(shell, command)[2] == 0
    _wait_until(lambda: _refuses(winrm_target), timeout=5)
    _wait_until(lambda: not _refuses(winrm_target), timeout=10)
    assert winrm_target.guest.reboots == 1
    assert _boot_time(winrm_target) != before


def test_large_output_comes_in_several_receives(winrm_target):
    from ansible.executor.powershell import module_manifest

    payload = bytes(range(256)) * 2000  # 512000 bytes -> ~683 KB of base64 on stdout
    winrm_target.guest.files[r"c:\data\big.bin"] = payload
    script, stdin = module_manifest._bootstrap_powershell_script(
        "winrm_fetch_file.ps1", {"Path": r"C:\data\big.bin", "BufferSize": 524288, "Offset": 0}
    )
    protocol = winrm_target.protocol()
    shell = protocol.open_shell()
    command = protocol.run_command(shell, "powershell", encoded(script), console_mode_stdin=False)
    protocol.send_command_input(shell, command, stdin, end=True)
    first_out, _, first_rc, first_done = protocol._raw_get_command_output(shell, command)
    assert first_done is False and first_rc == -1
    assert 0 < len(first_out) < 153600
    rest_out, _, rc = protocol.get_command_output(shell, command)
    assert rc == 0
    assert base64.b64decode((first_out + rest_out).strip()) == payload
