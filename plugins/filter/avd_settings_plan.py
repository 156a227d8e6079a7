"""The filter avd.golden.avd_settings_plan; the logic lives in plugins/plugin_utils/_avd_settings.py.

Its documentation is the sidecar avd_settings_plan.yml next to this file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible.errors import AnsibleFilterError

# Module alias: the filter shares the name of the function it wraps.
from ansible_collections.avd.golden.plugins.plugin_utils import _avd_settings


def avd_settings_plan(avd_image: Any) -> dict[str, Any]:
    """Return the registry items, firewall rules, tasks and groups of the avd and default_user sections."""
    try:
        return _avd_settings.avd_settings_plan(avd_image)
    except ValueError as exc:
        raise AnsibleFilterError(f"avd_settings_plan: {exc}") from exc


class FilterModule:
    """AVD session-host settings filter."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"avd_settings_plan": avd_settings_plan}
