"""Filters that decide the sysprep preflight and diagnose sysprep failures (avd.golden.*).

Thin wrappers: the logic lives in plugins/plugin_utils/_sysprep.py. Documentation is in the
sidecars sysprep_preflight.yml and sysprep_log_diagnosis.yml.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.avd.golden.plugins.plugin_utils._sysprep import (
    PreflightError,
    diagnose_logs,
    evaluate_preflight,
)


def sysprep_preflight(facts: Any, remove_user_appx: bool = True, decrypt_bitlocker: bool = True) -> dict:
    """Plan the work before sysprep from Get-SysprepPreflight.ps1's JSON (see the sidecar doc)."""
    try:
        return evaluate_preflight(
            facts, remove_user_appx=bool(remove_user_appx), decrypt_bitlocker=bool(decrypt_bitlocker)
        )
    except PreflightError as exc:
        raise AnsibleFilterError(f"sysprep_preflight: {exc}") from exc


def sysprep_log_diagnosis(setupact: Any, setuperr: Any = None) -> dict:
    """Name the cause of a sysprep failure from setupact.log and setuperr.log text."""
    for name, value in (("setupact", setupact), ("setuperr", setuperr)):
        if value is not None and not isinstance(value, str):
            raise AnsibleFilterError(
                f"sysprep_log_diagnosis: {name} must be the log text, got {type(value).__name__}"
            )
    return diagnose_logs(setupact, setuperr)


class FilterModule:
    """avd.golden sysprep filters."""

    def filters(self) -> dict[str, Any]:
        return {"sysprep_preflight": sysprep_preflight, "sysprep_log_diagnosis": sysprep_log_diagnosis}
