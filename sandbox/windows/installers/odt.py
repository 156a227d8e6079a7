"""The Office Deployment Tool in the simulated guest: ``setup.exe /configure <file>``.

What ODT does with a configuration file, from Microsoft's documentation ("Configuration options
for the Office Deployment Tool", "Overview of deploying languages", and Intune's table of
Click-to-Run return codes). It reads the file and refuses what ODT refuses, with ODT's return
codes where Microsoft documents them: an unknown product (SKU) 17004, an unknown language 17002,
an edition (32/64-bit) other than the installed one 1603 (prerequisite check). Malformed XML and
other invalid values also end the scenario; their exact code is not documented [Unc] and is
modelled as 17002 ("failed to complete the scenario"). This is the sandbox's own reading of the
documents, written apart from the product's generator (``plugins/plugin_utils/_odt.py``), so the
two can disagree and a test then fails; it accepts what ODT accepts and the product never writes
(the older channel names, ``Branch``).

What it cannot prove: the Office CDN download (the sandbox has no Office content; a configured
``Version`` is installed as if downloaded, and a missing one is refused as not modelled, since
"latest" is not a fact the sandbox has), every product ID ODT knows (a real one outside the modelled
list is not modelled), per-app binaries beyond one executable per app, and the exact log text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from sandbox.guest_api import NotModelled

C2R_CONFIG = r"HKLM\SOFTWARE\Microsoft\Office\ClickToRun\Configuration"
UNINSTALL = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"
OFFICE_ROOT = r"C:\Program Files\Microsoft Office\root\Office16"
C2R_EXE = r"C:\Program Files\Common Files\microsoft shared\ClickToRun\OfficeClickToRun.exe"

SCENARIO_FAILED = 17002  # Intune's table: "failed to complete the scenario", e.g. an unknown language
UNKNOWN_SKU = 17004
PREREQ_FAILED = 1603  # e.g. a version or architecture that does not match the installed Office

# Product IDs the model knows, with the display name of their Uninstall entry [Unc for the names
# but the suite's, which the m365 image seed carries].
PRODUCTS = {
    "O365ProPlusRetail": "Microsoft 365 Apps for enterprise",
    "O365BusinessRetail": "Microsoft 365 Apps for business",
    "VisioProRetail": "Microsoft Visio",
    "VisioStdRetail": "Microsoft Visio",
    "ProjectProRetail": "Microsoft Project",
    "ProjectStdRetail": "Microsoft Project",
}
# Real product IDs (ODT's list is long) that the model does not install.
UNMODELLED_PRODUCTS = re.compile(r".*(Retail|Volume|LanguagePack|ProofingTools)\Z")
APPS = {
    "Access": "MSACCESS.EXE",
    "Excel": "EXCEL.EXE",
    "OneNote": "ONENOTE.EXE",
    "Outlook": "OUTLOOK.EXE",
    "PowerPoint": "POWERPNT.EXE",
    "Publisher": "MSPUB.EXE",
    "Word": "WINWORD.EXE",
}
EXCLUDABLE = {*APPS, "Bing", "Groove", "Lync", "OneDrive", "Teams"}
PRODUCT_EXE = {"Visio": "VISIO.EXE", "Project": "WINPROJ.EXE"}
CHANNELS = {
    "betachannel",
    "currentpreview",
    "current",
    "monthlyenterprise",
    "semiannualpreview",
    "semiannual",
    # Older names ODT still reads.
    "insiders",
    "insiderfast",
    "firstreleasecurrent",
    "monthly",
    "targeted",
    "firstreleasedeferred",
    "broad",
    "deferred",
}
_TABLE = (
    "af-ZA sq-AL ar-SA hy-AM as-IN az-Latn-AZ bn-BD bn-IN eu-ES bs-latn-BA bg-BG ca-ES "
    "ca-ES-valencia zh-CN zh-TW hr-HR cs-CZ da-DK nl-NL en-US en-GB et-EE fi-FI fr-FR fr-CA gl-ES "
    "ka-GE de-DE el-GR gu-IN ha-Latn-NG he-IL hi-IN hu-HU is-IS ig-NG id-ID ga-IE xh-ZA zu-ZA "
    "it-IT ja-JP kn-IN kk-KZ rw-RW sw-KE kok-IN ko-KR ky-KG lv-LV lt-LT lb-LU mk-MK ms-MY ml-IN "
    "mt-MT mi-NZ mr-IN ne-NP nb-NO nn-NO or-IN ps-AF fa-IR pl-PL pt-PT pt-BR pa-IN ro-RO rm-CH "
    "ru-RU gd-GB sr-cyrl-RS sr-latn-RS sr-cyrl-BA nso-ZA tn-ZA si-LK sk-SK sl-SI es-ES es-MX "
    "sv-SE ta-IN tt-RU te-IN th-TH tr-TR uk-UA ur-PK uz-Latn-UZ vi-VN cy-GB wo-SN yo-NG"
)
LANGUAGES = {code.lower() for code in _TABLE.split(" ")}
NOT_IN_VISIO_PROJECT = {"en-gb", "fr-ca", "es-mx"}
# Elements and the attributes each takes (the documented ones).
ATTRIBUTES = {
    "Configuration": set(),
    "Add": {
        "SourcePath",
        "Version",
        "OfficeClientEdition",
        "Channel",
        "Branch",
        "DownloadPath",
        "AllowCdnFallback",
        "MigrateArch",
        "OfficeMgmtCOM",
        "ForceUpgrade",
    },
    "Product": {"ID", "MSICondition", "PIDKEY"},
    "Language": {"ID", "Fallback", "TargetProduct"},
    "ExcludeApp": {"ID"},
    "Property": {"Name", "Value"},
    "Updates": {"Enabled", "UpdatePath", "TargetVersion", "Deadline", "Channel", "Branch"},
    "Display": {"Level", "AcceptEULA"},
    "Logging": {"Level", "Path"},
    "RemoveMSI": set(),
    "IgnoreProduct": {"ID"},
}
_VERSION_RE = re.compile(r"16\.0\.[0-9]+\.[0-9]+\Z")


class OdtRefused(Exception):
    """ODT ends with a return code and a line for its log."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Configuration:
    version: str = ""
    edition: str | None = None
    channel: str | None = None
    products: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # id -> languages, excludes
    properties: dict[str, str] = field(default_factory=dict)
    updates_enabled: bool = True
    log_path: str | None = None
    log_level: str = "Standard"


def parse(text: str) -> Configuration:
    """Read a configuration file as ODT does; OdtRefused for what ODT refuses."""
    try:
        root = ET.fromstring(text)  # noqa: S314 - a file the guest was given; expat resolves no entities
    except ET.ParseError as exc:
        raise OdtRefused(SCENARIO_FAILED, f"the configuration file is not valid XML: {exc}") from exc
    if root.tag != "Configuration":
        raise OdtRefused(SCENARIO_FAILED, f"the root element is <{root.tag}>, not <Configuration>")
    for element in root.iter():
        known = ATTRIBUTES.get(element.tag)
        if known is None:
            raise NotModelled(f"Office Deployment Tool: element <{element.tag}> is not modelled")
        unknown = set(element.attrib) - known
        if unknown:
            raise NotModelled(
                f"Office Deployment Tool: <{element.tag}> attribute(s) {sorted(unknown)} not modelled"
            )
    config = Configuration()
    adds = root.findall("Add")
    if len(adds) != 1:
        raise NotModelled(
            f"Office Deployment Tool: {len(adds)} <Add> elements (the model installs exactly one)"
        )
    _read_add(adds[0], config)
    for prop in root.findall("Property"):
        config.properties[prop.get("Name", "")] = prop.get("Value", "")
    if config.properties.get("SharedComputerLicensing", "0") not in ("0", "1"):
        raise OdtRefused(SCENARIO_FAILED, "SharedComputerLicensing must be 0 or 1")
    updates = root.find("Updates")
    if updates is not None:
        config.updates_enabled = _true(updates.get("Enabled", "TRUE"), "Updates Enabled")
        _channel(updates.get("Channel") or updates.get("Branch"))
    logging = root.find("Logging")
    if logging is not None:
        config.log_path, config.log_level = logging.get("Path"), logging.get("Level", "Standard")
    return config


def _read_add(add: ET.Element, config: Configuration) -> None:
    version = add.get("Version")
    if version is None:
        raise NotModelled(
            "Office Deployment Tool: <Add> without Version (the latest build is not a fact the sandbox has)"
        )
    if not _VERSION_RE.match(version):
        raise OdtRefused(SCENARIO_FAILED, f"Version {version!r} is not a build of Microsoft 365 Apps")
    config.version = version
    edition = add.get("OfficeClientEdition")
    if edition not in (None, "32", "64"):
        raise OdtRefused(SCENARIO_FAILED, f"OfficeClientEdition must be 32 or 64, got {edition!r}")
    config.edition = edition
    config.channel = _channel(add.get("Channel") or add.get("Branch"))
    products = add.findall("Product")
    if not products:
        raise OdtRefused(SCENARIO_FAILED, "<Add> names no <Product>")
    for product in products:
        pid = product.get("ID", "")
        if pid not in PRODUCTS:
            if UNMODELLED_PRODUCTS.match(pid):
                raise NotModelled(f"Office Deployment Tool: product {pid} is not modelled")
            raise OdtRefused(UNKNOWN_SKU, f"unknown product ID {pid!r}")
        languages = [_language(lang, pid) for lang in product.findall("Language")]
        if not languages:
            raise OdtRefused(SCENARIO_FAILED, f"product {pid} names no <Language>")
        excludes = []
        for app in product.findall("ExcludeApp"):
            if app.get("ID") not in EXCLUDABLE:
                raise OdtRefused(SCENARIO_FAILED, f"unknown ExcludeApp ID {app.get('ID')!r} in {pid}")
            excludes.append(app.get("ID", ""))
        config.products[pid] = {"languages": languages, "excludes": excludes}


def _language(element: ET.Element, pid: str) -> str:
    lang = element.get("ID", "")
    low = lang.lower()
    if low == "matchos":
        # The sandbox's guests run an en-US Windows; the Fallback is used only when the OS
        # language is not available (never, here).
        fallback = element.get("Fallback")
        if fallback is not None and fallback.lower() not in LANGUAGES:
            raise OdtRefused(SCENARIO_FAILED, f"unknown Fallback language {fallback!r}")
        return "en-us"
    if low in ("matchinstalled", "matchpreviousmsi"):
        raise NotModelled(f"Office Deployment Tool: Language {lang} is not modelled")
    if low not in LANGUAGES:
        raise OdtRefused(SCENARIO_FAILED, f"unknown language ID {lang!r}")
    if low in NOT_IN_VISIO_PROJECT and pid.startswith(("Visio", "Project")):
        raise OdtRefused(SCENARIO_FAILED, f"language {lang} is not available for {pid}")
    return low


def _channel(value: str | None) -> str | None:
    if value is not None and value.lower() not in CHANNELS:
        raise OdtRefused(SCENARIO_FAILED, f"unknown channel {value!r}")
    return value


def _true(value: str, what: str) -> bool:
    if value.upper() not in ("TRUE", "FALSE"):
        raise OdtRefused(SCENARIO_FAILED, f"{what} must be TRUE or FALSE, got {value!r}")
    return value.upper() == "TRUE"


def configure(state: Any, config: Configuration) -> None:
    """Install what the configuration says: Click-to-Run's registry, its Uninstall entries and apps."""
    reg = state.registry
    installed = reg.get_value(C2R_CONFIG, "Platform")
    platform = {"64": "x64", "32": "x86", None: installed.data if installed else "x64"}[config.edition]
    if installed is not None and installed.data != platform:
        raise OdtRefused(
            PREREQ_FAILED,
            f"OfficeClientEdition {config.edition} does not match the installed {installed.data} Office "
            "(mixed architectures are not supported)",
        )
    old_ids = reg.get_value(C2R_CONFIG, "ProductReleaseIds")
    ids = [p for p in (old_ids.data.split(",") if old_ids else []) if p]
    for pid, product in config.products.items():
        if pid not in ids:
            ids.append(pid)
        _exclusions(reg, pid, product)
        for lang in product["languages"]:
            key = f"{UNINSTALL}\\{pid} - {lang}"
            reg.set_value(key, "DisplayName", "REG_SZ", f"{PRODUCTS[pid]} - {lang}")
            reg.set_value(key, "DisplayVersion", "REG_SZ", config.version)
            reg.set_value(key, "Publisher", "REG_SZ", "Microsoft Corporation")
    values = {
        "VersionToReport": config.version,
        "Platform": platform,
        "ProductReleaseIds": ",".join(ids),
        "SharedComputerLicensing": config.properties.get("SharedComputerLicensing", "0"),
        "UpdatesEnabled": "True" if config.updates_enabled else "False",
    }
    for name, data in values.items():
        reg.set_value(C2R_CONFIG, name, "REG_SZ", data)
    _files(state, reg)


def _exclusions(reg: Any, pid: str, product: dict[str, list[str]]) -> None:
    """``<pid>.ExcludedApps``: the new list replaces the old one when the file lists every installed
    language, else the two are combined (Microsoft's rule for ExcludeApp on an installed Office)."""
    name = f"{pid}.ExcludedApps"
    old = reg.get_value(C2R_CONFIG, name)
    before = [a for a in (old.data.split(",") if old else []) if a]
    installed = {
        k.split(" - ", 1)[1].lower()
        for k in (reg.open(UNINSTALL).subkey_names() if reg.open(UNINSTALL) else [])
        if k.startswith(f"{pid} - ")
    }
    new = [a.lower() for a in product["excludes"]]
    if not installed <= set(product["languages"]):
        new = sorted(set(before) | set(new))
    if new:
        reg.set_value(C2R_CONFIG, name, "REG_SZ", ",".join(new))
    elif old is not None:
        reg.open(C2R_CONFIG).delete_value(name)


def _files(state: Any, reg: Any) -> None:
    """One executable per installed app (none for an excluded one), and the Click-to-Run service."""
    ids = reg.get_value(C2R_CONFIG, "ProductReleaseIds").data.split(",")
    excluded: set[str] = set()
    suites = [p for p in ids if p.startswith("O365")]
    for pid in suites:
        value = reg.get_value(C2R_CONFIG, f"{pid}.ExcludedApps")
        excluded |= set(value.data.split(",")) if value else set()
    for app, exe in APPS.items():
        path = f"{OFFICE_ROOT}\\{exe}"
        if suites and app.lower() not in excluded:
            state.fs.write(path, f"MZ {app}".encode(), make_parents=True)
        elif state.fs.exists(path):
            state.fs.remove(path)
    for product, exe in PRODUCT_EXE.items():
        if any(p.startswith(product) for p in ids):
            state.fs.write(f"{OFFICE_ROOT}\\{exe}", f"MZ {product}".encode(), make_parents=True)
    state.fs.write(C2R_EXE, b"MZ c2r", make_parents=True)
