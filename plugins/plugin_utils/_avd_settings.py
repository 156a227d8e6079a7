"""AVD session-host settings as data: what the ``avd`` and ``default_user`` sections write.

``avd_settings_plan(avd_image)`` turns a (normalised) image spec into the items the Windows
modules take: registry items (``avd.golden.win_registry_set``), firewall rules
(``community.windows.win_firewall_rule``), scheduled task items
(``avd.golden.win_scheduled_task_state``) and local group memberships
(``ansible.windows.win_group_membership``). Pure Python, no Ansible: the filter
``plugins/filter/avd_settings_plan.py`` wraps it.

Every value written and where it comes from is listed in ``roles/avd_session_host/README.md``.
The Azure Virtual Desktop Custom Image Template built-in scripts (Azure/RDS-Templates
``CustomImageTemplateScripts``) set most of these; the differences are deliberate fixes:
every session limit is written (their loop stops at fResetBroken), fResetBroken only when asked,
the screen capture value is ``fEnableScreenCaptureProtect`` (older scripts misspell it), per-user
values go to the default user hive (never the build account's HKCU), ExtensionSettings is merged
(never overwritten), and nothing recreates a registry key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.avd import MS_PER_MINUTE, normalize_avd
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.spec import source_facts

# Remote Desktop Session Host policies (TerminalServer.admx, terminalserver-avd.admx).
TS_POLICY = r"SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services"
WINSTATIONS = r"SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations"
FSLOGIX_PROFILES = r"SOFTWARE\FSLogix\Profiles"
DEFENDER_EXCLUSIONS = r"SOFTWARE\Policies\Microsoft\Windows Defender\Exclusions"

# Session Time Limits policies: spec key -> value name (milliseconds, DWORD).
SESSION_LIMIT_VALUES = {
    "disconnected_minutes": "MaxDisconnectionTime",
    "idle_minutes": "MaxIdleTime",
    "connection_minutes": "MaxConnectionTime",
    "remote_app_logoff_minutes": "RemoteAppLogoffTimeLimit",
}
SCREEN_CAPTURE_DATA = {"client": 1, "client_and_server": 2}
WATERMARK_VALUES = {
    "qr_scale": "WatermarkingQrScale",
    "opacity": "WatermarkingOpacity",
    "width_factor": "WatermarkingWidthFactor",
    "height_factor": "WatermarkingHeightFactor",
}
WATERMARK_CONTENT_DATA = {"connection_id": 0, "device_id": 1}

# "Device and Resource Redirection" policies (TerminalServer.admx): spec key -> (value name,
# data that blocks, data that allows). Most policies are "Do not allow ..." (1 blocks); smart
# cards ("Do not allow smart card device redirection") store fEnableSmartCard=0 to block, and
# audio playback / recording are "Allow ..." policies whose value 1 blocks.
REDIRECTION_VALUES = {
    "clipboard": ("fDisableClip", 1, 0),
    "drives": ("fDisableCdm", 1, 0),
    "printers": ("fDisableCpm", 1, 0),
    "com_ports": ("fDisableCcm", 1, 0),
    "lpt_ports": ("fDisableLPT", 1, 0),
    "pnp_devices": ("fDisablePNPRedir", 1, 0),
    "smart_cards": ("fEnableSmartCard", 0, 1),
    "audio_playback": ("fDisableCam", 1, 0),
    "audio_capture": ("fDisableAudioCapture", 1, 0),
    "cameras": ("fDisableCameraRedir", 1, 0),
    "location": ("fDisableLocationRedir", 1, 0),
    "webauthn": ("fDisableWebAuthn", 1, 0),
}

# FSLogix antivirus exclusions (learn.microsoft.com fslogix/overview-prerequisites, "Configure
# Antivirus file and folder exclusions"; the CIT FSLogix script adds the drivers as paths).
FSLOGIX_DRIVER_PATHS = (
    r"%ProgramFiles%\FSLogix\Apps\frxdrv.sys",
    r"%ProgramFiles%\FSLogix\Apps\frxdrvvt.sys",
    r"%ProgramFiles%\FSLogix\Apps\frxccd.sys",
)
FSLOGIX_LOCAL_VHD_PATHS = (
    r"%TEMP%\*\*.VHD",
    r"%TEMP%\*\*.VHDX",
    r"%Windir%\TEMP\*\*.VHD",
    r"%Windir%\TEMP\*\*.VHDX",
)
FSLOGIX_SHARE_PATTERNS = (
    "*.VHD",
    "*.VHD.lock",
    "*.VHD.meta",
    "*.VHD.metadata",
    "*.VHDX",
    "*.VHDX.lock",
    "*.VHDX.meta",
    "*.VHDX.metadata",
)
FSLOGIX_CLOUD_CACHE_PATHS = (r"%ProgramData%\FSLogix\Cache\*", r"%ProgramData%\FSLogix\Proxy\*")
FSLOGIX_PROCESSES = (
    r"%ProgramFiles%\FSLogix\Apps\frxccd.exe",
    r"%ProgramFiles%\FSLogix\Apps\frxccds.exe",
    r"%ProgramFiles%\FSLogix\Apps\frxsvc.exe",
)
# The local groups FSLogix installs (there is no registry setting for them).
FSLOGIX_GROUPS = {
    "include_groups": "FSLogix Profile Include List",
    "exclude_groups": "FSLogix Profile Exclude List",
}

# Multimedia redirection browser extensions (learn.microsoft.com azure/virtual-desktop/
# multimedia-redirection-video-playback-calls), force-installed through each browser's
# ExtensionSettings policy (a JSON object in a REG_SZ, merged key by key). The CIT script also
# sets HKLM\SOFTWARE\Microsoft\MSRDC\Policies\ReleaseRing=insider, which only the preview of
# call redirection needed; the current documentation does not ask for it, so it is not written.
MMR_EXTENSIONS = {
    "edge": (
        r"SOFTWARE\Policies\Microsoft\Edge",
        "joeclbldhdmoijbaagobkhlpfjglcihd",
        "https://edge.microsoft.com/extensionwebstorebase/v1/crx",
    ),
    "chrome": (
        r"SOFTWARE\Policies\Google\Chrome",
        "lfmemoeeciijgkjkgbgikoonlkabmlno",
        "https://clients2.google.com/service/update2/crx",
    ),
}

# Store auto-update off for app attach (learn.microsoft.com azure/virtual-desktop, "Prepare an
# image for MSIX app attach": the two WindowsUpdate tasks, the ContentDeliveryManager values).
STORE_TASK_PATH = "\\Microsoft\\Windows\\WindowsUpdate\\"
STORE_TASKS = ("Scheduled Start", "Automatic app update")

SHORTPATH_RULE_NAME = "RemoteDesktop-UserMode-In-Shortpath-UDP"


class AvdSettingsError(ValueError):
    """The image spec's avd or default_user section is not valid."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("the avd settings are not valid:\n" + "\n".join(self.errors))


def avd_settings_plan(image: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``{"registry", "firewall_rules", "tasks", "groups", "warnings"}`` for an image spec.

    ``image`` is the normalised image spec (``avd_image``); its ``avd`` and ``default_user``
    sections are checked again (and their defaults filled) so a hand-made dict gets the same plan.
    """
    if not isinstance(image, Mapping):
        raise AvdSettingsError([f"(root): the image spec must be a mapping, got {type(image).__name__}"])
    errors, avd, default_user = normalize_avd(image)
    if errors:
        raise AvdSettingsError(errors)
    warnings = _warnings(image, avd)
    registry = _without_overridden(
        [
            *_session_host(avd),
            *_fslogix(avd["fslogix"]),
            *_browsers_and_store(avd),
            *_redirection(avd["redirection"]),
        ],
        _default_user(default_user),
        warnings,
    )
    return {
        "registry": registry,
        "firewall_rules": _firewall_rules(avd["rdp_shortpath"]),
        "tasks": _tasks(avd),
        "groups": _groups(avd["fslogix"]),
        "warnings": warnings,
    }


def _identity(item: Mapping[str, Any]) -> tuple[str, str, str]:
    """A registry value as win_registry_set compares them: hive, key and name, ignoring case."""
    return (item["hive"].lower(), item["key"].strip("\\").lower(), item["name"].lower())


def _without_overridden(
    planned: list[dict[str, Any]], user: list[dict[str, Any]], warnings: list[str]
) -> list[dict[str, Any]]:
    """The planned items and then the default_user ones; a user item replaces the planned item
    for the same value (a value may appear once in a win_registry_set call)."""
    users = {_identity(item): item["source"] for item in user}
    kept = []
    for item in planned:
        if _identity(item) in users:
            warnings.append(
                f"{users[_identity(item)]} sets {item['key']}\\{item['name']}, which {item['source']} "
                "also sets: the default_user item wins"
            )
        else:
            kept.append(item)
    return kept + user


def _item(key: str, name: str, kind: str, data: Any, source: str, hive: str = "HKLM") -> dict[str, Any]:
    return {"hive": hive, "key": key, "name": name, "type": kind, "data": data, "source": source}


def _dword(key: str, name: str, data: int, source: str, hive: str = "HKLM") -> dict[str, Any]:
    return _item(key, name, "dword", data, source, hive)


def _session_host(avd: Mapping[str, Any]) -> list[dict[str, Any]]:
    items = []
    if avd["time_zone_redirection"]:
        items.append(_dword(TS_POLICY, "fEnableTimeZoneRedirection", 1, "avd.time_zone_redirection"))
    if not avd["storage_sense"]:
        source = "avd.storage_sense"
        items += [
            _dword(
                r"SOFTWARE\Microsoft\Windows\CurrentVersion\StorageSense",
                "AllowStorageSenseGlobal",
                0,
                source,
            ),
            _dword(r"SOFTWARE\Policies\Microsoft\Windows\StorageSense", "AllowStorageSenseGlobal", 0, source),
            # "Prepare and customize a VHD image": StoragePolicy\01=0 under HKCU, i.e. per user.
            _dword(
                r"Software\Microsoft\Windows\CurrentVersion\StorageSense\Parameters\StoragePolicy",
                "01",
                0,
                source,
                hive="default_user",
            ),
        ]
    limits = avd["session_limits"]
    for key, value_name in SESSION_LIMIT_VALUES.items():
        if limits[key] is not None:
            items.append(_dword(TS_POLICY, value_name, limits[key] * MS_PER_MINUTE, "avd.session_limits"))
    if limits["reset_broken"]:
        items.append(_dword(TS_POLICY, "fResetBroken", 1, "avd.session_limits"))
    if avd["screen_capture_protection"] in SCREEN_CAPTURE_DATA:
        data = SCREEN_CAPTURE_DATA[avd["screen_capture_protection"]]
        items.append(_dword(TS_POLICY, "fEnableScreenCaptureProtect", data, "avd.screen_capture_protection"))
    items += _watermarking(avd["watermarking"])
    shortpath = avd["rdp_shortpath"]
    if shortpath["managed_networks"]:
        items += [
            _dword(WINSTATIONS, "fUseUdpPortRedirector", 1, "avd.rdp_shortpath"),
            _dword(WINSTATIONS, "UdpPortNumber", shortpath["port"], "avd.rdp_shortpath"),
        ]
    if avd["teams_media_optimization"]:
        items.append(
            _dword(r"SOFTWARE\Microsoft\Teams", "IsWVDEnvironment", 1, "avd.teams_media_optimization")
        )
    return items


def _watermarking(mark: Mapping[str, Any]) -> list[dict[str, Any]]:
    if not mark["enabled"]:
        return []
    source = "avd.watermarking"
    items = [_dword(TS_POLICY, "fEnableWatermarking", 1, source)]
    items += [_dword(TS_POLICY, name, mark[key], source) for key, name in WATERMARK_VALUES.items()]
    items.append(_dword(TS_POLICY, "WatermarkingContent", WATERMARK_CONTENT_DATA[mark["content"]], source))
    return items


def _fslogix(fsl: Mapping[str, Any]) -> list[dict[str, Any]]:
    items = []
    if fsl["entra_kerberos"]:
        # Entra Kerberos for Azure Files (the CIT FSLogixKerberos script; learn.microsoft.com
        # azure/storage/files storage-files-identity-auth-hybrid-identities-enable).
        source = "avd.fslogix.entra_kerberos"
        items += [
            _dword(
                r"SYSTEM\CurrentControlSet\Control\Lsa\Kerberos\Parameters",
                "CloudKerberosTicketRetrievalEnabled",
                1,
                source,
            ),
            _dword(r"SOFTWARE\Policies\Microsoft\AzureADAccount", "LoadCredKeyFromProfile", 1, source),
        ]
    if not fsl["enabled"]:
        return items
    source = "avd.fslogix"
    if fsl["location_type"] == "cloud_cache":
        locations = ("CCDLocations", [_cloud_cache_provider(loc) for loc in fsl["locations"]])
    else:
        locations = ("VHDLocations", list(fsl["locations"]))
    items += [
        _dword(FSLOGIX_PROFILES, "Enabled", 1, source),
        _item(FSLOGIX_PROFILES, locations[0], "multistring", locations[1], source),
        _dword(FSLOGIX_PROFILES, "SizeInMBs", fsl["size_mb"], source),
        _item(FSLOGIX_PROFILES, "VolumeType", "string", fsl["volume_type"].upper(), source),
        _dword(FSLOGIX_PROFILES, "IsDynamic", int(fsl["dynamic"]), source),
        _dword(
            FSLOGIX_PROFILES, "FlipFlopProfileDirectoryName", int(fsl["flip_flop_directory_name"]), source
        ),
        _dword(
            FSLOGIX_PROFILES, "DeleteLocalProfileWhenVHDShouldApply", int(fsl["delete_local_profile"]), source
        ),
    ]
    if fsl["defender_exclusions"]:
        items += _defender_exclusions(fsl)
    return items


def _cloud_cache_provider(location: str) -> str:
    """A CCDLocations entry: an SMB path becomes ``type=smb,connectionString=<path>``."""
    if location.lower().startswith("type="):
        return location
    return f"type=smb,connectionString={location}"


def _share_path(location: str) -> str:
    """The share part of a location (``type=smb,connectionString=\\\\s\\p`` gives ``\\\\s\\p``)."""
    for part in location.split(","):
        name, _, value = part.partition("=")
        if name.strip().lower() == "connectionstring":
            return value.strip().strip('"')
    return location


def _defender_exclusions(fsl: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Defender exclusions through the policy keys (WindowsDefender.admx, "Path Exclusions" and
    "Process Exclusions"): the list values are named by the path, with data "0"."""
    source = "avd.fslogix.defender_exclusions"
    paths = [*FSLOGIX_DRIVER_PATHS, *FSLOGIX_LOCAL_VHD_PATHS]
    for location in fsl["locations"]:
        share = _share_path(location).rstrip("\\")
        paths += [f"{share}\\*\\{pattern}" for pattern in FSLOGIX_SHARE_PATTERNS]
    if fsl["location_type"] == "cloud_cache":
        paths += FSLOGIX_CLOUD_CACHE_PATHS
    # One value per path, as Windows compares names (ignoring case).
    unique = list({path.lower(): path for path in reversed(paths)}.values())[::-1]
    return [
        _dword(DEFENDER_EXCLUSIONS, "Exclusions_Paths", 1, source),
        _dword(DEFENDER_EXCLUSIONS, "Exclusions_Processes", 1, source),
        *(_item(DEFENDER_EXCLUSIONS + r"\Paths", path, "string", "0", source) for path in unique),
        *(
            _item(DEFENDER_EXCLUSIONS + r"\Processes", proc, "string", "0", source)
            for proc in FSLOGIX_PROCESSES
        ),
    ]


def _browsers_and_store(avd: Mapping[str, Any]) -> list[dict[str, Any]]:
    items = []
    for browser, (key, extension, update_url) in MMR_EXTENSIONS.items():
        if avd["multimedia_redirection"][browser]:
            item = _item(
                key,
                "ExtensionSettings",
                "string",
                {extension: {"installation_mode": "force_installed", "update_url": update_url}},
                f"avd.multimedia_redirection.{browser}",
            )
            item["json_merge"] = True
            items.append(item)
    if not avd["store_auto_update"]:
        source = "avd.store_auto_update"
        items += [
            # "Turn off Automatic Download and Install of updates" (WinStoreUI.admx): enabled = 2.
            _dword(r"SOFTWARE\Policies\Microsoft\WindowsStore", "AutoDownload", 2, source),
            _dword(
                r"SOFTWARE\Microsoft\Windows\CurrentVersion\ContentDeliveryManager\Debug",
                "ContentDeliveryAllowedOverride",
                2,
                source,
            ),
            _dword(
                r"Software\Microsoft\Windows\CurrentVersion\ContentDeliveryManager",
                "PreInstalledAppsEnabled",
                0,
                source,
                hive="default_user",
            ),
        ]
    return items


def _redirection(redirection: Mapping[str, bool | None]) -> list[dict[str, Any]]:
    items = []
    for key, (value_name, block, allow) in REDIRECTION_VALUES.items():
        if redirection.get(key) is not None:
            data = allow if redirection[key] else block
            items.append(_dword(TS_POLICY, value_name, data, f"avd.redirection.{key}"))
    return items


def _default_user(default_user: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    items = []
    for index, entry in enumerate(default_user):
        item = {"hive": "default_user", "key": entry["key"], "name": entry["name"], "type": entry["type"]}
        if entry["state"] == "absent":
            item["state"] = "absent"
        else:
            item["data"] = entry["data"]
        item["source"] = f"default_user[{index}]"
        items.append(item)
    return items


def _firewall_rules(shortpath: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The RDP Shortpath (managed networks) listener rule, as community.windows.win_firewall_rule options."""
    if not shortpath["managed_networks"]:
        return []
    return [
        {
            "name": SHORTPATH_RULE_NAME,
            "description": "Azure Virtual Desktop RDP Shortpath for managed networks (UDP listener)",
            "localport": str(shortpath["port"]),
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


def _tasks(avd: Mapping[str, Any]) -> list[dict[str, Any]]:
    if avd["store_auto_update"]:
        return []
    return [
        {"path": STORE_TASK_PATH, "name": name, "enabled": False, "source": "avd.store_auto_update"}
        for name in STORE_TASKS
    ]


def _groups(fsl: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Members of the FSLogix local groups, as ansible.windows.win_group_membership options.

    ``state: pure`` makes the group hold exactly these members: giving include_groups replaces
    the Everyone that FSLogix puts in the include list."""
    if not fsl["enabled"]:
        return []
    return [
        {"name": group, "members": list(fsl[key]), "state": "pure", "source": f"avd.fslogix.{key}"}
        for key, group in FSLOGIX_GROUPS.items()
        if fsl[key]
    ]


def _warnings(image: Mapping[str, Any], avd: Mapping[str, Any]) -> list[str]:
    """What the settings need that these registry values do not install."""
    warnings = []
    if avd["fslogix"]["enabled"] and _session(image) == "single":
        warnings.append(
            "avd.fslogix: FSLogix is preinstalled only on the multi-session marketplace images; "
            "install it on this single-session image before the settings can take effect"
        )
    if avd["teams_media_optimization"]:
        warnings.append(
            "avd.teams_media_optimization: IsWVDEnvironment is the machine setting only; Teams media "
            "optimization also needs the Remote Desktop WebRTC Redirector Service and Teams in the image"
        )
    if any(avd["multimedia_redirection"].values()):
        warnings.append(
            "avd.multimedia_redirection: the policy force-installs the browser extension only; the "
            "Remote Desktop Multimedia Redirection Service (MSI) must be in the image too"
        )
    return warnings


def _session(image: Mapping[str, Any]) -> str | None:
    try:
        return source_facts(image).get("session")
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
