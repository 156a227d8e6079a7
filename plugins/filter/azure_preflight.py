"""Filters of the preflight phase (avd.golden.azure_preflight_problems, avd.golden.marketplace_version).

Thin wrappers: the logic lives in plugins/plugin_utils/_preflight.py. Documentation is in the
sidecars azure_preflight_problems.yml and marketplace_version.yml.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.avd.golden.plugins.plugin_utils._preflight import (
    PreflightInputError,
    marketplace_version,
    preflight_problems,
)


def azure_preflight_problems(checks: Any, found: Any) -> list[str]:
    """The problems the preflight look-ups show, each `<dotted.field>: <reason>` (see the sidecar doc)."""
    try:
        return preflight_problems(checks, found)
    except PreflightInputError as exc:
        raise AnsibleFilterError(f"azure_preflight_problems: {exc}") from exc


def marketplace_version_filter(names: Any, asked: Any) -> str:
    """The exact marketplace version `asked` (an exact version or latest) resolves to; "" for none."""
    if names is not None and not isinstance(names, list):
        raise AnsibleFilterError(
            f"marketplace_version: expects a list of versions, got {type(names).__name__}"
        )
    return marketplace_version(names, str(asked))


class FilterModule:
    """avd.golden preflight filters."""

    def filters(self) -> dict[str, Any]:
        return {
            "azure_preflight_problems": azure_preflight_problems,
            "marketplace_version": marketplace_version_filter,
        }
