"""The languages phase's filters (avd.golden.languages_plan, avd.golden.language_download_errors,
avd.golden.language_tasks_to_restore).

Thin wrappers: the logic lives in plugins/plugin_utils/_languages.py. Documentation is in the
sidecars languages_plan.yml, language_download_errors.yml and language_tasks_to_restore.yml.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.avd.golden.plugins.plugin_utils._languages import (
    LanguagesPlanError,
    download_errors,
    languages_plan,
    tasks_to_restore,
)


def _plan(languages: Any, download_dir: Any) -> dict[str, Any]:
    """Plan the languages phase (see the sidecar doc)."""
    if not isinstance(download_dir, str) or not download_dir:
        raise AnsibleFilterError("languages_plan: download_dir must be a folder on the build VM")
    try:
        return languages_plan(languages, download_dir)
    except LanguagesPlanError as exc:
        raise AnsibleFilterError(f"languages_plan: {exc}") from exc


class FilterModule:
    """avd.golden languages filters."""

    def filters(self) -> dict[str, Any]:
        return {
            "languages_plan": _plan,
            "language_download_errors": download_errors,
            "language_tasks_to_restore": tasks_to_restore,
        }
