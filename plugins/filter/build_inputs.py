"""Filters of the up-to-date check (avd.golden.*): what a build is built from, as one digest, and
the image version already built from the same inputs.

Thin wrappers: the logic lives in plugins/plugin_utils/_build_inputs.py. Documentation is in the
sidecars build_inputs.yml and up_to_date_version.yml.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.avd.golden.plugins.plugin_utils import _build_inputs


def build_inputs(spec: Any, source_exact_version: Any) -> dict:
    """The inputs record of a build: each part's digest and their digest, ``sha256``."""
    if not isinstance(spec, Mapping) or not isinstance(spec.get("source"), Mapping):
        raise AnsibleFilterError("build_inputs: expects the validated image spec (avd_image)")
    try:
        return _build_inputs.build_inputs(spec, str(source_exact_version or ""))
    except (KeyError, ValueError) as exc:
        raise AnsibleFilterError(f"build_inputs: {exc}") from exc


def up_to_date_version(versions: Any, sha256: Any, force: Any = False) -> dict | None:
    """The newest succeeded image version tagged with the same inputs digest, or None (forced: None)."""
    if not isinstance(versions, list) or not all(isinstance(v, Mapping) for v in versions):
        raise AnsibleFilterError("up_to_date_version: expects the image versions as ARM lists them")
    try:
        forced = str(force).strip().lower() in ("true", "yes", "1")
        return _build_inputs.up_to_date_version(versions, str(sha256), forced)
    except (KeyError, ValueError) as exc:
        raise AnsibleFilterError(f"up_to_date_version: {exc}") from exc


class FilterModule:
    """avd.golden up-to-date filters."""

    def filters(self) -> dict[str, Any]:
        return {"build_inputs": build_inputs, "up_to_date_version": up_to_date_version}
