"""The ``avd_stack`` section of an image spec: what is accepted, its defaults, what ODT would refuse."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.spec import (  # noqa: E402
    normalize_image_spec,
    validate_image_spec,
)

from tests.support.avd_stack_spec import BASE, FULL, SHA, TODAY, m365, pin, spec  # noqa: E402


def errors(data: dict[str, Any]) -> list[str]:
    return validate_image_spec(data, TODAY)


def test_absent_section_is_all_none() -> None:
    normal = normalize_image_spec(BASE, TODAY)
    assert normal["avd_stack"] == dict.fromkeys(
        ("vc_redist", "fslogix", "teams", "multimedia_redirection", "onedrive", "m365_apps")
    )


def test_full_section_normalises_every_download_and_fills_office_defaults() -> None:
    normal = normalize_image_spec(spec(FULL), TODAY)["avd_stack"]
    assert normal["fslogix"] == {
        "version": "3.26.826.17182",
        "download": {
            "url": "https://files.example.test/FSLogixAppsSetup.exe",
            "blob": None,
            "sha256": SHA,
            "signer": None,
            "id": "https://files.example.test/FSLogixAppsSetup.exe",
        },
    }
    assert set(normal["teams"]) == {"webrtc_redirector", "webview2", "bootstrapper", "msix"}
    assert normal["multimedia_redirection"]["product_code"] == "{AAAAAAAA-2222-3333-4444-555555555555}"
    office = dict(normal["m365_apps"])
    assert office.pop("odt")["version"] == "16.0.18129.20100"
    # Microsoft's AVD sample: Monthly Enterprise, 64-bit, no OneDrive/Teams/Skype from ODT, updates
    # off, shared computer activation on a multi-session image.
    assert office == {
        "version": "16.0.12345.20000",
        "suite": "O365ProPlusRetail",
        "architecture": "64",
        "channel": "MonthlyEnterprise",
        "languages": ["en-US"],
        "fallback_language": None,
        "exclude_apps": ["Groove", "Lync", "OneDrive", "Teams"],
        "visio": None,
        "project": None,
        "shared_computer_activation": True,
        "updates": {"enabled": False, "channel": None, "update_path": None, "office_mgmt_com": False},
        "remove_msi": True,
    }


def test_single_session_defaults_to_no_shared_computer_activation() -> None:
    data = m365()
    data["source"]["sku"] = "win11-24h2-ent"
    assert normalize_image_spec(data, TODAY)["avd_stack"]["m365_apps"]["shared_computer_activation"] is False


def test_apps_is_the_complement_of_exclude_apps() -> None:
    normal = normalize_image_spec(m365(apps=["Word", "Excel", "PowerPoint", "Outlook"]), TODAY)
    assert normal["avd_stack"]["m365_apps"]["exclude_apps"] == [
        "Access",
        "Bing",
        "Groove",
        "Lync",
        "OneDrive",
        "OneNote",
        "Publisher",
        "Teams",
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # Pinning: a version and a download with a hash, never "latest".
        (
            spec({"fslogix": {"version": "latest", "download": FULL["fslogix"]["download"]}}),
            "avd_stack.fslogix.version: must be the installer's version as dot-separated numbers, "
            "e.g. 1.2.3.4 (never latest",
        ),
        (
            spec({"fslogix": {"download": FULL["fslogix"]["download"]}}),
            "avd_stack.fslogix.version: is required",
        ),
        (spec({"fslogix": {"version": "3.26.826.17182"}}), "avd_stack.fslogix.download: is required"),
        (
            spec({"fslogix": {"version": "1.2", "download": {"url": "https://x.test/f.exe"}}}),
            "avd_stack.fslogix.download.sha256: is required",
        ),
        (spec({"fslogix": {**FULL["fslogix"], "hash": SHA}}), "avd_stack.fslogix.hash: unknown key"),
        (spec({"fsl0gix": FULL["fslogix"]}), "avd_stack.fsl0gix: unknown key; did you mean 'fslogix'?"),
        # Teams: every part but WebView2 (inbox on Windows 11), and the VC++ runtime.
        (
            spec(
                {
                    "vc_redist": FULL["vc_redist"],
                    "teams": {k: v for k, v in FULL["teams"].items() if k != "msix"},
                }
            ),
            "avd_stack.teams.msix: is required",
        ),
        (spec({"teams": FULL["teams"]}), "avd_stack.vc_redist: is required with avd_stack.teams"),
        (
            spec({"multimedia_redirection": FULL["multimedia_redirection"]}),
            "avd_stack.vc_redist: is required with avd_stack.multimedia_redirection",
        ),
        # An MSI part pins its ProductCode (Windows Installer's record of it).
        (
            spec({"vc_redist": FULL["vc_redist"], "multimedia_redirection": pin("1.0.1.0", "mmr.msi")}),
            "avd_stack.multimedia_redirection.product_code: is required",
        ),
        (
            spec(
                {"vc_redist": FULL["vc_redist"], "multimedia_redirection": pin("1.0.1.0", "mmr.msi", "1234")}
            ),
            "avd_stack.multimedia_redirection.product_code: must be the MSI's ProductCode, a GUID in braces",
        ),
        (
            spec({"fslogix": {**FULL["fslogix"], "product_code": "{11111111-2222-3333-4444-555555555555}"}}),
            "avd_stack.fslogix.product_code: unknown key",
        ),
        # ODT's rules.
        (
            m365(version="latest"),
            "avd_stack.m365_apps.version: must be a Microsoft 365 Apps build number 16.0.<build>.<revision>",
        ),
        (spec({"m365_apps": {"version": "16.0.12345.20000"}}), "avd_stack.m365_apps.odt: is required"),
        (
            m365(suite="ProPlus2021Volume"),
            "avd_stack.m365_apps.suite: must be one of O365ProPlusRetail, O365BusinessRetail",
        ),
        (
            m365(channel="Monthly"),
            "avd_stack.m365_apps.channel: 'Monthly' is an old channel name: write its current name 'Current'",
        ),
        (
            m365(channel="Semiannual"),
            "avd_stack.m365_apps.channel: must be one of BetaChannel, CurrentPreview, Current, "
            "MonthlyEnterprise, SemiAnnualPreview, SemiAnnual",
        ),
        (m365(architecture=86), "avd_stack.m365_apps.architecture: must be 64 or 32"),
        (
            m365(languages=["en-us", "xx-yy"]),
            "avd_stack.m365_apps.languages[1]: 'xx-yy' is not a language Microsoft 365 Apps supports",
        ),
        (m365(languages=["en-us", "EN-US"]), "avd_stack.m365_apps.languages[1]: 'EN-US' is listed twice"),
        (m365(languages=[]), "avd_stack.m365_apps.languages: needs at least one language"),
        (
            m365(languages=["MatchInstalled"]),
            "avd_stack.m365_apps.languages[0]: MatchInstalled needs a Click-to-Run product",
        ),
        (
            m365(languages=["en-GB"], visio="pro"),
            "avd_stack.m365_apps.languages[0]: en-GB is not available in Visio or Project",
        ),
        (
            m365(fallback_language="en-us"),
            "avd_stack.m365_apps.fallback_language: is the Fallback of a MatchOS language",
        ),
        (
            m365(languages=["MatchOS"], fallback_language="klingon"),
            "avd_stack.m365_apps.fallback_language: 'klingon' is not a culture code",
        ),
        (
            m365(exclude_apps=["Skype"]),
            "avd_stack.m365_apps.exclude_apps[0]: 'Skype' is not an ExcludeApp ID ODT knows",
        ),
        (
            m365(apps=["Word"], exclude_apps=["Access"]),
            "avd_stack.m365_apps: give apps (the apps to install) or exclude_apps",
        ),
        (m365(apps=["Wrod"]), "avd_stack.m365_apps.apps[0]: 'Wrod' is not an app ODT knows"),
        (m365(visio=True), "avd_stack.m365_apps.visio: must be a string, got boolean"),
        (m365(project="premium"), "avd_stack.m365_apps.project: must be one of pro, standard"),
        (
            m365(updates={"channel": "Current"}),
            "avd_stack.m365_apps.updates: channel and update_path apply only with enabled: true",
        ),
        (
            m365(updates={"enabled": True, "channel": "Broad"}),
            "avd_stack.m365_apps.updates.channel: 'Broad' is an old channel name: "
            "write its current name 'SemiAnnual'",
        ),
        (
            m365(updates={"enabled": True, "update_path": "server/share"}),
            "avd_stack.m365_apps.updates.update_path: must be \\\\server\\share",
        ),
        (m365(updates={"enabled": "yes"}), "avd_stack.m365_apps.updates.enabled: must be true or false"),
        # Across parts and sections.
        (
            spec(
                {"onedrive": FULL["onedrive"], "m365_apps": {**FULL["m365_apps"], "exclude_apps": ["Lync"]}}
            ),
            "avd_stack.m365_apps.exclude_apps: must exclude OneDrive when avd_stack.onedrive is set",
        ),
        (
            spec(
                {
                    "vc_redist": FULL["vc_redist"],
                    "teams": FULL["teams"],
                    "m365_apps": {**FULL["m365_apps"], "apps": ["Word", "Teams"]},
                }
            ),
            "avd_stack.m365_apps.exclude_apps: must exclude Teams when avd_stack.teams is set",
        ),
        (
            spec(
                {"m365_apps": {**FULL["m365_apps"], "architecture": 32}},
                source={"offer": "office-365", "sku": "win11-24h2-avd-m365"},
            ),
            "avd_stack.m365_apps.architecture: must be 64 on an office-365 source image",
        ),
    ],
)
def test_refused(data: dict[str, Any], expected: str) -> None:
    found = errors(data)
    assert any(e.startswith(expected) for e in found), found


@pytest.mark.parametrize(
    "data",
    [
        spec(FULL),
        spec(
            {
                "vc_redist": FULL["vc_redist"],
                "teams": {k: v for k, v in FULL["teams"].items() if k != "webview2"},
            }
        ),
        m365(languages=["de-de", "MatchOS"], fallback_language="en-us", visio="pro", project="standard"),
        m365(architecture="32", suite="O365BusinessRetail", channel="Current", remove_msi=False),
        m365(
            updates={
                "enabled": True,
                "channel": "SemiAnnual",
                "update_path": "\\\\files\\office",
                "office_mgmt_com": True,
            }
        ),
        m365(updates={"enabled": True, "update_path": "https://cdn.example.test/office/"}),
        spec({"m365_apps": FULL["m365_apps"]}, source={"offer": "office-365", "sku": "win11-24h2-avd-m365"}),
        spec(
            {
                "fslogix": {
                    "version": "3.26.826.17182",
                    "download": {
                        "blob": {
                            "storage_account": "stavdsw",
                            "resource_group": "rg-sw",
                            "container": "installers",
                            "name": "fslogix/FSLogixAppsSetup.exe",
                        },
                        "sha256": SHA.upper(),
                    },
                }
            }
        ),
    ],
)
def test_accepted(data: dict[str, Any]) -> None:
    assert errors(data) == []
