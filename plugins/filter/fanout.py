"""The fan-out's definition files (avd.golden.image_definition_files).

Thin wrapper: the logic lives in plugins/plugin_utils/_multi.py. Documentation is in the sidecar
image_definition_files.yml.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.avd.golden.plugins.plugin_utils._multi import FanOutError, resolve_definitions


def image_definition_files(value: Any, base_dir: str = ".") -> list[str]:
    """The definition files of image_definitions (see the sidecar doc)."""
    try:
        return resolve_definitions(value, base_dir)
    except FanOutError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    """avd.golden fan-out filter."""

    def filters(self) -> dict[str, Any]:
        return {"image_definition_files": image_definition_files}
