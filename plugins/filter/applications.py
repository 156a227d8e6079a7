"""The application filters of the role windows_applications (avd.golden.application_*).

Thin wrappers: the logic lives in plugins/plugin_utils/_applications.py. Documentation is in the
sidecar files application_*.yml.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.avd.golden.plugins.plugin_utils import _applications as apps


def _entries(value: Any, name: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(e, Mapping) and "kind" in e for e in value):
        raise AnsibleFilterError(f"{name}: expects the normalised applications list (docs/contracts.md)")
    return [dict(e) for e in value]


def application_detection(entries: Any) -> list[dict[str, Any]]:
    return apps.detection_items(_entries(entries, "application_detection"))


def application_plan(entries: Any, detected: Any, work_dir: str) -> list[dict[str, Any]]:
    try:
        return apps.plan(_entries(entries, "application_plan"), detected or {}, work_dir)
    except ValueError as exc:
        raise AnsibleFilterError(f"application_plan: {exc}") from exc


def application_outcome(app: Mapping[str, Any], results: list[Any], signature: Any = None) -> dict[str, Any]:
    return apps.outcome(app, [r for r in results if isinstance(r, Mapping)], signature or None)


def application_manifest(plan: Any, done: Any, check_mode: bool = False) -> dict[str, Any]:
    return apps.manifest(_entries(plan, "application_manifest"), done or [], bool(check_mode))


def application_failure(
    app: Mapping[str, Any],
    result: Mapping[str, Any],
    task: str | None = None,
    lines: int = 25,
    log_file: Any = None,
) -> str:
    if task is None:
        return apps.download_failure(app, result or {})
    return apps.failure(app, task, result or {}, int(lines), log_file)


class FilterModule:
    """avd.golden application filters."""

    def filters(self) -> dict[str, Any]:
        return {
            "application_detection": application_detection,
            "application_plan": application_plan,
            "application_outcome": application_outcome,
            "application_manifest": application_manifest,
            "application_failure": application_failure,
        }
