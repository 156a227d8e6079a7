"""Reading VDOT- and WDOT-format configuration files: every category, both formats, the quirks of
real files, and errors that name the file, the item and the field.

The package is plugins/plugin_utils/_optimization; its values, items and reader modules are
exercised here through files written to a temporary folder, as a user's folder would be.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.plugin_utils._optimization import values  # noqa: E402
from ansible_collections.avd.golden.plugins.plugin_utils._optimization.reader import (  # noqa: E402
    read_folder,
)

POLICY = "HKLM:\\SOFTWARE\\Policies\\Contoso"


def _read(folder: Path, files: dict[str, Any]) -> tuple[dict[str, list[Any]], list[str]]:
    folder.mkdir(exist_ok=True)
    for name, content in files.items():
        raw = content if isinstance(content, bytes) else json.dumps(content).encode()
        (folder / name).write_bytes(raw)
    errors: list[str] = []
    return read_folder(folder, "my-opt", errors), errors


# -- one field ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "kind"),
    [
        ("DWord", "dword"),
        ("dword", "dword"),
        ("DWORD", "dword"),
        ("REG_DWORD", "dword"),
        (" DWord ", "dword"),
        ("QWord", "qword"),
        ("REG_QWORD", "qword"),
        ("String", "string"),
        ("STRING", "string"),
        ("REG_SZ", "string"),
        ("ExpandString", "expandstring"),
        ("REG_EXPAND_SZ", "expandstring"),
        ("MultiString", "multistring"),
        ("REG_MULTI_SZ", "multistring"),
        ("Binary", "binary"),
        ("BINARY", "binary"),
        ("REG_BINARY", "binary"),
    ],
)
def test_type_names_in_any_spelling(written: str, kind: str) -> None:
    assert values.value_type(written) == kind


@pytest.mark.parametrize("written", ["DWord32", "Number", "", None, 4])
def test_unknown_type_names_are_refused(written: Any) -> None:
    with pytest.raises(values.FieldError, match="must be a registry type"):
        values.value_type(written)


@pytest.mark.parametrize(
    ("kind", "written", "data"),
    [
        ("dword", "0x00000001", 1),
        ("dword", "0X0000000A", 10),
        ("dword", "1", 1),
        ("dword", " 1024 ", 1024),
        ("dword", 256, 256),
        ("dword", "0xFFFFFFFF", 0xFFFFFFFF),
        ("dword", -1, 0xFFFFFFFF),  # two's complement, as reg.exe stores it
        ("dword", "-2147483648", 0x80000000),
        ("qword", -1, 0xFFFFFFFFFFFFFFFF),
        ("qword", "0xFFFFFFFFFFFFFFFF", 0xFFFFFFFFFFFFFFFF),
        ("qword", "5", 5),
        ("string", "C:\\Windows\\web\\screen\\img105.jpg", "C:\\Windows\\web\\screen\\img105.jpg"),
        ("string", 0, "0"),
        ("expandstring", "%SystemRoot%\\x", "%SystemRoot%\\x"),
        ("multistring", "", []),
        ("multistring", "one", ["one"]),
        ("multistring", ["a", "b"], ["a", "b"]),
        ("binary", "0x24,0x00,0x00,0x00,0x3C,0x28", [0x24, 0, 0, 0, 0x3C, 0x28]),
        ("binary", "90, 12, 3, 80", [0x90, 0x12, 0x03, 0x80]),
        ("binary", "", []),
        ("binary", [1, 255], [1, 255]),
    ],
)
def test_data_as_real_files_write_it(kind: str, written: Any, data: Any) -> None:
    assert values.data(written, kind) == data


@pytest.mark.parametrize(
    ("kind", "written", "reason"),
    [
        ("dword", "", "must be a dword number"),
        ("dword", "yes", "must be a dword number"),
        ("dword", -2147483649, "must be a dword number"),
        ("dword", 0x100000000, "must be a dword number"),
        ("dword", True, "must be a dword number"),
        ("dword", None, "must be a dword number"),
        ("qword", "0x1FFFFFFFFFFFFFFFF", "must be a qword number"),
        ("binary", "0x124,0x00", "must be bytes"),
        ("binary", "zz", "must be bytes"),
        ("binary", [256], "must be bytes"),
        ("string", True, "must be a string"),
        ("string", ["a"], "must be a string"),
        ("multistring", [1], "must be a list of strings"),
    ],
)
def test_bad_data_is_refused(kind: str, written: Any, reason: str) -> None:
    with pytest.raises(values.FieldError, match=reason):
        values.data(written, kind)


@pytest.mark.parametrize(
    ("written", "hive", "key"),
    [
        ("HKLM:\\SOFTWARE\\Policies\\X", "HKLM", "SOFTWARE\\Policies\\X"),
        ("HKLM\\SOFTWARE\\Policies\\X", "HKLM", "SOFTWARE\\Policies\\X"),
        ("HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\X", "HKLM", "SOFTWARE\\Policies\\X"),
        ("Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\X", "HKLM", "SOFTWARE\\Policies\\X"),
        ("Microsoft.PowerShell.Core\\Registry::HKLM\\SOFTWARE\\X", "HKLM", "SOFTWARE\\X"),
        ("hklm:\\SOFTWARE\\X\\", "HKLM", "SOFTWARE\\X"),
        ("HKLM:\\SOFTWARE\\X \\Y  \\ ", "HKLM", "SOFTWARE\\X\\Y"),
        ("HKLM:\\\\SOFTWARE\\\\X", "HKLM", "SOFTWARE\\X"),
        ("HKCU:\\Software\\Policies\\Y", "HKCU", "Software\\Policies\\Y"),
        ("HKEY_CURRENT_USER\\Software\\Y", "HKCU", "Software\\Y"),
    ],
)
def test_registry_paths_in_every_form(written: str, hive: str, key: str) -> None:
    assert values.registry_path(written) == (hive, key)


@pytest.mark.parametrize("written", ["SOFTWARE\\X", "HKU\\.DEFAULT\\X", "HKLM:\\", "C:\\Windows", ""])
def test_bad_registry_paths_are_refused(written: str) -> None:
    with pytest.raises(values.FieldError):
        values.registry_path(written)


@pytest.mark.parametrize(
    ("written", "result"),
    [
        ("HKLM:\\VDOT_TEMP\\Software\\X", ("default_user", "Software\\X", True)),
        ("HKLM:\\WDOT_TEMP\\Control Panel\\Desktop", ("default_user", "Control Panel\\Desktop", True)),
        ("HKLM\\vdot_temp\\Software\\X", ("default_user", "Software\\X", True)),
        ("HKCU:\\Software\\X", ("default_user", "Software\\X", True)),
        ("HKLM:\\SOFTWARE\\X", ("HKLM", "SOFTWARE\\X", False)),
    ],
)
def test_default_user_hive_paths(written: str, result: tuple[str, str, bool]) -> None:
    assert values.default_user_path(written) == result


# -- every category, in both formats -----------------------------------------------------------

# (category, item with VDOT's state field, applies?, kind, what the module gets)
ITEMS: list[tuple[str, dict[str, Any], bool, dict[str, Any]]] = [
    (
        "AppxPackages",
        {"AppxPackage": "Microsoft.BingNews", "VDIState": "Disabled"},
        True,
        {"name": "Microsoft.BingNews"},
    ),
    (
        "AppxPackages",
        {"AppxPackage": "Microsoft.Paint", "VDIState": "Unchanged"},
        False,
        {"name": "Microsoft.Paint"},
    ),
    (
        "ScheduledTasks",
        {"ScheduledTask": "ScheduledDefrag", "VDIState": "Disabled"},
        True,
        {"path": "\\*", "name": "ScheduledDefrag", "enabled": False},
    ),
    (
        "ScheduledTasks",
        {"ScheduledTask": "\\Microsoft\\Windows\\Defrag\\ScheduledDefrag", "VDIState": "Disabled"},
        True,
        {"path": "\\Microsoft\\Windows\\Defrag\\", "name": "ScheduledDefrag", "enabled": False},
    ),
    (
        "ScheduledTasks",
        {"ScheduledTask": "\\RootTask", "VDIState": "Disabled"},
        True,
        {"path": "\\", "name": "RootTask", "enabled": False},
    ),
    (
        "Services",
        {"Name": "SysMain", "VDIState": "Disabled"},
        True,
        {"name": "SysMain", "start_mode": "disabled"},
    ),
    ("Services", {"Name": "VSS", "VDIState": "Unchanged"}, False, {"name": "VSS", "start_mode": "disabled"}),
    (
        "Services",
        {"Name": "Spooler", "VDIState": "Enabled"},
        False,
        {"name": "Spooler", "start_mode": "disabled"},
    ),
    (
        "Autologgers",
        {
            "KeyName": "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\WMI\\Autologger\\ReadyBoot\\",
            "Disabled": "True",
        },
        True,
        {
            "hive": "HKLM",
            "key": "SYSTEM\\CurrentControlSet\\Control\\WMI\\Autologger\\ReadyBoot",
            "name": "Start",
            "type": "dword",
            "data": 0,
        },
    ),
    (
        "Autologgers",
        {"KeyName": "HKLM\\SYSTEM\\CurrentControlSet\\Control\\WMI\\Autologger\\Cellcore", "Disabled": False},
        False,
        {
            "hive": "HKLM",
            "key": "SYSTEM\\CurrentControlSet\\Control\\WMI\\Autologger\\Cellcore",
            "name": "Start",
            "type": "dword",
            "data": 0,
        },
    ),
    (
        "DefaultUserSettings",
        {
            "HivePath": "HKLM:\\VDOT_TEMP\\Software\\Microsoft\\Windows\\DWM",
            "KeyName": "EnableAeroPeek",
            "PropertyType": "DWORD",
            "PropertyValue": "0x00000000",
            "SetProperty": "True",
        },
        True,
        {
            "hive": "default_user",
            "key": "Software\\Microsoft\\Windows\\DWM",
            "name": "EnableAeroPeek",
            "type": "dword",
            "data": 0,
        },
    ),
    (
        "DefaultUserSettings",
        {
            "HivePath": "HKLM:\\VDOT_TEMP\\Control Panel\\Desktop",
            "KeyName": "UserPreferencesMask",
            "PropertyType": "BINARY",
            "PropertyValue": "0x90,0x12,0x03,0x80,0x10,0x00,0x00,0x00",
            "SetProperty": False,
        },
        False,
        {
            "hive": "default_user",
            "key": "Control Panel\\Desktop",
            "name": "UserPreferencesMask",
            "type": "binary",
            "data": [0x90, 0x12, 0x03, 0x80, 0x10, 0, 0, 0],
        },
    ),
    (
        "PolicyRegSettings",
        {
            "RegItemPath": POLICY,
            "RegItemValueName": "Limit",
            "RegItemValueType": "DWord",
            "RegItemValue": "1",
            "VDIState": "Enabled",
        },
        True,
        {"hive": "HKLM", "key": "SOFTWARE\\Policies\\Contoso", "name": "Limit", "type": "dword", "data": 1},
    ),
    (
        "PolicyRegSettings",
        {
            "RegItemPath": POLICY,
            "RegItemValueName": "Apps",
            "RegItemValueType": "MultiString",
            "RegItemValue": "",
            "VDIState": "Disabled",
        },
        False,
        {
            "hive": "HKLM",
            "key": "SOFTWARE\\Policies\\Contoso",
            "name": "Apps",
            "type": "multistring",
            "data": [],
        },
    ),
    (
        "EdgeSettings",
        {
            "RegItemPath": "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Edge",
            "RegItemValueName": "RestoreOnStartup",
            "RegItemValueType": "String",
            "RegItemValue": 5,
            "VDIState": "Enabled",
        },
        True,
        {
            "hive": "HKLM",
            "key": "SOFTWARE\\Policies\\Microsoft\\Edge",
            "name": "RestoreOnStartup",
            "type": "string",
            "data": "5",
        },
    ),
]
STATE_FIELDS = ("VDIState", "SetProperty", "Disabled")


def _as_wdot(raw: dict[str, Any], applies: bool) -> dict[str, Any]:
    item = {k: v for k, v in raw.items() if k not in STATE_FIELDS}
    return {**item, "OptimizationState": "Apply" if applies else "Skip"}


@pytest.mark.parametrize("fmt", ["vdot", "wdot"])
@pytest.mark.parametrize(
    ("category", "raw", "applies", "item"), ITEMS, ids=[f"{i[0]}-{n}" for n, i in enumerate(ITEMS)]
)
def test_every_category_in_both_formats(
    tmp_path: Path, fmt: str, category: str, raw: dict[str, Any], applies: bool, item: dict[str, Any]
) -> None:
    written = raw if fmt == "vdot" else _as_wdot(raw, applies)
    found, errors = _read(tmp_path / "my-opt", {f"{category}.json": [written]})
    assert errors == []
    [entry] = found[category]
    assert (entry.item, entry.apply, entry.source) == (item, applies, f"{category}.json#1")


LANMAN_KEYS = [
    {"Name": "DisableBandwidthThrottling", "PropertyType": "DWORD", "PropertyValue": 1},
    {"Name": "DormantFileLimit", "PropertyType": "DWORD", "PropertyValue": "256"},
]


@pytest.mark.parametrize(
    "document",
    [
        # VDOT: a list of {HivePath, Keys} with SetProperty
        [
            {
                "HivePath": "HKLM:\\System\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters\\",
                "Keys": [{**k, "SetProperty": "True"} for k in LANMAN_KEYS],
            }
        ],
        # WDOT: one object with OptimizationState
        {
            "HivePath": "HKLM:\\System\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters",
            "Keys": [{**k, "OptimizationState": "Apply"} for k in LANMAN_KEYS],
        },
    ],
    ids=["vdot", "wdot"],
)
def test_lanman_workstation_in_both_formats(tmp_path: Path, document: Any) -> None:
    found, errors = _read(tmp_path / "my-opt", {"LanManWorkstation.json": document})
    assert errors == []
    key = "System\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters"
    assert [(e.item, e.apply, e.source) for e in found["LanManWorkstation"]] == [
        (
            {"hive": "HKLM", "key": key, "name": "DisableBandwidthThrottling", "type": "dword", "data": 1},
            True,
            "LanManWorkstation.json#1",
        ),
        (
            {"hive": "HKLM", "key": key, "name": "DormantFileLimit", "type": "dword", "data": 256},
            True,
            "LanManWorkstation.json#2",
        ),
    ]


# -- the quirks of real files --------------------------------------------------------------------

SERVICE = [{"Name": "SysMain", "VDIState": "Disabled"}]


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("Services.json", "\ufeff" + json.dumps(SERVICE)),  # UTF-8 with a BOM
        ("Services.json", json.dumps(SERVICE).encode("utf-16")),  # Out-File: UTF-16 with a BOM
        ("services.JSON", json.dumps(SERVICE)),  # file name in another case
        ("Services.json", json.dumps(SERVICE[0])),  # ConvertTo-Json of a one-item array
        ("Services.json", json.dumps([{"name ": "SysMain", "vdistate": "disabled "}])),  # field names, case
        ("Services.json", json.dumps([{"Name": "SysMain   ", "VDIState": " Disabled"}])),  # trailing spaces
        ("Services.json", json.dumps([{"Name": "SysMain", "OptimizationState": "apply"}])),
    ],
    ids=["bom", "utf16", "name-case", "one-object", "field-case", "spaces", "state-case"],
)
def test_quirks_of_real_files(tmp_path: Path, name: str, raw: str | bytes) -> None:
    found, errors = _read(tmp_path / "my-opt", {name: raw if isinstance(raw, bytes) else raw.encode()})
    assert errors == []
    assert [(e.item, e.apply) for e in found["Services"]] == [
        ({"name": "SysMain", "start_mode": "disabled"}, True)
    ]


def test_vdot_autologgers_file_name_and_other_files(tmp_path: Path) -> None:
    """VDOT ships Autologgers.Json; an XML or README in the folder is not read."""
    key = "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\WMI\\Autologger\\WiFiSession\\"
    found, errors = _read(
        tmp_path / "my-opt",
        {
            "Autologgers.Json": [{"KeyName": key, "Disabled": "True"}],
            "DefaultAssociationsConfiguration.xml": b"<xml/>",
            "README.md": b"# notes",
        },
    )
    assert errors == [] and list(found) == ["Autologgers"]
    assert found["Autologgers"][0].name == "WiFiSession"


def test_hkcu_policy_goes_to_the_default_user_with_a_warning(tmp_path: Path) -> None:
    raw = {
        "RegItemPath": "HKCU:\\Software\\Policies\\Microsoft\\Windows\\Explorer",
        "RegItemValueName": "DisableSearchBoxSuggestions",
        "RegItemValueType": "DWord",
        "RegItemValue": 1,
        "VDIState": "Enabled",
    }
    found, errors = _read(tmp_path / "my-opt", {"PolicyRegSettings.json": [raw]})
    [entry] = found["PolicyRegSettings"]
    assert errors == [] and entry.item["hive"] == "default_user"
    assert entry.item["key"] == "Software\\Policies\\Microsoft\\Windows\\Explorer"
    assert len(entry.warnings) == 1 and "default user hive" in entry.warnings[0]


# -- errors name the file, the item and the field ------------------------------------------------

GOOD_POLICY = {"RegItemPath": POLICY, "RegItemValueName": "N", "RegItemValueType": "DWord", "RegItemValue": 1}


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"Services.json": b"[{]"}, "my-opt/Services.json: is not valid JSON (line 1 column 3: "),
        ({"Services.json": b"\xff\x00garbage"}, "my-opt/Services.json: cannot be read as UTF-8 or UTF-16"),
        ({"Services.json": '"SysMain"'}, "my-opt/Services.json: must be a JSON list of items, got str"),
        ({"Services.json": [7]}, "my-opt/Services.json: item 1 (?): (item): must be a JSON object, got int"),
        (
            {"Services.json": [{"VDIState": "Disabled"}]},
            "my-opt/Services.json: item 1 (?): Name: must be a service name, got nothing",
        ),
        (
            {"Services.json": [SERVICE[0], {"Name": "DiagTrack", "VDIState": "Disable"}]},
            "my-opt/Services.json: item 2 (DiagTrack): VDIState: "
            "must be one of Disabled, Unchanged, Enabled, got 'Disable'",
        ),
        (
            {"Services.json": [{"Name": "DiagTrack", "OptimizationState": "Disable"}]},
            "my-opt/Services.json: item 1 (DiagTrack): OptimizationState: "
            "must be one of Apply, Skip, got 'Disable'",
        ),
        (
            {"Services.json": [{"Name": "DiagTrack"}]},
            "my-opt/Services.json: item 1 (DiagTrack): OptimizationState: "
            "is required (Apply or Skip; VDIState in a VDOT file)",
        ),
        (
            {"Services.json": [{"Name": "DiagTrack", "VDIState": "Disabled", "OptimizationState": "Apply"}]},
            "my-opt/Services.json: item 1 (DiagTrack): VDIState, OptimizationState: give one of them",
        ),
        (
            {
                "DefaultUserSettings.json": [
                    {
                        "HivePath": "HKLM:\\VDOT_TEMP\\X",
                        "KeyName": "Y",
                        "PropertyType": "DWord",
                        "PropertyValue": 1,
                        "SetProperty": "yes",
                    }
                ]
            },
            "my-opt/DefaultUserSettings.json: item 1 (HKLM:\\VDOT_TEMP\\X\\Y): SetProperty: "
            "must be one of True, False, got 'yes'",
        ),
        (
            {
                "PolicyRegSettings.json": [
                    {**GOOD_POLICY, "RegItemValueType": "Number", "VDIState": "Enabled"}
                ]
            },
            "my-opt/PolicyRegSettings.json: item 1 (HKLM:\\SOFTWARE\\Policies\\Contoso\\N): "
            "RegItemValueType: must be a registry type",
        ),
        (
            {"PolicyRegSettings.json": [{**GOOD_POLICY, "RegItemValue": "on", "OptimizationState": "Apply"}]},
            "my-opt/PolicyRegSettings.json: item 1 (HKLM:\\SOFTWARE\\Policies\\Contoso\\N): "
            "RegItemValue: must be a dword number from 0 to 0xffffffff (decimal or 0x hex), got 'on'",
        ),
        (
            {
                "EdgeSettings.json": [
                    {**GOOD_POLICY, "RegItemPath": "SOFTWARE\\Policies", "VDIState": "Enabled"}
                ]
            },
            "my-opt/EdgeSettings.json: item 1 (SOFTWARE\\Policies\\N): RegItemPath: must start with HKLM:\\",
        ),
        (
            {"Autologgers.json": [{"KeyName": "HKCU:\\Software\\X", "Disabled": True}]},
            "my-opt/Autologgers.json: item 1 (HKCU:\\Software\\X): KeyName: must be an HKLM:\\SYSTEM",
        ),
        (
            {"LanManWorkstation.json": {"HivePath": "HKLM:\\System\\X", "Keys": "DormantFileLimit"}},
            "my-opt/LanManWorkstation.json: group 1: Keys: must be a list of values, got str",
        ),
        (
            {
                "LanManWorkstation.json": {
                    "HivePath": "HKLM:\\System\\X",
                    "Keys": [
                        {
                            "Name": "DormantFileLimit",
                            "PropertyType": "DWORD",
                            "PropertyValue": "many",
                            "SetProperty": True,
                        }
                    ],
                }
            },
            "my-opt/LanManWorkstation.json: item 1 (DormantFileLimit): PropertyValue: must be a dword number",
        ),
    ],
)
def test_errors_name_file_item_and_field(tmp_path: Path, files: dict[str, Any], expected: str) -> None:
    files = {k: v.encode() if isinstance(v, str) else v for k, v in files.items()}
    _, errors = _read(tmp_path / "my-opt", files)
    assert len(errors) == 1 and errors[0].startswith(expected), errors


def test_every_error_at_once(tmp_path: Path) -> None:
    _, errors = _read(
        tmp_path / "my-opt",
        {
            "Services.json": [
                {"Name": "A", "VDIState": "x"},
                {"Name": "B", "VDIState": "Disabled"},
                {"Name": 3, "VDIState": "Disabled"},
            ],
            "ScheduledTasks.json": b"not json",
        },
    )
    prefixes = [
        "my-opt/ScheduledTasks.json: is not valid JSON",
        "my-opt/Services.json: item 1 (A): VDIState: ",
        "my-opt/Services.json: item 3 (?): Name: must be a service name, got 3",
    ]
    assert len(errors) == 3 and all(e.startswith(p) for e, p in zip(errors, prefixes, strict=True)), errors


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: None, "my-opt: is not a directory"),
        (lambda p: p.mkdir(), "my-opt: has none of the configuration files AppxPackages.json, "),
    ],
)
def test_a_folder_without_configuration_files(tmp_path: Path, make: Any, expected: str) -> None:
    folder = tmp_path / "my-opt"
    make(folder)
    errors: list[str] = []
    assert read_folder(folder, "my-opt", errors) == {}
    assert len(errors) == 1 and errors[0].startswith(expected)


def test_a_default_user_setting_on_a_machine_key_warns(tmp_path: Path) -> None:
    raw = {
        "HivePath": "HKLM:\\SOFTWARE\\Contoso",
        "KeyName": "",
        "PropertyType": "String",
        "PropertyValue": "x",
        "OptimizationState": "Apply",
    }
    found, errors = _read(tmp_path / "my-opt", {"DefaultUserSettings.json": [raw]})
    [entry] = found["DefaultUserSettings"]
    assert errors == []
    assert entry.item == {
        "hive": "HKLM",
        "key": "SOFTWARE\\Contoso",
        "name": "",
        "type": "string",
        "data": "x",
    }
    assert entry.warnings == [
        "a machine key (not HKLM:\\VDOT_TEMP\\... or HKCU:\\...): written to HKLM as given"
    ]
    assert entry.where == "my-opt/DefaultUserSettings.json: item 1 (HKLM:\\SOFTWARE\\Contoso)"


@pytest.mark.parametrize("word", ["Unchanged", "Disabled", "enabled "])
def test_vdot_words_left_in_wdot_files_are_not_applied_with_a_note(tmp_path: Path, word: str) -> None:
    """WDOT's own files carry a few VDIState words in OptimizationState; WDOT applies only Apply."""
    found, errors = _read(
        tmp_path / "my-opt", {"Services.json": [{"Name": "DiagTrack", "OptimizationState": word}]}
    )
    [entry] = found["Services"]
    assert errors == [] and entry.apply is False
    assert entry.notes == [
        f"OptimizationState {word.strip()!r} is not Apply: not applied, as WDOT does (write Apply or Skip)"
    ]


@pytest.mark.parametrize("kind", ["DWord", "QWord"])
def test_an_empty_number_is_zero_with_a_warning(tmp_path: Path, kind: str) -> None:
    """VDOT's and WDOT's own PolicyRegSettings have "RegItemValue": "" for a few DWORDs: they write 0."""
    raw = {**GOOD_POLICY, "RegItemValueType": kind, "RegItemValue": " ", "VDIState": "Enabled"}
    found, errors = _read(tmp_path / "my-opt", {"PolicyRegSettings.json": [raw]})
    [entry] = found["PolicyRegSettings"]
    assert errors == [] and entry.item["data"] == 0
    assert entry.warnings == [
        "an empty number: written as 0, as VDOT and WDOT write it (PowerShell reads '' as 0); set the value "
        "you mean in the file or with an override"
    ]
