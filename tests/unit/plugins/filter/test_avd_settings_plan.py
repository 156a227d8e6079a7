"""The filter avd.golden.avd_settings_plan: a thin wrapper (the plan is tested in
tests/unit/plugins/plugin_utils/test_avd_settings.py) with a documentation sidecar."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.filter import avd_settings_plan as filt  # noqa: E402


def test_the_filter_module_lists_the_filter_with_its_doc_sidecar() -> None:
    filters = filt.FilterModule().filters()
    assert set(filters) == {"avd_settings_plan"}
    doc = yaml.safe_load((REPO_ROOT / "plugins" / "filter" / "avd_settings_plan.yml").read_text())
    assert doc["DOCUMENTATION"]["name"] == "avd_settings_plan"
    assert set(doc["DOCUMENTATION"]["options"]) == {"_input"}


def test_the_filter_returns_the_plan() -> None:
    plan = filt.avd_settings_plan({"avd": {"teams_media_optimization": True}})
    assert set(plan) == {"registry", "firewall_rules", "tasks", "groups", "warnings"}
    assert {"IsWVDEnvironment", "fEnableTimeZoneRedirection"} <= {i["name"] for i in plan["registry"]}


def test_the_filter_fails_with_every_error() -> None:
    with pytest.raises(AnsibleFilterError) as info:
        filt.avd_settings_plan({"avd": {"storage_sense": "no", "fslogix": {"enabled": True}}})
    message = str(info.value.message)
    assert message.startswith("avd_settings_plan: the avd settings are not valid:")
    assert [line.split(": ", 1)[0] for line in message.splitlines()[1:]] == [
        "avd.storage_sense",
        "avd.fslogix.location_type",
        "avd.fslogix.locations",
    ]
    with pytest.raises(AnsibleFilterError, match="must be a mapping"):
        filt.avd_settings_plan("not a spec")
