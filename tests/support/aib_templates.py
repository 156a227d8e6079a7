"""An AVD Custom Image Template as `az image builder show` prints it: the import tests' input."""

from __future__ import annotations

from typing import Any

SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
CIT = "https://raw.githubusercontent.com/Azure/RDS-Templates/master/CustomImageTemplateScripts/CustomImageTemplateScripts_2024-03-27"
SUBNET = f"{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/build"
IMAGE = (
    f"{SUB}/resourceGroups/rg-avd-images/providers/Microsoft.Compute/galleries/gal_avd/images/win11-24h2-avd"
)
IDENTITY = {"publisher": "Contoso", "offer": "avd-golden", "sku": "win11-24h2-avd"}

# What `az image builder show` prints for an AVD Custom Image Template (the fields the import reads).
TEMPLATE: dict[str, Any] = {
    "type": "Microsoft.VirtualMachineImages/imageTemplates",
    "name": "cit-win11",
    "location": "westeurope",
    "properties": {
        "buildTimeoutInMinutes": 240,
        "source": {
            "type": "PlatformImage",
            "publisher": "MicrosoftWindowsDesktop",
            "offer": "windows-11",
            "sku": "win11-24h2-avd",
            "version": "latest",
        },
        "vmProfile": {
            "vmSize": "Standard_D4s_v5",
            "osDiskSizeGB": 127,
            "vnetConfig": {"subnetId": SUBNET},
        },
        "customize": [
            {
                "type": "PowerShell",
                "name": "timeZoneRedirection",
                "runElevated": True,
                "scriptUri": f"{CIT}/TimezoneRedirection.ps1",
            },
            {
                "type": "PowerShell",
                "name": "disableStorageSense",
                "scriptUri": f"{CIT}/DisableStorageSense.ps1",
            },
            {"type": "PowerShell", "name": "installApp", "inline": ["msiexec /i C:\\app.msi /qn"]},
            {"type": "PowerShell", "name": "custom", "scriptUri": "https://example.org/setup.ps1"},
            {"type": "WindowsRestart", "restartTimeout": "10m"},
            {"type": "WindowsUpdate", "searchCriteria": "IsInstalled=0", "updateLimit": 40},
            {"type": "File", "sourceUri": "https://example.org/a.txt", "destination": "C:\\a.txt"},
        ],
        "distribute": [
            {
                "type": "SharedImage",
                "galleryImageId": IMAGE,
                "runOutputName": "win11",
                "excludeFromLatest": False,
                "targetRegions": [
                    {"name": "westeurope", "replicaCount": 2, "storageAccountType": "Standard_ZRS"},
                    {"name": "northeurope"},
                ],
            },
            {"type": "VHD", "runOutputName": "vhd"},
        ],
    },
}
