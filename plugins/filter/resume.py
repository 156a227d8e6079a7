"""The resume filters (avd.golden.resume_first_look, avd.golden.resume_decide).

Thin wrappers: the logic lives in plugins/plugin_utils/_resume.py. Documentation is in the
sidecars resume_first_look.yml and resume_decide.yml.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.avd.golden.plugins.plugin_utils._resume import (
    ResumeError,
    decide,
    first_look,
    vm_state,
)


def resume_first_look(
    ledger: Any, registry: Any, earlier_definition: Any = None, definition: Any = None
) -> dict[str, Any]:
    """The resume plan before Azure is asked (see the sidecar doc)."""
    try:
        return first_look(registry or [], ledger or None, earlier_definition, definition)
    except (ResumeError, KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"resume_first_look: {exc}") from exc


def resume_decide(
    first: Any,
    registry: Any,
    ledger: Any,
    instance_view: Any = None,
    vm_name: Any = None,
    version_captured: Any = False,
) -> dict[str, Any]:
    """The final resume plan once the build VM was looked up (see the sidecar doc)."""
    try:
        vm = vm_state(instance_view or None, str(vm_name) if vm_name else None)
        return decide(first, registry or [], ledger or None, vm, bool(version_captured))
    except (ResumeError, KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"resume_decide: {exc}") from exc


class FilterModule:
    """avd.golden resume filters."""

    def filters(self) -> dict[str, Any]:
        return {"resume_first_look": resume_first_look, "resume_decide": resume_decide}
