"""The downloads filter (avd.golden.blob_downloads).

Thin wrapper: the logic lives in plugins/plugin_utils/_image_spec/downloads.py. Documentation is in
the sidecar blob_downloads.yml.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.downloads import blob_downloads as _blobs


def blob_downloads(spec: Any) -> list[dict[str, Any]]:
    """Every blob download of a normalised image spec, once each (see the sidecar doc)."""
    if not isinstance(spec, Mapping):
        raise AnsibleFilterError(
            f"blob_downloads: expects the normalised image spec, got {type(spec).__name__}"
        )
    return _blobs(spec)


class FilterModule:
    """avd.golden downloads filter."""

    def filters(self) -> dict[str, Any]:
        return {"blob_downloads": blob_downloads}
