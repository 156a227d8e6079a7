"""Initial state per marketplace image, identity, persistence and secrets."""

from __future__ import annotations

import json

import pytest
from spnego._ntlm_raw.crypto import ntowfv1

from sandbox.guest_api import NotModelled, SourceImage
from sandbox.windows.state import WindowsState, create_guest, load_guest
from tests.support.windows_state import M365, MULTI, PASSWORD, SINGLE, spec

CV = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion"


def value(g: WindowsState, key: str, name: str):
    v = g.registry.get_value(key, name)
    return v.data if v else None


def test_multi_session_identity(make_guest):
    g = make_guest(MULTI)
    assert g.product_type == 3
    assert value(g, CV, "EditionID") == "ServerRdsh"
    assert value(g, r"HKLM\SYSTEM\CurrentControlSet\Control\ProductOptions", "ProductType") == "ServerNT"
    assert (value(g, CV, "CurrentBuild"), value(g, CV, "UBR"), value(g, CV, "DisplayVersion")) == (
        "26100",
        4061,
        "24H2",
    )
    assert g.services["frxsvc"].state == "started"  # FSLogix preinstalled on multi-session
    assert g.optional_features["AppServerClient"] == "Enabled"


def test_single_session_identity(make_guest):
    g = make_guest(SINGLE)
    assert g.product_type == 1
    assert value(g, CV, "EditionID") == "Enterprise"
    assert value(g, r"HKLM\SYSTEM\CurrentControlSet\Control\ProductOptions", "ProductType") == "WinNT"
    assert "frxsvc" not in g.services
    assert g.optional_features["AppServerClient"] == "Disabled"


def test_m365_adds_office_and_teams(make_guest):
    plain, m365 = make_guest(MULTI), make_guest(M365)
    names = {p["name"] for p in m365.appx_provisioned}
    assert "MSTeams" in names and "MSTeams" not in {p["name"] for p in plain.appx_provisioned}
    key = r"HKLM\SOFTWARE\Microsoft\Office\ClickToRun\Configuration"
    assert (
        value(m365, key, "SharedComputerLicensing") == "1"
        and value(plain, key, "SharedComputerLicensing") is None
    )
    assert m365.product_type == 3


def test_common_seed(guest):
    assert guest.image_state() == "IMAGE_STATE_COMPLETE"
    for name in ("windowsazureguestagent", "rdagent"):
        assert guest.services[name].state == "started" and guest.services[name].start_mode == "auto"
    assert guest.fs.is_file(r"C:\Windows\Panther\unattend.xml")
    assert b"*SENSITIVE*DATA*DELETED*" in guest.fs.read(r"c:\windows\panther\UNATTEND.XML")
    assert guest.fs.is_dir(r"C:\Windows\System32\Sysprep\Panther")
    assert not guest.fs.exists(r"C:\Windows\System32\Sysprep\Panther\setupact.log")
    assert guest.bitlocker["C:"]["volume_status"] == "FullyDecrypted"
    assert guest.pending_reboot_reasons() == []
    assert guest.time_zone() == "UTC"
    assert guest.winrm_listener() is None  # the bootstrap run command creates it
    assert guest.appx_not_provisioned() == []
    assert r"c:\users\default\ntuser.dat" in guest.registry.hive_files
    assert guest.boot_time_filetime() == round((guest.boot_time + 11644473600) * 10_000_000)


@pytest.mark.parametrize(
    ("image", "fragment"),
    [
        (
            SourceImage("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter", "20348.1.1"),
            "2022-datacenter",
        ),
        (
            SourceImage("MicrosoftWindowsDesktop", "windows-11", "win11-24h2-avd", "22631.5335.250509"),
            "build 22631",
        ),
        (SourceImage("MicrosoftWindowsDesktop", "windows-11", "win11-24h2-avd", "latest"), "latest"),
    ],
)
def test_unknown_image_is_not_modelled(clock, arm, image, fragment):
    with pytest.raises(NotModelled, match=fragment):
        create_guest(spec(image), arm)


def test_sku_lookup_is_case_insensitive(clock, arm):
    g = create_guest(
        spec(SourceImage("microsoftwindowsdesktop", "Windows-11", "WIN11-24H2-AVD", "26100.1.250101")), arm
    )
    assert g.ubr == 1


def test_nt_hash_and_no_clear_password(guest):
    assert guest.nt_hash == ntowfv1(PASSWORD)
    text = json.dumps(guest.to_dict())
    assert PASSWORD not in text
    dump = json.dumps(guest.dump())
    assert guest.nt_hash.hex() not in dump and PASSWORD not in dump


def test_round_trip(guest, run):
    run("win_regedit", {"path": r"HKLM:\SOFTWARE\Contoso", "name": "X", "data": [1, 2], "type": "binary"})
    guest.inject_fault({"kind": "user_appx"})
    data = json.loads(json.dumps(guest.to_dict()))
    again = load_guest(data, None)
    assert again.to_dict() == data
    assert again.registry.get_value(r"HKLM\SOFTWARE\Contoso", "x").data == [1, 2]
    assert again.appx_not_provisioned() == guest.appx_not_provisioned()


def test_reboot_clears_pending_and_moves_boot_time(guest, clock):
    before = guest.boot_time_filetime()
    for reason in ("cbs", "windows_update", "file_rename", "computer_rename"):
        guest.inject_fault({"kind": "pending_reboot", "reason": reason})
    assert guest.pending_reboot_reasons() == [
        "ComponentBasedServicing",
        "WindowsUpdate",
        "PendingFileRename",
        "PendingComputerRename",
    ]
    guest.registry.delete_key(r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\AutoLogonChecked")
    clock.advance(30)
    guest.reboot()
    assert guest.pending_reboot_reasons() == []
    assert guest.boot_time_filetime() > before
    assert guest.registry.exists(
        r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\AutoLogonChecked"
    )
    assert guest.computer_name == "avdbuild01X"  # the pending rename took effect


def test_unknown_fault_kind(guest):
    with pytest.raises(ValueError, match="unknown Windows fault kind 'nope'"):
        guest.inject_fault({"kind": "nope"})


def test_implements_the_guest_protocol(guest):
    from sandbox.windows import guest as guest_api
    from sandbox.windows import state

    members = [n for n in vars(guest_api.Guest) if not n.startswith("_")]
    assert members, "Guest protocol has no members?"
    for name in members:
        assert hasattr(guest, name), name
    for attr in ("name", "vm_id", "computer_name", "admin_username", "nt_hash"):
        assert getattr(guest, attr)
    assert guest.name == "vm-build-1" and guest.vm_id == guest.vm_id.lower()
    assert callable(state.create_guest) and callable(state.load_guest)


def test_clear_faults_disarms_sysprep_fail(guest, run):
    guest.inject_fault({"kind": "sysprep_fail", "count": 2})
    guest.clear_faults()
    run(
        "win_command",
        {"_raw_params": r"C:\Windows\System32\Sysprep\sysprep.exe /generalize /oobe /quit /mode:vm"},
    )
    assert guest.image_state() == "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"


def test_every_arm_marketplace_image_is_modelled(clock, arm):
    """Whatever the ARM emulator lets a VM be created from, the Windows side can seed."""
    from sandbox.arm.catalog import MARKETPLACE

    for sku in MARKETPLACE:
        for version in (sku.versions[0], sku.versions[-1]):
            g = create_guest(spec(SourceImage(sku.publisher, sku.offer, sku.sku, version)), arm)
            assert g.build == version.split(".")[0], (sku.sku, version)
            multi = "-avd" in sku.sku
            assert g.product_type == (3 if multi else 1), sku.sku
