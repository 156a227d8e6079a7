"""win_regedit and win_reg_stat: changed, check mode, diff, idempotence, types, hive files."""

from __future__ import annotations

import pytest

KEY = r"HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services"
REGKEY = r"HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services"


@pytest.mark.parametrize(
    ("args", "stored", "diff_value"),
    [
        (
            {"name": "fEnableTimeZoneRedirection", "data": 1, "type": "dword"},
            ("REG_DWORD", 1),
            {"type": "DWord", "value": "0x00000001"},
        ),
        (
            {"name": "Big", "data": "0xffffffff", "type": "dword"},
            ("REG_DWORD", 0xFFFFFFFF),
            {"type": "DWord", "value": "0xffffffff"},
        ),
        (
            {"name": "Q", "data": 2**40, "type": "qword"},
            ("REG_QWORD", 2**40),
            {"type": "QWord", "value": "0x0000010000000000"},
        ),
        ({"name": "S", "data": "text"}, ("REG_SZ", "text"), {"type": "String", "value": "text"}),
        ({"name": "N", "data": 5}, ("REG_SZ", "5"), {"type": "String", "value": "5"}),
        (
            {"name": "E", "data": "%SystemRoot%\\x", "type": "expandstring"},
            ("REG_EXPAND_SZ", "%SystemRoot%\\x"),
            {"type": "ExpandString", "value": "%SystemRoot%\\x"},
        ),
        (
            {"name": "M", "data": ["a", "b"], "type": "multistring"},
            ("REG_MULTI_SZ", ["a", "b"]),
            {"type": "MultiString", "value": ["a", "b"]},
        ),
        (
            {"name": "B", "data": "hex:be,ef", "type": "binary"},
            ("REG_BINARY", [0xBE, 0xEF]),
            {"type": "Binary", "value": ["0xbe", "0xef"]},
        ),
        (
            {"name": "B2", "data": [1, 2, 255], "type": "binary"},
            ("REG_BINARY", [1, 2, 255]),
            {"type": "Binary", "value": ["0x01", "0x02", "0xff"]},
        ),
        ({"name": "Z", "type": "dword"}, ("REG_DWORD", 0), {"type": "DWord", "value": "0x00000000"}),
    ],
)
def test_create_value_check_then_apply_then_idempotent(run, guest, args, stored, diff_value):
    guest.registry.create(REGKEY)  # the key exists; only the value is new
    name = args["name"]
    check = run("win_regedit", {"path": KEY, **args}, check=True, diff=True)
    assert check["changed"] is True
    assert check["diff"] == {"before": {KEY: {}}, "after": {KEY: {name: diff_value}}}
    assert guest.registry.get_value(REGKEY, name) is None  # check mode changed nothing

    applied = run("win_regedit", {"path": KEY, **args}, diff=True)
    assert applied["changed"] is True and applied["diff"] == check["diff"]
    value = guest.registry.get_value(REGKEY, name)
    assert (value.type, value.data) == stored

    again = run("win_regedit", {"path": KEY, **args}, diff=True)
    assert again["changed"] is False
    assert again["data_changed"] is False and again["data_type_changed"] is False
    assert again["diff"] == {"before": {KEY: {name: diff_value}}, "after": {KEY: {name: diff_value}}}


def test_missing_key_in_check_mode_reports_key_only(run, guest):
    result = run(
        "win_regedit",
        {"path": r"HKLM:\SOFTWARE\Contoso\New", "name": "A", "data": 1, "type": "dword"},
        check=True,
        diff=True,
    )
    assert result["changed"] is True
    assert result["diff"] == {"before": {}, "after": {r"HKLM:\SOFTWARE\Contoso\New": {}}}
    assert not guest.registry.exists(r"HKLM\SOFTWARE\Contoso\New")


def test_key_only_and_no_diff_without_diff_mode(run, guest):
    result = run("win_regedit", {"path": r"HKLM:\SOFTWARE\Contoso\KeyOnly"})
    assert result == {"changed": True, "data_changed": False, "data_type_changed": False}
    assert guest.registry.exists(r"HKLM\SOFTWARE\Contoso\KeyOnly")
    assert run("win_regedit", {"path": r"HKLM:\SOFTWARE\Contoso\KeyOnly"})["changed"] is False


def test_change_data_and_type(run, guest):
    guest.registry.set_value(REGKEY, "V", "REG_SZ", "1")
    result = run("win_regedit", {"path": KEY, "name": "V", "data": 1, "type": "dword"}, diff=True)
    assert result["changed"] and result["data_type_changed"] and not result["data_changed"]
    assert result["diff"]["before"][KEY]["V"] == {"type": "String", "value": "1"}
    guest.registry.set_value(REGKEY, "W", "REG_SZ", "Abc")
    result = run("win_regedit", {"path": KEY, "name": "W", "data": "abc"})
    assert (
        result["changed"] and result["data_changed"] and not result["data_type_changed"]
    )  # -cne: case matters
    guest.registry.set_value(REGKEY, "L", "REG_MULTI_SZ", ["Abc"])
    assert (
        run("win_regedit", {"path": KEY, "name": "L", "data": ["abc"], "type": "multistring"})["changed"]
        is False
    )


def test_delete_value_and_key(run, guest):
    guest.registry.set_value(REGKEY, "Gone", "REG_DWORD", 7)
    check = run("win_regedit", {"path": KEY, "name": "Gone", "state": "absent"}, check=True, diff=True)
    assert check["changed"] and check["diff"] == {
        "before": {KEY: {"Gone": {"type": "DWord", "value": "0x00000007"}}},
        "after": {KEY: {}},
    }
    assert guest.registry.get_value(REGKEY, "Gone") is not None
    assert run("win_regedit", {"path": KEY, "name": "Gone", "state": "absent"})["changed"] is True
    assert guest.registry.get_value(REGKEY, "Gone") is None
    assert run("win_regedit", {"path": KEY, "name": "Gone", "state": "absent"})["changed"] is False
    # delete_key=false without a name removes the (Default) value only; the key stays
    assert run("win_regedit", {"path": KEY, "state": "absent", "delete_key": False})["changed"] is False
    assert guest.registry.exists(REGKEY)
    deleted = run("win_regedit", {"path": KEY, "state": "absent"}, diff=True)
    assert deleted["changed"] and deleted["diff"] == {"before": {KEY: {}}, "after": {}}
    assert not guest.registry.exists(REGKEY)
    assert run("win_regedit", {"path": KEY, "state": "absent"})["changed"] is False


@pytest.mark.parametrize(
    ("args", "msg"),
    [
        (
            {"path": r"HKEY_LOCAL_MACHINE\SOFTWARE\X"},
            r"path: HKEY_LOCAL_MACHINE\SOFTWARE\X is not a valid powershell path, see module documentation for examples.",  # noqa: E501 - message text
        ),
        (
            {"path": r"HKLM:\X", "name": "d", "data": 2**32, "type": "dword"},
            "data cannot be larger than 0xffffffff when type is dword",
        ),
        (
            {"path": r"HKLM:\X", "name": "d", "data": 1.5, "type": "qword"},
            "data '1.5' cannot be a decimal or float value with a remainder when type is dword or qword",
        ),
        (
            {"path": r"HKLM:\X", "name": "b", "data": 256, "type": "binary"},
            "cannot convert binary data '256' to byte array, please specify this value as a yaml byte array or a comma separated hex value string",  # noqa: E501 - message text
        ),
        (
            {"path": r"HKLM:\ANSIBLE\X", "hive": r"C:\Users\Nobody\NTUSER.DAT"},
            r"hive at path 'C:\Users\Nobody\NTUSER.DAT' is not valid or accessible, cannot load hive",
        ),
    ],
)
def test_failures(run, args, msg):
    result = run("win_regedit", args)
    assert result["failed"] is True and result["msg"] == msg


def test_default_value_type_warning(run, guest):
    result = run("win_regedit", {"path": r"HKLM:\SOFTWARE\Contoso", "data": 1, "type": "dword"})
    assert result["warnings"] == [
        "the data type when name is not specified can only be 'string', the type has automatically been converted"  # noqa: E501 - message text
    ]
    assert guest.registry.get_value(r"HKLM\SOFTWARE\Contoso", "").data == "1"


def test_default_user_hive(run, guest):
    args = {
        "path": r"HKLM:\ANSIBLE\Software\Microsoft\Windows\CurrentVersion\ContentDeliveryManager",
        "name": "PreInstalledAppsEnabled",
        "data": 0,
        "type": "dword",
        "hive": r"%SystemDrive%\Users\Default\NTUSER.DAT",
    }
    first = run("win_regedit", args, diff=True)
    assert first["changed"] is True
    assert first["diff"]["before"][args["path"]]["PreInstalledAppsEnabled"]["value"] == "0x00000001"
    hive = guest.registry.hive_files[r"c:\users\default\ntuser.dat"]
    key = hive.walk(["Software", "Microsoft", "Windows", "CurrentVersion", "ContentDeliveryManager"])
    assert key.get("PreInstalledAppsEnabled").data == 0
    assert not guest.registry.exists(r"HKLM\ANSIBLE")  # unloaded again
    assert (
        guest.registry.get_value(
            r"HKCU\Software\Microsoft\Windows\CurrentVersion\ContentDeliveryManager",
            "PreInstalledAppsEnabled",
        )
        is None
    )  # a separate hive from the admin's
    assert run("win_regedit", args)["changed"] is False


def test_not_a_hive_file(run, guest):
    result = run("win_regedit", {"path": r"HKLM:\ANSIBLE\X", "hive": r"C:\Windows\Panther\unattend.xml"})
    assert result["failed"] and "is not in a registry file format" in result["msg"]


def test_reg_stat(run, guest):
    guest.registry.set_value(r"HKLM\SOFTWARE\Contoso", "D", "REG_DWORD", 0xFFFFFFFF)
    guest.registry.set_value(r"HKLM\SOFTWARE\Contoso", "E", "REG_EXPAND_SZ", "%SystemRoot%\\y")
    guest.registry.set_value(r"HKLM\SOFTWARE\Contoso", "B", "REG_BINARY", [1, 255])
    guest.registry.create(r"HKLM\SOFTWARE\Contoso\Sub")
    whole = run("win_reg_stat", {"path": r"HKLM:\SOFTWARE\Contoso"})
    assert whole["exists"] is True and whole["sub_keys"] == ["Sub"]
    assert whole["properties"]["D"] == {"type": "REG_DWORD", "value": 4294967295, "raw_value": 4294967295}
    assert whole["properties"]["E"] == {
        "type": "REG_EXPAND_SZ",
        "value": "C:\\Windows\\y",
        "raw_value": "%SystemRoot%\\y",
    }
    assert whole["properties"]["B"] == {
        "type": "REG_BINARY",
        "value": [1, 255],
        "raw_value": ["0x01", "0xff"],
    }
    one = run(
        "win_reg_stat",
        {"path": r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State", "name": "ImageState"},
    )
    assert one == {
        "changed": False,
        "exists": True,
        "type": "REG_SZ",
        "value": "IMAGE_STATE_COMPLETE",
        "raw_value": "IMAGE_STATE_COMPLETE",
    }
    assert run("win_reg_stat", {"path": r"HKLM:\SOFTWARE\Nope"}) == {"changed": False, "exists": False}
    assert run("win_reg_stat", {"path": r"HKLM:\SOFTWARE\Contoso", "name": "nope"})["exists"] is False
    bad = run("win_reg_stat", {"path": r"HKLM\SOFTWARE"})
    assert (
        bad["failed"]
        and bad["msg"]
        == r"path: HKLM\SOFTWARE is not a valid registry path, see module documentation for examples."
    )
