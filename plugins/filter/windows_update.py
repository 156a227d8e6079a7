"""Filters of the Windows Update rounds (avd.golden.windows_update_plan, _step, _manifest).

Thin wrappers: the logic lives in plugins/plugin_utils/_windows_update.py. Documentation is in the
sidecars windows_update_plan.yml, windows_update_step.yml and windows_update_manifest.yml.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.avd.golden.plugins.plugin_utils import _windows_update as wu


def windows_update_plan(
    settings: Any, shipped: Any, source_version: Any = "", today: Any = None, previous: Any = None
) -> dict:
    """The phase's plan: whether it runs, the round filters, what an earlier run recorded."""
    try:
        return wu.plan(settings, shipped, source_version, today, previous or None)
    except (wu.UpdatePlanError, ValueError) as exc:
        raise AnsibleFilterError(f"windows_update_plan: {exc}") from exc


def windows_update_step(
    state: Any, result: Any, event: str, round_no: Any, max_rounds: Any = 1, check_mode: Any = False
) -> dict:
    """The state after a round's search or install."""
    try:
        return wu.step(state, result or {}, event, round_no, max_rounds, check_mode)
    except wu.UpdatePlanError as exc:
        raise AnsibleFilterError(f"windows_update_step: {exc}") from exc


def windows_update_manifest(state: Any) -> dict:
    """The updates manifest part's results, info and warnings."""
    return wu.manifest(state)


class FilterModule:
    """avd.golden Windows Update filters."""

    def filters(self) -> dict[str, Any]:
        return {
            "windows_update_plan": windows_update_plan,
            "windows_update_step": windows_update_step,
            "windows_update_manifest": windows_update_manifest,
        }
