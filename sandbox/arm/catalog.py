"""What the emulator knows about Azure's catalogue: locations, VM sizes, marketplace images.

Marketplace data follows the SKUs and version strings `az vm image list --publisher
MicrosoftWindowsDesktop` shows for the windows-10, windows-11 and office-365 offers. Windows 10
version strings are illustrative in the same <build>.<UBR>.<YYMMDD> form. Nothing else is
invented: an image not listed here answers PlatformImageNotFound.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LOCATIONS: dict[str, str] = {
    "westeurope": "West Europe",
    "northeurope": "North Europe",
    "swedencentral": "Sweden Central",
    "germanywestcentral": "Germany West Central",
    "francecentral": "France Central",
    "uksouth": "UK South",
    "eastus": "East US",
    "eastus2": "East US 2",
    "centralus": "Central US",
    "westus2": "West US 2",
    "westus3": "West US 3",
    "australiaeast": "Australia East",
    "japaneast": "Japan East",
}


@dataclass(frozen=True)
class VmSize:
    name: str
    cores: int
    memory_mb: int
    max_data_disks: int
    resource_disk_mb: int = 0
    premium_io: bool = True
    gen2: bool = True


VM_SIZES: tuple[VmSize, ...] = (
    VmSize("Standard_B2ms", 2, 8192, 4, 16384),
    VmSize("Standard_B4ms", 4, 16384, 8, 32768),
    VmSize("Standard_D2s_v3", 2, 8192, 4, 16384),
    VmSize("Standard_D4s_v3", 4, 16384, 8, 32768),
    VmSize("Standard_D2s_v5", 2, 8192, 4),
    VmSize("Standard_D4s_v5", 4, 16384, 8),
    VmSize("Standard_D8s_v5", 8, 32768, 16),
    VmSize("Standard_D16s_v5", 16, 65536, 32),
    VmSize("Standard_D2as_v5", 2, 8192, 4),
    VmSize("Standard_D4as_v5", 4, 16384, 8),
    VmSize("Standard_D8as_v5", 8, 32768, 16),
    VmSize("Standard_D2ds_v5", 2, 8192, 4, 76800),
    VmSize("Standard_D4ds_v5", 4, 16384, 8, 153600),
    VmSize("Standard_E4s_v5", 4, 32768, 8),
    VmSize("Standard_E8s_v5", 8, 65536, 16),
    VmSize("Standard_NV6ads_A10_v5", 6, 56320, 4, 184320),
    VmSize("Standard_A2_v2", 2, 4096, 4, 20480, premium_io=False, gen2=False),
    VmSize("Standard_D2_v2", 2, 7168, 8, 102400, premium_io=False),
)
VM_SIZE_BY_LOWER = {s.name.lower(): s for s in VM_SIZES}


@dataclass(frozen=True)
class MarketplaceSku:
    publisher: str
    offer: str
    sku: str
    versions: tuple[str, ...]  # oldest first
    hyper_v_generation: str = "V2"
    os_type: str = "Windows"
    security_feature: str = "TrustedLaunchSupported"
    os_disk_gb: int = 127
    features: dict[str, str] = field(default_factory=dict)


_W11_24H2 = (
    "26100.2894.250113",
    "26100.3194.250210",
    "26100.3459.250221",
    "26100.3476.250306",
    "26100.3775.250406",
    "26100.4061.250510",
    "26100.4066.250524",
)
_W10_22H2 = ("19045.5737.250412", "19045.5854.250510")

MARKETPLACE: tuple[MarketplaceSku, ...] = (
    MarketplaceSku("MicrosoftWindowsDesktop", "windows-11", "win11-24h2-avd", _W11_24H2),
    MarketplaceSku("MicrosoftWindowsDesktop", "windows-11", "win11-24h2-ent", _W11_24H2),
    MarketplaceSku(
        "MicrosoftWindowsDesktop",
        "windows-11",
        "win11-24h2-pro",
        _W11_24H2,
        security_feature="TrustedLaunchAndConfidentialVmSupported",
    ),
    MarketplaceSku("MicrosoftWindowsDesktop", "windows-11", "win11-23h2-avd", ("22631.5335.250509",)),
    MarketplaceSku("MicrosoftWindowsDesktop", "windows-11", "win11-22h2-avd", ("22621.5335.250509",)),
    MarketplaceSku("MicrosoftWindowsDesktop", "windows-11", "win11-25h2-avd", ("26200.8246.260414",)),
    MarketplaceSku("MicrosoftWindowsDesktop", "office-365", "win11-24h2-avd-m365", _W11_24H2),
    MarketplaceSku("MicrosoftWindowsDesktop", "office-365", "win11-23h2-avd-m365", ("22631.5335.250509",)),
    MarketplaceSku("MicrosoftWindowsDesktop", "office-365", "win11-25h2-avd-m365", ("26200.8246.260414",)),
    MarketplaceSku(
        "MicrosoftWindowsDesktop",
        "windows-10",
        "win10-22h2-avd",
        _W10_22H2,
        hyper_v_generation="V1",
        security_feature="Standard",
    ),
    MarketplaceSku("MicrosoftWindowsDesktop", "windows-10", "win10-22h2-avd-g2", _W10_22H2),
    MarketplaceSku(
        "MicrosoftWindowsDesktop",
        "windows-10",
        "win10-22h2-ent",
        _W10_22H2,
        hyper_v_generation="V1",
        security_feature="Standard",
    ),
    MarketplaceSku("MicrosoftWindowsDesktop", "windows-10", "win10-22h2-ent-g2", _W10_22H2),
    MarketplaceSku(
        "MicrosoftWindowsDesktop",
        "office-365",
        "win10-22h2-avd-m365",
        _W10_22H2,
        hyper_v_generation="V1",
        security_feature="Standard",
    ),
    MarketplaceSku("MicrosoftWindowsDesktop", "office-365", "win10-22h2-avd-m365-g2", _W10_22H2),
)


def find_sku(publisher: str, offer: str, sku: str) -> MarketplaceSku | None:
    """The catalogue entry (case-insensitive, as ARM matches image references)."""
    key = (publisher.lower(), offer.lower(), sku.lower())
    for entry in MARKETPLACE:
        if (entry.publisher.lower(), entry.offer.lower(), entry.sku.lower()) == key:
            return entry
    return None


def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.split("."))


def resolve_version(entry: MarketplaceSku, version: str) -> str | None:
    """'latest' -> the newest version; an exact version -> itself when published; else None."""
    if version.lower() == "latest":
        return max(entry.versions, key=_version_key)
    return version if version in entry.versions else None
