"""What runs behind a WinRM command: exec manifests, action-plugin scripts and raw PowerShell.

The WS-Man layer (wsman.py) hands over each Command (command line + stdin); this module decides what
Windows would have done and produces (stdout, stderr, exit code). It never guesses: a command line,
exec script or raw script it does not know yields a "not simulated: ..." failure and a recorded
entry (``Runtime.record_unmodelled``) so tests can fail on it.

Shapes recognised (from ansible-core 2.21 and ansible.windows 3.8 source):
- ``powershell ... -EncodedCommand <bootstrap_wrapper.ps1>`` with stdin = bootstrap manifest JSON,
  ``\\n\\0\\0\\0\\0\\n``, exec manifest JSON[, ``\\n\\0\\0\\0\\0\\n``, input lines]. The exec manifest's
  actions name what runs: ``module_wrapper.ps1`` (a module; preceded by ``become_wrapper.ps1`` and/or
  ``async_wrapper.ps1`` + ``async_watchdog.ps1``), ``powershell_mkdtemp.ps1``,
  ``powershell_expand_user.ps1``, ``winrm_put_file.ps1``, ``winrm_fetch_file.ps1``.
- Raw encoded scripts: win_reboot's boot-time probe, reboot script, ``shutdown.exe /a`` and test
  command; the shell plugin's ``Remove-Item <path> -Force -Recurse``; anything else goes to
  ``Guest.run_raw`` (the ``raw`` module).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sandbox.guest_api import NotModelled
from sandbox.windows.guest import Guest, StillRunning

NUL_SEPARATOR = b"\n\0\0\0\0\n"
_LOGON_UI_KEY = r"HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\AutoLogonChecked"
_BOOT_TIME_COMMAND = (
    "(Get-CimInstance -ClassName Win32_OperatingSystem -Property LastBootUpTime).LastBootUpTime.ToFileTime()"
)
# What win_reboot (ansible.windows plugin_utils/_reboot.py) appends to every command it runs.
_RC_SUFFIX = (
    "; If (-not $?) { If (Get-Variable LASTEXITCODE -ErrorAction SilentlyContinue) "
    "{ exit $LASTEXITCODE } Else { exit 1 } }"
)
_REBOOT_RE = re.compile(
    r"^\$ErrorActionPreference = 'Continue'\s+if \(\$(?P<remove>True|False)\) \{\s+Remove-Item -LiteralPath "
    r"'(?P<key>[^']+)' -Force -ErrorAction SilentlyContinue\s+\}\s+\$stdout = \$null\s+"
    r"\$stderr = \. \{ C:\\Windows\\System32\\shutdown\.exe /r /t (?P<delay>\d+) /c (?P<msg>.+?) "
    r"\| Set-Variable stdout \} 2>&1 \| ForEach-Object ToString\s+.*ConvertTo-Json -Compress -InputObject @\{"
    r"\s+stdout = .*\s+stderr = .*\s+rc = \$rc\s+\}\s*$",
    re.S,
)
_TEST_RE = re.compile(
    r"^Get-Item -LiteralPath '(?P<key>[^']+)' -ErrorAction Stop; '(?P<token>success-[0-9a-f-]{36})'$"
)
_REMOVE_RE = re.compile(r"^Remove-Item (?P<path>'(?:[^']|'')*'|[^\s']+) -Force(?P<recurse> -Recurse)?$")
# The shell plugin quotes the base64 argument ('...') when it holds + / or =.
_ENCODED_RE = re.compile(
    r"(?i)(?:^|\s)-EncodedCommand\s+(?P<q>'?)(?P<b64>[A-Za-z0-9+/=]+)(?P=q)(?P<rest>.*)$", re.S
)
_EXE_RE = re.compile(
    r"(?i)^\s*\"?(?:[a-z]:\\windows\\system32\\windowspowershell\\v1\.0\\)?powershell(?:\.exe)?\"?\s"
)


_WINLOGON_LISTING = (
    "\r\n    Hive: HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\r\n\r\n"
    "Name                           Property\r\n"
    "----                           --------\r\nAutoLogonChecked\r\n"
)


class Runtime(Protocol):
    """What the transport needs from the listener that owns the guest (implemented in host.py)."""

    guest: Guest

    def record_unmodelled(self, what: str) -> None:
        """Remember something the sandbox does not simulate (tests fail on it)."""

    def count_module(self, module: str) -> None:
        """One module invocation (for benchmarks and dumps)."""


@dataclass
class Outcome:
    """What a command printed and its exit code."""

    stdout: str = ""
    stderr: str = ""
    rc: int = 0
    # The guest accepted a reboot (shutdown.exe /r): it goes down once this output was delivered.
    reboot: bool = False
    # The process is still running with nothing written yet: asked again at each Receive.
    pending: Callable[[], Outcome | None] | None = None


@dataclass
class CommandLine:
    """A WinRS command: executable + arguments as the client sent them, and the stdin mode."""

    command: str
    arguments: list[str] = field(default_factory=list)
    console_mode_stdin: bool = True

    @property
    def text(self) -> str:
        return " ".join([self.command, *self.arguments])


def _not_simulated(runtime: Runtime, what: str) -> Outcome:
    runtime.record_unmodelled(what)
    return Outcome(stderr=f"not simulated: {what}\r\n", rc=1)


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return "<empty>"


def decode_encoded_command(cmdline: str) -> str | None:
    """The script of ``powershell ... -EncodedCommand <b64>`` (UTF-16LE), or None if not that shape."""
    if not _EXE_RE.match(cmdline + " "):
        return None
    match = _ENCODED_RE.search(cmdline)
    if match is None or match.group("rest").strip():
        # -EncodedArguments (script with args) is not something our content sends.
        return None
    try:
        return base64.b64decode(match.group("b64"), validate=True).decode("utf-16-le")
    except (binascii.Error, UnicodeDecodeError):
        return None


@functools.cache
def _ansible_script(name: str) -> str:
    """The exact text ansible-core sends for one of its executor PowerShell scripts."""
    from ansible.executor.powershell import module_manifest

    return module_manifest._get_powershell_script(name).decode()


def run_command(runtime: Runtime, cmd: CommandLine, stdin: bytes) -> Outcome:
    """Execute one WinRS command as the guest would and return its output."""
    script = decode_encoded_command(cmd.text)
    if script is None:
        return _not_simulated(runtime, f"command line {cmd.text[:120]!r}")
    if stdin:
        if script != _ansible_script("bootstrap_wrapper.ps1"):
            return _not_simulated(runtime, f"script with stdin: {_first_line(script)}")
        return _run_bootstrap(runtime, stdin)
    return _run_raw_script(runtime, script)


# --- exec manifests --------------------------------------------------------------------------------


def _run_bootstrap(runtime: Runtime, stdin: bytes) -> Outcome:
    parts = stdin.split(NUL_SEPARATOR, 2)
    if len(parts) < 2:
        return _not_simulated(runtime, "bootstrap input without an exec manifest")
    try:
        bootstrap = json.loads(parts[0])
        manifest = json.loads(parts[1])
    except ValueError as exc:
        return _not_simulated(runtime, f"exec manifest that is not JSON ({exc})")
    if bootstrap.get("name") != "exec_wrapper":
        return _not_simulated(runtime, f"bootstrap manifest {bootstrap.get('name')!r}")
    input_data = parts[2] if len(parts) == 3 else None
    actions = manifest.get("actions") or []
    names = [a.get("name") for a in actions]
    if not actions:
        return _not_simulated(runtime, "exec manifest without actions")
    last = actions[-1]
    params = last.get("params") or {}
    if names[-1] == "module_wrapper.ps1":
        return _run_module_action(runtime, actions, params)
    if len(actions) != 1:
        return _not_simulated(runtime, f"exec manifest actions {names}")
    try:
        if names[0] == "powershell_mkdtemp.ps1":
            path = runtime.guest.mkdtemp(str(params["Directory"]), str(params["Name"]))
            return Outcome(stdout=path + "\r\n")
        if names[0] == "powershell_expand_user.ps1":
            return Outcome(stdout=_expand_user(runtime.guest, str(params["Path"])) + "\r\n")
        if names[0] == "winrm_put_file.ps1":
            return _put_file(runtime, str(params["Path"]), input_data)
        if names[0] == "winrm_fetch_file.ps1":
            return _fetch_file(runtime, str(params["Path"]), int(params["BufferSize"]), int(params["Offset"]))
    except NotModelled as exc:
        return _not_simulated(runtime, str(exc))
    except KeyError as exc:
        return _not_simulated(runtime, f"{names[0]} without parameter {exc}")
    return _not_simulated(runtime, f"exec script {names[0]}")


def _module_fqcn(script: str, complex_args: dict[str, Any]) -> str:
    match = re.fullmatch(r"ansible_collections\.([^.]+)\.([^.]+)\.plugins\.modules\.(.+)\.ps1", script)
    if match:
        return ".".join(match.groups())
    return str(complex_args.get("_ansible_module_name") or script)


def _run_module_action(runtime: Runtime, actions: list[dict], params: dict) -> Outcome:
    wrappers = [a.get("name") for a in actions[:-1]]
    script = str(params.get("Script", ""))
    if not params.get("ForModule"):
        return _not_simulated(runtime, f"script {script} (only modules are simulated)")
    unknown = [
        w for w in wrappers if w not in ("become_wrapper.ps1", "async_wrapper.ps1", "async_watchdog.ps1")
    ]
    if unknown:
        return _not_simulated(runtime, f"exec wrapper action(s) {unknown}")
    complex_args: dict[str, Any] = {}
    for variable in params.get("Variables") or []:
        if variable.get("Name") == "complex_args":
            complex_args = dict(variable.get("Value") or {})
    module = _module_fqcn(script, complex_args)
    args = {k: v for k, v in complex_args.items() if not k.startswith("_ansible_")}
    internal = {k: v for k, v in complex_args.items() if k.startswith("_ansible_")}
    runtime.count_module(module)
    try:
        result = runtime.guest.run_module(
            module,
            args,
            check_mode=bool(internal.get("_ansible_check_mode")),
            diff=bool(internal.get("_ansible_diff")),
            module_path=script,
            internal=internal,
        )
    except NotModelled as exc:
        runtime.record_unmodelled(f"{module}: {exc}")
        result = {"failed": True, "msg": f"not simulated: {module}: {exc}"}
    except StillRunning as running:
        if "async_wrapper.ps1" in wrappers:
            return _not_simulated(runtime, f"{module}: a blocking module under async")
        resume = running.resume
        return Outcome(pending=lambda: _module_outcome(resume()))
    if "async_wrapper.ps1" in wrappers:
        return _finish_async(runtime, actions, result)
    return _module_outcome(result)


def _module_outcome(result: dict[str, Any] | None) -> Outcome | None:
    if result is None:
        return None
    return Outcome(stdout=json.dumps(result) + "\r\n", rc=1 if result.get("failed") else 0)


def _finish_async(runtime: Runtime, actions: list[dict], result: dict[str, Any]) -> Outcome:
    """async_wrapper.ps1 answers the job id at once; the watchdog later writes the final record.

    The module already ran, so the final record is written now and the first status poll sees it.
    """
    wrapper = next(a for a in actions if a.get("name") == "async_wrapper.ps1")
    params = wrapper.get("params") or {}
    pid = 1000 + secrets.randbelow(60000)  # the watchdog process id a real guest would report
    jid = f"{params['AsyncJid']}.{pid}"  # async_wrapper.ps1: "$AsyncJid.$pid"
    record = {
        "started": True,
        "finished": False,
        "ansible_job_id": jid,
        "_ansible_suppress_tmpdir_delete": True,
        "ansible_async_watchdog_pid": pid,
    }
    final = dict(record, **result, finished=True)
    path = runtime.guest.write_async_result(str(params["AsyncDir"]), jid, final)
    record["results_file"] = path
    return Outcome(stdout=json.dumps(record) + "\r\n")


def _expand_user(guest: Guest, path: str) -> str:
    home = f"C:\\Users\\{guest.admin_username}"
    if path == "~":
        return home
    if path.startswith("~\\"):
        return home + path[1:]
    return path


def _put_file(runtime: Runtime, path: str, input_data: bytes | None) -> Outcome:
    if input_data is None:
        return _not_simulated(runtime, "winrm_put_file.ps1 without input")
    data = bytearray()
    for line in input_data.split(b"\n"):
        line = line.strip()
        if line:
            data += base64.b64decode(line)
    runtime.guest.put_file(path, bytes(data))
    return Outcome(stdout=json.dumps({"sha1": hashlib.sha1(data).hexdigest()}) + "\r\n")  # noqa: S324 - protocol


def _fetch_file(runtime: Runtime, path: str, buffer_size: int, offset: int) -> Outcome:
    try:
        data = runtime.guest.read_file(path)
    except IsADirectoryError:
        return Outcome(stdout="[DIR]\r\n")
    except FileNotFoundError:
        return Outcome(stderr=f"{path} does not exist\r\n", rc=1)
    chunk = data[offset : offset + buffer_size]
    return Outcome(stdout=(base64.b64encode(chunk).decode() + "\r\n") if chunk else "")


# --- raw scripts -------------------------------------------------------------------------------------


def _run_raw_script(runtime: Runtime, script: str) -> Outcome:
    body = script[: -len(_RC_SUFFIX)] if script.endswith(_RC_SUFFIX) else script
    guest = runtime.guest
    if body.strip() == _BOOT_TIME_COMMAND:
        return Outcome(stdout=f"{guest.boot_time_filetime()}\r\n")
    match = _REBOOT_RE.match(body)
    if match:
        return Outcome(stdout=json.dumps({"stdout": "", "stderr": "", "rc": 0}) + "\r\n", reboot=True)
    if body.strip() == r"C:\Windows\System32\shutdown.exe /a":
        # Reached only when win_reboot saw 1190; we never report that, so nothing is scheduled.
        return Outcome(
            stderr="Unable to abort the system shutdown because no shutdown was in progress.(1116)\r\n",
            rc=1116,
        )
    match = _TEST_RE.match(body.strip())
    if match and match.group("key") == _LOGON_UI_KEY:
        # LogonUI recreates the key at every boot (Guest.reboot) so after a reboot it exists.
        return Outcome(stdout=f"{_WINLOGON_LISTING}{match.group('token')}\r\n")
    match = _REMOVE_RE.match(body.strip())
    if match:
        path = match.group("path")
        if path.startswith("'"):
            path = path[1:-1].replace("''", "'")
        try:
            guest.remove_path(path)
        except NotModelled as exc:
            return _not_simulated(runtime, str(exc))
        return Outcome()
    try:
        stdout, stderr, rc = guest.run_raw(script)
    except NotModelled as exc:
        return _not_simulated(runtime, f"{_first_line(script)} ({exc})")
    return Outcome(stdout, stderr, rc)
