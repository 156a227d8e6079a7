"""The image spec's windows_update section: defaults, and a field-named error for each bad value."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.paths import REPO

# The plugins import their logic as ansible_collections.avd.golden...; collections/ holds that path.
sys.path.insert(0, str(REPO / "collections"))

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.spec import (
    normalize_image_spec,
    validate_image_spec,
)

EXAMPLE = REPO / "images" / "win11-24h2-avd-m365.yml"


def _spec(section: Any, version: str | None = None) -> dict[str, Any]:
    data = copy.deepcopy(yaml.safe_load(EXAMPLE.read_text()))
    data["windows_update"] = section
    if version is not None:
        data["source"]["version"] = version
    return data


def _errors(section: Any, version: str | None = None) -> list[str]:
    base = Path(EXAMPLE).parent
    return [
        e
        for e in validate_image_spec(_spec(section, version), base_dir=base)
        if e.startswith("windows_update")
    ]


def test_absent_is_off_present_is_on_with_the_defaults() -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    data.pop("windows_update", None)
    assert normalize_image_spec(data, base_dir=EXAMPLE.parent)["windows_update"]["enabled"] is False
    normal = normalize_image_spec(
        _spec({"exclude": ["kb5034441", {"kb": "KB5000001", "reason": "breaks X"}]}), base_dir=EXAMPLE.parent
    )
    assert normal["windows_update"] == {
        "enabled": True,
        "categories": ["SecurityUpdates", "CriticalUpdates", "UpdateRollups", "DefinitionUpdates"],
        "skip_optional": True,
        "include": [],
        "exclude": [{"kb": "KB5034441", "reason": None}, {"kb": "KB5000001", "reason": "breaks X"}],
        "deny_list": True,
        "max_rounds": 5,
        "on_max_rounds": "fail",
        "already_current_days": None,
        "timeout_minutes": 240,
    }


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"enabled": "yes"}, "windows_update.enabled: must be true or false"),
        (
            {"categories": ["Security Updates"]},
            "windows_update.categories[0]: unknown Windows Update category 'Security Updates' (write Secur",
        ),
        ({"categories": ["Upgrades"]}, "windows_update.categories[0]: Upgrades (feature updates)"),
        ({"categories": ["*"]}, "windows_update.categories[0]: '*' would include Upgrades"),
        ({"categories": []}, "windows_update.categories: must name at least one category"),
        ({"include": ["KB12"]}, "windows_update.include[0]: must be a KB number like KB5062553"),
        ({"include": "KB5062553"}, "windows_update.include: must be a list"),
        (
            {"include": ["KB5062553"], "exclude": ["KB5062553"]},
            "windows_update.include[0]: KB5062553 is also in windows_update.exclude",
        ),
        ({"exclude": [{"kb": "KB5062553", "why": "x"}]}, "windows_update.exclude[0].why: unknown key"),
        ({"exclude": ["KB5062553", "kb5062553"]}, "windows_update.exclude[1]: KB5062553 is listed twice"),
        ({"max_rounds": 0}, "windows_update.max_rounds: must be an integer from 1 to 20"),
        ({"on_max_rounds": "ignore"}, "windows_update.on_max_rounds: must be one of fail, warn"),
        (
            {"already_current_days": 400},
            "windows_update.already_current_days: must be an integer from 1 to 365",
        ),
        ({"timeout_minutes": 5}, "windows_update.timeout_minutes: must be an integer from 10 to 1440"),
        ({"reboot": True}, "windows_update.reboot: unknown key"),
    ],
)
def test_bad_values_name_the_field(section: dict[str, Any], expected: str) -> None:
    errors = _errors(section)
    assert any(e.startswith(expected) for e in errors), errors


def test_the_shortcut_needs_a_dated_version() -> None:
    assert _errors({"already_current_days": 30}, "latest") == []
    assert _errors({"already_current_days": 30}, "26100.4061.250510") == []
    assert _errors({"already_current_days": 30}, "19041.450.2008080726") == [
        "windows_update.already_current_days: needs a source.version that ends in its date "
        "(<build>.<UBR>.<YYMMDD>), got '19041.450.2008080726'"
    ]
