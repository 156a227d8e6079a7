"""The optimization plan and the image spec sections ``optimization`` and ``appx``.

Profile choice per source SKU, the shipped profiles' content (and that their AppX list never
touches the apps that must stay), overrides, the switches, a user's folder read in the validate
phase, and the filter plugin's wrapper.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleFilterError

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.filter import image_spec as spec_filters  # noqa: E402
from ansible_collections.avd.golden.plugins.filter import optimization as filt  # noqa: E402
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.spec import (  # noqa: E402
    normalize_image_spec,
    validate_image_spec,
)
from ansible_collections.avd.golden.plugins.plugin_utils._optimization import profiles  # noqa: E402
from ansible_collections.avd.golden.plugins.plugin_utils._optimization.reader import read_folder  # noqa: E402

TODAY = "2026-11-27"
SPEC: dict[str, Any] = {
    "name": "img",
    "source": {"offer": "windows-11", "sku": "win11-24h2-avd"},
    "location": "westeurope",
    "gallery": {
        "resource_group": "rg-img",
        "name": "gal",
        "image_definition": {"name": "d", "publisher": "p", "offer": "o", "sku": "s"},
    },
}
# What must never be removed by default (the brief of this feature, independent of the code):
# the Store, winget, Windows Security, Photos, Notepad, Calculator and the frameworks.
NEVER_REMOVED = {
    "microsoft.windowsstore",
    "microsoft.storepurchaseapp",
    "microsoft.desktopappinstaller",
    "microsoft.sechealthui",
    "microsoft.windows.photos",
    "microsoft.windowsnotepad",
    "microsoft.windowscalculator",
}
FRAMEWORK_PREFIXES = (
    "microsoft.vclibs",
    "microsoft.ui.xaml",
    "microsoft.net.native",
    "microsoft.windowsappruntime",
)


def spec(sku: str = "win11-24h2-avd", offer: str | None = None, **sections: Any) -> dict[str, Any]:
    data = copy.deepcopy(SPEC)
    data["source"] = {
        "offer": offer or ("windows-10" if sku.startswith("win10") else "windows-11"),
        "sku": sku,
    }
    data.update(sections)
    return data


def plan(data: dict[str, Any], base_dir: Path | None = None) -> dict[str, Any]:
    return filt.optimization_plan(normalize_image_spec(data, TODAY, base_dir), base_dir)


def write(folder: Path, files: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_text(json.dumps(content), encoding="utf-8")
    return folder


def names(items: list[dict[str, Any]]) -> list[str]:
    return [i["name"] for i in items]


# -- which profile ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sku", "offer", "profile"),
    [
        ("win10-22h2-avd", None, "win10-22h2-multi"),
        ("win10-22h2-avd-g2", None, "win10-22h2-multi"),
        ("win10-22h2-avd-m365", "office-365", "win10-22h2-multi"),
        ("win10-22h2-ent", None, "win10-22h2-single"),
        ("win10-22h2-ent-g2", None, "win10-22h2-single"),
        ("win11-23h2-avd", None, "win11-23h2-multi"),
        ("win11-23h2-avd-m365", "office-365", "win11-23h2-multi"),
        ("win11-23h2-ent", None, "win11-23h2-single"),
        ("win11-24h2-avd", None, "win11-24h2-multi"),
        ("win11-24h2-avd-m365", "office-365", "win11-24h2-multi"),
        ("win11-24h2-ent", None, "win11-24h2-single"),
        ("win11-24h2-entn", None, "win11-24h2-single"),
        ("win11-25h2-avd", None, "win11-25h2-multi"),
        ("win11-25h2-avd-m365", "office-365", "win11-25h2-multi"),
        ("win11-25h2-ent", None, "win11-25h2-single"),
    ],
)
def test_the_profile_follows_the_source_build_and_session(sku: str, offer: str | None, profile: str) -> None:
    data = spec(sku, offer)
    if sku.startswith("win10") and "g2" not in sku:
        data["gallery"]["image_definition"].update(hyper_v_generation="V1", security_type="Standard")
    assert validate_image_spec(data, TODAY) == []
    result = plan(data)
    assert result["profile"] == profile
    assert profiles.index()[profile]["build"] == profiles.RELEASE_BUILDS[(sku[3:5], sku[6:10])]


def test_a_source_without_a_profile_is_refused_with_the_choices() -> None:
    errors = validate_image_spec(spec("win11-22h2-avd"), TODAY)
    assert len(errors) == 1
    assert errors[0].startswith(
        "optimization.profile: no shipped profile for Windows 11 22H2 (build 22621) multi-session "
        "(source.sku 'win11-22h2-avd'); the shipped profiles are win10-22h2-multi, "
    )
    assert (
        validate_image_spec(spec("win11-22h2-avd", optimization={"profile": "win11-23h2-multi"}), TODAY) == []
    )
    assert validate_image_spec(spec("win11-22h2-avd", optimization={"enabled": False}), TODAY) == []


def test_every_shipped_profile_loads_and_names_real_layers() -> None:
    layers = {p.name for p in profiles.PROFILES_DIR.iterdir() if p.is_dir()}
    used = set()
    for name, profile in profiles.index().items():
        assert set(profile["layers"]) <= layers, name
        used |= set(profile["layers"])
        loaded = profiles.load(name)
        assert set(loaded) == set(profiles.CATEGORIES), name
    assert used == layers  # no layer lies unused


def test_profiles_differ_where_the_os_and_session_differ() -> None:
    by_name = {n: plan(spec(optimization={"profile": n})) for n in profiles.index()}

    def has_value(result: dict[str, Any], value: str) -> bool:
        return any(r["name"] == value for r in result["registry"])

    # Single-session hosts keep SysMain and the ReadyBoot trace; multi-session hosts disable them.
    assert "SysMain" in names(by_name["win11-24h2-multi"]["services"])
    assert "SysMain" not in names(by_name["win11-24h2-single"]["services"])
    readyboot = "SYSTEM\\CurrentControlSet\\Control\\WMI\\Autologger\\ReadyBoot"
    assert any(r["key"] == readyboot for r in by_name["win10-22h2-multi"]["registry"])
    assert not any(r["key"] == readyboot for r in by_name["win10-22h2-single"]["registry"])
    # Recall's policy from 24H2 on; 23H2's Copilot sidebar policy only on 23H2.
    assert has_value(by_name["win11-24h2-multi"], "DisableAIDataAnalysis")
    assert has_value(by_name["win11-25h2-single"], "DisableAIDataAnalysis")
    assert not has_value(by_name["win11-23h2-multi"], "DisableAIDataAnalysis")
    assert has_value(by_name["win11-23h2-multi"], "TurnOffWindowsCopilot")
    assert not has_value(by_name["win11-24h2-multi"], "TurnOffWindowsCopilot")
    # Windows 10's consumer apps are not Windows 11's.
    assert "Microsoft.XboxApp" in names(by_name["win10-22h2-multi"]["appx"])
    assert "Clipchamp.Clipchamp" not in names(by_name["win10-22h2-multi"]["appx"])
    assert "Clipchamp.Clipchamp" in names(by_name["win11-23h2-multi"]["appx"])
    assert not has_value(by_name["win10-22h2-multi"], "AllowNewsAndInterests")


def test_the_default_plan_carries_every_category_in_module_formats() -> None:
    result = plan(spec())
    assert result["profile"] == "win11-24h2-multi" and result["warnings"] == []
    assert result["disk_cleanup"] is False
    assert {i["name"] for i in result["registry"]} >= {
        "Start",  # autologgers
        "EnableAeroPeek",  # default user
        "DormantFileLimit",  # LanMan
        "NoAutoUpdate",  # policy
        "HideFirstRunExperience",  # Edge
    }
    assert {r["hive"] for r in result["registry"]} == {"HKLM", "default_user"}
    mask = next(r for r in result["registry"] if r["name"] == "UserPreferencesMask")
    assert mask["type"] == "binary" and mask["data"] == [0x90, 0x12, 0x03, 0x80, 0x10, 0, 0, 0]
    assert all(s["start_mode"] == "disabled" for s in result["services"])
    assert {"InstallService", "VSS", "defragsvc"}.isdisjoint(names(result["services"]))
    defrag = next(t for t in result["tasks"] if t["name"] == "ScheduledDefrag")
    assert defrag == {
        "path": "\\Microsoft\\Windows\\Defrag\\",
        "name": "ScheduledDefrag",
        "enabled": False,
        "source": "base/ScheduledTasks.json#19",
    }
    for item in result["registry"] + result["services"] + result["tasks"] + result["appx"]:
        assert item["source"].split("/")[0] in profiles.index()["win11-24h2-multi"]["layers"]
    assert {s["item"] for s in result["skipped"]} == {"InstallService", "defragsvc", "VSS"}


@pytest.mark.parametrize("profile", sorted(profiles.index()))
def test_no_shipped_profile_removes_an_app_that_must_stay(profile: str) -> None:
    result = plan(spec(optimization={"profile": profile}))
    removed = [a["name"].lower() for a in result["appx"]]
    assert removed, profile
    assert NEVER_REMOVED.isdisjoint(removed)
    assert not [n for n in removed if n.startswith(FRAMEWORK_PREFIXES) or "*" in n or "?" in n]
    assert all(a["on_failure"] == "fail" for a in result["appx"])


# -- the switches ---------------------------------------------------------------------------------

LANMAN = "System\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters"


def test_network_false_leaves_lanman_alone() -> None:
    on, off = plan(spec()), plan(spec(optimization={"network": False}))
    assert any(r["key"] == LANMAN for r in on["registry"])
    assert not any(r["key"] == LANMAN for r in off["registry"])
    skipped = [s for s in off["skipped"] if s["category"] == "LanManWorkstation"]
    assert len(skipped) == 5 and {s["reason"] for s in skipped} == {"optimization.network is false"}
    assert len(off["registry"]) == len(on["registry"]) - 5


def test_disk_cleanup_is_its_own_switch() -> None:
    assert plan(spec(optimization={"disk_cleanup": True}))["disk_cleanup"] is True
    assert plan(spec(optimization={"disk_cleanup": True, "enabled": False}))["disk_cleanup"] is True


def test_categories_select_what_is_applied() -> None:
    result = plan(spec(optimization={"categories": ["Services", "AppxPackages"]}))
    assert result["registry"] == [] and result["tasks"] == []
    assert result["services"] and result["appx"]
    reasons = {s["reason"] for s in result["skipped"] if s["category"] == "ScheduledTasks"}
    assert reasons == {"category not in optimization.categories"}


def test_disabled_optimization_keeps_only_the_users_appx() -> None:
    result = plan(spec(optimization={"enabled": False}, appx={"remove": ["Microsoft.BingSearch"]}))
    assert result["profile"] is None
    assert (result["registry"], result["services"], result["tasks"]) == ([], [], [])
    assert result["appx"] == [
        {"name": "Microsoft.BingSearch", "on_failure": "fail", "source": "appx.remove[0]"}
    ]


# -- overrides ------------------------------------------------------------------------------------


def test_overrides_skip_apply_and_change_values() -> None:
    overrides = [
        {"category": "Services", "item": "SysMain", "action": "skip"},
        {"category": "Services", "item": "diagtrack", "value": "manual"},
        {"category": "Services", "item": "InstallService", "action": "apply"},
        {"category": "LanManWorkstation", "item": "DormantFileLimit", "value": 512},
        {
            "category": "PolicyRegSettings",
            "item": "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate\\AU\\NoAutoUpdate",
            "action": "skip",
        },
        {
            "category": "EdgeSettings",
            "item": "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Edge\\StartupBoostEnabled",
            "value": "0x1",
        },
        {
            "category": "ScheduledTasks",
            "item": "\\Microsoft\\Windows\\Defrag\\ScheduledDefrag",
            "action": "skip",
        },
        {"category": "AppxPackages", "item": "Microsoft.WindowsMaps", "action": "skip"},
        {"category": "Autologgers", "item": "ReadyBoot", "action": "skip"},
        {
            "category": "DefaultUserSettings",
            "item": "HKCU:\\Control Panel\\Desktop\\DragFullWindows",
            "value": "1",
        },
        {
            "category": "DefaultUserSettings",
            "item": "Control Panel\\Desktop\\WindowMetrics\\MinAnimate",
            "value": 1,
        },
        {
            "category": "DefaultUserSettings",
            "item": "HKLM:\\VDOT_TEMP\\Software\\Microsoft\\Windows\\DWM\\EnableAeroPeek",
            "action": "skip",
        },
    ]
    result = plan(spec(optimization={"overrides": overrides}))
    services = {s["name"]: s for s in result["services"]}
    registry = {r["name"]: r for r in result["registry"]}
    assert "SysMain" not in services and services["DiagTrack"]["start_mode"] == "manual"
    assert services["InstallService"]["start_mode"] == "disabled"
    assert services["DiagTrack"]["source"] == "base/Services.json#6 (optimization.overrides[1])"
    assert registry["DormantFileLimit"]["data"] == 512
    assert "NoAutoUpdate" not in registry
    assert registry["StartupBoostEnabled"]["data"] == 1
    assert (
        registry["DragFullWindows"]["data"] == "1" and registry["DragFullWindows"]["hive"] == "default_user"
    )
    assert registry["MinAnimate"]["data"] == "1" and "EnableAeroPeek" not in registry
    assert "ScheduledDefrag" not in names(result["tasks"])
    assert "Microsoft.WindowsMaps" not in names(result["appx"])
    assert not any(r["key"].endswith("\\ReadyBoot") for r in result["registry"])
    skipped = {s["item"] for s in result["skipped"]}
    assert {"SysMain", "Microsoft.WindowsMaps", "\\Microsoft\\Windows\\Defrag\\ScheduledDefrag"} <= skipped


@pytest.mark.parametrize(
    ("override", "error"),
    [
        (
            {"category": "Services", "item": "SysMian", "action": "skip"},
            "optimization.overrides[0].item: no such item in Services; did you mean 'SysMain'? "
            "(profile win11-24h2-multi)",
        ),
        (
            {"category": "Services", "item": "SysMain", "value": "off"},
            "optimization.overrides[0].value: a service's value is its start mode (auto, delayed, manual, "
            "disabled), got 'off'",
        ),
        (
            {"category": "ScheduledTasks", "item": "SR", "value": 1},
            "optimization.overrides[0].value: ScheduledTasks items have no value to change; "
            "use action apply or skip",
        ),
        (
            {"category": "Autologgers", "item": "ReadyBoot", "value": 1},
            "optimization.overrides[0].value: Autologgers items have no value to change",
        ),
        (
            {"category": "LanManWorkstation", "item": "DormantFileLimit", "value": "lots"},
            "optimization.overrides[0].value: must be a dword number from 0 to 0xffffffff",
        ),
        (
            {"category": "Services", "item": "SysMain", "action": "remove"},
            "optimization.overrides[0].action: must be one of apply, skip, got 'remove'",
        ),
        (
            {"category": "Service", "item": "SysMain", "action": "skip"},
            "optimization.overrides[0].category: must be one of AppxPackages, ",
        ),
        (
            {"category": "Services", "item": "SysMain"},
            "optimization.overrides[0]: needs action (apply or skip) or value",
        ),
        (
            {"category": "Services", "item": "SysMain", "action": "skip", "value": "manual"},
            "optimization.overrides[0].value: a value with action skip does nothing",
        ),
        (
            {"category": "Services", "item": "SysMain", "state": "off"},
            "optimization.overrides[0].state: unknown key",
        ),
    ],
)
def test_bad_overrides_are_refused(override: dict[str, Any], error: str) -> None:
    errors = validate_image_spec(spec(optimization={"overrides": [override]}), TODAY)
    assert len(errors) >= 1 and errors[0].startswith(error), errors


# -- a user's folder --------------------------------------------------------------------------


def test_a_users_vdot_folder_next_to_the_spec(tmp_path: Path) -> None:
    write(
        tmp_path / "my-opt",
        {
            "Services.json": [
                {"Name": "SysMain", "VDIState": "Disabled"},
                {"Name": "VSS", "VDIState": "Unchanged"},
            ],
            "PolicyRegSettings.json": [
                {
                    "RegItemPath": "HKCU:\\Software\\Policies\\Microsoft\\Windows\\Explorer",
                    "RegItemValueName": "DisableSearchBoxSuggestions",
                    "RegItemValueType": "DWord",
                    "RegItemValue": "1",
                    "VDIState": "Enabled",
                }
            ],
            "AppxPackages.json": [{"AppxPackage": "Microsoft.BingNews", "VDIState": "Disabled"}],
        },
    )
    data = spec(optimization={"path": "my-opt/"}, appx={"on_failure": "warn"})
    assert validate_image_spec(data, TODAY, str(tmp_path)) == []
    result = plan(data, tmp_path)
    assert result["profile"] == "path:my-opt"
    assert result["services"] == [{"name": "SysMain", "start_mode": "disabled", "source": "Services.json#1"}]
    assert result["registry"] == [
        {
            "hive": "default_user",
            "key": "Software\\Policies\\Microsoft\\Windows\\Explorer",
            "name": "DisableSearchBoxSuggestions",
            "type": "dword",
            "data": 1,
            "source": "PolicyRegSettings.json#1",
        }
    ]
    assert result["warnings"] == [
        "my-opt/PolicyRegSettings.json: item 1 (HKCU:\\Software\\Policies\\Microsoft\\Windows\\Explorer\\"
        "DisableSearchBoxSuggestions): an HKCU entry: written to the default user hive "
        "(C:\\Users\\Default\\NTUSER.DAT, so every new profile gets it), not to the build account's HKCU"
    ]
    assert result["appx"] == [
        {"name": "Microsoft.BingNews", "source": "AppxPackages.json#1", "on_failure": "warn"}
    ]


def test_a_bad_user_file_is_refused_in_the_validate_phase(tmp_path: Path) -> None:
    write(
        tmp_path / "my-opt",
        {
            "PolicyRegSettings.json": [
                {
                    "RegItemPath": "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Edge",
                    "RegItemValueName": "X",
                    "RegItemValueType": "DWord",
                    "RegItemValue": "yes",
                    "VDIState": "Enabled",
                }
            ]
        },
    )
    data = spec(optimization={"path": "my-opt"})
    # The README's example error, word for word.
    assert validate_image_spec(data, TODAY, str(tmp_path)) == [
        "my-opt/PolicyRegSettings.json: item 1 (HKLM:\\SOFTWARE\\Policies\\Microsoft\\Edge\\X): "
        "RegItemValue: must be a dword number from 0 to 0xffffffff (decimal or 0x hex), got 'yes'"
    ]
    assert "got 'yes'" in (REPO_ROOT / "images" / "README.md").read_text()
    # Without the spec's directory a relative folder cannot be found: validation does not read it,
    # the plan refuses it.
    assert validate_image_spec(data, TODAY) == []
    with pytest.raises(AnsibleFilterError, match="is relative and no base_dir"):
        filt.optimization_plan(normalize_image_spec(data, TODAY), None)
    assert validate_image_spec(spec(optimization={"path": "missing"}), TODAY, str(tmp_path)) == [
        "missing: is not a directory"
    ]


def test_overrides_are_checked_against_the_users_folder(tmp_path: Path) -> None:
    policy = {"RegItemValueName": "ScenarioExecutionEnabled", "RegItemValueType": "DWord", "RegItemValue": 0}
    write(
        tmp_path / "my-opt",
        {
            "PolicyRegSettings.json": [
                {
                    **policy,
                    "RegItemPath": "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\WDI\\{a}",
                    "VDIState": "Enabled",
                },
                {
                    **policy,
                    "RegItemPath": "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\WDI\\{b}",
                    "VDIState": "Enabled",
                },
            ]
        },
    )
    ambiguous = {"category": "PolicyRegSettings", "item": "ScenarioExecutionEnabled", "action": "skip"}
    absent = {"category": "Services", "item": "SysMain", "action": "skip"}
    full = {
        "category": "PolicyRegSettings",
        "item": "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\WDI\\{b}\\ScenarioExecutionEnabled",
        "action": "skip",
    }
    errors = validate_image_spec(
        spec(optimization={"path": "my-opt", "overrides": [ambiguous, absent]}), TODAY, tmp_path
    )
    assert errors == [
        "optimization.overrides[0].item: 'ScenarioExecutionEnabled' is the name of 2 items "
        "(HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\WDI\\{a}\\ScenarioExecutionEnabled, "
        "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\WDI\\{b}\\ScenarioExecutionEnabled): "
        "give the full one (profile path:my-opt)",
        "optimization.overrides[1].category: profile path:my-opt has no Services items",
    ]
    result = plan(spec(optimization={"path": "my-opt", "overrides": [full]}), tmp_path)
    assert [r["key"][-3:] for r in result["registry"]] == ["{a}"]


# -- the sections' shape ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sections", "error"),
    [
        (
            {"optimization": {"profile": "win11-24h2-mutli"}},
            "optimization.profile: must be auto or a shipped profile",
        ),
        ({"optimization": {"profile": "win11-24h2-single", "path": "x"}}, "optimization.path: give either"),
        ({"optimization": {"path": ""}}, "optimization.path: must not be empty"),
        ({"optimization": {"categories": []}}, "optimization.categories: must be a non-empty list"),
        (
            {"optimization": {"categories": ["services"]}},
            "optimization.categories[0]: must be one of AppxPackages, ScheduledTasks, Services, "
            "Autologgers, DefaultUserSettings, LanManWorkstation, PolicyRegSettings, EdgeSettings, "
            "got 'services'; did you mean 'Services'?",
        ),
        (
            {"optimization": {"categories": ["Services", "Services"]}},
            "optimization.categories[1]: Services is listed twice",
        ),
        ({"optimization": {"enabled": "yes"}}, "optimization.enabled: must be true or false"),
        ({"optimization": {"network": 1}}, "optimization.network: must be true or false"),
        ({"optimization": {"overrides": {"SysMain": "skip"}}}, "optimization.overrides: must be a list"),
        (
            {"optimization": {"disk_clean": True}},
            "optimization.disk_clean: unknown key; did you mean 'disk_cleanup'?",
        ),
        ({"optimization": "default"}, "optimization: must be a mapping"),
        ({"appx": {"on_failure": "ignore"}}, "appx.on_failure: must be one of fail, warn, got 'ignore'"),
        ({"appx": {"remove": "Microsoft.BingNews"}}, "appx.remove: must be a list"),
        ({"appx": {"remove": ["Microsoft Bing News"]}}, "appx.remove[0]: must be a package name or pattern"),
        (
            {"appx": {"remove": [{"name": "Microsoft.BingNews", "on_failure": "skip"}]}},
            "appx.remove[0].on_failure: ",
        ),
        ({"appx": {"remove": [{"package": "Microsoft.BingNews"}]}}, "appx.remove[0].package: unknown key"),
        (
            {"appx": {"remove": ["Microsoft.WindowsStore"]}},
            "appx.remove[0]: would remove Microsoft.WindowsStore",
        ),
        ({"appx": {"remove": ["microsoft.desktopappinstaller"]}}, "appx.remove[0]: would remove"),
        (
            {"appx": {"remove": ["Microsoft.VCLibs.140.00"]}},
            "appx.remove[0]: would remove Microsoft.VCLibs.140.00",
        ),
        ({"appx": {"remove": ["*"]}}, "appx.remove[0]: would remove Microsoft.WindowsStore"),
        ({"appx": {"remove": ["Microsoft.Windows*"]}}, "appx.remove[0]: would remove Microsoft.WindowsStore"),
        (
            {"appx": {"remove": ["Microsoft.Windows.Ph*"]}},
            "appx.remove[0]: the pattern would also remove Microsoft.Windows.Photos",
        ),
        (
            {"appx": {"remove": ["Microsoft.Xbox*"], "keep": ["Microsoft.XboxIdentityProvider"]}},
            "appx.remove[0]: the pattern would also remove 'Microsoft.XboxIdentityProvider'",
        ),
        (
            {"appx": {"remove": ["Microsoft.BingNews"], "keep": ["Microsoft.Bing*"]}},
            "appx.remove[0]: is also in appx.keep ('Microsoft.Bing*')",
        ),
        ({"appx": {"surprise": 1}}, "appx.surprise: unknown key"),
    ],
)
def test_bad_sections_are_refused(sections: dict[str, Any], error: str) -> None:
    errors = validate_image_spec(spec(**sections), TODAY)
    assert errors and errors[0].startswith(error), errors


def test_appx_remove_and_keep() -> None:
    appx = {
        "remove": [
            "Microsoft.BingSearch",
            {"name": "Microsoft.Copilot", "on_failure": "warn"},
            "Microsoft.BingNews",
        ],
        "keep": ["Microsoft.YourPhone", "Microsoft.Xbox*"],
        "on_failure": "fail",
    }
    result = plan(spec(appx=appx))
    removed = {a["name"]: a for a in result["appx"]}
    assert removed["Microsoft.Copilot"] == {
        "name": "Microsoft.Copilot",
        "on_failure": "warn",
        "source": "appx.remove[1]",
    }
    assert (
        removed["Microsoft.BingNews"]["source"] == "appx.remove[2]"
    )  # the user's entry replaces the profile's
    assert names(result["appx"]).count("Microsoft.BingNews") == 1
    assert "Microsoft.YourPhone" not in removed and not [n for n in removed if n.startswith("Microsoft.Xbox")]
    kept = {s["item"]: s["reason"] for s in result["skipped"] if s["category"] == "AppxPackages"}
    assert kept["Microsoft.XboxGamingOverlay"] == "kept by appx.keep 'Microsoft.Xbox*'"
    # Photos can be removed when named exactly.
    assert "Microsoft.Windows.Photos" in names(
        plan(spec(appx={"remove": ["Microsoft.Windows.Photos"]}))["appx"]
    )


def test_a_user_folder_cannot_remove_a_protected_app(tmp_path: Path) -> None:
    write(
        tmp_path / "my-opt",
        {"AppxPackages.json": [{"AppxPackage": "Microsoft.SecHealthUI", "VDIState": "Disabled"}]},
    )
    errors = validate_image_spec(spec(optimization={"path": "my-opt"}), TODAY, tmp_path)
    assert errors == [
        "my-opt/AppxPackages.json: item 1 (Microsoft.SecHealthUI): AppxPackage: would remove "
        "Microsoft.SecHealthUI, which is never removed (the Store, winget, Windows Security, the shell "
        "and the frameworks apps depend on)"
    ]


def test_normalising_is_stable_with_the_sections() -> None:
    data = spec(
        optimization={
            "path": "my-opt/",
            "overrides": [{"category": "Services", "item": "SysMain", "value": "manual"}],
        },
        appx={"remove": ["Microsoft.BingSearch"], "keep": ["Microsoft.Paint"]},
    )
    normal = normalize_image_spec(data, TODAY)
    assert normal["optimization"]["path"] == "my-opt"
    assert normal["optimization"]["overrides"] == [
        {"category": "Services", "item": "SysMain", "action": "apply", "value": "manual"}
    ]
    assert normal["appx"] == {
        "remove": [{"name": "Microsoft.BingSearch", "on_failure": "fail"}],
        "keep": ["Microsoft.Paint"],
        "on_failure": "fail",
    }
    assert normalize_image_spec(normal, TODAY) == normal


# -- the filter plugin ------------------------------------------------------------------------


def test_filter_module_and_doc_sidecar() -> None:
    assert set(filt.FilterModule().filters()) == {"optimization_plan"}
    doc = yaml.safe_load((REPO_ROOT / "plugins" / "filter" / "optimization_plan.yml").read_text())
    assert doc["DOCUMENTATION"]["name"] == "optimization_plan"
    assert set(doc["DOCUMENTATION"]["options"]) == {"_input", "base_dir"}


def test_filter_refuses_what_is_not_a_normalised_spec() -> None:
    with pytest.raises(AnsibleFilterError, match="expects the normalised image spec"):
        filt.optimization_plan(SPEC)
    with pytest.raises(AnsibleFilterError, match="expects the normalised image spec"):
        filt.optimization_plan("win11-24h2-avd")


def test_image_spec_filters_pass_base_dir(tmp_path: Path) -> None:
    write(tmp_path / "my-opt", {"Services.json": [{"Name": "X"}]})
    data = spec(optimization={"path": "my-opt"})
    errors = spec_filters.validate_image_spec(data, TODAY, str(tmp_path))
    assert errors == [
        "my-opt/Services.json: item 1 (X): OptimizationState: "
        "is required (Apply or Skip; VDIState in a VDOT file)"
    ]
    with pytest.raises(AnsibleFilterError, match=r"my-opt/Services\.json: item 1 \(X\)"):
        spec_filters.normalize_image_spec(data, TODAY, str(tmp_path))


def test_the_role_passes_the_spec_directory() -> None:
    tasks = yaml.safe_load((REPO_ROOT / "roles" / "image_spec" / "tasks" / "validate.yml").read_text())
    check = next(t for t in tasks if t["name"] == "validate | Check the image spec")
    assert (
        "validate_image_spec(base_dir=__image_spec_path | dirname)"
        in check["ansible.builtin.set_fact"]["__image_spec_errors"]
    )


def test_the_profiles_readme_names_every_item_of_every_layer() -> None:
    text = " ".join((REPO_ROOT / "optimization" / "README.md").read_text().split())  # wrapped lines
    missing = []
    for layer in sorted(p for p in profiles.PROFILES_DIR.iterdir() if p.is_dir()):
        assert f"**{layer.name}**" in text
        errors: list[str] = []
        for entries in read_folder(layer, layer.name, errors).values():
            missing += [f"{layer.name}: {e.name}" for e in entries if e.name not in text]
        assert errors == []
    assert missing == []


def test_an_absolute_folder_needs_no_base_dir(tmp_path: Path) -> None:
    folder = write(tmp_path / "abs", {"Services.json": [{"Name": "DiagTrack", "OptimizationState": "Apply"}]})
    data = spec(optimization={"path": str(folder)})
    assert validate_image_spec(data, TODAY) == []
    assert names(plan(data)["services"]) == ["DiagTrack"]


def test_notes_and_empty_numbers_reach_the_plan_warnings(tmp_path: Path) -> None:
    policy = {
        "RegItemPath": "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\Explorer",
        "RegItemValueName": "NoInternetOpenWith",
        "RegItemValueType": "DWord",
        "RegItemValue": "",
        "OptimizationState": "Apply",
    }
    write(
        tmp_path / "my-opt",
        {
            "PolicyRegSettings.json": [policy],
            "Services.json": [{"Name": "DiagTrack", "OptimizationState": "Disabled"}],
        },
    )
    override = {"category": "PolicyRegSettings", "item": "NoInternetOpenWith", "value": 1}
    fixed = plan(spec(optimization={"path": "my-opt", "overrides": [override]}), tmp_path)
    result = plan(spec(optimization={"path": "my-opt"}), tmp_path)
    assert result["services"] == [] and result["registry"][0]["data"] == 0
    assert fixed["registry"][0]["data"] == 1 and len(fixed["warnings"]) == 1  # the services note only
    assert result["warnings"] == [
        "my-opt/Services.json: item 1 (DiagTrack): OptimizationState 'Disabled' is not Apply: not applied, "
        "as WDOT does (write Apply or Skip)",
        "my-opt/PolicyRegSettings.json: item 1 (HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\"
        "Policies\\Explorer\\NoInternetOpenWith): an empty number: written as 0, as VDOT and WDOT write it "
        "(PowerShell reads '' as 0); set the value you mean in the file or with an override",
    ]
