"""Image specs with an ``avd_stack`` section, for the unit tests of the section and of its plan."""

from __future__ import annotations

import copy
from typing import Any

TODAY = "2026-06-01"
SHA = "ab" * 32


def pin(version: str, name: str, product_code: str | None = None) -> dict[str, Any]:
    out = {"version": version, "download": {"url": f"https://files.example.test/{name}", "sha256": SHA}}
    return out if product_code is None else {**out, "product_code": product_code}


BASE: dict[str, Any] = {
    "name": "stack",
    "source": {"offer": "windows-11", "sku": "win11-24h2-avd"},
    "location": "northeurope",
    "gallery": {
        "resource_group": "rg-img",
        "name": "gal",
        "image_definition": {"name": "d", "publisher": "p", "offer": "o", "sku": "s"},
    },
}
FULL = {
    "vc_redist": pin("14.44.35211.0", "vc_redist.x64.exe"),
    "fslogix": pin("3.26.826.17182", "FSLogixAppsSetup.exe"),
    "teams": {
        "webrtc_redirector": pin(
            "1.54.2408.19001", "MsRdcWebRTCSvc_x64.msi", "{11111111-2222-3333-4444-555555555555}"
        ),
        "webview2": pin("131.0.2903.70", "MicrosoftEdgeWebView2RuntimeInstallerX64.exe"),
        "bootstrapper": pin("1.0.2414501", "teamsbootstrapper.exe"),
        "msix": pin("25044.2208.3471.2155", "MSTeams-x64.msix"),
    },
    "multimedia_redirection": pin(
        "1.0.2404.4003", "MsMmrHostInstaller_x64.msi", "{aaaaaaaa-2222-3333-4444-555555555555}"
    ),
    "onedrive": pin("25.020.0202.0001", "OneDriveSetup.exe"),
    "m365_apps": {"odt": pin("16.0.18129.20100", "setup.exe"), "version": "16.0.12345.20000"},
}


def spec(stack: dict[str, Any], **root: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(root)
    data["avd_stack"] = copy.deepcopy(stack)
    return data


def m365(**fields: Any) -> dict[str, Any]:
    return spec({"m365_apps": {**copy.deepcopy(FULL["m365_apps"]), **fields}})
