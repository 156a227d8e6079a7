"""The Office Deployment Tool configuration the build writes, read back as ODT reads it (XML)."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.plugin_utils import _odt  # noqa: E402

LOG = r"C:\ProgramData\AvdGolden\Logs\m365"
BASE: dict[str, Any] = {
    "odt": {"version": "16.0.18129.20100", "download": {}},
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


def parse(m365: dict[str, Any]) -> ET.Element:
    return ET.fromstring(_odt.configuration_xml(m365, LOG))  # noqa: S314 (our own output)


def attrs(root: ET.Element, path: str) -> list[dict[str, str]]:
    return [dict(e.attrib) for e in root.findall(path)]


def test_default_is_microsofts_avd_sample() -> None:
    root = parse(BASE)
    assert root.tag == "Configuration"
    assert [child.tag for child in root] == [
        "Add",
        "Property",
        "Property",
        "Updates",
        "RemoveMSI",
        "Display",
        "Logging",
    ]
    assert attrs(root, "Add") == [
        {"OfficeClientEdition": "64", "Channel": "MonthlyEnterprise", "Version": "16.0.12345.20000"}
    ]
    assert attrs(root, "Add/Product") == [{"ID": "O365ProPlusRetail"}]
    assert attrs(root, "Add/Product/Language") == [{"ID": "en-us"}]
    assert [a["ID"] for a in attrs(root, "Add/Product/ExcludeApp")] == ["Groove", "Lync", "OneDrive", "Teams"]
    assert {a["Name"]: a["Value"] for a in attrs(root, "Property")} == {
        "SharedComputerLicensing": "1",
        "FORCEAPPSHUTDOWN": "TRUE",
    }
    assert attrs(root, "Updates") == [{"Enabled": "FALSE"}]
    assert attrs(root, "Display") == [{"Level": "None", "AcceptEULA": "TRUE"}]
    assert attrs(root, "Logging") == [{"Level": "Standard", "Path": LOG}]


def test_visio_and_project_follow_the_suite_with_its_languages_and_exclusions() -> None:
    m365 = {
        **BASE,
        "languages": ["de-DE", "MatchOS"],
        "fallback_language": "en-US",
        "visio": "pro",
        "project": "standard",
        "architecture": "32",
    }
    root = parse(m365)
    assert [p["ID"] for p in attrs(root, "Add/Product")] == [
        "O365ProPlusRetail",
        "VisioProRetail",
        "ProjectStdRetail",
    ]
    for product in root.findall("Add/Product"):
        assert attrs(product, "Language") == [{"ID": "de-de"}, {"ID": "MatchOS", "Fallback": "en-us"}]
        assert len(product.findall("ExcludeApp")) == 4
    assert root.find("Add").get("OfficeClientEdition") == "32"


@pytest.mark.parametrize(
    ("updates", "expected", "mgmt"),
    [
        (
            {"enabled": True, "channel": None, "update_path": None, "office_mgmt_com": False},
            {"Enabled": "TRUE"},
            None,
        ),
        (
            {
                "enabled": True,
                "channel": "SemiAnnual",
                "update_path": "\\\\files\\office",
                "office_mgmt_com": True,
            },
            {"Enabled": "TRUE", "Channel": "SemiAnnual", "UpdatePath": "\\\\files\\office"},
            "TRUE",
        ),
    ],
)
def test_managed_updates(updates: dict[str, Any], expected: dict[str, str], mgmt: str | None) -> None:
    root = parse({**BASE, "updates": updates})
    assert attrs(root, "Updates") == [expected]
    assert root.find("Add").get("OfficeMgmtCOM") == mgmt


def test_no_shared_activation_and_no_remove_msi() -> None:
    root = parse({**BASE, "shared_computer_activation": False, "remove_msi": False, "exclude_apps": []})
    assert root.find("RemoveMSI") is None
    assert root.find("Add/Product/ExcludeApp") is None
    assert {a["Name"]: a["Value"] for a in attrs(root, "Property")}["SharedComputerLicensing"] == "0"


def test_values_are_data_never_markup() -> None:
    # A log folder with XML's special characters stays one attribute value.
    path = 'C:\\Logs\\a"<b>&c'
    root = ET.fromstring(_odt.configuration_xml(BASE, path))  # noqa: S314 (our own output)
    assert root.find("Logging").get("Path") == path
    assert len(root) == 7


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"channel": "Deferred"}, "avd_stack.m365_apps.channel: 'Deferred' is an old channel name"),
        ({"languages": ["zz-ZZ"]}, "avd_stack.m365_apps.languages[0]: 'zz-ZZ' is not a language"),
        ({"exclude_apps": ["Skype"]}, "avd_stack.m365_apps.exclude_apps[0]: 'Skype' is not an ExcludeApp ID"),
        ({"version": "16.0"}, "avd_stack.m365_apps.version: must be a Microsoft 365 Apps build number"),
    ],
)
def test_writer_refuses_what_odt_refuses(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("[", r"\[").replace("]", r"\]")):
        _odt.configuration_xml({**BASE, **change}, LOG)


def test_language_codes_come_from_microsofts_table() -> None:
    assert len(_odt.LANGUAGES) == len({code.lower() for code in _odt.LANGUAGES}) == 95
    assert _odt.language_code("PT-br") == "pt-BR"
    assert _odt.language_code("matchos") == "MatchOS"
    assert _odt.language_code("en") is None
