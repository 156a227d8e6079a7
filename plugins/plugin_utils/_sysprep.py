"""Sysprep decisions made on the controller, in pure Python (no Ansible imports, unit-tested).

Two halves:

- ``evaluate_preflight`` turns what ``Get-SysprepPreflight.ps1`` collected on the build VM into a
  plan: what to fix before sysprep (remove user-only AppX packages, reboot, decrypt BitLocker, start
  the Azure agent services, delete leftover unattend files) and what blocks it (each blocker a
  sentence naming the cause and the fix).
- ``diagnose_logs`` reads sysprep's ``setupact.log`` / ``setuperr.log`` after a failure and names
  the cause (an AppX package installed for a user but not provisioned, BitLocker, a pending reboot,
  servicing in progress, an upgraded OS), quoting the log lines that show it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

IMAGE_STATE_COMPLETE = "IMAGE_STATE_COMPLETE"
IMAGE_STATE_GENERALIZED = "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
AZURE_AGENT_SERVICES = ("WindowsAzureGuestAgent", "RdAgent")
# BitLocker volume states that need no work; DecryptionInProgress only needs waiting.
_DECRYPTED = frozenset({"FullyDecrypted", "NotAvailable"})
_PENDING_REBOOT_REASONS = {
    "component_based_servicing": "Component Based Servicing RebootPending",
    "windows_update": "Windows Update RebootRequired",
    "pending_file_rename": "PendingFileRenameOperations",
    "pending_computer_rename": "a pending computer rename",
}
_REQUIRED_KEYS = (
    "user_only_appx",
    "bitlocker",
    "pending_reboot",
    "services",
    "unattend_files",
    "image_state",
)


class PreflightError(ValueError):
    """The collected facts are not what Get-SysprepPreflight.ps1 prints (names the field)."""


def _load(facts: Mapping[str, Any] | str) -> Mapping[str, Any]:
    if isinstance(facts, str):
        try:
            facts = json.loads(facts)
        except json.JSONDecodeError as exc:
            raise PreflightError(f"preflight output is not JSON: {exc}") from exc
    if not isinstance(facts, Mapping):
        raise PreflightError(f"preflight output must be a JSON object, got {type(facts).__name__}")
    missing = [key for key in _REQUIRED_KEYS if key not in facts]
    if missing:
        raise PreflightError(f"preflight output lacks {', '.join(missing)}")
    return facts


def _as_list(value: Any, field: str) -> list[Any]:
    # ConvertTo-Json on PowerShell 5.1 may turn an empty array into null.
    if value is None:
        return []
    if not isinstance(value, list):
        raise PreflightError(f"preflight output {field} must be a list, got {type(value).__name__}")
    return value


def _image_state_blockers(image_state: str) -> list[str]:
    if image_state in (IMAGE_STATE_COMPLETE, IMAGE_STATE_GENERALIZED):
        return []
    return [
        f"ImageState is {image_state or 'empty'}, expected {IMAGE_STATE_COMPLETE}: a previous setup "
        "or sysprep run did not complete; build from a fresh marketplace VM"
    ]


def _user_appx_blockers(appx: list[Any], remove_user_appx: bool) -> list[str]:
    if not appx or remove_user_appx:
        return []
    described = ", ".join(
        f"{p.get('package_full_name') or p.get('name')} (installed for "
        f"{', '.join(_as_list(p.get('users'), 'users')) or 'a user'})"
        for p in appx
    )
    return [
        "AppX packages installed for a user but not provisioned for all users block sysprep: "
        f"{described}; remove them or set windows_sysprep_remove_user_appx: true"
    ]


def _bitlocker_blockers(
    bitlocker: Mapping[str, Any], volume_status: str, decrypt_bitlocker: bool
) -> list[str]:
    if volume_status in _DECRYPTED or decrypt_bitlocker or volume_status == "DecryptionInProgress":
        return []
    return [
        f"BitLocker: {bitlocker.get('mount_point', 'C:')} is {volume_status} (protection "
        f"{bitlocker.get('protection_status', 'unknown')}); sysprep needs it fully decrypted; "
        "set windows_sysprep_decrypt_bitlocker: true"
    ]


def _agent_services(services: list[Any]) -> tuple[list[str], list[str]]:
    """(blockers, services to start) for the Azure VM agent services."""
    blockers: list[str] = []
    start: list[str] = []
    by_name = {str(s.get("name")): s for s in services}
    for name in AZURE_AGENT_SERVICES:
        service = by_name.get(name)
        if service is None or not service.get("exists", False):
            blockers.append(
                f"Azure VM agent service {name} is not installed: an image generalized without it "
                "stays IMAGE_STATE_UNDEPLOYABLE when deployed"
            )
        elif str(service.get("start_mode")) == "Disabled":
            blockers.append(f"Azure VM agent service {name} is disabled; re-enable it before sysprep")
        elif str(service.get("status")) != "Running":
            start.append(name)
    return blockers, start


def evaluate_preflight(
    facts: Mapping[str, Any] | str,
    remove_user_appx: bool = True,
    decrypt_bitlocker: bool = True,
) -> dict[str, Any]:
    """Decide what must happen before sysprep.

    :param facts: the collector's JSON (string or parsed).
    :param remove_user_appx: remove user-only AppX packages (else they block, named).
    :param decrypt_bitlocker: decrypt an encrypted C: (else it blocks).
    :returns: ``{"blockers": [str], "remove_appx": [full names], "appx_names": [names],
        "reboot": bool, "reboot_reasons": [str], "decrypt_bitlocker": bool,
        "start_services": [names], "remove_files": [paths], "already_generalized": bool,
        "image_state": str, "ready": bool}``; ``ready`` is true when nothing is to be done.
    """
    data = _load(facts)
    image_state = str(data["image_state"] or "")
    appx = _as_list(data["user_only_appx"], "user_only_appx")
    pending = data["pending_reboot"] or {}
    reboot_reasons = [reason for key, reason in _PENDING_REBOOT_REASONS.items() if pending.get(key)]
    bitlocker = data["bitlocker"] or {}
    volume_status = str(bitlocker.get("volume_status") or "NotAvailable")
    needs_decrypt = volume_status not in _DECRYPTED
    agent_blockers, start_services = _agent_services(_as_list(data["services"], "services"))
    blockers = (
        _image_state_blockers(image_state)
        + _user_appx_blockers(appx, remove_user_appx)
        + _bitlocker_blockers(bitlocker, volume_status, decrypt_bitlocker)
        + agent_blockers
    )
    full_names = [str(p.get("package_full_name") or p.get("name")) for p in appx]
    plan = {
        "blockers": blockers,
        "remove_appx": full_names if remove_user_appx else [],
        "appx_names": [str(p.get("name") or p.get("package_full_name")) for p in appx],
        "reboot": bool(reboot_reasons),
        "reboot_reasons": reboot_reasons,
        "decrypt_bitlocker": needs_decrypt and (decrypt_bitlocker or volume_status == "DecryptionInProgress"),
        "bitlocker_status": volume_status,
        "start_services": start_services,
        "remove_files": [str(p) for p in _as_list(data["unattend_files"], "unattend_files")],
        "already_generalized": image_state == IMAGE_STATE_GENERALIZED,
        "image_state": image_state,
    }
    plan["ready"] = not (
        blockers
        or plan["remove_appx"]
        or plan["reboot"]
        or plan["decrypt_bitlocker"]
        or start_services
        or plan["remove_files"]
    )
    return plan


# --- sysprep logs ---------------------------------------------------------------------------------

# A package named in "SYSPRP Package <full name> was installed for a user, but not provisioned for
# all users" (AppxSysprep.dll, 0x80073cf2; KB2769827).
_APPX_RE = re.compile(r"Package\s+(\S+)\s+was installed for a user, but not provisioned for all users", re.I)
# (cause, regex on a log line, message). Checked in order; the first cause found wins, but every
# matching line is quoted.
_CAUSES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        "bitlocker",
        re.compile(r"BdeSysprep|ValidateBitLockerState|0x80310039", re.I),
        "BitLocker: the OS volume is not fully decrypted (BdeSysprep.dll ValidateBitLockerState, "
        "0x80310039); decrypt it before sysprep",
    ),
    (
        "pending_reboot",
        re.compile(r"Windows updates that require a reboot|reboot the computer and restart", re.I),
        "a reboot is pending (Windows updates that require a reboot); reboot before sysprep",
    ),
    (
        "servicing_in_progress",
        re.compile(r"reserved storage is in use|0x800F0975", re.I),
        "a servicing operation is in progress (reserved storage in use, 0x800F0975); wait or reboot",
    ),
    (
        "upgraded_os",
        re.compile(r"will not run on an upgraded OS", re.I),
        "the OS was upgraded in place; sysprep runs only on a clean install (start from a marketplace image)",
    ),
)
_ERROR_LINE_RE = re.compile(r",\s*(Error|Fatal)\b", re.I)
_MAX_QUOTED = 5


def diagnose_logs(setupact: str | None, setuperr: str | None) -> dict[str, Any]:
    """Name why sysprep failed from its Panther logs.

    :param setupact: text of C:\\Windows\\System32\\Sysprep\\Panther\\setupact.log (or None).
    :param setuperr: text of setuperr.log (or None).
    :returns: ``{"cause": "appx_user_only" | "bitlocker" | "pending_reboot" |
        "servicing_in_progress" | "upgraded_os" | "unknown" | "no_logs", "packages": [full names],
        "message": str, "lines": [quoted log lines]}``.
    """
    logs = [text for text in (setuperr, setupact) if text]
    if not logs:
        return {
            "cause": "no_logs",
            "packages": [],
            "message": "sysprep left no setupact.log or setuperr.log to explain the failure",
            "lines": [],
        }
    lines: list[str] = []
    for text in logs:
        for line in text.splitlines():
            stripped = line.strip()
            if stripped and stripped not in lines:
                lines.append(stripped)

    packages: list[str] = []
    appx_lines: list[str] = []
    for line in lines:
        match = _APPX_RE.search(line)
        if match:
            appx_lines.append(line)
            if match.group(1) not in packages:
                packages.append(match.group(1))
    if packages:
        return {
            "cause": "appx_user_only",
            "packages": packages,
            "message": (
                "AppX package(s) installed for a user but not provisioned for all users: "
                f"{', '.join(packages)} "
                "(AppxSysprep.dll, 0x80073cf2); remove them (windows_sysprep_remove_user_appx: true)"
            ),
            "lines": appx_lines[:_MAX_QUOTED],
        }

    for cause, pattern, message in _CAUSES:
        matched = [line for line in lines if pattern.search(line)]
        if matched:
            return {"cause": cause, "packages": [], "message": message, "lines": matched[:_MAX_QUOTED]}

    errors = [line for line in lines if _ERROR_LINE_RE.search(line)]
    if errors:
        return {
            "cause": "unknown",
            "packages": [],
            "message": f"sysprep reported: {errors[0]}",
            "lines": errors[:_MAX_QUOTED],
        }
    return {
        "cause": "unknown",
        "packages": [],
        "message": "sysprep failed and its logs name no error; see setupact.log in the build artifacts",
        "lines": [],
    }
