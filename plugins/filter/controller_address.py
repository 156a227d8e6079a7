"""The controller address filter (avd.golden.controller_source_prefix).

Thin wrapper: the logic lives in plugins/plugin_utils/_controller_address.py. Documentation is in
the sidecar controller_source_prefix.yml.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.avd.golden.plugins.plugin_utils._controller_address import (
    DEFAULT_VARIABLE,
    ControllerAddressError,
    normalize_controller_address,
)


def controller_source_prefix(value: Any, widest_prefix: Any = 32, variable: str = DEFAULT_VARIABLE) -> str:
    """The controller's address, normalised and bounded (see the sidecar doc)."""
    try:
        return normalize_controller_address(value, widest_prefix, variable)
    except ControllerAddressError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    """avd.golden controller address filter."""

    def filters(self) -> dict[str, Any]:
        return {"controller_source_prefix": controller_source_prefix}
