"""The simulated guest's language state and the files that change it.

- **Installed languages.** DISM's packages (``WindowsState.language_packages``: package name ->
  ``Installed`` | ``InstallPending``), the features on demand (``WindowsState.capabilities``) and the
  Local Experience Packs (provisioned AppX packages). A marketplace image has en-US only
  (``images/base.yaml``).
- **International settings** live where Windows keeps them, in the registry: per profile (the
  connecting admin's ``HKU\\<SID>``, the welcome screen's ``HKU\\.DEFAULT`` and the default user
  hive ``C:\\Users\\Default\\NTUSER.DAT``) ``Control Panel\\International`` ``LocaleName``,
  ``...\\Geo`` ``Nation`` and ``...\\User Profile`` ``Languages`` with one subkey per language
  holding its input method tips; for the machine ``Nls\\Language`` ``Default`` (the system locale's
  LCID) and ``MUI\\Settings`` ``PreferredUILanguages`` (the system preferred UI language) [Unc].
- **Files.** A CAB is read as the Microsoft Cabinet format (MSCF header, folders, files, data
  blocks stored or MSZIP); its ``update.mum`` names the package it holds. An .appx is a ZIP whose
  ``AppxManifest.xml`` names the package. Nothing is installed by a file name alone.

Tables of cultures, GeoIDs and default keyboards cover what the tests use; anything else raises
NotModelled rather than guessing.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from sandbox.guest_api import NotModelled
from sandbox.windows.modules._registry import RegKey

if TYPE_CHECKING:
    from sandbox.windows.state import WindowsState

LP_PACKAGE = "Microsoft-Windows-Client-LanguagePack-Package"
PUBLIC_KEY_TOKEN = "31bf3856ad364e35"  # noqa: S105 - Microsoft's package signing key id, not a secret
# The tasks that race with a language install (mission-anchors b: ERROR_SHARING_VIOLATION).
RACING_TASKS = (
    "\\Microsoft\\Windows\\LanguageComponentsInstaller\\Installation",
    "\\Microsoft\\Windows\\LanguageComponentsInstaller\\ReconcileLanguageResources",
)
SHARING_VIOLATION = (
    "The process cannot access the file because it is being used by another process. (Exception from "
    "HRESULT: 0x80070020)"
)
NOT_APPLICABLE = "The specified package is not applicable to this image. (Exception from HRESULT: 0x800F081E)"
# culture -> (LCID, default input method tip of New-WinUserLanguageList) [Doc: LCID reference; default
# keyboards from Microsoft's "Default input profiles (input locales) in Windows"].
CULTURES = {
    "en-US": (0x0409, "0409:00000409"),
    "en-GB": (0x0809, "0809:00000809"),
    "de-DE": (0x0407, "0407:00000407"),
    "de-AT": (0x0C07, "0C07:00000407"),
    "de-CH": (0x0807, "0807:00000807"),
    "fr-FR": (0x040C, "040C:0000040C"),
    "fr-CH": (0x100C, "100C:0000100C"),
    "it-IT": (0x0410, "0410:00000410"),
    "es-ES": (0x0C0A, "0C0A:0000040A"),
    "nl-NL": (0x0413, "0413:00020409"),
}
# GeoID -> country [Doc: "Table of Geographical Locations"].
GEOIDS = {14: "Austria", 84: "France", 94: "Germany", 118: "Italy", 176: "Netherlands", 217: "Spain",
          223: "Switzerland", 242: "United Kingdom", 244: "United States"}  # fmt: skip

INTL = "Control Panel\\International"
SYSTEM_LOCALE_KEY = r"HKLM\SYSTEM\CurrentControlSet\Control\Nls\Language"
MUI_SETTINGS_KEY = r"HKLM\SYSTEM\CurrentControlSet\Control\MUI\Settings"
UI_LANGUAGES_KEY = r"HKLM\SYSTEM\CurrentControlSet\Control\MUI\UILanguages"
DEFAULT_HIVE = "C:\\Users\\Default\\NTUSER.DAT"
_MUM_NS = "{urn:schemas-microsoft-com:asm.v3}"
_APPX_NS = "{http://schemas.microsoft.com/appx/manifest/foundation/windows10}"


def culture(tag: str) -> tuple[int, str]:
    for name, value in CULTURES.items():
        if name.lower() == tag.lower():
            return value
    raise NotModelled(f"culture {tag!r} is not in the sandbox's culture table (known: {', '.join(CULTURES)})")


def canonical(tag: str) -> str:
    culture(tag)
    return next(name for name in CULTURES if name.lower() == tag.lower())


# -- profiles ------------------------------------------------------------------------------------
def profile_root(state: WindowsState, profile: str) -> RegKey:
    """The root key of a profile: ``admin``, ``welcome`` (HKU\\.DEFAULT) or ``default_user``."""
    if profile == "admin":
        return state.registry.hku.ensure([state.admin_sid])
    if profile == "welcome":
        return state.registry.hku.ensure([".DEFAULT"])
    hkey = next(
        (k for k in state.registry.hive_files if k.lower().endswith("users\\default\\ntuser.dat")), None
    )
    if hkey is None:
        raise NotModelled("the default user hive C:\\Users\\Default\\NTUSER.DAT is not in the image")
    return state.registry.hive_files[hkey]


def read_profile(state: WindowsState, profile: str) -> dict[str, Any]:
    """What Copy-UserInternationalSettingsToSystem carries, as one profile's registry holds it."""
    root = profile_root(state, profile)
    intl = root.walk(INTL.split("\\"))
    geo = root.walk([*INTL.split("\\"), "Geo"])
    user = root.walk([*INTL.split("\\"), "User Profile"])
    languages = []
    order = user.get("Languages") if user else None
    for tag in order.data if order else []:
        sub = user.child(tag) if user else None
        tips = sorted((v.data, v.name) for v in (sub.values.values() if sub else []))
        languages.append({"language": tag, "input_methods": [name for _order, name in tips]})
    return {
        "culture": intl.get("LocaleName").data if intl and intl.get("LocaleName") else None,
        "home_location": int(geo.get("Nation").data) if geo and geo.get("Nation") else None,
        "languages": languages,
    }


def write_profile(state: WindowsState, profile: str, values: dict[str, Any]) -> None:
    root = profile_root(state, profile)
    if values.get("culture"):
        root.ensure(INTL.split("\\")).set("LocaleName", "REG_SZ", values["culture"])
    if values.get("home_location") is not None:
        root.ensure([*INTL.split("\\"), "Geo"]).set("Nation", "REG_SZ", str(values["home_location"]))
    if values.get("languages") is not None:
        intl = root.ensure(INTL.split("\\"))
        intl.subkeys.pop("user profile", None)
        user = intl.ensure(["User Profile"])
        user.set("Languages", "REG_MULTI_SZ", [item["language"] for item in values["languages"]])
        for item in values["languages"]:
            sub = user.ensure([item["language"]])
            for n, tip in enumerate(item["input_methods"], start=1):
                sub.set(tip, "REG_DWORD", n)


def system_ui_language(state: WindowsState) -> str:
    value = state.registry.get_value(MUI_SETTINGS_KEY, "PreferredUILanguages")
    if value and value.data:
        return value.data[0]
    return install_language(state)


def install_language(state: WindowsState) -> str:
    lcid = state.registry.get_value(SYSTEM_LOCALE_KEY, "InstallLanguage")
    return lcid_culture(int(lcid.data, 16)) if lcid else "en-US"


def lcid_culture(lcid: int) -> str:
    for name, (known, _tip) in CULTURES.items():
        if known == lcid:
            return name
    raise NotModelled(f"LCID {lcid:04x} is not in the sandbox's culture table")


def system_locale(state: WindowsState) -> str:
    value = state.registry.get_value(SYSTEM_LOCALE_KEY, "Default")
    return lcid_culture(int(value.data, 16)) if value else "en-US"


def installed_languages(state: WindowsState) -> dict[str, str]:
    """Language tag -> state of its language pack (``Installed`` or ``InstallPending``)."""
    out = {}
    for name, st in state.language_packages.items():
        parts = name.split("~")
        if parts[0] == LP_PACKAGE and len(parts) >= 4:
            out[parts[3]] = st
    return out


def racing_tasks_enabled(state: WindowsState) -> list[str]:
    return [
        path
        for path in RACING_TASKS
        if (task := state.scheduled_tasks.get(path.lower())) is not None and task["state"] != "Disabled"
    ]


# -- files -----------------------------------------------------------------------------------------
class BadPackage(Exception):
    """The file is not what DISM or the AppX deployment service can install."""


def cab_files(data: bytes) -> dict[str, bytes]:
    """Every file of a Microsoft Cabinet (stored or MSZIP folders), by name."""
    if data[:4] != b"MSCF" or len(data) < 36:
        raise BadPackage("not a Microsoft Cabinet file (no MSCF header)")
    _s, _r1, _size, _r2, coff_files, _r3, _mi, _ma, n_folders, n_files, flags = struct.unpack_from(
        "<4sIIIIIBBHHH", data, 0
    )
    pos, res_folder, res_data = 36, 0, 0
    if flags & 0x0004:
        res_header, res_folder, res_data = struct.unpack_from("<HBB", data, pos)
        pos += 4 + res_header
    if flags & 0x0003:
        raise NotModelled("multi-volume cabinets are not modelled")
    folders = []
    for _ in range(n_folders):
        start, n_blocks, compress = struct.unpack_from("<IHH", data, pos)
        folders.append(_folder_bytes(data, start, n_blocks, compress & 0x000F, res_data))
        pos += 8 + res_folder
    out, pos = {}, coff_files
    for _ in range(n_files):
        size, offset, folder, _d, _t, _a = struct.unpack_from("<IIHHHH", data, pos)
        end = data.index(b"\x00", pos + 16)
        name = data[pos + 16 : end].decode("utf-8", "replace").replace("/", "\\")
        pos = end + 1
        if folder >= len(folders):
            raise BadPackage(f"file {name} names folder {folder} the cabinet does not have")
        out[name] = folders[folder][offset : offset + size]
    return out


def _folder_bytes(data: bytes, start: int, n_blocks: int, compress: int, res_data: int) -> bytes:
    if compress not in (0, 1):
        raise NotModelled(f"cabinet compression type {compress} (Quantum/LZX) is not modelled")
    out, pos, history = bytearray(), start, b""
    for _ in range(n_blocks):
        _csum, size, _unc = struct.unpack_from("<IHH", data, pos)
        block = data[pos + 8 + res_data : pos + 8 + res_data + size]
        pos += 8 + res_data + size
        if compress == 1:  # MSZIP: "CK", then a deflate block using the previous 32 KiB as dictionary
            if block[:2] != b"CK":
                raise BadPackage("MSZIP block without its CK signature")
            block = zlib.decompressobj(-15, zdict=history[-32768:]).decompress(block[2:])
            history = (history + block)[-32768:]
        out += block
    return bytes(out)


def package_identity(data: bytes) -> dict[str, str]:
    """The ``assemblyIdentity`` of a CAB's update.mum (name, version, language, ...)."""
    files = {n.lower(): body for n, body in cab_files(data).items()}
    mum = files.get("update.mum")
    if mum is None:
        raise BadPackage("the cabinet has no update.mum: it is not a Windows package")
    try:
        root = ElementTree.fromstring(mum)  # noqa: S314 - files the tests build; no entity expansion needed
    except ElementTree.ParseError as err:
        raise BadPackage(f"update.mum is not XML ({err})") from None
    ident = root.find(f"{_MUM_NS}assemblyIdentity")
    if ident is None:
        ident = root.find("assemblyIdentity")
    if ident is None:
        raise BadPackage("update.mum has no assemblyIdentity")
    return dict(ident.attrib)


def appx_identity(data: bytes) -> dict[str, str]:
    """The ``Identity`` of an .appx's AppxManifest.xml."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            manifest = archive.read("AppxManifest.xml")
    except (zipfile.BadZipFile, KeyError):
        raise BadPackage("not an app package (no ZIP with AppxManifest.xml)") from None
    root = ElementTree.fromstring(manifest)  # noqa: S314 - files the tests build
    ident = root.find(f"{_APPX_NS}Identity")
    if ident is None:
        raise BadPackage("AppxManifest.xml has no Identity")
    return dict(ident.attrib)


_FEATURE_IDENTITY = re.compile(
    r"^Microsoft-Windows-LanguageFeatures-(?P<feature>[A-Za-z]+)-(?P<tag>[a-z-]+)-Package\Z"
)


def feature_capability(identity_name: str) -> str | None:
    """The capability a feature-on-demand package installs, from its identity name [Unc]."""
    m = _FEATURE_IDENTITY.match(identity_name)
    if not m:
        return None
    tag = "-".join(
        p if i == 0 else p.upper() if len(p) == 2 else p.title() for i, p in enumerate(m["tag"].split("-"))
    )
    return f"Language.{m['feature']}~~~{tag}~0.0.1.0"


def seed(state: WindowsState, layer: dict[str, Any], fmt: Any) -> None:
    """An image layer's ``languages``: DISM packages, the install language, and the international
    settings of the admin, the welcome screen and the default user (all alike on a fresh image)."""
    for name, st in (layer.get("packages") or {}).items():
        state.language_packages[fmt(name)] = st
    if "install_language" in layer:
        lcid = f"{culture(layer['install_language'])[0]:04x}"
        state.registry.set_value(SYSTEM_LOCALE_KEY, "InstallLanguage", "REG_SZ", lcid)
        state.registry.set_value(SYSTEM_LOCALE_KEY, "Default", "REG_SZ", lcid)
        state.registry.create(f"{UI_LANGUAGES_KEY}\\{layer['install_language']}")
    if "profile" in layer:
        for profile in ("admin", "welcome", "default_user"):
            write_profile(state, profile, layer["profile"])
