"""The filters of the AVD software stack; the logic lives in plugins/plugin_utils/_avd_stack.py and
plugins/plugin_utils/_odt.py. Their documentation is in the sidecar files next to this one
(avd_stack_plan.yml, avd_stack_manifest_info.yml, avd_stack_problems.yml, odt_configuration_xml.yml).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.avd.golden.plugins.plugin_utils import _avd_stack, _odt


def avd_stack_plan(stack: Any, work_dir: str, timeout_minutes: int = 60) -> dict[str, Any]:
    """The stack's application entries and the steps around them."""
    if not isinstance(stack, Mapping):
        raise AnsibleFilterError(
            f"avd_stack_plan: expects the normalised avd_stack section, got {type(stack).__name__}"
        )
    try:
        return _avd_stack.plan(stack, work_dir, int(timeout_minutes))
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"avd_stack_plan: {exc}") from exc


def avd_stack_manifest_info(stack: Any) -> dict[str, Any]:
    """Version, SHA-256 and download id of each component."""
    if not isinstance(stack, Mapping):
        raise AnsibleFilterError("avd_stack_manifest_info: expects the normalised avd_stack section")
    return _avd_stack.manifest_info(stack)


def avd_stack_problems(plan: Any, detected: Any, c2r: Any = None) -> list[str]:
    """What the installers did not leave as pinned (empty when all is as the image spec says)."""
    if not isinstance(plan, Mapping) or not isinstance(detected, Mapping):
        raise AnsibleFilterError("avd_stack_problems: expects the plan and win_app_detect's result")
    skipped = not isinstance(c2r, Mapping) or c2r.get("skipped")
    return _avd_stack.problems(plan, detected, None if skipped else c2r)


def odt_configuration_xml(m365: Any, log_path: str) -> str:
    """The Office Deployment Tool configuration file of avd_stack.m365_apps."""
    if not isinstance(m365, Mapping):
        raise AnsibleFilterError("odt_configuration_xml: expects the normalised avd_stack.m365_apps section")
    try:
        return _odt.configuration_xml(m365, log_path)
    except (KeyError, ValueError) as exc:
        raise AnsibleFilterError(f"odt_configuration_xml: {exc}") from exc


class FilterModule:
    """AVD software stack filters."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "avd_stack_plan": avd_stack_plan,
            "avd_stack_manifest_info": avd_stack_manifest_info,
            "avd_stack_problems": avd_stack_problems,
            "odt_configuration_xml": odt_configuration_xml,
        }
