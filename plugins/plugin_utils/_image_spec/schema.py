"""The shape of an image spec: the known keys of each mapping and the values of each choice."""

from __future__ import annotations

OS_DISK_TYPES = ("Standard_LRS", "StandardSSD_LRS", "Premium_LRS")
REPLICA_STORAGE_TYPES = ("Standard_LRS", "Standard_ZRS", "Premium_LRS")
NETWORK_MODES = ("temporary", "existing_subnet")
VERSION_STRATEGIES = ("date", "increment", "explicit")
HYPER_V_GENERATIONS = ("V1", "V2")
SECURITY_TYPES = ("TrustedLaunch", "Standard")
SOURCE_PUBLISHER = "MicrosoftWindowsDesktop"
SOURCE_OFFERS = ("windows-11", "windows-10", "office-365")
OPTIMIZATION_ACTIONS = ("apply", "skip")
APPX_ON_FAILURE = ("fail", "warn")

# Known keys per mapping, in the order the normalised image spec is written.
KEYS: dict[str, tuple[str, ...]] = {
    "": (
        "name",
        "description",
        "source",
        "location",
        "build_vm",
        "network",
        "gallery",
        "windows",
        "tags",
        "avd",
        "default_user",
        "optimization",
        "appx",
        "downloads",
        "windows_update",
        "applications",
        "avd_stack",
        "languages",
    ),
    "source": ("publisher", "offer", "sku", "version"),
    "build_vm": ("size", "os_disk_size_gb", "os_disk_type", "resource_group"),
    "network": ("mode", "address_prefix", "existing_subnet_id"),
    "gallery": (
        "resource_group",
        "name",
        "create_if_missing",
        "image_definition",
        "version",
        "target_regions",
        "exclude_from_latest",
        "end_of_life_date",
        "publish",
    ),
    "gallery.publish": ("validate", "on_failure", "keep_versions", "prune_end_of_life", "timeout_minutes"),
    "gallery.image_definition": ("name", "publisher", "offer", "sku", "hyper_v_generation", "security_type"),
    "gallery.version": ("strategy", "value"),
    "gallery.target_regions[]": ("name", "replica_count", "storage_account_type"),
    "windows": ("time_zone",),
    # The avd and default_user sections (plugins/plugin_utils/_image_spec/avd.py).
    "avd": (
        "time_zone_redirection",
        "storage_sense",
        "session_limits",
        "screen_capture_protection",
        "watermarking",
        "rdp_shortpath",
        "fslogix",
        "teams_media_optimization",
        "multimedia_redirection",
        "store_auto_update",
        "redirection",
    ),
    "avd.session_limits": (
        "disconnected_minutes",
        "idle_minutes",
        "connection_minutes",
        "remote_app_logoff_minutes",
        "reset_broken",
    ),
    "avd.watermarking": ("enabled", "content", "qr_scale", "opacity", "width_factor", "height_factor"),
    "avd.rdp_shortpath": ("managed_networks", "port"),
    "avd.fslogix": (
        "enabled",
        "location_type",
        "locations",
        "size_mb",
        "volume_type",
        "dynamic",
        "flip_flop_directory_name",
        "delete_local_profile",
        "include_groups",
        "exclude_groups",
        "defender_exclusions",
        "entra_kerberos",
    ),
    "avd.multimedia_redirection": ("edge", "chrome"),
    # Device redirections that have a Remote Desktop Session Host policy (true allow, false block).
    "avd.redirection": (
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
    ),
    "default_user[]": ("key", "name", "type", "data", "state"),
    "optimization": ("enabled", "profile", "path", "categories", "overrides", "disk_cleanup", "network"),
    "optimization.overrides[]": ("category", "item", "action", "value"),
    "appx": ("remove", "keep", "on_failure"),
    "appx.remove[]": ("name", "on_failure"),
    # One download wherever a section names one (plugins/plugin_utils/_image_spec/downloads.py).
    "download": ("url", "blob", "sha256", "signer"),
    "download.blob": ("storage_account", "resource_group", "container", "name"),
    "download.signer": ("thumbprint", "subject"),
    "downloads": ("auth", "sas_lifetime_hours"),
    # The windows_update section (plugins/plugin_utils/_image_spec/windows_update.py).
    "windows_update": (
        "enabled",
        "categories",
        "skip_optional",
        "include",
        "exclude",
        "deny_list",
        "max_rounds",
        "on_max_rounds",
        "already_current_days",
        "timeout_minutes",
    ),
    # The applications section (plugins/plugin_utils/_image_spec/applications.py).
    "applications[]": (
        "name",
        "kind",
        "version",
        "download",
        "package",
        "arguments",
        "exit_codes",
        "detection",
        "timeout_minutes",
    ),
    "applications[].package": ("id", "source"),
    "applications[].detection": ("product_code", "registry", "file", "package_name"),
    "applications[].detection.registry": ("key", "name", "value"),
    "applications[].detection.file": ("path", "version"),
    # The avd_stack section (plugins/plugin_utils/_image_spec/avd_stack.py); a pinned installer is
    # {version, download}.
    "avd_stack": ("vc_redist", "fslogix", "teams", "multimedia_redirection", "onedrive", "m365_apps"),
    "avd_stack.pinned": ("version", "download"),
    "avd_stack.pinned_msi": ("version", "download", "product_code"),
    "avd_stack.teams": ("webrtc_redirector", "webview2", "bootstrapper", "msix"),
    "avd_stack.m365_apps": (
        "odt",
        "version",
        "suite",
        "architecture",
        "channel",
        "languages",
        "fallback_language",
        "apps",
        "exclude_apps",
        "visio",
        "project",
        "shared_computer_activation",
        "updates",
        "remove_msi",
    ),
    "avd_stack.m365_apps.updates": ("enabled", "channel", "update_path", "office_mgmt_com"),
}

# Keys people reach for that the tool deliberately does not support, with the reason.
_CUSTOM_SOURCE = (
    "custom or managed image sources are not supported: builds start from a fresh "
    "marketplace platform image (publisher/offer/sku/version)"
)
NO_SECRETS = (
    "secrets never go in an image spec: name the blob (download.blob) and the build mints a "
    "read-only SAS that expires from the storage account's key"
)
REFUSED_KEYS = {
    "source.id": _CUSTOM_SOURCE,
    "source.image_id": _CUSTOM_SOURCE,
    "source.managed_image": "managed images are not supported: builds start from a fresh marketplace "
    "platform image and capture straight to the gallery",
    **{
        f"{section}.{key}": NO_SECRETS
        for section in ("download", "download.blob")
        for key in ("sas", "sas_token", "token", "key", "account_key", "connection_string")
    },
}
