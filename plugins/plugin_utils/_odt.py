"""Microsoft 365 Apps through the Office Deployment Tool: what ODT accepts, and its configuration XML.

The facts come from Microsoft's "Configuration options for the Office Deployment Tool", "Overview
of deploying languages for Microsoft 365 Apps", "Deploy Microsoft 365 Apps by using Remote Desktop
Services" and AVD's "Install Office on a custom VHD image" (learn.microsoft.com). The image spec
section ``avd_stack.m365_apps`` (``_image_spec/avd_stack.py``) types the fields and calls
``problems`` for the rules ODT enforces, so a configuration ODT would reject fails in the validate
phase; ``configuration_xml`` writes the file ``setup.exe /configure`` reads. Pure Python.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

# Product IDs of the subscription products ODT installs (Product ID attribute).
SUITES = ("O365ProPlusRetail", "O365BusinessRetail")
VISIO_PRODUCTS = {"pro": "VisioProRetail", "standard": "VisioStdRetail"}
PROJECT_PRODUCTS = {"pro": "ProjectProRetail", "standard": "ProjectStdRetail"}
# The ExcludeApp ID values ODT allows, as documented (OneDrive sync app is "OneDrive", the old
# OneDrive for Business client "Groove", Skype for Business "Lync").
EXCLUDE_APPS = (
    "Access",
    "Bing",
    "Excel",
    "Groove",
    "Lync",
    "OneDrive",
    "OneNote",
    "Outlook",
    "PowerPoint",
    "Publisher",
    "Teams",
    "Word",
)
CHANNELS = (
    "BetaChannel",
    "CurrentPreview",
    "Current",
    "MonthlyEnterprise",
    "SemiAnnualPreview",
    "SemiAnnual",
)
# Older channel names ODT still reads; the image spec asks for the current ones.
LEGACY_CHANNELS = {
    "Insiders": "BetaChannel",
    "InsiderFast": "BetaChannel",
    "FirstReleaseCurrent": "CurrentPreview",
    "Monthly": "Current",
    "Targeted": "SemiAnnualPreview",
    "FirstReleaseDeferred": "SemiAnnualPreview",
    "Broad": "SemiAnnual",
    "Deferred": "SemiAnnual",
}
ARCHITECTURES = ("64", "32")
MATCH_OS = "MatchOS"
# Language keywords that need something the build cannot promise: an installed Click-to-Run
# product (MatchInstalled) or an MSI Office being replaced (MatchPreviousMSI).
REFUSED_LANGUAGE_KEYWORDS = {
    "matchinstalled": "MatchInstalled needs a Click-to-Run product already installed and cannot be "
    "downloaded ahead; list the languages, or use MatchOS",
    "matchpreviousmsi": "MatchPreviousMSI is for upgrading an MSI Office, which a marketplace image has not",
}
# Culture codes Microsoft 365 Apps supports ("Languages, culture codes, and companion proofing
# languages"), in the documented spelling; ODT compares them case-insensitively.
LANGUAGES = (
    "af-ZA", "sq-AL", "ar-SA", "hy-AM", "as-IN", "az-Latn-AZ", "bn-BD", "bn-IN", "eu-ES",
    "bs-latn-BA", "bg-BG", "ca-ES", "ca-ES-valencia", "zh-CN", "zh-TW", "hr-HR", "cs-CZ", "da-DK",
    "nl-NL", "en-US", "en-GB", "et-EE", "fi-FI", "fr-FR", "fr-CA", "gl-ES", "ka-GE", "de-DE",
    "el-GR", "gu-IN", "ha-Latn-NG", "he-IL", "hi-IN", "hu-HU", "is-IS", "ig-NG", "id-ID", "ga-IE",
    "xh-ZA", "zu-ZA", "it-IT", "ja-JP", "kn-IN", "kk-KZ", "rw-RW", "sw-KE", "kok-IN", "ko-KR",
    "ky-KG", "lv-LV", "lt-LT", "lb-LU", "mk-MK", "ms-MY", "ml-IN", "mt-MT", "mi-NZ", "mr-IN",
    "ne-NP", "nb-NO", "nn-NO", "or-IN", "ps-AF", "fa-IR", "pl-PL", "pt-PT", "pt-BR", "pa-IN",
    "ro-RO", "rm-CH", "ru-RU", "gd-GB", "sr-cyrl-RS", "sr-latn-RS", "sr-cyrl-BA", "nso-ZA",
    "tn-ZA", "si-LK", "sk-SK", "sl-SI", "es-ES", "es-MX", "sv-SE", "ta-IN", "tt-RU", "te-IN",
    "th-TH", "tr-TR", "uk-UA", "ur-PK", "uz-Latn-UZ", "vi-VN", "cy-GB", "wo-SN", "yo-NG",
)  # fmt: skip
_LANGUAGE_BY_LOWER = {code.lower(): code for code in LANGUAGES}
# Available for Microsoft 365 Apps from Version 2108, but not in Project or Visio.
NOT_IN_VISIO_PROJECT = ("en-GB", "fr-CA", "es-MX")
# A Microsoft 365 Apps build number: 16.0.<build>.<revision>.
VERSION_RE = re.compile(r"16\.0\.[0-9]{4,5}\.[0-9]{1,5}\Z")
# Where updates come from: \\server\share, a local folder or an http(s) address.
_UPDATE_PATH_RE = re.compile(r"(\\\\[^\\/\s]+\\\S.*|[A-Za-z]:\\.*|https?://\S+)\Z")


def language_code(value: str) -> str | None:
    """The documented spelling of a culture code or MatchOS (case-insensitive); None if unknown."""
    if value.lower() == MATCH_OS.lower():
        return MATCH_OS
    return _LANGUAGE_BY_LOWER.get(value.lower())


def products(m365: Mapping[str, Any]) -> list[str]:
    """The Product IDs in install order: the suite first (it sets the first-run context)."""
    ids = [m365["suite"]]
    if m365.get("visio"):
        ids.append(VISIO_PRODUCTS[m365["visio"]])
    if m365.get("project"):
        ids.append(PROJECT_PRODUCTS[m365["project"]])
    return ids


def problems(m365: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What ODT would refuse in a typed ``avd_stack.m365_apps``: ``[(field, reason)]``."""
    found: list[tuple[str, str]] = []
    languages = list(m365.get("languages") or [])
    if not languages:
        found.append(("languages", "needs at least one language (a culture code such as en-us, or MatchOS)"))
    seen: set[str] = set()
    for i, lang in enumerate(languages):
        field = f"languages[{i}]"
        keyword = REFUSED_LANGUAGE_KEYWORDS.get(lang.lower())
        code = language_code(lang)
        if keyword:
            found.append((field, keyword))
        elif code is None:
            found.append(
                (
                    field,
                    f"{lang!r} is not a language Microsoft 365 Apps supports "
                    "(a culture code as ll-cc, e.g. en-us, or MatchOS)",
                )
            )
        elif code.lower() in seen:
            found.append((field, f"{lang!r} is listed twice"))
        else:
            seen.add(code.lower())
            if code in NOT_IN_VISIO_PROJECT and (m365.get("visio") or m365.get("project")):
                found.append(
                    (
                        field,
                        f"{code} is not available in Visio or Project, so ODT fails installing them with it",
                    )
                )
    fallback = m365.get("fallback_language")
    if fallback is not None:
        if MATCH_OS.lower() not in seen:
            found.append(
                (
                    "fallback_language",
                    "is the Fallback of a MatchOS language: add MatchOS to languages, or remove it",
                )
            )
        elif language_code(fallback) in (None, MATCH_OS):
            found.append(
                ("fallback_language", f"{fallback!r} is not a culture code Microsoft 365 Apps supports")
            )
    found += _exclude_problems(m365)
    channel = m365.get("channel")
    if channel is not None and channel not in CHANNELS:
        found.append(("channel", _channel_reason(channel)))
    updates = m365.get("updates") or {}
    if updates.get("channel") is not None and updates["channel"] not in CHANNELS:
        found.append(("updates.channel", _channel_reason(updates["channel"])))
    if not updates.get("enabled") and (updates.get("channel") or updates.get("update_path")):
        found.append(("updates", "channel and update_path apply only with enabled: true"))
    path = updates.get("update_path")
    if path is not None and not _UPDATE_PATH_RE.match(path):
        found.append(
            (
                "updates.update_path",
                f"must be \\\\server\\share, a local folder (C:\\...) or an http(s) address, got {path!r}",
            )
        )
    version = m365.get("version")
    if version is not None and not VERSION_RE.match(version):
        found.append(
            (
                "version",
                f"must be a Microsoft 365 Apps build number 16.0.<build>.<revision>, got {version!r}",
            )
        )
    return found


def _exclude_problems(m365: Mapping[str, Any]) -> list[tuple[str, str]]:
    found = []
    seen: set[str] = set()
    for i, app in enumerate(m365.get("exclude_apps") or []):
        if app not in EXCLUDE_APPS:
            found.append(
                (
                    f"exclude_apps[{i}]",
                    f"{app!r} is not an ExcludeApp ID ODT knows ({', '.join(EXCLUDE_APPS)})",
                )
            )
        elif app in seen:
            found.append((f"exclude_apps[{i}]", f"{app!r} is listed twice"))
        seen.add(app)
    return found


def _channel_reason(channel: str) -> str:
    current = LEGACY_CHANNELS.get(channel)
    if current:
        return f"{channel!r} is an old channel name: write its current name {current!r}"
    return f"must be one of {', '.join(CHANNELS)}, got {channel!r}"


def configuration_xml(m365: Mapping[str, Any], log_path: str) -> str:
    """The configuration file for ``setup.exe /configure`` of a valid ``avd_stack.m365_apps``.

    Silent (Display None, EULA accepted), apps closed (FORCEAPPSHUTDOWN), a log folder the role
    reads on failure. Raises ValueError naming the first problem of an invalid section.
    """
    found = problems(m365)
    if found:
        field, reason = found[0]
        raise ValueError(f"avd_stack.m365_apps.{field}: {reason}")
    root = ET.Element("Configuration")
    add = ET.SubElement(
        root,
        "Add",
        {
            "OfficeClientEdition": m365["architecture"],
            "Channel": m365["channel"],
            "Version": m365["version"],
        },
    )
    for product_id in products(m365):
        product = ET.SubElement(add, "Product", {"ID": product_id})
        for lang in m365["languages"]:
            code = language_code(lang) or lang
            attrs = {"ID": code.lower() if code != MATCH_OS else MATCH_OS}
            if code == MATCH_OS and m365.get("fallback_language"):
                attrs["Fallback"] = str(language_code(m365["fallback_language"])).lower()
            ET.SubElement(product, "Language", attrs)
        for app in m365["exclude_apps"]:
            ET.SubElement(product, "ExcludeApp", {"ID": app})
    properties = {
        "SharedComputerLicensing": "1" if m365["shared_computer_activation"] else "0",
        "FORCEAPPSHUTDOWN": "TRUE",
    }
    for name, value in properties.items():
        ET.SubElement(root, "Property", {"Name": name, "Value": value})
    updates = m365["updates"]
    attrs = {"Enabled": "TRUE" if updates["enabled"] else "FALSE"}
    if updates["enabled"]:
        if updates.get("channel"):
            attrs["Channel"] = updates["channel"]
        if updates.get("update_path"):
            attrs["UpdatePath"] = updates["update_path"]
    ET.SubElement(root, "Updates", attrs)
    if updates["enabled"] and updates.get("office_mgmt_com"):
        add.set("OfficeMgmtCOM", "TRUE")
    if m365["remove_msi"]:
        ET.SubElement(root, "RemoveMSI")
    ET.SubElement(root, "Display", {"Level": "None", "AcceptEULA": "TRUE"})
    ET.SubElement(root, "Logging", {"Level": "Standard", "Path": log_path})
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"
