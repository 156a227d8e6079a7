"""The janitor's selection filter (avd.golden.janitor_select).

Thin wrapper: the logic lives in plugins/plugin_utils/_janitor.py. Documentation is in the sidecar
janitor_select.yml.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.avd.golden.plugins.plugin_utils._janitor import JanitorError, select


def janitor_select(groups: Any, now: str, max_age_minutes: Any) -> dict[str, list[dict[str, Any]]]:
    """The build resource groups to delete and to keep (see the sidecar doc)."""
    try:
        return select(groups or [], now, max_age_minutes)
    except JanitorError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    """avd.golden janitor filter."""

    def filters(self) -> dict[str, Any]:
        return {"janitor_select": janitor_select}
