"""Script recognition against the exact payloads ansible-core and ansible.windows build (no network)."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field

import pytest
from ansible.executor.powershell import module_manifest
from ansible.module_utils.common.text.converters import to_text

from sandbox.windows.transport import CommandLine, decode_encoded_command, run_command
from tests.support.winrm_fakes import FakeGuest


@dataclass
class Runtime:
    guest: FakeGuest = field(default_factory=FakeGuest)
    unmodelled: list[str] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)

    def record_unmodelled(self, what: str) -> None:
        self.unmodelled.append(what)

    def count_module(self, module: str) -> None:
        self.modules.append(module)


def pwsh(script: str) -> CommandLine:
    from ansible._internal._powershell import _script

    parts = _script.get_pwsh_encoded_cmdline(script, override_execution_policy=True)
    return CommandLine(parts[0], parts[1:], console_mode_stdin=False)


def test_decode_encoded_command_shapes():
    script = "hostname"
    b64 = base64.b64encode(script.encode("utf-16-le")).decode()
    assert decode_encoded_command(f"powershell -NoProfile -EncodedCommand {b64}") == "hostname"
    assert (
        decode_encoded_command(f"PowerShell -NoProfile -NonInteractive -EncodedCommand {b64}") == "hostname"
    )
    assert decode_encoded_command(f"cmd.exe /c powershell -EncodedCommand {b64}") is None
    assert decode_encoded_command(f"powershell -EncodedCommand {b64} -EncodedArguments abc") is None
    assert decode_encoded_command("powershell -EncodedCommand !!notbase64") is None


def test_mkdtemp_put_file_fetch_and_cleanup_as_ansible_sends_them():
    runtime = Runtime()
    script, stdin = module_manifest._bootstrap_powershell_script(
        "powershell_mkdtemp.ps1", {"Directory": "%TEMP%", "Name": "ansible-tmp-1"}
    )
    out = run_command(runtime, pwsh(script), stdin)
    tmp = out.stdout.strip()
    assert out.rc == 0 and tmp == r"C:\Users\avdadmin\AppData\Local\Temp\ansible-tmp-1"

    payload = b"golden image bits\x00\xff" * 5000
    script, stdin = module_manifest._bootstrap_powershell_script(
        "winrm_put_file.ps1", {"Path": tmp + r"\source"}, has_input=True
    )
    lines = b"".join(base64.b64encode(payload[i : i + 1000]) + b"\r\n" for i in range(0, len(payload), 1000))
    out = run_command(runtime, pwsh(script), stdin + lines)
    assert json.loads(out.stdout) == {"sha1": hashlib.sha1(payload).hexdigest()}  # noqa: S324
    assert runtime.guest.files[(tmp + r"\source").lower()] == payload

    script, stdin = module_manifest._bootstrap_powershell_script(
        "winrm_fetch_file.ps1", {"Path": tmp + r"\source", "BufferSize": 4096, "Offset": 4096}
    )
    out = run_command(runtime, pwsh(script), stdin)
    assert base64.b64decode(out.stdout.strip()) == payload[4096:8192]
    script, stdin = module_manifest._bootstrap_powershell_script(
        "winrm_fetch_file.ps1", {"Path": r"C:\missing.txt", "BufferSize": 4096, "Offset": 0}
    )
    out = run_command(runtime, pwsh(script), stdin)
    assert out.rc == 1 and "does not exist" in out.stderr

    from ansible.plugins.loader import shell_loader

    shell = shell_loader.get("powershell")
    remove = shell.remove(tmp + "\\", recurse=True)
    out = run_command(runtime, CommandLine(remove), b"")
    assert out.rc == 0
    assert not any(key.startswith(tmp.lower()) for key in runtime.guest.files)
    assert runtime.unmodelled == []


def test_module_manifest_built_by_ansible_dispatches_with_flags():
    runtime = Runtime()
    stdin = module_manifest._create_powershell_wrapper(
        name="ansible_collections.ansible.windows.plugins.modules.win_ping",
        module_data=b"#!powershell\n#AnsibleRequires -CSharpUtil Ansible.Basic\n",
        module_path="/x/win_ping.ps1",
        module_args={
            "data": "hi",
            "_ansible_check_mode": True,
            "_ansible_diff": True,
            "_ansible_no_log": False,
        },
        environment={},
        async_timeout=0,
        become_plugin=None,
        substyle="powershell",
        task_vars={},
        profile="legacy",
    )
    script = to_text(module_manifest._get_powershell_script("bootstrap_wrapper.ps1"))
    out = run_command(runtime, pwsh(script), stdin)
    assert json.loads(out.stdout) == {"changed": False, "ping": "hi"}
    assert runtime.guest.calls[-1] == ("module", ("ansible.windows.win_ping", {"data": "hi"}, True, True))
    assert runtime.modules == ["ansible.windows.win_ping"]


def test_async_manifest_starts_a_job_and_writes_its_result():
    runtime = Runtime()
    stdin = module_manifest._create_powershell_wrapper(
        name="ansible_collections.ansible.windows.plugins.modules.win_ping",
        module_data=b"#!powershell\n",
        module_path="/x/win_ping.ps1",
        module_args={"data": "later"},
        environment={"ANSIBLE_ASYNC_DIR": r"%USERPROFILE%\.ansible_async"},
        async_timeout=30,
        become_plugin=None,
        substyle="powershell",
        task_vars={},
        profile="legacy",
    )
    script = to_text(module_manifest._get_powershell_script("bootstrap_wrapper.ps1"))
    started = json.loads(run_command(runtime, pwsh(script), stdin).stdout)
    assert started["started"] is True and started["finished"] is False
    jid = started["ansible_job_id"]
    record = json.loads(runtime.guest.files[started["results_file"].lower()])
    assert record["finished"] is True and record["ping"] == "later" and record["ansible_job_id"] == jid


def test_unknown_exec_script_is_not_simulated():
    runtime = Runtime()
    script, stdin = module_manifest._bootstrap_powershell_script("psrp_put_file.ps1", {"Path": "x"})
    out = run_command(runtime, pwsh(script), stdin)
    assert out.rc == 1 and "not simulated: exec script psrp_put_file.ps1" in out.stderr
    assert runtime.unmodelled


def test_stdin_for_a_script_other_than_the_bootstrap_wrapper_is_refused():
    runtime = Runtime()
    out = run_command(runtime, pwsh("Write-Output $input"), b"data")
    assert out.rc == 1 and out.stderr.startswith("not simulated: script with stdin")


class _RebootConnection:
    """A connection plugin stand-in that runs win_reboot's commands through the transport.

    After the reboot command it fails once (the host went away), then the guest has rebooted."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.commands: list[str] = []
        self.down = False
        self.reboots_requested = 0
        self.options = {"connection_timeout": 5}

    def get_option(self, name):
        return self.options[name]

    def set_option(self, name, value):
        self.options[name] = value

    def reset(self):
        pass

    def close(self):
        pass

    def exec_command(self, cmd, in_data=None, sudoable=True):
        from ansible.errors import AnsibleConnectionFailure

        if self.down:
            self.down = False
            self.runtime.guest.reboot()
            raise AnsibleConnectionFailure("Remote end closed connection without response")
        out = run_command(self.runtime, CommandLine(cmd), b"")
        self.commands.append(decode_encoded_command(cmd) or cmd)
        if out.reboot:
            self.down = True
            self.reboots_requested += 1
        return out.rc, out.stdout.encode(), out.stderr.encode()


def test_win_reboot_plugin_utils_round_trip():
    from ansible_collections.ansible.windows.plugins.plugin_utils import _reboot

    runtime = Runtime()
    connection = _RebootConnection(runtime)
    result = _reboot.reboot_host("ansible.windows.win_reboot", connection, reboot_timeout=30)
    assert result["rebooted"] is True and not result.get("failed"), result
    assert connection.reboots_requested == 1 and runtime.guest.reboots == 1
    assert runtime.unmodelled == []
    assert any("shutdown.exe /r /t 2" in c for c in connection.commands)
    assert "success-" in connection.commands[-1]


@pytest.mark.parametrize(
    "script",
    [
        "Get-Item -LiteralPath 'HKLM:\\SOFTWARE\\Other' -ErrorAction Stop; 'success-1'",
        "C:\\Windows\\System32\\shutdown.exe /s /t 0",
    ],
)
def test_look_alike_scripts_go_to_the_guest_and_fail_loudly(script):
    runtime = Runtime()
    out = run_command(runtime, pwsh(script), b"")
    assert out.rc == 1 and out.stderr.startswith("not simulated:")
