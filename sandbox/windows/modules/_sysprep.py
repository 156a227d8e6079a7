"""sysprep.exe and shutdown.exe as the simulated guest runs them.

Sysprep (generalize) validates like the real one, in the same order as its providers run:
pending servicing reboot (Sysprep_Clean_Validate_Opk), AppX packages installed for a user but not
provisioned (AppxSysprep.dll SysprepGeneralizeValidate, 0x80073cf2), BitLocker on the OS volume
(BdeSysprep.dll ValidateBitLockerState, 0x80310039), then an injected generic failure. A failed run
leaves ImageState unchanged and writes real-looking lines to
C:\\Windows\\System32\\Sysprep\\Panther\\setupact.log and setuperr.log; a successful run sets
ImageState to IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE, writes Sysprep_succeeded.tag, resets the WinRM
listener configuration for the next boot (the running WinRM service keeps answering until the guest
goes down, which is what lets callers poll ImageState after /quit) and, with /shutdown, asks for a
power-off once its answer is out (WindowsState.request_power).

[Unc] sysprep.exe's exit code is not a reliable failure signal (AIB and Packer poll ImageState and
read the Panther logs instead); the simulation exits 0 after a validation failure too, so the product
must check ImageState and the logs. An invalid command line exits 1.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sandbox.guest_api import NotModelled

if TYPE_CHECKING:
    from sandbox.windows.state import WindowsState

SYSPREP_EXE = r"C:\Windows\System32\Sysprep\sysprep.exe"
SHUTDOWN_EXE = r"C:\Windows\System32\shutdown.exe"
SETUPACT = r"C:\Windows\System32\Sysprep\Panther\setupact.log"
SETUPERR = r"C:\Windows\System32\Sysprep\Panther\setuperr.log"
SUCCEEDED_TAG = r"C:\Windows\System32\Sysprep\Sysprep_succeeded.tag"

_SWITCHES = {"generalize", "oobe", "audit", "quiet", "quit", "shutdown", "reboot", "mode:vm"}


@dataclass
class ProcessResult:
    stdout: str = ""
    stderr: str = ""
    rc: int = 0
    after: str | None = None  # "shutdown" | "reboot": power action once the result is returned
    delay: float = 0.0  # seconds before it (shutdown.exe /t)


class _Log:
    def __init__(self, state: WindowsState) -> None:
        self.state = state
        self.act: list[str] = []
        self.err: list[str] = []

    def line(self, level: str, code: str, text: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self.state._now()))
        tag = f"[{code}]" if code else ""
        entry = f"{stamp}, {level:<10} {tag:<10} SYSPRP {text}"
        self.act.append(entry)
        if level == "Error":
            self.err.append(entry)

    def flush(self) -> None:
        fs = self.state.fs
        fs.mkdir(r"C:\Windows\System32\Sysprep\Panther")
        for path, lines in ((SETUPACT, self.act), (SETUPERR, self.err)):
            old = fs.read(path) if fs.is_file(path) else b""
            new = "".join(f"{x}\r\n" for x in lines).encode("utf-8")
            fs.write(path, old + new)


def parse_sysprep_args(args: list[str]) -> tuple[set[str], str | None]:
    """Switches (lower-case, without '/') and the /unattend file. ValueError names a bad switch."""
    switches: set[str] = set()
    unattend = None
    for arg in args:
        if not arg.startswith("/"):
            raise ValueError(f"invalid command-line argument '{arg}'")
        sw = arg[1:].lower()
        if sw.startswith("unattend:"):
            unattend = arg[len("/unattend:") :]
            continue
        if sw.startswith("mode:") and sw != "mode:vm":
            raise ValueError(f"invalid mode '{arg}'; the only mode is /mode:vm")
        if sw not in _SWITCHES:
            raise ValueError(f"unknown command-line switch '{arg}'")
        switches.add(sw)
    if {"oobe", "audit"} <= switches:
        raise ValueError("/oobe and /audit cannot be used together")
    if not switches & {"oobe", "audit"}:
        raise ValueError("one of /oobe or /audit is required")
    if len(switches & {"quit", "shutdown", "reboot"}) > 1:
        raise ValueError("only one of /quit, /shutdown or /reboot may be given")
    if "mode:vm" in switches:
        if "generalize" not in switches:
            raise ValueError("/mode:vm is only supported together with /generalize")
        if "audit" in switches:
            raise ValueError("/mode:vm is only supported with /oobe")
        if unattend is not None:
            raise ValueError("/mode:vm cannot be used with /unattend")
    return switches, unattend


def sysprep(state: WindowsState, args: list[str]) -> ProcessResult:
    """Run sysprep.exe with ``args`` (already split)."""
    log = _Log(state)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(state._now()))
    log.line("Info", "", "========================================================")
    log.line("Info", "", "===          Beginning of a new sysprep run          ===")
    log.line("Info", "", "========================================================")
    log.line("Info", "0x0f004d", f"The time is now {stamp}")
    log.line("Info", "0x0f004e", "Initialized SysPrep log at C:\\Windows\\System32\\Sysprep\\Panther")
    log.line("Info", "0x0f0054", "ValidatePrivileges:User has required privileges to sysprep machine")
    if state.fs.exists(SUCCEEDED_TAG):
        log.line("Info", "0x0f007e", f"FCreateTagFile:Tag file {SUCCEEDED_TAG} already exists, deleting it")
    else:
        log.line(
            "Info",
            "0x0f007e",
            f"FCreateTagFile:Tag file {SUCCEEDED_TAG} does not already exist, no need to delete anything",
        )
    try:
        switches, unattend = parse_sysprep_args(args)
    except ValueError as exc:
        log.line("Error", "0x0f0049", f"WinMain:Invalid command line: {exc}")
        log.flush()
        return ProcessResult(stderr=f"Sysprep: {exc}\r\n", rc=1)
    if unattend is not None:
        raise NotModelled(
            "sysprep /unattend:<file> is not simulated (Azure does not support custom unattend files)"
        )
    if "generalize" not in switches or "audit" in switches:
        raise NotModelled(f"sysprep without /generalize /oobe is not simulated: {' '.join(args)}")
    if "reboot" in switches:
        raise NotModelled("sysprep /reboot is not simulated (the VM would boot into OOBE and specialize)")
    if not switches & {"quit", "shutdown"}:
        raise NotModelled("sysprep without /quit or /shutdown is not simulated")
    state.sysprep_runs += 1
    state.fs.remove(SUCCEEDED_TAG)
    for arg in args:
        option = arg[1:].split(":", 1)[0].upper()
        log.line("Info", "0x0f005f", f"ParseCommands:Found supported command line option '{option}'")
    if "mode:vm" in switches:
        log.line("Info", "0x0f00b7", "WinMain:Sysprep mode [vm]; was specified")
    hr = _validate(state, log)
    if hr is None:
        state.set_image_state("IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE")
        log.line(
            "Info",
            "",
            "ActionPlatform::LaunchModule: Successfully executed 'SysprepGeneralize' from "
            "C:\\Windows\\System32\\spbcd.dll",
        )
        log.line("Info", "", "SysprepSession::Execute: Completed executing Sysprep session actions")
        log.line(
            "Info",
            "",
            "OrchestrateUpdateImageState: Updating image state from [IMAGE_STATE_COMPLETE] --> "
            "[IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE]",
        )
        log.line("Info", "0x0f007e", f"FCreateTagFile:Tag file {SUCCEEDED_TAG} created")
        log.line("Info", "0x0f003d", "WinMain:Completed the requested action (generalize) successfully;")
        state.fs.write(SUCCEEDED_TAG, b"")
        # Generalize resets the WinRM configuration for the next boot (OOBE/specialize); the running
        # service keeps its listener, so ImageState can still be polled over WinRM after /quit.
        state.listener_reset_at_boot = True
        action = "shutdown" if "shutdown" in switches else None
        log.line("Info", "0x0f0052", "WinMain:Shutting down..." if action else "WinMain:Quitting...")
        log.flush()
        return ProcessResult(after=action)
    # Validation failures stop before generalize runs; an action failing during generalize is "processing".
    phase = "processing" if hr == "0x80070005" else "pre-validate"
    log.line(
        "Error",
        "0x0f00a8" if phase == "processing" else "0x0f00d8",
        f"WinMain:Hit failure while {phase} sysprep generalize internal providers; hr = {hr}",
    )
    log.flush()
    return ProcessResult()


def _pending_reboot(state: WindowsState, log: _Log) -> str | None:
    """Windows updates waiting for a reboot (spopk.dll)."""
    if state.pending_reboot_reasons():
        log.line(
            "Error",
            "",
            "Sysprep_Clean_Validate_Opk: There are one or more Windows updates that require a "
            "reboot. To run Sysprep, reboot the computer and restart Sysprep.[gle=0x0000000d]",
        )
        log.line(
            "Error",
            "0x0f0082",
            "ActionPlatform::LaunchModule: Failure occurred while executing "
            "'Sysprep_Clean_Validate_Opk' from C:\\Windows\\System32\\spopk.dll; dwRet = 0xd",
        )
        log.line(
            "Error",
            "",
            "SysprepSession::Validate: Error in validating actions from "
            "C:\\Windows\\System32\\Sysprep\\ActionFiles\\Cleanup.xml; dwRet = 0xd",
        )
        return "0x8007000d"
    return None


def _user_only_appx(state: WindowsState, log: _Log) -> str | None:
    """AppX packages installed for a user but not provisioned (AppxSysprep.dll)."""
    bad = state.appx_not_provisioned()
    if bad:
        for _user, full_name in bad:
            log.line(
                "Error",
                "",
                f"Package {full_name} was installed for a user, but not provisioned for all users. "
                "This package will not function properly in the sysprep image.",
            )
        log.line("Error", "", "Failed to remove apps for the current user: 0x80073cf2.")
        log.line("Error", "", "Exit code of RemoveAllApps thread was 0x3cf2.")
        log.line(
            "Error",
            "0x0f0082",
            "ActionPlatform::LaunchModule: Failure occurred while executing "
            "'SysprepGeneralizeValidate' from C:\\Windows\\System32\\AppxSysprep.dll; dwRet = 0x3cf2",
        )
        log.line(
            "Error",
            "",
            "SysprepSession::Validate: Error in validating actions from "
            "C:\\Windows\\System32\\Sysprep\\ActionFiles\\Generalize.xml; dwRet = 0x3cf2",
        )
        log.line(
            "Error", "", "RunPlatformActions:Failed while validating Sysprep session actions; dwRet = 0x3cf2"
        )
        log.line(
            "Error",
            "0x0f0070",
            "RunExternalDlls:An error occurred while running registry sysprep DLLs, "
            "halting sysprep execution. dwRet = 0x3cf2",
        )
        return "0x80073cf2"
    return None


def _bitlocker_on(state: WindowsState, log: _Log) -> str | None:
    """BitLocker on for the OS volume (BdeSysprep.dll)."""
    bl = state.bitlocker.get("C:", {})
    if bl.get("protection_status") == "On" or bl.get("volume_status") not in (None, "FullyDecrypted"):
        log.line(
            "Error",
            "",
            "BitLocker-Sysprep: BitLocker is on for the OS volume. Turn BitLocker off to run "
            "Sysprep. (0x80310039)",
        )
        log.line(
            "Error",
            "0x0f0082",
            "ActionPlatform::LaunchModule: Failure occurred while executing "
            "'ValidateBitLockerState' from C:\\Windows\\System32\\BdeSysprep.dll; dwRet = 0x80310039",
        )
        log.line(
            "Error",
            "",
            "SysprepSession::Validate: Error in validating actions from "
            "C:\\Windows\\System32\\Sysprep\\ActionFiles\\Generalize.xml; dwRet = 0x80310039",
        )
        return "0x80310039"
    return None


def _injected_failure(state: WindowsState, log: _Log) -> str | None:
    """The sandbox fault sysprep_fail."""
    if state.faults.sysprep_fail > 0:
        state.faults.sysprep_fail -= 1
        log.line(
            "Error",
            "0x0f0082",
            "ActionPlatform::LaunchModule: Failure occurred while executing "
            "'SysprepGeneralize' from C:\\Windows\\System32\\spbcd.dll; dwRet = 0x80070005 "
            "(sandbox fault sysprep_fail)",
        )
        log.line(
            "Error",
            "",
            "SysprepSession::Execute: Error in executing actions from "
            "C:\\Windows\\System32\\Sysprep\\ActionFiles\\Generalize.xml; dwRet = 0x80070005",
        )
        return "0x80070005"
    return None


GENERALIZE_CHECKS = (_pending_reboot, _user_only_appx, _bitlocker_on, _injected_failure)


def _validate(state: WindowsState, log: _Log) -> str | None:
    """Generalize validation; returns the failing HRESULT text or None."""
    for check in GENERALIZE_CHECKS:
        failed = check(state, log)
        if failed:
            return failed
    return None


def shutdown_exe(state: WindowsState, args: list[str]) -> ProcessResult:
    """shutdown.exe /s | /r | /a [/t N] [/f] [/c "comment"] [/d ...]."""
    lowered = [a.lower() for a in args]
    actions = [a for a in lowered if a in ("/s", "/r", "/a", "/p", "/h", "/l", "/g", "/sg", "/i", "/hybrid")]
    for i, a in enumerate(lowered):
        if (
            a.startswith("/")
            and a not in ("/s", "/r", "/a", "/t", "/f", "/c", "/d")
            and not (i > 0 and lowered[i - 1] in ("/t", "/c", "/d"))
        ):
            raise NotModelled(f"shutdown.exe {args[i]} is not simulated")
    if len(actions) != 1:
        return ProcessResult(stderr="The parameter is incorrect.(87)\r\n", rc=87)
    if actions[0] == "/a":
        if state.power_request is None:
            return ProcessResult(
                stderr="Unable to abort the system shutdown because no shutdown was in progress.(1116)\r\n",
                rc=1116,
            )
        state.power_request = None
        return ProcessResult()
    delay = 30.0  # shutdown.exe's default /t
    if "/t" in lowered:
        i = lowered.index("/t")
        try:
            delay = float(int(args[i + 1]))
        except (IndexError, ValueError):
            return ProcessResult(stderr="The parameter is incorrect.(87)\r\n", rc=87)
    return ProcessResult(after="shutdown" if actions[0] == "/s" else "reboot", delay=delay)
