"""avd.golden.win_registry_set's twin: check mode, idempotence, the default user hive, json_merge,
types and the argument errors Ansible.Basic and the module give."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox.windows.modules import registry_set

MODULE = "avd.golden.win_registry_set"
TS = r"SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services"
CDM = r"Software\Microsoft\Windows\CurrentVersion\ContentDeliveryManager"
HIVE = r"c:\users\default\ntuser.dat"
EDGE = r"SOFTWARE\Policies\Microsoft\Edge"


def _items() -> list[dict[str, Any]]:
    return [
        {"key": TS, "name": "fEnableTimeZoneRedirection", "type": "dword", "data": 1, "source": "avd.tz"},
        {"key": TS, "name": "MaxIdleTime", "type": "dword", "data": "7200000"},
        {"hive": "default_user", "key": CDM, "name": "PreInstalledAppsEnabled", "type": "dword", "data": 0},
        {"key": r"SOFTWARE\Contoso\Profiles", "name": "Locations", "type": "multistring", "data": [r"\\f\p"]},
    ]


@pytest.fixture
def mounts(guest, monkeypatch) -> list[tuple[str, str]]:
    """Every mount and unmount of a hive during the test, in order."""
    calls: list[tuple[str, str]] = []
    reg = guest.registry
    mount, unmount = reg.mount, reg.unmount
    monkeypatch.setattr(reg, "mount", lambda name, key: (calls.append(("load", name)), mount(name, key))[1])
    monkeypatch.setattr(reg, "unmount", lambda name: (calls.append(("unload", name)), unmount(name))[1])
    return calls


def _hive_value(guest, key: str, name: str):
    root = guest.registry.hive_files[HIVE]
    node = root.walk(key.split("\\"))
    return node.get(name) if node else None


def test_check_mode_reports_the_changes_of_a_real_run_and_writes_nothing(run, guest):
    check = run(MODULE, {"values": _items()}, check=True, diff=True)
    assert check["changed"] is True and check["unchanged"] == 0
    assert guest.registry.get_value(f"HKLM\\{TS}", "fEnableTimeZoneRedirection") is None
    assert _hive_value(guest, CDM, "PreInstalledAppsEnabled").data == 1  # the image's value
    assert guest.registry.open(r"HKLM\SOFTWARE\Contoso") is None  # no key created either

    applied = run(MODULE, {"values": _items()}, diff=True)
    assert applied["changes"] == check["changes"] and applied["diff"] == check["diff"]
    assert applied["changes"][0] == {
        "hive": "HKLM",
        "key": TS,
        "name": "fEnableTimeZoneRedirection",
        "type": "dword",
        "before": None,
        "after": {"type": "dword", "data": 1},
        "source": "avd.tz",
    }
    assert applied["changes"][2]["before"] == {"type": "dword", "data": 1}
    assert applied["changes"][2]["after"] == {"type": "dword", "data": 0}
    assert applied["diff"]["before"][f"default_user\\{CDM}"] == {
        "PreInstalledAppsEnabled": {"type": "dword", "data": 1}
    }
    assert applied["diff"]["before"][f"HKLM\\{TS}"] == {}
    value = guest.registry.get_value(f"HKLM\\{TS}", "MaxIdleTime")
    assert (value.type, value.data) == ("REG_DWORD", 7200000)
    assert guest.registry.get_value(r"HKLM\SOFTWARE\Contoso\Profiles", "Locations").data == [r"\\f\p"]

    again = run(MODULE, {"values": _items()}, diff=True)
    assert again["changed"] is False and again["changes"] == [] and again["unchanged"] == 4
    assert again["diff"] == {"before": {}, "after": {}}


def test_default_user_items_go_to_the_hive_file_never_to_hkcu(run, guest, mounts):
    result = run(MODULE, {"values": _items()})
    assert result["default_user_hive_loaded"] is True
    assert mounts == [("load", "AVD_DEFAULT_USER"), ("unload", "AVD_DEFAULT_USER")]
    assert _hive_value(guest, CDM, "PreInstalledAppsEnabled").data == 0
    assert guest.registry.get_value(f"HKCU\\{CDM}", "PreInstalledAppsEnabled") is None
    assert guest.registry.open(r"HKLM\AVD_DEFAULT_USER") is None  # unloaded
    assert guest.registry.mount_point(HIVE) is None


def test_the_hive_is_loaded_only_when_an_item_needs_it(run, mounts):
    result = run(MODULE, {"values": [i for i in _items() if "hive" not in i]})
    assert result["changed"] is True and result["default_user_hive_loaded"] is False
    assert mounts == []


def test_the_hive_is_loaded_and_unloaded_in_check_mode_too(run, guest, mounts):
    result = run(MODULE, {"values": _items()}, check=True)
    assert result["default_user_hive_loaded"] is True
    assert mounts == [("load", "AVD_DEFAULT_USER"), ("unload", "AVD_DEFAULT_USER")]
    assert _hive_value(guest, CDM, "PreInstalledAppsEnabled").data == 1


def test_a_failing_item_stops_there_and_the_hive_is_still_unloaded(run, guest, mounts):
    guest.registry.set_value(f"HKLM\\{EDGE}", "ExtensionSettings", "REG_DWORD", 1)
    values = [
        *_items(),
        {"key": EDGE, "name": "ExtensionSettings", "json_merge": True, "data": {"x": {}}},
        {"key": TS, "name": "fResetBroken", "type": "dword", "data": 1},
    ]
    result = run(MODULE, {"values": values}, diff=True)
    assert result["failed"] is True
    assert result["msg"] == (
        rf"values[4]: HKLM\{EDGE}\ExtensionSettings is not a JSON object in a string value; "
        "json_merge does not overwrite it"
    )
    assert [c["name"] for c in result["changes"]] == [
        "fEnableTimeZoneRedirection",
        "MaxIdleTime",
        "PreInstalledAppsEnabled",
        "Locations",
    ]
    assert result["changed"] is True and "diff" in result
    assert mounts == [("load", "AVD_DEFAULT_USER"), ("unload", "AVD_DEFAULT_USER")]
    assert guest.registry.get_value(f"HKLM\\{TS}", "fResetBroken") is None  # after the failure
    assert guest.registry.get_value(f"HKLM\\{EDGE}", "ExtensionSettings").data == 1  # not overwritten


def test_a_bad_item_fails_before_anything_is_loaded_or_written(run, guest, mounts):
    values = [*_items(), {"key": TS, "name": "X", "type": "dword", "data": "lots"}]
    result = run(MODULE, {"values": values})
    assert result == {
        "changed": False,
        "changes": [],
        "unchanged": 0,
        "default_user_hive_loaded": False,
        "failed": True,
        "msg": "values[4].data: must be an integer for type dword (a number or a 0x hexadecimal string): "
        "lots",
    }
    assert mounts == []
    assert guest.registry.get_value(f"HKLM\\{TS}", "fEnableTimeZoneRedirection") is None


@pytest.mark.parametrize(
    ("prepare", "hive", "error"),
    [
        (lambda g: g.fs.remove(r"C:\Users\Default\NTUSER.DAT"), None, registry_set.REG_NOT_FOUND),
        (lambda g: None, r"C:\Users\Public\nothive.dat", registry_set.REG_NOT_FOUND),
        (
            lambda g: g.fs.write(r"C:\Temp\text.dat", b"text", make_parents=True),
            r"C:\Temp\text.dat",
            registry_set.REG_NOT_A_HIVE,
        ),
        (lambda g: g.registry.mount("ANSIBLE", HIVE), None, registry_set.REG_IN_USE),
    ],
    ids=["default-missing", "missing", "not-a-hive", "in-use"],
)
def test_a_hive_that_cannot_be_loaded_fails_like_reg_exe(run, guest, prepare, hive, error):
    prepare(guest)
    args: dict[str, Any] = {"values": _items()}
    if hive:
        args["default_user_hive"] = hive
    result = run(MODULE, args)
    shown = hive or r"C:\Users\Default\NTUSER.DAT"
    assert result["failed"] is True and result["changes"] == []
    assert result["msg"] == f"failed to load the default user hive {shown} at HKLM\\AVD_DEFAULT_USER: {error}"
    assert result["default_user_hive_loaded"] is False
    assert guest.registry.get_value(f"HKLM\\{TS}", "fEnableTimeZoneRedirection") is None


def test_a_hive_left_loaded_is_unloaded_first_with_a_warning(run, guest):
    guest.registry.mount("AVD_DEFAULT_USER", HIVE)
    result = run(MODULE, {"values": _items()})
    assert result["changed"] is True
    assert result["warnings"] == [
        r"HKLM\AVD_DEFAULT_USER was still loaded (a previous run did not unload it); unloaded it first"
    ]
    assert guest.registry.open(r"HKLM\AVD_DEFAULT_USER") is None


def test_json_merge_keeps_the_keys_already_there(run, guest):
    existing = {"*": {"installation_mode": "blocked"}, "keep": {"installation_mode": "allowed"}}
    guest.registry.set_value(f"HKLM\\{EDGE}", "ExtensionSettings", "REG_SZ", json.dumps(existing, indent=2))
    mmr = {
        "joeclbldhdmoijbaagobkhlpfjglcihd": {
            "installation_mode": "force_installed",
            "update_url": "https://e/x",
        }
    }
    item = {"key": EDGE, "name": "ExtensionSettings", "json_merge": True, "data": mmr, "source": "avd.mmr"}
    result = run(MODULE, {"values": [item]})
    assert result["changed"] is True
    stored = guest.registry.get_value(f"HKLM\\{EDGE}", "ExtensionSettings")
    assert stored.type == "REG_SZ" and json.loads(stored.data) == {**existing, **mmr}
    assert list(json.loads(stored.data)) == ["*", "keep", "joeclbldhdmoijbaagobkhlpfjglcihd"]
    assert result["changes"][0]["after"] == {"type": "string", "data": stored.data}
    assert result["changes"][0]["before"]["data"] == json.dumps(existing, indent=2)
    # Windows PowerShell 5.1's compact form: no spaces, and & escaped
    assert stored.data.startswith('{"*":{"installation_mode":"blocked"},') and "\\u0026" not in stored.data

    again = run(MODULE, {"values": [item]})
    assert again["changed"] is False and again["unchanged"] == 1


def test_json_merge_counts_a_key_already_as_asked_unchanged_whatever_the_formatting(run, guest):
    text = '{ "a": { "installation_mode": "force_installed" },\n  "b": 1 }'
    guest.registry.set_value(f"HKLM\\{EDGE}", "ExtensionSettings", "REG_SZ", text)
    item = {
        "key": EDGE,
        "name": "ExtensionSettings",
        "json_merge": True,
        "data": {"a": {"installation_mode": "force_installed"}},
    }
    assert run(MODULE, {"values": [item]})["changed"] is False
    assert guest.registry.get_value(f"HKLM\\{EDGE}", "ExtensionSettings").data == text  # left as it was


def test_json_merge_into_a_missing_value_writes_the_object(run, guest):
    item = {"key": EDGE, "name": "ExtensionSettings", "json_merge": True, "data": {"x": {"m": "a<b>&'"}}}
    result = run(MODULE, {"values": [item]})
    assert result["changes"][0]["before"] is None
    assert guest.registry.get_value(f"HKLM\\{EDGE}", "ExtensionSettings").data == (
        '{"x":{"m":"a\\u003cb\\u003e\\u0026\\u0027"}}'
    )


def test_json_merge_refuses_text_that_is_not_a_json_object(run, guest):
    guest.registry.set_value(f"HKLM\\{EDGE}", "ExtensionSettings", "REG_SZ", "[1, 2]")
    item = {"key": EDGE, "name": "ExtensionSettings", "json_merge": True, "data": {"a": 1}}
    result = run(MODULE, {"values": [item]})
    assert result["failed"] is True and "is not a JSON object" in result["msg"]
    assert guest.registry.get_value(f"HKLM\\{EDGE}", "ExtensionSettings").data == "[1, 2]"


def test_an_existing_key_is_opened_not_recreated(run, guest):
    guest.registry.set_value(f"HKLM\\{TS}", "Other", "REG_SZ", "kept")
    guest.registry.create(f"HKLM\\{TS}\\Client")
    run(MODULE, {"values": _items()[:1]})
    assert guest.registry.get_value(f"HKLM\\{TS}", "Other").data == "kept"
    assert guest.registry.open(f"HKLM\\{TS}\\Client") is not None


@pytest.mark.parametrize(
    ("type_", "data", "stored", "returned"),
    [
        ("dword", "0x10", ("REG_DWORD", 16), 16),
        ("dword", -1, ("REG_DWORD", 0xFFFFFFFF), 0xFFFFFFFF),
        ("dword", 4294967295, ("REG_DWORD", 0xFFFFFFFF), 0xFFFFFFFF),
        ("qword", "0xffffffffffffffff", ("REG_QWORD", 2**64 - 1), 2**64 - 1),
        ("qword", -2, ("REG_QWORD", 2**64 - 2), 2**64 - 2),
        ("binary", "hex:01,0A, ff", ("REG_BINARY", [1, 10, 255]), [1, 10, 255]),
        ("binary", [0, 128], ("REG_BINARY", [0, 128]), [0, 128]),
        ("binary", "", ("REG_BINARY", []), []),
        ("multistring", "one", ("REG_MULTI_SZ", ["one"]), ["one"]),
        ("multistring", [], ("REG_MULTI_SZ", []), []),
        ("expandstring", "%SystemRoot%\\x", ("REG_EXPAND_SZ", "%SystemRoot%\\x"), "%SystemRoot%\\x"),
        ("string", 5, ("REG_SZ", "5"), "5"),
        ("string", "", ("REG_SZ", ""), ""),
    ],
)
def test_data_conversion_per_type(run, guest, type_, data, stored, returned):
    item = {"key": r"SOFTWARE\Contoso", "name": "V", "type": type_, "data": data}
    result = run(MODULE, {"values": [item]})
    assert result["changes"][0]["after"] == {"type": type_, "data": returned}
    value = guest.registry.get_value(r"HKLM\SOFTWARE\Contoso", "V")
    assert (value.type, value.data) == stored
    assert run(MODULE, {"values": [item]})["changed"] is False


def test_another_type_with_the_same_text_is_a_change(run, guest):
    guest.registry.set_value(r"HKLM\SOFTWARE\Contoso", "V", "REG_SZ", "1")
    result = run(MODULE, {"values": [{"key": r"SOFTWARE\Contoso", "name": "V", "type": "dword", "data": 1}]})
    assert result["changes"][0]["before"] == {"type": "string", "data": "1"}
    assert guest.registry.get_value(r"HKLM\SOFTWARE\Contoso", "V").type == "REG_DWORD"


def test_an_existing_expand_string_is_compared_unexpanded(run, guest):
    guest.registry.set_value(r"HKLM\SOFTWARE\Contoso", "P", "REG_EXPAND_SZ", "%ProgramData%\\x")
    item = {"key": r"SOFTWARE\Contoso", "name": "P", "type": "expandstring", "data": "%ProgramData%\\x"}
    assert run(MODULE, {"values": [item]})["changed"] is False


def test_absent_removes_a_value_and_a_missing_one_is_no_change(run, guest):
    guest.registry.set_value(r"HKLM\SOFTWARE\Contoso", "Old", "REG_DWORD", 3)
    values = [
        {"key": r"SOFTWARE\Contoso", "name": "Old", "state": "absent"},
        {"key": r"SOFTWARE\Contoso", "name": "Never", "state": "absent"},
        {"key": r"SOFTWARE\Nowhere", "name": "Never", "state": "absent"},
    ]
    check = run(MODULE, {"values": values}, check=True)
    assert guest.registry.get_value(r"HKLM\SOFTWARE\Contoso", "Old") is not None
    result = run(MODULE, {"values": values})
    assert result["changes"] == check["changes"]
    assert result["changes"] == [
        {
            "hive": "HKLM",
            "key": r"SOFTWARE\Contoso",
            "name": "Old",
            "type": "dword",
            "before": {"type": "dword", "data": 3},
            "after": None,
            "source": None,
        }
    ]
    assert result["unchanged"] == 2
    assert guest.registry.get_value(r"HKLM\SOFTWARE\Contoso", "Old") is None
    assert guest.registry.open(r"HKLM\SOFTWARE\Contoso") is not None  # keys are never deleted
    assert guest.registry.open(r"HKLM\SOFTWARE\Nowhere") is None


def test_the_default_value_and_key_spelling(run, guest):
    item = {"key": "SOFTWARE\\\\Contoso\\", "name": "", "type": "string", "data": "d", "hive": "hklm"}
    result = run(MODULE, {"values": [item]})
    assert result["changes"][0]["key"] == r"SOFTWARE\Contoso" and result["changes"][0]["hive"] == "HKLM"
    assert guest.registry.get_value(r"HKLM\SOFTWARE\Contoso", "").data == "d"


@pytest.mark.parametrize(
    ("item", "msg"),
    [
        (
            {"hive": "HKCU", "key": "X", "name": "a"},
            "value of hive must be one of: HKLM, default_user. Got no match for: HKCU found in values",
        ),
        (
            {"key": "X", "name": "a", "path": "y"},
            "Unsupported parameters for (avd.golden.win_registry_set) module: path found in values. "
            "Supported parameters include: data, hive, json_merge, key, name, source, state, type",
        ),
        ({"name": "a"}, "missing required arguments: key found in values"),
        ({"key": "X"}, "missing required arguments: name found in values"),
        (
            {"key": "X", "name": "a", "type": "sz"},
            "value of type must be one of: string, expandstring, multistring, dword, qword, binary. "
            "Got no match for: sz found in values",
        ),
        (
            {"key": "X", "name": "a", "json_merge": "maybe"},
            "argument for json_merge is of type System.String and we were unable to convert to bool: "
            "The value 'maybe' is not a valid boolean. Valid booleans include: "
            "y, yes, on, 1, true, t, 1.0, n, no, off, 0, false, f, 0.0 found in values",
        ),
    ],
    ids=["hkcu", "unknown-option", "no-key", "no-name", "bad-type", "bad-bool"],
)
def test_argument_errors_are_ansible_basic_s(run, item, msg):
    assert run(MODULE, {"values": [item]}) == {"changed": False, "failed": True, "msg": msg}


def test_values_is_required(run):
    assert run(MODULE, {})["msg"] == "missing required arguments: values"


ROOTED = "key: must be relative to the hive, without a drive, root name or leading backslash: "


@pytest.mark.parametrize(
    ("fields", "msg"),
    [
        ({"key": r"HKLM:\SOFTWARE\X"}, ROOTED + r"HKLM:\SOFTWARE\X"),
        ({"key": r"HKEY_LOCAL_MACHINE\SOFTWARE"}, ROOTED + r"HKEY_LOCAL_MACHINE\SOFTWARE"),
        ({"key": r"\SOFTWARE\X"}, ROOTED + r"\SOFTWARE\X"),
        ({"key": ""}, "key: is empty"),
        ({"type": None}, "type: is required when state is present"),
        ({"data": None}, "data: is required when state is present"),
        ({"data": True}, "data: must be an integer for type dword, not a boolean"),
        ({"data": 2**32}, "data: 4294967296 is out of range for type dword"),
        ({"data": -(2**31) - 1}, "data: -2147483649 is out of range for type dword"),
        ({"type": "qword", "data": [1]}, "data: must be an integer for type qword"),
        (
            {"type": "binary", "data": "01,zz"},
            "data: must be comma-separated hexadecimal bytes for type binary: 01,zz",
        ),
        ({"type": "binary", "data": [1, 256]}, "data: must be a list of byte values (0 to 255)"),
        ({"type": "binary", "data": 7}, "data: must be a list of byte values (0 to 255)"),
        ({"type": "multistring", "data": [["x"]]}, "data: must be a list of strings for type multistring"),
        ({"type": "string", "data": {"a": 1}}, "data: must be a string for type string"),
        ({"json_merge": True, "data": {}}, "type: must be string with json_merge"),
        ({"json_merge": True, "type": None, "data": "{}"}, "data: must be a dictionary with json_merge"),
    ],
)
def test_item_errors_name_the_item_and_the_field(run, guest, fields, msg):
    item = {"key": "X", "name": "a", "type": "dword", "data": 1, **fields}
    item = {k: v for k, v in item.items() if v is not None}
    result = run(MODULE, {"values": [{"key": "Y", "name": "ok", "type": "dword", "data": 1}, item]})
    assert result["failed"] is True and result["msg"].startswith(f"values[1].{msg}")
    assert guest.registry.open(r"HKLM\Y") is None


def test_the_same_value_twice_is_refused(run):
    values = [
        {"key": TS, "name": "fResetBroken", "type": "dword", "data": 1},
        {"key": TS.upper() + "\\", "name": "FRESETBROKEN", "type": "dword", "data": 0},
    ]
    assert run(MODULE, {"values": values})["msg"] == (
        rf"values[1].name: HKLM\{TS.upper()} value 'FRESETBROKEN' is also in values[0]; give each value once"
    )


def test_the_same_name_in_both_hives_is_two_values(run):
    values = [
        {"key": CDM, "name": "X", "type": "dword", "data": 1},
        {"key": CDM, "name": "X", "type": "dword", "data": 1, "hive": "default_user"},
    ]
    assert len(run(MODULE, {"values": values})["changes"]) == 2
