"""Filters of safe publishing (avd.golden.*): the validation VM's check-mode plan from the image
manifest, the problems its results show, and the image versions a promotion prunes.

Thin wrappers: the logic lives in plugins/plugin_utils/_publish.py. Documentation is in the
sidecars publish_validation_plan.yml, publish_validation_problems.yml and publish_prune.yml.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.avd.golden.plugins.plugin_utils._publish import (
    validation_plan,
    validation_problems,
    versions_to_prune,
)


def publish_validation_plan(parts: Any) -> dict:
    """The check-mode items for every entry of the manifest parts."""
    if not isinstance(parts, list) or not all(isinstance(p, Mapping) for p in parts):
        raise AnsibleFilterError("publish_validation_plan: expects the list of manifest parts")
    try:
        return validation_plan(parts)
    except (KeyError, ValueError) as exc:
        raise AnsibleFilterError(f"publish_validation_plan: {exc}") from exc


def publish_validation_problems(results: Any) -> list:
    """One line per item the validation VM's check-mode results show to differ from the manifest."""
    if not isinstance(results, Mapping):
        raise AnsibleFilterError("publish_validation_problems: expects the check-mode results by plan key")
    return validation_problems(results)


def publish_prune(
    versions: Any, current: str, keep_versions: Any = None, prune_end_of_life: bool = False
) -> list:
    """The image versions a promotion deletes, oldest first."""
    if not isinstance(versions, list):
        raise AnsibleFilterError("publish_prune: expects the list of image versions as ARM returns them")
    keep = None if keep_versions in (None, "") else int(keep_versions)
    try:
        return versions_to_prune(versions, str(current), keep, bool(prune_end_of_life))
    except (KeyError, ValueError) as exc:
        raise AnsibleFilterError(f"publish_prune: {exc}") from exc


class FilterModule:
    """avd.golden publishing filters."""

    def filters(self) -> dict[str, Any]:
        return {
            "publish_validation_plan": publish_validation_plan,
            "publish_validation_problems": publish_validation_problems,
            "publish_prune": publish_prune,
        }
