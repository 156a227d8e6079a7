"""The fault filters (avd.golden.fault_classify, avd.golden.fault_backoff).

Thin wrappers: the logic lives in plugins/plugin_utils/_faults.py. Documentation is in the
sidecars fault_classify.yml and fault_backoff.yml.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.avd.golden.plugins.plugin_utils._faults import backoff_seconds, classify


def fault_classify(result: Any, resource: Any = None) -> dict[str, Any]:
    """Whether a failed task result is a transient fault, and what it names (see the sidecar doc)."""
    return classify(result, str(resource) if resource else None)


def fault_backoff(attempt: Any, base: Any = 30, cap: Any = 300) -> float:
    """The wait before the next attempt (see the sidecar doc)."""
    try:
        return backoff_seconds(int(attempt), float(base), float(cap))
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"fault_backoff: {exc}") from exc


class FilterModule:
    """avd.golden fault filters."""

    def filters(self) -> dict[str, Any]:
        return {"fault_classify": fault_classify, "fault_backoff": fault_backoff}
