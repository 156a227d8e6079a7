"""Safe publishing logic (plugins/plugin_utils/_publish.py): the validation plan from the image
manifest, the problems check-mode results show, and the versions a promotion prunes."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.filter import publish as filt  # noqa: E402
from ansible_collections.avd.golden.plugins.plugin_utils._publish import (  # noqa: E402
    validation_plan,
    validation_problems,
    versions_to_prune,
)

TS = r"SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services"
PARTS: list[dict[str, Any]] = [
    {
        "part": "avd_settings",
        "entries": [
            {
                "kind": "registry",
                "id": f"HKLM\\{TS}\\fEnableTimeZoneRedirection",
                "hive": "HKLM",
                "key": TS,
                "name": "fEnableTimeZoneRedirection",
                "after": {"type": "dword", "data": 1},
            },
            {
                "kind": "registry",
                "id": "HKLM\\X\\Gone",
                "hive": "HKLM",
                "key": "X",
                "name": "Gone",
                "after": None,
            },
            {
                "kind": "registry",
                "id": "HKLM\\P\\ExtensionSettings",
                "hive": "HKLM",
                "key": "P",
                "name": "ExtensionSettings",
                "after": {"type": "string", "data": {"*": {"installation_mode": "blocked"}}},
            },
            {"kind": "firewall_rule", "id": "RDP-UDP", "after": {"name": "RDP-UDP", "localport": "3390"}},
            {
                "kind": "group",
                "id": "FSLogix ODFC Exclude List",
                "after": {"members": ["a"], "state": "present"},
            },
        ],
    },
    {
        "part": "optimize",
        "entries": [
            {"kind": "service", "id": "DiagTrack", "after": "disabled"},
            {"kind": "task", "id": r"\Microsoft\Windows\Defrag\ScheduledDefrag", "after": "Disabled"},
            {"kind": "task", "id": r"\Top", "after": "Ready"},
        ],
    },
    {"part": "appx", "entries": [{"kind": "appx", "id": "Clipchamp.Clipchamp", "after": None}]},
]


def test_plan_turns_every_entry_into_a_check_mode_item() -> None:
    plan = validation_plan(PARTS)
    reg = plan["registry"]
    assert reg[0] == {
        "hive": "HKLM",
        "key": TS,
        "name": "fEnableTimeZoneRedirection",
        "type": "dword",
        "data": 1,
        "state": "present",
        "source": f"avd_settings:HKLM\\{TS}\\fEnableTimeZoneRedirection",
    }
    assert reg[1]["state"] == "absent" and "type" not in reg[1]
    assert reg[2]["json_merge"] is True
    assert plan["services"] == [
        {"name": "DiagTrack", "start_mode": "disabled", "source": "optimize:DiagTrack"}
    ]
    assert [(t["path"], t["name"], t["enabled"]) for t in plan["tasks"]] == [
        ("\\Microsoft\\Windows\\Defrag\\", "ScheduledDefrag", False),
        ("\\", "Top", True),
    ]
    assert plan["appx"] == [{"name": "Clipchamp.Clipchamp", "source": "appx:Clipchamp.Clipchamp"}]
    assert plan["firewall_rules"][0]["localport"] == "3390"
    assert plan["groups"][0] == {
        "members": ["a"],
        "state": "present",
        "name": "FSLogix ODFC Exclude List",
        "source": "avd_settings:FSLogix ODFC Exclude List",
    }


def test_plan_of_no_manifest_is_empty_and_unknown_kinds_are_refused() -> None:
    assert all(v == [] for v in validation_plan([]).values())
    with pytest.raises(ValueError, match="'file' cannot be validated"):
        validation_plan([{"part": "x", "entries": [{"kind": "file", "id": "C:\\a"}]}])
    with pytest.raises(AnsibleFilterError, match="list of manifest parts"):
        filt.publish_validation_plan({"part": "x"})


def test_problems_name_the_item_its_part_and_what_the_image_holds() -> None:
    results = {
        "registry": {
            "changes": [
                {
                    "source": "avd_settings:HKLM\\SOFTWARE\\FSLogix\\Profiles\\Enabled",
                    "before": None,
                    "after": {"type": "dword", "data": 1},
                }
            ]
        },
        "services": {
            "changes": [
                {"name": "DiagTrack", "source": "optimize:DiagTrack", "before": "auto", "after": "disabled"}
            ]
        },
        "tasks": {"changes": [], "missing": ["\\Microsoft\\Windows\\Defrag\\ScheduledDefrag"]},
        "appx": {"removed": [{"name": "Clipchamp.Clipchamp", "source": "appx:Clipchamp.Clipchamp"}]},
        "firewall_rules": {
            "results": [
                {"changed": True, "__r": {"name": "RDP-UDP", "source": "s"}, "ansible_loop_var": "__r"}
            ]
        },
        "groups": {
            "results": [{"failed": True, "msg": "boom", "__g": {"name": "G"}, "ansible_loop_var": "__g"}]
        },
    }
    problems = validation_problems(results)
    assert problems == [
        "registry avd_settings:HKLM\\SOFTWARE\\FSLogix\\Profiles\\Enabled: the image has absent, "
        "the manifest says dword 1",
        "service optimize:DiagTrack: the image has auto, the manifest says disabled",
        "task \\Microsoft\\Windows\\Defrag\\ScheduledDefrag: not in the image",
        "appx appx:Clipchamp.Clipchamp: still in the image, the build removed it",
        "firewall_rule RDP-UDP: the image differs from the manifest (s)",
        "group G: the check failed: boom",
    ]
    assert (
        validation_problems({"registry": {"changes": []}, "services": {}, "firewall_rules": {"results": []}})
        == []
    )


def _v(name: str, eol: str | None = None) -> dict[str, Any]:
    profile = {"endOfLifeDate": eol} if eol else {}
    return {"name": name, "id": f"/x/versions/{name}", "properties": {"publishingProfile": profile}}


NOW = dt.datetime(2027, 1, 5, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("keep", "eol", "expected"),
    [
        (None, False, []),
        (1, False, ["1.0.2", "1.0.10", "2.0.0"]),
        (3, False, ["1.0.2"]),  # numeric order: 1.0.10 is newer than 1.0.2
        (10, False, []),
        (None, True, ["1.0.2"]),
        (4, True, ["1.0.2"]),
    ],
)
def test_prune_by_count_and_end_of_life(keep: int | None, eol: bool, expected: list[str]) -> None:
    versions = [
        _v("1.0.10"),
        _v("1.0.2", "2027-01-01T00:00:00+00:00"),
        _v("2.0.0", "2030-01-01"),
        _v("2.1.0"),
    ]
    pruned = versions_to_prune(versions, "2.1.0", keep, eol, now=NOW)
    assert [p["name"] for p in pruned] == sorted(expected, key=lambda n: tuple(map(int, n.split("."))))
    assert all(p["name"] != "2.1.0" for p in pruned)


def test_prune_reasons_and_the_filter_wrapper() -> None:
    versions = [_v("1.0.0", "2026-01-01"), _v("1.0.1"), _v("1.0.2")]
    pruned = filt.publish_prune(versions, "1.0.2", 2, True)
    assert pruned == [{"name": "1.0.0", "id": "/x/versions/1.0.0", "reason": "more than 2 versions"}]
    assert filt.publish_prune(versions, "1.0.2", None, True)[0]["reason"] == "end of life 2026-01-01"
    with pytest.raises(AnsibleFilterError, match="list of image versions"):
        filt.publish_prune({"value": []}, "1.0.0")


def test_kinds_no_module_rechecks_yet_are_listed_as_unchecked() -> None:
    parts = [
        {"part": "updates", "entries": [{"kind": "update", "id": "KB5062553", "after": {"round": 1}}]},
        {"part": "applications", "entries": [{"kind": "application", "id": "7-Zip", "after": {}}]},
    ]
    plan = validation_plan(parts)
    assert [u["source"] for u in plan["unchecked"]] == ["updates:KB5062553", "applications:7-Zip"]
    assert all(plan[k] == [] for k in plan if k != "unchecked")


def test_plan_checks_a_value_two_phases_set_once_as_the_later_one_left_it() -> None:
    teams = {"hive": "HKLM", "key": r"SOFTWARE\Microsoft\Teams", "name": "IsWVDEnvironment"}
    first = {"kind": "registry", "id": "HKLM\\x", **teams, "after": {"type": "dword", "data": 0}}
    later = {**first, "key": r"software\microsoft\teams", "after": {"type": "dword", "data": 1}}
    auto = {"kind": "service", "id": "frxsvc", "after": "auto"}
    manual = {"kind": "service", "id": "FRXSVC", "after": "manual"}
    stack = {"part": "avd_stack", "entries": [first, auto]}
    plan = validation_plan([stack, {"part": "avd_settings", "entries": [later, manual]}])
    assert [(r["data"], r["source"]) for r in plan["registry"]] == [(1, "avd_settings:HKLM\\x")]
    assert plan["services"] == [{"name": "FRXSVC", "start_mode": "manual", "source": "avd_settings:FRXSVC"}]
