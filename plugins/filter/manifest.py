"""Filters over the image manifest (avd.golden.*): thin wrappers of plugins/module_utils/_manifest.py.

Documentation is in the sidecar manifest_tags.yml.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.avd.golden.plugins.module_utils._manifest import tags


def manifest_tags(parts: Any) -> dict[str, str]:
    """Summary tags for the image version from the manifest parts (see the sidecar doc)."""
    if not isinstance(parts, list) or not all(isinstance(p, dict) and "part" in p for p in parts):
        raise AnsibleFilterError(
            "manifest_tags: expects the list of manifest parts (dicts with a 'part' key)"
        )
    return tags(parts)


class FilterModule:
    """avd.golden manifest filters."""

    def filters(self) -> dict[str, Any]:
        return {"manifest_tags": manifest_tags}
