"""Scripts the product sends into the guest, recognised by their exact content.

A script arrives as an Azure run command (RunPowerShellScript, ``GuestHost.run_command``) or as
``ansible.windows.win_powershell``'s ``script`` (the action plugin inlines ``path:`` files). It is
identified by the SHA-256 of its text (line endings normalised to LF, a leading BOM and trailing
whitespace removed, so the same file sent either way hashes alike); known_scripts.json maps a name to
that hash and to the repository file it comes from, and ``EFFECTS`` maps the name to a Python
function doing to the simulated state what the script does on Windows. A script whose hash is not
registered raises NotModelled: when it is a known file in a version the sandbox has not learnt, the
message names the script and says so ("a changed script fails loudly until the sandbox learns it").

To teach the sandbox a changed script: check that its effect below still matches the new text,
then record the new hash: ``python -m sandbox.windows.scripts --update``.
"""

from __future__ import annotations

import base64
import datetime as dt
import difflib
import hashlib
import ipaddress
import json
import re
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sandbox import pki
from sandbox.guest_api import NotModelled, RunCommandResult

if TYPE_CHECKING:
    from sandbox.windows.state import WindowsState

REPO_ROOT = Path(__file__).resolve().parents[2]
REGISTRY_FILE = Path(__file__).resolve().parent / "known_scripts.json"


def canonical(text: str) -> str:
    """The text that is hashed: no BOM, LF line endings, no trailing whitespace at the end."""
    return text.lstrip("\ufeff").replace("\r\n", "\n").rstrip()


def sha256(text: str) -> str:
    return hashlib.sha256(canonical(text).encode("utf-8")).hexdigest()


@cache
def registry() -> dict[str, dict[str, Any]]:
    return json.loads(REGISTRY_FILE.read_text())["scripts"]


def identify(text: str, channel: str) -> str:
    """The registered name of ``text``; NotModelled (naming the script when it can) otherwise."""
    digest = sha256(text)
    for name, entry in registry().items():
        if digest == entry["sha256"]:
            if channel not in entry["channels"]:
                raise NotModelled(
                    f"script {name} ({entry['path']}) sent through {channel}; the product sends it through "
                    f"{', '.join(entry['channels'])} and only that is simulated"
                )
            return name
    # Not a version we know: name the script if it is (or resembles) one of ours.
    wanted = canonical(text)
    best, best_ratio = None, 0.0
    for name, entry in registry().items():
        current = REPO_ROOT / entry["path"]
        current_text = canonical(current.read_text(encoding="utf-8")) if current.exists() else ""
        if current_text == wanted:
            raise NotModelled(
                f"script {name} ({entry['path']}) has changed: the sandbox does not know this version "
                f"(sha256 {digest}, known {entry['sha256']}); check its effect in sandbox/windows/scripts.py "
                "and run `python -m sandbox.windows.scripts --update`"
            )
        ratio = difflib.SequenceMatcher(None, current_text, wanted, autojunk=False).quick_ratio()
        if ratio > best_ratio:
            best, best_ratio = name, ratio
    if best is not None and best_ratio >= 0.6:
        entry = registry()[best]
        raise NotModelled(
            f"script resembling {best} ({entry['path']}) with sha256 {digest}: "
            "the sandbox does not know this "
            "version of it"
        )
    first = next((ln.strip() for ln in wanted.splitlines() if ln.strip()), "")
    raise NotModelled(f"unknown script (sha256 {digest}, first line {first[:80]!r}) is not simulated")


# ----------------------------------------------------------------------------------------------
# effects
# ----------------------------------------------------------------------------------------------
class ScriptError(Exception):
    """A terminating error inside the script (ErrorActionPreference Stop / parameter binding)."""


@dataclass
class ScriptRun:
    """What a script sees and produces: its bound parameters and PowerShell's streams."""

    state: WindowsState
    params: dict[str, Any]
    check_mode: bool = False
    output: list[Any] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)  # $Ansible.Result
    changed: bool = True  # $Ansible.Changed starts true
    diff: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Param:
    type: str  # "string" | "string[]"
    mandatory: bool = False
    pattern: str | None = None  # [ValidatePattern(...)]: matched case-insensitively, like PowerShell


@dataclass(frozen=True)
class Effect:
    fn: Callable[[ScriptRun], None]
    params: dict[str, Param]
    supports_should_process: bool
    uses_ansible_variable: bool  # reads/writes $Ansible (only exists under win_powershell)


EFFECTS: dict[str, Effect] = {}


def effect(
    name: str,
    *,
    params: dict[str, Param] | None = None,
    should_process: bool = False,
    ansible_var: bool = False,
) -> Callable[[Callable[[ScriptRun], None]], Callable[[ScriptRun], None]]:
    def deco(fn: Callable[[ScriptRun], None]) -> Callable[[ScriptRun], None]:
        EFFECTS[name] = Effect(fn, params or {}, should_process, ansible_var)
        return fn

    return deco


def bind(eff: Effect, given: dict[str, Any]) -> dict[str, Any]:
    """PowerShell parameter binding (case-insensitive names, string/string[] coercion)."""
    bound: dict[str, Any] = {}
    lower = {k.lower(): k for k in eff.params}
    for key, value in given.items():
        name = lower.get(key.lower())
        if name is None:
            raise ScriptError(f"A parameter cannot be found that matches parameter name '{key}'.")
        if eff.params[name].type == "string[]":
            bound[name] = [_ps_str(v) for v in value] if isinstance(value, list) else [_ps_str(value)]
        else:
            bound[name] = _ps_str(value)
    for name, value in bound.items():
        _validate_pattern(name, eff.params[name], value)
    missing = [n for n, p in eff.params.items() if p.mandatory and n not in bound]
    if missing:
        raise ScriptError(
            "Cannot process command because of one or more missing mandatory parameters: "
            + " ".join(missing)
            + "."
        )
    return bound


def _validate_pattern(name: str, param: Param, value: str | list[str]) -> None:
    if param.pattern is None:
        return
    for item in value if isinstance(value, list) else [value]:
        if not re.search(param.pattern, item, re.IGNORECASE):
            raise ScriptError(
                f"Cannot validate argument on parameter '{name}'. The argument \"{item}\" does not match "
                f'the "{param.pattern}" pattern. Supply an argument that matches "{param.pattern}" and try '
                "the command again."
            )


def _ps_str(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return "" if value is None else str(value)


def run_effect(
    state: WindowsState, name: str, params: dict[str, Any], *, check_mode: bool, channel: str
) -> ScriptRun:
    eff = EFFECTS[name]
    if eff.uses_ansible_variable and channel != "win_powershell":
        raise ScriptError("The variable '$Ansible' cannot be retrieved because it has not been set.")
    run = ScriptRun(state, bind(eff, params), check_mode=check_mode)
    eff.fn(run)
    return run


# --- shared helpers -----------------------------------------------------------------------------
def bitlocker_volume(state: WindowsState) -> dict[str, Any]:
    """Get-BitLockerVolume -MountPoint C:. Decryption advances 50 points per query, so a bounded
    poll sees DecryptionInProgress and then FullyDecrypted (deterministic, no wall clock)."""
    vol = state.bitlocker.setdefault(
        "C:", {"volume_status": "FullyDecrypted", "protection_status": "Off", "encryption_percentage": 0}
    )
    if vol["volume_status"] == "DecryptionInProgress":
        vol["encryption_percentage"] = max(0, int(vol["encryption_percentage"]) - 50)
        if vol["encryption_percentage"] == 0:
            vol["volume_status"] = "FullyDecrypted"
    return dict(vol)


def _start_mode_name(mode: str) -> str:
    """ServiceController.StartType as [string]: delayed auto-start reports Automatic."""
    return {"auto": "Automatic", "delayed": "Automatic", "manual": "Manual", "disabled": "Disabled"}[mode]


def _status_name(state: str) -> str:
    return {"started": "Running", "stopped": "Stopped", "paused": "Paused"}[state]


# --- roles/windows_connect/files/Enable-WinRMHttps.ps1 -------------------------------------------
# Its [ValidatePattern] on ControllerAddress: an IPv4 address or a /16../32 prefix, nothing else.
CONTROLLER_ADDRESS_PATTERN = r"^\d{1,3}(\.\d{1,3}){3}(/(1[6-9]|2[0-9]|3[0-2]))?$"


@effect(
    "enable_winrm_https",
    params={
        "PublicAddress": Param("string", True),
        "ComputerName": Param("string", True),
        "ControllerAddress": Param("string", True, pattern=CONTROLLER_ADDRESS_PATTERN),
    },
)
def _enable_winrm_https(run: ScriptRun) -> None:
    """Self-signed certificate (reused while valid > 12 h), WinRM auto/started, HTTPS listener on
    5986 bound to it, no Basic/unencrypted, firewall rule for 5986 from ControllerAddress only
    (removed and created again on each run), LocalAccountTokenFilterPolicy=1; prints
    {"thumbprint","certificate"} as one compressed JSON line."""
    st = run.state
    address, computer = run.params["PublicAddress"], run.params["ComputerName"]
    friendly = f"avd-golden-winrm {computer} {address}"
    now = st._now()
    cert = None
    for thumb, c in sorted(st.certificates.items(), key=lambda kv: kv[1]["not_after_unix"], reverse=True):
        if c["friendly_name"] == friendly and c["not_after_unix"] > now + 12 * 3600:
            cert = dict(c, thumbprint=thumb)
            break
    if cert is None:
        cert = _new_certificate(st, computer, address, friendly, now)
    svc = st.services.get("winrm")
    if svc:
        svc.start_mode = "auto"
        svc.state = "started"
    st.configure_listener(cert["pem"], cert["key_pem"], cert["thumbprint"])
    st.winrm_service_config.update({"Auth\\Basic": "false", "AllowUnencrypted": "false"})
    st.firewall_rules["avd-golden-winrm-https"] = {
        "display_name": "WinRM over HTTPS for the avd-golden build",
        "direction": "Inbound",
        "protocol": "TCP",
        "local_port": "5986",
        "remote_address": run.params["ControllerAddress"],
        "action": "Allow",
        "profile": "Any",
        "enabled": True,
    }
    st.registry.set_value(
        r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System",
        "LocalAccountTokenFilterPolicy",
        "REG_DWORD",
        1,
    )
    run.output.append(
        json.dumps({"thumbprint": cert["thumbprint"], "certificate": cert["der_b64"]}, separators=(",", ":"))
    )


def _new_certificate(
    st: WindowsState, computer: str, address: str, friendly: str, now: float
) -> dict[str, Any]:
    """New-SelfSignedCertificate as Enable-WinRMHttps.ps1 calls it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, computer)])
    not_before = dt.datetime.fromtimestamp(now, dt.UTC) - dt.timedelta(hours=1)
    not_after = dt.datetime.fromtimestamp(now, dt.UTC) + dt.timedelta(days=2)
    sans: list[x509.GeneralName] = [x509.DNSName(computer)]
    try:
        sans.append(x509.IPAddress(ipaddress.ip_address(address)))
    except ValueError:
        raise ScriptError(
            f"New-SelfSignedCertificate : CertEnroll::CX509Extension::Initialize: The parameter is "
            f"incorrect. IPAddress={address}"
        ) from None
    cert = pki.certificate(
        name,
        key,
        not_before,
        not_after,
        [
            (x509.SubjectAlternativeName(sans), False),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
            (x509.BasicConstraints(ca=True, path_length=0), True),
            pki.key_usage(critical=False, digital_signature=True, key_encipherment=True, key_cert_sign=True),
            (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
        ],
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    thumbprint = hashlib.sha1(der).hexdigest().upper()  # noqa: S324 - the Windows thumbprint is SHA-1
    record = {
        "friendly_name": friendly,
        "subject": f"CN={computer}",
        "not_after": not_after.strftime("%Y-%m-%d %H:%M:%S"),
        "not_after_unix": not_after.timestamp(),
        "pem": cert.public_bytes(serialization.Encoding.PEM).decode(),
        "key_pem": pki.private_key_pem(key).decode(),
        "der_b64": base64.b64encode(der).decode(),
    }
    st.certificates[thumbprint] = record
    return dict(record, thumbprint=thumbprint)


# --- roles/windows_sysprep/files/Get-SysprepPreflight.ps1 ----------------------------------------
@effect("sysprep_preflight", ansible_var=True)
def _sysprep_preflight(run: ScriptRun) -> None:
    """Read-only: one compressed JSON string on the output stream; $Ansible.Changed = false."""
    st = run.state
    run.changed = False
    provisioned = {f"{p['name']}_{p['version']}".lower() for p in st.appx_provisioned}
    by_full: dict[str, dict[str, Any]] = {}
    for user, pkgs in sorted(st.appx_user.items()):
        for pkg in pkgs:
            if pkg.get("framework") or pkg.get("non_removable"):
                continue
            if f"{pkg['name']}_{pkg['version']}".lower() in provisioned:
                continue
            full = st.package_full_name(pkg)
            entry = by_full.setdefault(full, {"name": pkg["name"], "package_full_name": full, "users": []})
            entry["users"].append(f"{st.computer_name.upper()}\\{user}")
    vol = bitlocker_volume(st)
    reasons = st.pending_reboot_reasons()
    services = []
    for name in ("WindowsAzureGuestAgent", "RdAgent"):
        svc = st.services.get(name.lower())
        if svc is None:
            services.append({"name": name, "exists": False, "status": None, "start_mode": None})
        else:
            services.append(
                {
                    "name": name,
                    "exists": True,
                    "status": _status_name(svc.state),
                    "start_mode": _start_mode_name(svc.start_mode),
                }
            )
    unattend = [
        p
        for p in (r"C:\Windows\Panther\unattend.xml", r"C:\Windows\System32\Sysprep\unattend.xml")
        if st.fs.is_file(p)
    ]
    data = {
        "user_only_appx": list(by_full.values()),
        "bitlocker": {
            "mount_point": "C:",
            "volume_status": vol["volume_status"],
            "protection_status": vol["protection_status"],
            "encryption_percentage": int(vol["encryption_percentage"]),
        },
        "pending_reboot": {
            "component_based_servicing": "ComponentBasedServicing" in reasons,
            "windows_update": "WindowsUpdate" in reasons,
            "pending_file_rename": "PendingFileRename" in reasons,
            "pending_computer_rename": "PendingComputerRename" in reasons,
        },
        "services": services,
        "unattend_files": unattend,
        "image_state": st.image_state(),
    }
    run.output.append(json.dumps(data, separators=(",", ":")))


# --- roles/windows_sysprep/files/Remove-UserOnlyAppx.ps1 -----------------------------------------
@effect(
    "remove_user_only_appx",
    params={"PackageFullName": Param("string[]", True)},
    should_process=True,
    ansible_var=True,
)
def _remove_user_only_appx(run: ScriptRun) -> None:
    """Remove-AppxPackage -Package <full name> -AllUsers for each full name still installed."""
    st = run.state
    installed = {st.package_full_name(p) for pkgs in st.appx_user.values() for p in pkgs}
    removed = []
    for full in run.params["PackageFullName"]:
        if full not in installed:
            continue
        if not run.check_mode:
            for user in st.appx_user:
                st.appx_user[user] = [p for p in st.appx_user[user] if st.package_full_name(p) != full]
        removed.append(full)
    run.changed = bool(removed)
    run.result = {"removed": removed}


# --- roles/windows_sysprep/files/Disable-BitLockerForSysprep.ps1 ---------------------------------
@effect("disable_bitlocker_for_sysprep", should_process=True, ansible_var=True)
def _disable_bitlocker(run: ScriptRun) -> None:
    """Disable-BitLocker on C: unless FullyDecrypted/DecryptionInProgress; reports the volume."""
    st = run.state
    vol = bitlocker_volume(st)
    started = False
    if vol["volume_status"] not in ("FullyDecrypted", "DecryptionInProgress"):
        if not run.check_mode:
            live = st.bitlocker["C:"]
            # Disable-BitLocker removes the key protectors (protection Off) and starts decrypting.
            live.update(volume_status="DecryptionInProgress", protection_status="Off")
            live["encryption_percentage"] = max(int(live["encryption_percentage"]), 1)
            vol = bitlocker_volume(st)
        started = True
    run.changed = started
    run.result = {
        "mount_point": "C:",
        "volume_status": vol["volume_status"],
        "protection_status": vol["protection_status"],
        "encryption_percentage": int(vol["encryption_percentage"]),
        "started": started,
    }


# --- roles/windows_sysprep/files/Stop-BuildVm.ps1 ------------------------------------------------
@effect("stop_build_vm", ansible_var=True)
def _stop_build_vm(run: ScriptRun) -> None:
    """Remove the HTTPS listener, the avd-golden-winrm certificates, the firewall rule and
    LocalAccountTokenFilterPolicy; give the build admin a random password the guest never returns
    and disable it; then shutdown.exe /s /t 5 (after its 5 s sleep)."""
    st = run.state
    run.changed = True
    st.listener = None
    for thumb in [
        t for t, c in st.certificates.items() if c["friendly_name"].startswith("avd-golden-winrm ")
    ]:
        del st.certificates[thumb]
    st.firewall_rules.pop("avd-golden-winrm-https", None)
    key = st.registry.open(r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System")
    if key is not None:
        key.delete_value("LocalAccountTokenFilterPolicy")
    # NT hash of a random password: nobody, the controller included, knows one that matches.
    st.nt_hash = secrets.token_bytes(16)
    st.admin_enabled = False
    st.request_power("shutdown", delay=10.0)  # Start-Sleep 5, then shutdown.exe /t 5


# --- roles/windows_update/files/Get-PendingReboot.ps1 --------------------------------------------
@effect("pending_reboot", ansible_var=True)
def _pending_reboot(run: ScriptRun) -> None:
    """Read-only: one compressed JSON string of the three pending-reboot indicators."""
    reasons = run.state.pending_reboot_reasons()
    run.changed = False
    data = {
        "component_based_servicing": "ComponentBasedServicing" in reasons,
        "windows_update": "WindowsUpdate" in reasons,
        "pending_file_rename": "PendingFileRename" in reasons,
    }
    run.output.append(json.dumps(data, separators=(",", ":")))


# --- roles/windows_optimize/files/Clear-BuildDisk.ps1 -------------------------------------------
_CLEANUP_FOLDERS = (
    "%windir%\\Temp",
    "%TEMP%",
    "%windir%\\SoftwareDistribution\\Download",
    "%ProgramData%\\Microsoft\\Windows\\WER\\ReportArchive",
    "%ProgramData%\\Microsoft\\Windows\\WER\\ReportQueue",
    "%windir%\\Minidump",
)


@effect("clear_build_disk", should_process=True, ansible_var=True)
def _clear_build_disk(run: ScriptRun) -> None:
    """Delete the files (never the folders) under the cleanup folders, and MEMORY.DMP."""
    st = run.state
    targets: list[str] = []
    for folder in _CLEANUP_FOLDERS:
        path = st.path(folder)
        if st.fs.is_dir(path):
            targets += [e.path for e in st.fs.descendants(path) if not e.is_dir]
    dump = st.path("%windir%\\MEMORY.DMP")
    if st.fs.is_file(dump):
        targets.append(dump)
    size = sum(len(st.fs.read(t)) for t in targets)
    if not run.check_mode:
        for target in targets:
            st.fs.remove(target)
    run.changed = bool(targets)
    run.result = {"removed": len(targets), "bytes": size, "skipped": []}


# ----------------------------------------------------------------------------------------------
# entry points
# ----------------------------------------------------------------------------------------------
def run_command(state: WindowsState, script: str, parameters: list[dict[str, Any]]) -> RunCommandResult:
    """An Azure RunPowerShellScript run command (as SYSTEM)."""
    name = identify(script, "run_command")
    params = {str(p.get("name")): p.get("value") for p in parameters or []}
    try:
        run = run_effect(state, name, params, check_mode=False, channel="run_command")
    except ScriptError as exc:
        return RunCommandResult(stdout="", stderr=f"{exc}\n", exit_code=1)
    stdout = "".join(f"{o}\n" for o in run.output)
    return RunCommandResult(stdout=stdout, stderr="", exit_code=0)


def run_raw(state: WindowsState, script: str) -> tuple[str, str, int]:
    """Raw PowerShell (the ``raw`` module): a few read-only one-liners are understood."""
    body = script.strip()
    lowered = body.lower()
    if lowered in ("hostname", "hostname.exe", "$env:computername"):
        name = state.computer_name.upper() if "env" in lowered else state.computer_name
        return name + "\r\n", "", 0
    if lowered in ("whoami", "whoami.exe"):
        return f"{state.computer_name.lower()}\\{state.admin_username.lower()}\r\n", "", 0
    if (
        lowered.startswith("(get-itemproperty")
        and "setup\\state" in lowered
        and lowered.endswith(").imagestate")
    ):
        return state.image_state() + "\r\n", "", 0
    raise NotModelled(f"raw script is not simulated: {body.splitlines()[0][:100] if body else '(empty)'}")


def _main(argv: list[str]) -> int:
    """--check: compare the registry with the repository files; --update: record current hashes."""
    data = json.loads(REGISTRY_FILE.read_text())
    stale = []
    for name, entry in data["scripts"].items():
        current = sha256((REPO_ROOT / entry["path"]).read_text(encoding="utf-8"))
        if current != entry["sha256"]:
            stale.append(name)
            print(f"{name}: {entry['path']} sha256 {current} (registered {entry['sha256']})")
            if "--update" in argv:
                entry["sha256"] = current
    if "--update" in argv and stale:
        REGISTRY_FILE.write_text(json.dumps(data, indent=2) + "\n")
        print(f"updated {len(stale)} hash(es); make sure each effect still matches its script")
    return 1 if stale and "--update" not in argv else 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
