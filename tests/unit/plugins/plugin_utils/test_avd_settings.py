"""The avd and default_user sections: validation, defaults, and the registry items they plan.

The expected items are written out here from the sources the role README cites (Microsoft's
documentation, the policy templates, the Custom Image Template scripts), not computed from the
tables of the code under test.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.plugin_utils._avd_settings import (  # noqa: E402
    REDIRECTION_VALUES,
    AvdSettingsError,
    avd_settings_plan,
)
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.avd import normalize_avd  # noqa: E402
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.schema import KEYS  # noqa: E402
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.spec import (  # noqa: E402
    normalize_image_spec,
    validate_image_spec,
)

TS = r"SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services"
FSL = r"SOFTWARE\FSLogix\Profiles"
DEX = r"SOFTWARE\Policies\Microsoft\Windows Defender\Exclusions"
WINSTATIONS = r"SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations"
SHARE = r"\\stprofiles.file.core.windows.net\profiles"
SPEC = {
    "name": "win11-24h2-avd",
    "source": {"offer": "windows-11", "sku": "win11-24h2-avd"},
    "location": "westeurope",
    "gallery": {
        "resource_group": "rg-img",
        "name": "gal",
        "image_definition": {"name": "d", "publisher": "p", "offer": "o", "sku": "s"},
    },
}
# The two settings every image gets, switched off so that one setting's items stand alone.
QUIET = {"time_zone_redirection": False, "storage_sense": True}


def hklm(key: str, name: str, data: Any, source: str, kind: str = "dword") -> dict[str, Any]:
    return {"hive": "HKLM", "key": key, "name": name, "type": kind, "data": data, "source": source}


def registry(avd: dict[str, Any]) -> list[dict[str, Any]]:
    return avd_settings_plan({"avd": {**QUIET, **avd}})["registry"]


def errors_of(avd: Any = None, default_user: Any = None) -> list[str]:
    image: dict[str, Any] = {}
    if avd is not None:
        image["avd"] = avd
    if default_user is not None:
        image["default_user"] = default_user
    return normalize_avd(image)[0]


# -- defaults -----------------------------------------------------------------------------------

DEFAULT_AVD = {
    "time_zone_redirection": True,
    "storage_sense": False,
    "session_limits": {
        "disconnected_minutes": None,
        "idle_minutes": None,
        "connection_minutes": None,
        "remote_app_logoff_minutes": None,
        "reset_broken": False,
    },
    "screen_capture_protection": "off",
    "watermarking": {
        "enabled": False,
        "content": "connection_id",
        "qr_scale": 4,
        "opacity": 2000,
        "width_factor": 320,
        "height_factor": 180,
    },
    "rdp_shortpath": {"managed_networks": False, "port": 3390},
    "fslogix": {
        "enabled": False,
        "location_type": None,
        "locations": [],
        "size_mb": 30000,
        "volume_type": "vhdx",
        "dynamic": True,
        "flip_flop_directory_name": True,
        "delete_local_profile": True,
        "include_groups": [],
        "exclude_groups": [],
        "defender_exclusions": True,
        "entra_kerberos": False,
    },
    "teams_media_optimization": False,
    "multimedia_redirection": {"edge": False, "chrome": False},
    "store_auto_update": True,
    "redirection": dict.fromkeys(
        [
            "clipboard",
            "drives",
            "printers",
            "com_ports",
            "lpt_ports",
            "pnp_devices",
            "smart_cards",
            "audio_playback",
            "audio_capture",
            "cameras",
            "location",
            "webauthn",
        ]
    ),
}


def test_an_image_spec_without_the_sections_gets_the_defaults() -> None:
    normal = normalize_image_spec(SPEC, "2026-11-27")
    assert normal["avd"] == DEFAULT_AVD
    assert normal["default_user"] == []
    # Normalising is stable.
    assert normalize_image_spec(normal, "2026-11-27") == normal


def test_the_default_plan_is_time_zone_redirection_and_storage_sense_off() -> None:
    plan = avd_settings_plan({})
    assert plan == {
        "registry": [
            hklm(TS, "fEnableTimeZoneRedirection", 1, "avd.time_zone_redirection"),
            hklm(
                r"SOFTWARE\Microsoft\Windows\CurrentVersion\StorageSense",
                "AllowStorageSenseGlobal",
                0,
                "avd.storage_sense",
            ),
            hklm(
                r"SOFTWARE\Policies\Microsoft\Windows\StorageSense",
                "AllowStorageSenseGlobal",
                0,
                "avd.storage_sense",
            ),
            {
                "hive": "default_user",
                "key": r"Software\Microsoft\Windows\CurrentVersion\StorageSense\Parameters\StoragePolicy",
                "name": "01",
                "type": "dword",
                "data": 0,
                "source": "avd.storage_sense",
            },
        ],
        "firewall_rules": [],
        "tasks": [],
        "groups": [],
        "warnings": [],
    }


def test_switching_the_defaults_off_plans_nothing() -> None:
    assert avd_settings_plan({"avd": QUIET}) == {
        "registry": [],
        "firewall_rules": [],
        "tasks": [],
        "groups": [],
        "warnings": [],
    }


# -- each setting, its exact items --------------------------------------------------------------

SETTINGS: list[tuple[str, dict[str, Any], list[dict[str, Any]]]] = [
    (
        "session-limits-all",
        {
            "session_limits": {
                "disconnected_minutes": 60,
                "idle_minutes": 120,
                "connection_minutes": 480,
                "remote_app_logoff_minutes": 0,
                "reset_broken": True,
            }
        },
        [
            hklm(TS, "MaxDisconnectionTime", 3_600_000, "avd.session_limits"),
            hklm(TS, "MaxIdleTime", 7_200_000, "avd.session_limits"),
            hklm(TS, "MaxConnectionTime", 28_800_000, "avd.session_limits"),
            hklm(TS, "RemoteAppLogoffTimeLimit", 0, "avd.session_limits"),
            hklm(TS, "fResetBroken", 1, "avd.session_limits"),
        ],
    ),
    # CIT's loop stopped at fResetBroken and always wrote it: here a limit alone is a limit alone.
    (
        "session-limit-without-reset-broken",
        {"session_limits": {"idle_minutes": 15}},
        [hklm(TS, "MaxIdleTime", 900_000, "avd.session_limits")],
    ),
    (
        "session-limits-reset-broken-false",
        {"session_limits": {"remote_app_logoff_minutes": 5, "reset_broken": False}},
        [hklm(TS, "RemoteAppLogoffTimeLimit", 300_000, "avd.session_limits")],
    ),
    (
        "screen-capture-client",
        {"screen_capture_protection": "client"},
        [hklm(TS, "fEnableScreenCaptureProtect", 1, "avd.screen_capture_protection")],
    ),
    (
        "screen-capture-client-and-server",
        {"screen_capture_protection": "client_and_server"},
        [hklm(TS, "fEnableScreenCaptureProtect", 2, "avd.screen_capture_protection")],
    ),
    ("screen-capture-off", {"screen_capture_protection": "off"}, []),
    ("screen-capture-yaml-false", {"screen_capture_protection": False}, []),
    (
        "watermarking-defaults",
        {"watermarking": {"enabled": True}},
        [
            hklm(TS, "fEnableWatermarking", 1, "avd.watermarking"),
            hklm(TS, "WatermarkingQrScale", 4, "avd.watermarking"),
            hklm(TS, "WatermarkingOpacity", 2000, "avd.watermarking"),
            hklm(TS, "WatermarkingWidthFactor", 320, "avd.watermarking"),
            hklm(TS, "WatermarkingHeightFactor", 180, "avd.watermarking"),
            hklm(TS, "WatermarkingContent", 0, "avd.watermarking"),
        ],
    ),
    (
        "watermarking-custom",
        {
            "watermarking": {
                "enabled": True,
                "content": "device_id",
                "qr_scale": 10,
                "opacity": 100,
                "width_factor": 1000,
                "height_factor": 100,
            }
        },
        [
            hklm(TS, "fEnableWatermarking", 1, "avd.watermarking"),
            hklm(TS, "WatermarkingQrScale", 10, "avd.watermarking"),
            hklm(TS, "WatermarkingOpacity", 100, "avd.watermarking"),
            hklm(TS, "WatermarkingWidthFactor", 1000, "avd.watermarking"),
            hklm(TS, "WatermarkingHeightFactor", 100, "avd.watermarking"),
            hklm(TS, "WatermarkingContent", 1, "avd.watermarking"),
        ],
    ),
    ("watermarking-off", {"watermarking": {"enabled": False, "opacity": 500}}, []),
    (
        "rdp-shortpath",
        {"rdp_shortpath": {"managed_networks": True}},
        [
            hklm(WINSTATIONS, "fUseUdpPortRedirector", 1, "avd.rdp_shortpath"),
            hklm(WINSTATIONS, "UdpPortNumber", 3390, "avd.rdp_shortpath"),
        ],
    ),
    (
        "rdp-shortpath-port",
        {"rdp_shortpath": {"managed_networks": True, "port": 3478}},
        [
            hklm(WINSTATIONS, "fUseUdpPortRedirector", 1, "avd.rdp_shortpath"),
            hklm(WINSTATIONS, "UdpPortNumber", 3478, "avd.rdp_shortpath"),
        ],
    ),
    (
        "teams",
        {"teams_media_optimization": True},
        [hklm(r"SOFTWARE\Microsoft\Teams", "IsWVDEnvironment", 1, "avd.teams_media_optimization")],
    ),
    (
        "entra-kerberos-without-fslogix",
        {"fslogix": {"entra_kerberos": True}},
        [
            hklm(
                r"SYSTEM\CurrentControlSet\Control\Lsa\Kerberos\Parameters",
                "CloudKerberosTicketRetrievalEnabled",
                1,
                "avd.fslogix.entra_kerberos",
            ),
            hklm(
                r"SOFTWARE\Policies\Microsoft\AzureADAccount",
                "LoadCredKeyFromProfile",
                1,
                "avd.fslogix.entra_kerberos",
            ),
        ],
    ),
    (
        "fslogix-vhd-locations",
        {
            "fslogix": {
                "enabled": True,
                "location_type": "vhd_locations",
                "locations": [SHARE, r"\\fs02\profiles\avd"],
                "size_mb": 40960,
                "volume_type": "vhd",
                "dynamic": False,
                "flip_flop_directory_name": False,
                "delete_local_profile": False,
                "defender_exclusions": False,
            }
        },
        [
            hklm(FSL, "Enabled", 1, "avd.fslogix"),
            hklm(FSL, "VHDLocations", [SHARE, r"\\fs02\profiles\avd"], "avd.fslogix", "multistring"),
            hklm(FSL, "SizeInMBs", 40960, "avd.fslogix"),
            hklm(FSL, "VolumeType", "VHD", "avd.fslogix", "string"),
            hklm(FSL, "IsDynamic", 0, "avd.fslogix"),
            hklm(FSL, "FlipFlopProfileDirectoryName", 0, "avd.fslogix"),
            hklm(FSL, "DeleteLocalProfileWhenVHDShouldApply", 0, "avd.fslogix"),
        ],
    ),
    (
        "fslogix-cloud-cache",
        {
            "fslogix": {
                "enabled": True,
                "location_type": "cloud_cache",
                "locations": [SHARE, r"type=smb,name=secondary,connectionString=\\fs02\profiles"],
                "defender_exclusions": False,
            }
        },
        [
            hklm(FSL, "Enabled", 1, "avd.fslogix"),
            hklm(
                FSL,
                "CCDLocations",
                [
                    f"type=smb,connectionString={SHARE}",
                    r"type=smb,name=secondary,connectionString=\\fs02\profiles",
                ],
                "avd.fslogix",
                "multistring",
            ),
            hklm(FSL, "SizeInMBs", 30000, "avd.fslogix"),
            hklm(FSL, "VolumeType", "VHDX", "avd.fslogix", "string"),
            hklm(FSL, "IsDynamic", 1, "avd.fslogix"),
            hklm(FSL, "FlipFlopProfileDirectoryName", 1, "avd.fslogix"),
            hklm(FSL, "DeleteLocalProfileWhenVHDShouldApply", 1, "avd.fslogix"),
        ],
    ),
    (
        "store-auto-update-off",
        {"store_auto_update": False},
        [
            hklm(r"SOFTWARE\Policies\Microsoft\WindowsStore", "AutoDownload", 2, "avd.store_auto_update"),
            hklm(
                r"SOFTWARE\Microsoft\Windows\CurrentVersion\ContentDeliveryManager\Debug",
                "ContentDeliveryAllowedOverride",
                2,
                "avd.store_auto_update",
            ),
            {
                "hive": "default_user",
                "key": r"Software\Microsoft\Windows\CurrentVersion\ContentDeliveryManager",
                "name": "PreInstalledAppsEnabled",
                "type": "dword",
                "data": 0,
                "source": "avd.store_auto_update",
            },
        ],
    ),
    (
        "redirection",
        {"redirection": {"clipboard": False, "drives": True, "smart_cards": False, "audio_capture": True}},
        [
            hklm(TS, "fDisableClip", 1, "avd.redirection.clipboard"),
            hklm(TS, "fDisableCdm", 0, "avd.redirection.drives"),
            hklm(TS, "fEnableSmartCard", 0, "avd.redirection.smart_cards"),
            hklm(TS, "fDisableAudioCapture", 0, "avd.redirection.audio_capture"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("avd", "expected"), [(a, e) for _, a, e in SETTINGS], ids=[i for i, _, _ in SETTINGS]
)
def test_each_setting_writes_exactly_its_items(avd: dict[str, Any], expected: list[dict[str, Any]]) -> None:
    assert registry(avd) == expected


# Each redirection policy, blocked and allowed: (key, value name, data when blocked, when allowed).
REDIRECTIONS = [
    ("clipboard", "fDisableClip", 1, 0),
    ("drives", "fDisableCdm", 1, 0),
    ("printers", "fDisableCpm", 1, 0),
    ("com_ports", "fDisableCcm", 1, 0),
    ("lpt_ports", "fDisableLPT", 1, 0),
    ("pnp_devices", "fDisablePNPRedir", 1, 0),
    ("smart_cards", "fEnableSmartCard", 0, 1),
    ("audio_playback", "fDisableCam", 1, 0),
    ("audio_capture", "fDisableAudioCapture", 1, 0),
    ("cameras", "fDisableCameraRedir", 1, 0),
    ("location", "fDisableLocationRedir", 1, 0),
    ("webauthn", "fDisableWebAuthn", 1, 0),
]


@pytest.mark.parametrize(("key", "name", "block", "allow"), REDIRECTIONS, ids=[r[0] for r in REDIRECTIONS])
def test_each_redirection_policy(key: str, name: str, block: int, allow: int) -> None:
    source = f"avd.redirection.{key}"
    assert registry({"redirection": {key: False}}) == [hklm(TS, name, block, source)]
    assert registry({"redirection": {key: True}}) == [hklm(TS, name, allow, source)]


def test_the_redirection_keys_of_the_schema_are_the_policies_of_the_plan() -> None:
    assert list(KEYS["avd.redirection"]) == list(REDIRECTION_VALUES) == [r[0] for r in REDIRECTIONS]


@pytest.mark.parametrize(
    ("minutes", "ms"), [(0, 0), (1, 60_000), (60, 3_600_000), (1440, 86_400_000), (71582, 4_294_920_000)]
)
def test_minutes_become_milliseconds(minutes: int, ms: int) -> None:
    items = registry({"session_limits": {"disconnected_minutes": minutes}})
    assert items == [hklm(TS, "MaxDisconnectionTime", ms, "avd.session_limits")]
    assert ms <= 0xFFFFFFFF


# -- FSLogix extras: Defender exclusions, groups ----------------------------------------------------


def _exclusions(items: list[dict[str, Any]], sub: str) -> list[str]:
    return [i["name"] for i in items if i["key"] == f"{DEX}\\{sub}"]


def test_fslogix_defender_exclusions_use_the_policy_keys() -> None:
    items = registry(
        {"fslogix": {"enabled": True, "location_type": "vhd_locations", "locations": [SHARE + "\\"]}}
    )
    source = "avd.fslogix.defender_exclusions"
    assert hklm(DEX, "Exclusions_Paths", 1, source) in items
    assert hklm(DEX, "Exclusions_Processes", 1, source) in items
    assert _exclusions(items, "Paths") == [
        r"%ProgramFiles%\FSLogix\Apps\frxdrv.sys",
        r"%ProgramFiles%\FSLogix\Apps\frxdrvvt.sys",
        r"%ProgramFiles%\FSLogix\Apps\frxccd.sys",
        r"%TEMP%\*\*.VHD",
        r"%TEMP%\*\*.VHDX",
        r"%Windir%\TEMP\*\*.VHD",
        r"%Windir%\TEMP\*\*.VHDX",
        SHARE + r"\*\*.VHD",
        SHARE + r"\*\*.VHD.lock",
        SHARE + r"\*\*.VHD.meta",
        SHARE + r"\*\*.VHD.metadata",
        SHARE + r"\*\*.VHDX",
        SHARE + r"\*\*.VHDX.lock",
        SHARE + r"\*\*.VHDX.meta",
        SHARE + r"\*\*.VHDX.metadata",
    ]
    assert _exclusions(items, "Processes") == [
        r"%ProgramFiles%\FSLogix\Apps\frxccd.exe",
        r"%ProgramFiles%\FSLogix\Apps\frxccds.exe",
        r"%ProgramFiles%\FSLogix\Apps\frxsvc.exe",
    ]
    for item in items:
        if item["key"].startswith(DEX + "\\"):
            assert (item["type"], item["data"], item["source"]) == ("string", "0", source)


def test_cloud_cache_excludes_the_cache_and_proxy_folders_and_the_provider_share() -> None:
    provider = r"type=smb,connectionString=\\fs02\cc"
    items = registry({"fslogix": {"enabled": True, "location_type": "cloud_cache", "locations": [provider]}})
    paths = _exclusions(items, "Paths")
    assert paths[-2:] == [r"%ProgramData%\FSLogix\Cache\*", r"%ProgramData%\FSLogix\Proxy\*"]
    assert r"\\fs02\cc\*\*.VHDX" in paths


def test_fslogix_groups_are_a_separate_list_for_win_group_membership() -> None:
    plan = avd_settings_plan(
        {
            "avd": {
                "fslogix": {
                    "enabled": True,
                    "location_type": "vhd_locations",
                    "locations": [SHARE],
                    "include_groups": ["NT AUTHORITY\\Authenticated Users"],
                    "exclude_groups": [
                        "S-1-1-0",
                        "NT AUTHORITY\\INTERACTIVE",
                    ],
                }
            }
        }
    )
    assert plan["groups"] == [
        {
            "name": "FSLogix Profile Include List",
            "members": ["NT AUTHORITY\\Authenticated Users"],
            "state": "pure",
            "source": "avd.fslogix.include_groups",
        },
        {
            "name": "FSLogix Profile Exclude List",
            "members": ["S-1-1-0", "NT AUTHORITY\\INTERACTIVE"],
            "state": "pure",
            "source": "avd.fslogix.exclude_groups",
        },
    ]
    # No registry mechanism exists for them: nothing in the plan's registry names the groups.
    assert not any("FSLogix Profile" in str(item) for item in plan["registry"])


def test_groups_are_not_planned_while_fslogix_is_off() -> None:
    assert (
        avd_settings_plan({"avd": {"fslogix": {"enabled": False, "include_groups": ["X"]}}})["groups"] == []
    )


# -- firewall rule, tasks, json_merge -----------------------------------------------------------------


def test_rdp_shortpath_firewall_rule() -> None:
    plan = avd_settings_plan({"avd": {"rdp_shortpath": {"managed_networks": True, "port": 3478}}})
    assert plan["firewall_rules"] == [
        {
            "name": "RemoteDesktop-UserMode-In-Shortpath-UDP",
            "description": "Azure Virtual Desktop RDP Shortpath for managed networks (UDP listener)",
            "localport": "3478",
            "protocol": "udp",
            "direction": "in",
            "action": "allow",
            "profiles": ["domain", "private"],
            "program": r"%SystemRoot%\system32\svchost.exe",
            "service": "TermService",
            "enabled": True,
            "state": "present",
        }
    ]


def test_store_auto_update_off_disables_the_windows_update_tasks() -> None:
    assert avd_settings_plan({"avd": {"store_auto_update": False}})["tasks"] == [
        {
            "path": "\\Microsoft\\Windows\\WindowsUpdate\\",
            "name": "Scheduled Start",
            "enabled": False,
            "source": "avd.store_auto_update",
        },
        {
            "path": "\\Microsoft\\Windows\\WindowsUpdate\\",
            "name": "Automatic app update",
            "enabled": False,
            "source": "avd.store_auto_update",
        },
    ]


@pytest.mark.parametrize(
    ("browser", "key", "extension", "update_url"),
    [
        (
            "edge",
            r"SOFTWARE\Policies\Microsoft\Edge",
            "joeclbldhdmoijbaagobkhlpfjglcihd",
            "https://edge.microsoft.com/extensionwebstorebase/v1/crx",
        ),
        (
            "chrome",
            r"SOFTWARE\Policies\Google\Chrome",
            "lfmemoeeciijgkjkgbgikoonlkabmlno",
            "https://clients2.google.com/service/update2/crx",
        ),
    ],
)
def test_multimedia_redirection_merges_into_extension_settings(
    browser: str, key: str, extension: str, update_url: str
) -> None:
    plan = avd_settings_plan({"avd": {**QUIET, "multimedia_redirection": {browser: True}}})
    assert plan["registry"] == [
        {
            "hive": "HKLM",
            "key": key,
            "name": "ExtensionSettings",
            "type": "string",
            "data": {extension: {"installation_mode": "force_installed", "update_url": update_url}},
            "json_merge": True,
            "source": f"avd.multimedia_redirection.{browser}",
        }
    ]
    assert plan["warnings"] and "Multimedia Redirection Service" in plan["warnings"][0]
    # The preview-only release ring is not written.
    assert not any("MSRDC" in item["key"] for item in plan["registry"])


# -- default user, and never HKCU -------------------------------------------------------------------


def test_default_user_items_go_to_the_default_user_hive() -> None:
    plan = avd_settings_plan(
        {
            "avd": QUIET,
            "default_user": [
                {"key": r"Software\Contoso", "name": "Greeting", "type": "string", "data": "hello"},
                {"key": r"Software\Contoso", "name": "", "type": "multistring", "data": ["a", "b"]},
                {"key": r"Software\Contoso", "name": "Blob", "type": "binary", "data": [0, 255]},
                {"key": r"Software\Contoso", "name": "Old", "type": "dword", "state": "absent"},
            ],
        }
    )
    assert plan["registry"] == [
        {
            "hive": "default_user",
            "key": r"Software\Contoso",
            "name": "Greeting",
            "type": "string",
            "data": "hello",
            "source": "default_user[0]",
        },
        {
            "hive": "default_user",
            "key": r"Software\Contoso",
            "name": "",
            "type": "multistring",
            "data": ["a", "b"],
            "source": "default_user[1]",
        },
        {
            "hive": "default_user",
            "key": r"Software\Contoso",
            "name": "Blob",
            "type": "binary",
            "data": [0, 255],
            "source": "default_user[2]",
        },
        {
            "hive": "default_user",
            "key": r"Software\Contoso",
            "name": "Old",
            "type": "dword",
            "state": "absent",
            "source": "default_user[3]",
        },
    ]


EVERYTHING: dict[str, Any] = {
    "avd": {
        "session_limits": {"disconnected_minutes": 60, "idle_minutes": 120, "reset_broken": True},
        "screen_capture_protection": "client_and_server",
        "watermarking": {"enabled": True},
        "rdp_shortpath": {"managed_networks": True},
        "fslogix": {
            "enabled": True,
            "location_type": "cloud_cache",
            "locations": [SHARE],
            "include_groups": ["NT AUTHORITY\\Authenticated Users"],
            "exclude_groups": ["S-1-1-0"],
            "entra_kerberos": True,
        },
        "teams_media_optimization": True,
        "multimedia_redirection": {"edge": True, "chrome": True},
        "store_auto_update": False,
        "redirection": {key: False for key in KEYS["avd.redirection"]},
    },
    "default_user": [{"key": r"Software\Contoso", "name": "X", "type": "dword", "data": 1}],
}


@pytest.mark.parametrize("location_type", ["cloud_cache", "vhd_locations"])
def test_no_item_ever_names_hkcu_or_a_drive(location_type: str) -> None:
    spec = {**EVERYTHING, "avd": {**EVERYTHING["avd"]}}
    spec["avd"]["fslogix"] = {**EVERYTHING["avd"]["fslogix"], "location_type": location_type}
    items = avd_settings_plan(spec)["registry"]
    assert len(items) > 50
    for item in items:
        assert item["hive"] in ("HKLM", "default_user"), item
        assert not re.match(r"(?i)(HK|HKEY_|\\|[A-Z]+:)", item["key"]), item
        assert "HKCU" not in item["key"].upper() and "HKEY_CURRENT_USER" not in item["key"].upper()
        assert item["source"].startswith(("avd.", "default_user["))
        assert item.get("json_merge", False) == (item["name"] == "ExtensionSettings")


def test_single_session_images_are_warned_that_fslogix_is_not_preinstalled() -> None:
    fslogix = {"enabled": True, "location_type": "vhd_locations", "locations": [SHARE]}
    single = {**SPEC, "source": {"offer": "windows-11", "sku": "win11-24h2-ent"}, "avd": {"fslogix": fslogix}}
    multi = {**SPEC, "avd": {"fslogix": fslogix}}
    assert any("single-session" in w for w in avd_settings_plan(single)["warnings"])
    assert avd_settings_plan(multi)["warnings"] == []


# -- validation errors name the field -------------------------------------------------------------------

BAD: list[tuple[str, dict[str, Any], list[Any] | None, list[str], str]] = [
    ("avd-not-mapping", {"avd": ["x"]}, None, ["avd"], "must be a mapping"),
    ("unknown-key", {"timezone_redirection": True}, None, ["avd.timezone_redirection"], "did you mean"),
    ("bool-as-string", {"storage_sense": "no"}, None, ["avd.storage_sense"], "true or false"),
    (
        "minutes-too-many",
        {"session_limits": {"idle_minutes": 71583}},
        None,
        ["avd.session_limits.idle_minutes"],
        "0 to 71582 minutes",
    ),
    (
        "minutes-negative",
        {"session_limits": {"connection_minutes": -1}},
        None,
        ["avd.session_limits.connection_minutes"],
        "0 to 71582",
    ),
    (
        "minutes-not-integer",
        {"session_limits": {"disconnected_minutes": 1.5}},
        None,
        ["avd.session_limits.disconnected_minutes"],
        "whole number",
    ),
    (
        "minutes-bool",
        {"session_limits": {"disconnected_minutes": True}},
        None,
        ["avd.session_limits.disconnected_minutes"],
        "whole number",
    ),
    (
        "limits-unknown",
        {"session_limits": {"idle_minute": 5}},
        None,
        ["avd.session_limits.idle_minute"],
        "did you mean 'idle_minutes'",
    ),
    (
        "screen-capture-choice",
        {"screen_capture_protection": "server"},
        None,
        ["avd.screen_capture_protection"],
        "off, client, client_and_server",
    ),
    (
        "screen-capture-true",
        {"screen_capture_protection": True},
        None,
        ["avd.screen_capture_protection"],
        "got true",
    ),
    (
        "watermark-opacity",
        {"watermarking": {"opacity": 50}},
        None,
        ["avd.watermarking.opacity"],
        "100 to 9999",
    ),
    (
        "watermark-content",
        {"watermarking": {"content": "upn"}},
        None,
        ["avd.watermarking.content"],
        "connection_id",
    ),
    ("shortpath-port", {"rdp_shortpath": {"port": 80}}, None, ["avd.rdp_shortpath.port"], "1024 to 65535"),
    (
        "fslogix-without-enabled",
        {"fslogix": {"locations": [SHARE]}},
        None,
        ["avd.fslogix.enabled"],
        "is required when avd.fslogix has other settings",
    ),
    (
        "fslogix-without-location-type",
        {"fslogix": {"enabled": True, "locations": [SHARE]}},
        None,
        ["avd.fslogix.location_type"],
        "vhd_locations (VHDLocations) or cloud_cache",
    ),
    (
        "fslogix-without-locations",
        {"fslogix": {"enabled": True, "location_type": "vhd_locations"}},
        None,
        ["avd.fslogix.locations"],
        "is required",
    ),
    (
        "fslogix-location-not-unc",
        {"fslogix": {"enabled": True, "location_type": "vhd_locations", "locations": ["C:\\profiles"]}},
        None,
        ["avd.fslogix.locations[0]"],
        "SMB path",
    ),
    (
        "fslogix-azure-provider",
        {
            "fslogix": {
                "enabled": True,
                "location_type": "cloud_cache",
                "locations": ["type=azure,connectionString=DefaultEndpointsProtocol=https;AccountKey=x"],
            }
        },
        None,
        ["avd.fslogix.locations[0]"],
        "storage account key",
    ),
    (
        "fslogix-provider-in-vhd-locations",
        {"fslogix": {"enabled": True, "location_type": "vhd_locations", "locations": ["type=smb,x"]}},
        None,
        ["avd.fslogix.locations[0]"],
        "SMB path",
    ),
    (
        "fslogix-volume-type",
        {"fslogix": {"enabled": False, "volume_type": "vmdk"}},
        None,
        ["avd.fslogix.volume_type"],
        "vhdx, vhd",
    ),
    (
        "fslogix-groups-not-list",
        {
            "fslogix": {
                "enabled": True,
                "location_type": "vhd_locations",
                "locations": [SHARE],
                "include_groups": "G",
            }
        },
        None,
        ["avd.fslogix.include_groups"],
        "list of strings",
    ),
    (
        "fslogix-size",
        {"fslogix": {"enabled": False, "size_mb": 0}},
        None,
        ["avd.fslogix.size_mb"],
        "1 to 4294967295",
    ),
    (
        "mmr-unknown",
        {"multimedia_redirection": {"firefox": True}},
        None,
        ["avd.multimedia_redirection.firefox"],
        "unknown",
    ),
    (
        "redirection-string",
        {"redirection": {"clipboard": "off"}},
        None,
        ["avd.redirection.clipboard"],
        "true (allow)",
    ),
    ("redirection-unknown", {"redirection": {"usb": False}}, None, ["avd.redirection.usb"], "unknown key"),
    ("default-user-not-list", {}, {"key": "x"}, ["default_user"], "must be a list"),  # type: ignore[list-item]
    ("default-user-item-not-mapping", {}, ["x"], ["default_user[0]"], "must be a mapping"),
    (
        "default-user-hkcu",
        {},
        [{"key": "HKCU\\Software\\X", "name": "a", "type": "dword", "data": 1}],
        ["default_user[0].key"],
        "never HKCU",
    ),
    (
        "default-user-hkcu-drive",
        {},
        [{"key": "HKCU:\\Software\\X", "name": "a", "type": "dword", "data": 1}],
        ["default_user[0].key"],
        "without a hive",
    ),
    (
        "default-user-leading-backslash",
        {},
        [{"key": "\\Software\\X", "name": "a", "type": "dword", "data": 1}],
        ["default_user[0].key"],
        "backslash",
    ),
    (
        "default-user-missing",
        {},
        [{"type": "dword"}],
        ["default_user[0].key", "default_user[0].name", "default_user[0].data"],
        "is required",
    ),
    (
        "default-user-type",
        {},
        [{"key": "Software\\X", "name": "a", "type": "REG_DWORD", "data": 1}],
        ["default_user[0].type"],
        "must be one of string",
    ),
    (
        "default-user-dword-range",
        {},
        [{"key": "Software\\X", "name": "a", "type": "dword", "data": 4294967296}],
        ["default_user[0].data"],
        "0 to 4294967295",
    ),
    (
        "default-user-string-number",
        {},
        [{"key": "Software\\X", "name": "a", "type": "string", "data": 1}],
        ["default_user[0].data"],
        "quote numbers",
    ),
    (
        "default-user-multistring",
        {},
        [{"key": "Software\\X", "name": "a", "type": "multistring", "data": "a"}],
        ["default_user[0].data"],
        "list of strings",
    ),
    (
        "default-user-binary",
        {},
        [{"key": "Software\\X", "name": "a", "type": "binary", "data": [1, 256]}],
        ["default_user[0].data"],
        "0-255",
    ),
    (
        "default-user-duplicate",
        {},
        [
            {"key": "Software\\X", "name": "a", "type": "dword", "data": 1},
            {"key": "software\\x", "name": "A", "type": "dword", "data": 2},
        ],
        ["default_user[1]"],
        "same value as default_user[0]",
    ),
    (
        "default-user-unknown",
        {},
        [{"key": "Software\\X", "name": "a", "type": "dword", "data": 1, "hive": "HKCU"}],
        ["default_user[0].hive"],
        "unknown key",
    ),
]


@pytest.mark.parametrize(
    ("avd", "default_user", "fields", "fragment"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_errors_name_the_field(
    avd: dict[str, Any], default_user: Any, fields: list[str], fragment: str
) -> None:
    # {"avd": ...} is a wrong section itself; anything else is the content of avd.
    errors = normalize_avd(avd)[0] if "avd" in avd else errors_of(avd, default_user)
    assert [e.split(": ", 1)[0] for e in errors] == fields, errors
    assert fragment in errors[0]


def test_errors_reach_the_validate_phase() -> None:
    spec = {**SPEC, "avd": {"session_limits": {"idle_minutes": -5}}, "default_user": [{"key": "HKCU\\X"}]}
    fields = [e.split(": ", 1)[0] for e in validate_image_spec(spec, "2026-11-27")]
    assert fields == [
        "avd.session_limits.idle_minutes",
        "default_user[0].key",
        "default_user[0].name",
        "default_user[0].type",
        "default_user[0].data",
    ]


def test_the_plan_refuses_an_invalid_section_with_every_error() -> None:
    with pytest.raises(AvdSettingsError) as info:
        avd_settings_plan({"avd": {"storage_sense": 1, "redirection": {"drives": "no"}}})
    assert info.value.errors == [
        "avd.storage_sense: must be true or false, got 1",
        "avd.redirection.drives: must be true (allow), false (block) or absent, got 'no'",
    ]
    with pytest.raises(AvdSettingsError, match="must be a mapping"):
        avd_settings_plan(["not", "a", "spec"])  # type: ignore[arg-type]


# -- the documentation ---------------------------------------------------------------------------------


def _section(text: str, title: str) -> str:
    return text.split(title, 1)[1].split("\n## ", 1)[0]


def test_the_images_readme_examples_are_valid() -> None:
    text = (REPO_ROOT / "images" / "README.md").read_text()
    section = _section(text, "## AVD session-host settings")
    blocks = [yaml.safe_load(b.split("```", 1)[0]) for b in section.split("```yaml\n")[1:]]
    assert len(blocks) == 2
    spec = {**SPEC, **blocks[0], **blocks[1]}
    assert validate_image_spec(spec, "2026-11-27") == []
    plan = avd_settings_plan(normalize_image_spec(spec, "2026-11-27"))
    assert hklm(TS, "MaxDisconnectionTime", 3_600_000, "avd.session_limits") in plan["registry"]
    # The four items, StoragePolicy\01 (Storage Sense off) and PreInstalledAppsEnabled (Store).
    assert len([i for i in plan["registry"] if i["hive"] == "default_user"]) == 6


def test_the_role_readme_lists_every_value_the_plan_can_write() -> None:
    text = (REPO_ROOT / "roles" / "avd_session_host" / "README.md").read_text()
    abbreviations = {"TS": TS, "FSL": FSL, "DEX": DEX}
    table = _section(text, "## Settings")
    listed = set()
    for line in table.splitlines():
        cells = [c.strip().strip("`") for c in line.split("|")[1:-1]]
        if len(cells) == 7 and cells[0].startswith(("avd.", "default_user")):
            key = cells[2].removeprefix("default_user: ").strip("`")
            head, _, rest = key.partition("\\")
            key = abbreviations.get(head, head) + (f"\\{rest}" if rest else "")
            listed.add((key, cells[3]))
    for location_type in ("cloud_cache", "vhd_locations"):
        spec = {**EVERYTHING, "avd": {**EVERYTHING["avd"], "screen_capture_protection": "client"}}
        spec["avd"]["fslogix"] = {**EVERYTHING["avd"]["fslogix"], "location_type": location_type}
        for item in avd_settings_plan(spec)["registry"]:
            if item["source"].startswith("default_user["):
                continue
            if item["key"] in (f"{DEX}\\Paths", f"{DEX}\\Processes"):
                assert item["name"].split("\\")[-1] in text, item["name"]
                continue
            assert (item["key"], item["name"]) in listed, item


def test_a_default_user_item_replaces_the_planned_value_with_a_warning() -> None:
    storage_policy = r"Software\Microsoft\Windows\CurrentVersion\StorageSense\Parameters\StoragePolicy"
    plan = avd_settings_plan(
        {"default_user": [{"key": storage_policy.upper(), "name": "01", "type": "dword", "data": 1}]}
    )
    values = [(i["hive"], i["key"].lower(), i["name"]) for i in plan["registry"]]
    assert values.count(("default_user", storage_policy.lower(), "01")) == 1
    assert plan["registry"][-1]["source"] == "default_user[0]"
    assert plan["warnings"] == [
        f"default_user[0] sets {storage_policy}\\01, which avd.storage_sense also sets: "
        "the default_user item wins"
    ]


def test_exclusions_are_one_value_per_path_ignoring_case() -> None:
    locations = [SHARE, SHARE.upper()]
    items = registry({"fslogix": {"enabled": True, "location_type": "vhd_locations", "locations": locations}})
    names = [n.lower() for n in _exclusions(items, "Paths")]
    assert len(names) == len(set(names)) == 7 + 8


@pytest.mark.parametrize(
    ("member", "ok"),
    [
        ("Everyone", True),
        ("BUILTIN\\Administrators", False),
        ("NT AUTHORITY\\Authenticated Users", True),
        (".\\avdadmin", True),
        ("S-1-1-0", True),
        ("S-1-5-4", True),
        ("S-1-5-32-544", False),
        ("S-1-5-21-1004336348-1177238915-682003330-1001", False),
        ("S-1-12-1-1234567890-1234567890-1234567890-1234567890", False),
        ("CONTOSO\\AVD-Admins", False),
        ("avd-admins@contoso.com", False),
    ],
)
def test_fslogix_group_members_must_resolve_on_a_workgroup_build_vm(member: str, ok: bool) -> None:
    spec = {
        "avd": {
            "fslogix": {
                "enabled": True,
                "location_type": "vhd_locations",
                "locations": [SHARE],
                "exclude_groups": [member],
            }
        }
    }
    errors, _, _ = normalize_avd(spec)
    if ok:
        assert errors == []
    else:
        assert len(errors) == 1 and errors[0].startswith("avd.fslogix.exclude_groups[0]: "), errors
        assert "Group Policy or Intune" in errors[0], errors[0]
