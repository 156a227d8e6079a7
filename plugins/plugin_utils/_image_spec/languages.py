"""The ``languages`` section: language packs, features on demand, Local Experience Packs and the
language defaults of the image (UI language, system locale, culture, home location, input methods).

Two sources. ``offline``: the content of Microsoft's "Languages and Optional Features" ISO in a
blob container or under an HTTPS base, every file named as on the ISO and pinned by SHA-256; the
file names say what each file is (``Microsoft-Windows-Client-Language-Pack_x64_de-de.cab`` is the
de-DE language pack), so nothing is installed by a name the spec did not pin. ``online``:
``Install-Language`` from Windows Update, with a bounded number of attempts and a growing wait.

The language lists are Microsoft's "Available languages for Windows" (learn.microsoft.com,
windows-hardware/manufacture/desktop/available-language-packs-for-windows): the language packs
(not the Local Experience Pack-only languages, which need a parent language pack).
"""

from __future__ import annotations

import datetime as _dt
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import Checker
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.downloads import check_download
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.messages import (
    join,
    show,
    suggest,
    type_name,
)

# Language pack languages of Windows 10 and 11 (the table's bold and plain rows).
LANGUAGE_PACKS_10 = (
    "ar-SA", "bg-BG", "cs-CZ", "da-DK", "de-DE", "el-GR", "en-GB", "en-US", "es-ES", "es-MX",
    "et-EE", "fi-FI", "fr-CA", "fr-FR", "he-IL", "hr-HR", "hu-HU", "it-IT", "ja-JP", "ko-KR",
    "lt-LT", "lv-LV", "nb-NO", "nl-NL", "pl-PL", "pt-BR", "pt-PT", "ro-RO", "ru-RU", "sk-SK",
    "sl-SI", "sr-Latn-RS", "sv-SE", "th-TH", "tr-TR", "uk-UA", "zh-CN", "zh-TW",
)  # fmt: skip
# Windows 11 offers these as language packs too (on Windows 10 they are interface packs).
LANGUAGE_PACKS_11 = (*LANGUAGE_PACKS_10, "ca-ES", "eu-ES", "gl-ES", "id-ID", "vi-VN")
# Tags the table names but that are not to be installed, with the reason.
REFUSED_LANGUAGES = {"zh-HK": "is no longer a language pack (Microsoft: use zh-TW)"}
# What a marketplace image has (windows-image-facts.md section 8.1: the images are en-US).
BASE_LANGUAGE = "en-US"
SOURCE_TYPES = ("offline", "online")
FEATURES = ("Basic", "Fonts", "Handwriting", "OCR", "Speech", "TextToSpeech")

# The ISO's file names (a folder before them is allowed: the ISO's own or the container's).
_LP_RE = re.compile(
    r"^Microsoft-Windows-Client-Language-Pack_x64_(?P<tag>[A-Za-z]{2}(-[A-Za-z]{4})?-[A-Za-z]{2})\.cab\Z"
)
_FOD_RE = re.compile(
    r"^Microsoft-Windows-LanguageFeatures-(?P<feature>[A-Za-z]+)-(?P<tag>[a-z]{2}(-[a-z]{4})?-[a-z]{2})"
    r"-Package~31bf3856ad364e35~amd64~~\.cab\Z",
    re.IGNORECASE,
)
_LXP_RE = re.compile(
    r"^LanguageExperiencePack\.(?P<tag>[A-Za-z]{2}(-[A-Za-z]{4})?-[A-Za-z]{2})\.Neutral\.appx\Z"
)
_LICENSE = "License.xml"
_CULTURE_RE = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?\Z")
# InputMethodTips: <LANGID>:<KLID> for a keyboard layout, <LANGID>:{CLSID}{Profile GUID} for a TIP.
_GUID = r"\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}"
_TIP_RE = re.compile(rf"^[0-9A-Fa-f]{{4}}:([0-9A-Fa-f]{{8}}|{_GUID}{_GUID})\Z")
_SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}\Z")
GEOID_MAX = 2**31 - 1
ATTEMPTS_MAX = 10
RETRY_DELAY_MAX = 1800
KEYS = {
    "languages": (
        "install",
        "source",
        "ui_language",
        "system_locale",
        "culture",
        "home_location",
        "user_languages",
        "copy_to_welcome_screen",
        "copy_to_new_users",
    ),
    "languages.source": ("type", "base", "files", "attempts", "retry_delay_seconds"),
    "languages.source.base": ("url", "blob"),
    "languages.source.base.blob": ("storage_account", "resource_group", "container", "prefix"),
    "languages.user_languages[]": ("language", "input_methods"),
}


def check_languages(c: Checker, root: Mapping[str, Any], os_major: Any) -> dict[str, Any]:
    """Validate ``languages``; return it normalised. The normalised section validates as itself: an
    offline source's ``files`` become downloads (docs/contracts.md section 8), each still keyed by
    its ISO path; ``language_packages`` says which file is which component."""
    data = _mapping(c, root.get("languages"), "languages")
    _unknown(c, data, "languages")
    offered = LANGUAGE_PACKS_10 if os_major == "10" else LANGUAGE_PACKS_11
    install = _check_install(c, data.get("install"), offered, os_major)
    source = _check_source(c, data.get("source"), bool(install))
    if source is not None:
        _packages(c, install, source)
    ui = _language_field(c, data, "ui_language")
    if ui is not None and ui not in (BASE_LANGUAGE, *install):
        c.error(
            "languages.ui_language",
            f"{ui} is neither installed by languages.install nor the image's own {BASE_LANGUAGE}",
        )
    user_languages = _check_user_languages(c, data.get("user_languages"))
    if user_languages is None:
        user_languages = [{"language": ui, "input_methods": []}] if ui else []
    return {
        "install": install,
        "source": source,
        "ui_language": ui,
        "system_locale": _language_field(c, data, "system_locale"),
        "culture": _language_field(c, data, "culture"),
        "home_location": _check_geoid(c, data.get("home_location")),
        "user_languages": user_languages,
        "copy_to_welcome_screen": c.boolean(data, "copy_to_welcome_screen", "languages", default=True),
        "copy_to_new_users": c.boolean(data, "copy_to_new_users", "languages", default=True),
    }


def _mapping(c: Checker, value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        c.error(field, f"must be a mapping, got {type_name(value)}")
        return {}
    return dict(value)


def _unknown(c: Checker, data: Mapping[str, Any], spec: str, path: str | None = None) -> None:
    allowed = KEYS[spec]
    for key in data:
        if key not in allowed:
            c.error(join(path or spec, str(key)), f"unknown key{suggest(str(key), allowed)}")


def _canonical(tag: str, offered: tuple[str, ...]) -> str | None:
    """A language tag as Windows spells it (BCP-47 compares case-insensitively)."""
    return next((t for t in offered if t.lower() == tag.lower()), None)


def _check_install(c: Checker, raw: Any, offered: tuple[str, ...], os_major: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        c.error("languages.install", f"must be a list of language tags like de-DE, got {type_name(raw)}")
        return []
    out: list[str] = []
    for i, tag in enumerate(raw):
        field = f"languages.install[{i}]"
        if not isinstance(tag, str):
            c.error(field, f"must be a language tag like de-DE, got {type_name(tag)} {show(tag)}")
            continue
        if not c.single_line(field, tag):
            continue
        refused = next((why for t, why in REFUSED_LANGUAGES.items() if t.lower() == tag.lower()), None)
        real = _canonical(tag, offered)
        if refused:
            c.error(field, f"{tag} {refused}")
        elif real is None:
            windows = f"Windows {os_major}" if os_major else "Windows"
            c.error(
                field,
                f"{show(tag)} is not a language pack {windows} offers{suggest(tag, offered)} (Microsoft's "
                "'Available languages for Windows'; Local Experience Pack-only languages are not supported)",
            )
        elif real == BASE_LANGUAGE:
            c.error(field, f"{BASE_LANGUAGE} is the marketplace image's own language: nothing to install")
        elif real in out:
            c.error(field, f"{real} is listed twice")
        else:
            out.append(real)
    return out


def _check_source(c: Checker, raw: Any, needed: bool) -> dict[str, Any] | None:
    data = _mapping(c, raw, "languages.source")
    _unknown(c, data, "languages.source")
    if raw is None:
        if needed:
            c.error("languages.source", "is required when languages.install lists languages")
        return None
    kind = c.choice(data, "type", "languages.source", SOURCE_TYPES, required=True, default="offline")
    out: dict[str, Any] = {"type": kind}
    if kind == "online":
        for key in ("base", "files"):
            if key in data:
                c.error(f"languages.source.{key}", "applies only with languages.source.type offline")
        out["attempts"] = c.integer(data, "attempts", "languages.source", 1, ATTEMPTS_MAX, default=3)
        out["retry_delay_seconds"] = c.integer(
            data, "retry_delay_seconds", "languages.source", 0, RETRY_DELAY_MAX, default=60
        )
        return out
    for key in ("attempts", "retry_delay_seconds"):
        if key in data:
            c.error(f"languages.source.{key}", "applies only with languages.source.type online")
    base, files = _check_files(c, data)
    out.update(base=base, files=files)
    return out


def _check_files(c: Checker, data: Mapping[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """``base`` and ``files``: each file, by its ISO path, is its SHA-256 (the file is then below
    ``base``) or a download mapping (url or blob, sha256, signer; without url and blob, below
    ``base``); normalised to a download (section 8) keyed by the ISO path."""
    files = data.get("files")
    if files is None:
        c.error("languages.source.files", "is required with languages.source.type offline")
        files = {}
    if not isinstance(files, Mapping):
        c.error(
            "languages.source.files", f"must be a mapping of file path to SHA-256, got {type_name(files)}"
        )
        files = {}
    located = all(isinstance(v, Mapping) and (v.get("url") or v.get("blob")) for v in files.values())
    base = _check_base(c, data.get("base"), required=not located or not files)
    out = {}
    for name, value in files.items():
        field = join("languages.source.files", str(name))
        if not isinstance(name, str) or not name.strip() or name.startswith("/") or ".." in name.split("/"):
            c.error(
                field, "must be a relative path below languages.source.base, like x64/langpacks/<file>.cab"
            )
            continue
        if isinstance(value, Mapping):
            download = {k: v for k, v in value.items() if k != "id"}  # the id is derived again
        elif isinstance(value, str) and _SHA256_RE.match(value):
            download = {"sha256": value}
        else:
            c.error(field, f"must be the file's SHA-256 (64 hex characters) or a download, got {show(value)}")
            continue
        if download.get("url") is None and download.get("blob") is None:
            if base is None:
                continue
            download = {
                **_download(base, name),
                **{k: v for k, v in download.items() if k not in ("url", "blob")},
            }
        out[name] = check_download(c, download, field)
    return base, out


def _check_base(c: Checker, raw: Any, required: bool) -> dict[str, Any] | None:
    data = _mapping(c, raw, "languages.source.base")
    if raw is None:
        if required:
            c.error("languages.source.base", "is required with languages.source.type offline")
        return None
    _unknown(c, data, "languages.source.base")
    if ("url" in data) == ("blob" in data):
        c.error("languages.source.base", "needs exactly one of url (an HTTPS folder) and blob (a container)")
        return None
    if "url" in data:
        url = c.string(data, "url", "languages.source.base", required=True)
        parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
            c.error(
                "languages.source.base.url",
                "must be an https:// folder address without a ?query or #fragment (each file's address is "
                "the folder plus its path in languages.source.files)",
            )
            return None
        return {"url": url}
    blob = _mapping(c, data["blob"], "languages.source.base.blob")
    _unknown(c, blob, "languages.source.base.blob")
    return {"blob": blob}


def _download(base: Mapping[str, Any], name: str) -> dict[str, Any]:
    """Where one file below the base is: ``{"url": ...}`` or ``{"blob": ...}``."""
    if "url" in base:
        return {"url": str(base["url"]).rstrip("/") + "/" + urllib.parse.quote(name)}
    blob = dict(base["blob"])
    prefix = str(blob.pop("prefix", "") or "")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return {"blob": {**blob, "name": prefix + name}}


def classify(name: str) -> tuple[str, str | None, str | None]:
    """What an ISO file is: ``(kind, language tag or None, feature or None)``; kind is
    ``language_pack``, ``feature``, ``experience_pack``, ``license`` or ``unknown``."""
    base = name.rsplit("/", 1)[-1]
    if m := _LP_RE.match(base):
        return "language_pack", m["tag"], None
    if m := _FOD_RE.match(base):
        return "feature", m["tag"], m["feature"]
    if m := _LXP_RE.match(base):
        return "experience_pack", m["tag"], None
    if base.lower() == _LICENSE.lower():
        return "license", None, None
    return "unknown", None, None


def language_packages(languages: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per language of a normalised (valid) section: ``language``, ``language_pack``, ``features``
    (``capability``, ``file``, ``download``), ``experience_pack`` and ``license`` (``{file,
    download}`` or null); all null online."""
    source = languages.get("source") or {"type": "online"}
    return _packages(Checker(_dt.date.min), list(languages.get("install") or []), source)


def _packages(c: Checker, install: list[str], source: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per language what to install; offline: which pinned file is which component."""
    packages = {
        tag: {
            "language": tag,
            "language_pack": None,
            "features": [],
            "experience_pack": None,
            "license": None,
        }
        for tag in install
    }
    licenses = {}
    for name, download in source.get("files", {}).items():
        field = join("languages.source.files", name)
        kind, tag, feature = classify(name)
        if kind == "license":
            licenses[name.rsplit("/", 1)[0] if "/" in name else ""] = (field, download, name)
            continue
        if kind == "unknown":
            c.error(
                field,
                "is not a file of the Languages and Optional Features ISO this tool knows: expected "
                "Microsoft-Windows-Client-Language-Pack_x64_<tag>.cab, Microsoft-Windows-LanguageFeatures-"
                "<feature>-<tag>-Package~31bf3856ad364e35~amd64~~.cab, "
                "LanguageExperiencePack.<tag>.Neutral.appx "
                "or the License.xml next to it",
            )
            continue
        real = _canonical(tag or "", tuple(install))
        if real is None:
            c.error(field, f"is for {tag}, which languages.install does not list")
            continue
        _assign(c, packages[real], kind, feature, field, download, name)
    _pair_licenses(c, packages, licenses)
    if source.get("type") == "offline" and source.get("files"):
        for tag, pkg in packages.items():
            if pkg["language_pack"] is None:
                c.error(
                    "languages.source.files",
                    f"has no language pack for {tag}: "
                    f"Microsoft-Windows-Client-Language-Pack_x64_{tag.lower()}.cab",
                )
    return [packages[tag] for tag in install]


def _assign(
    c: Checker, pkg: dict[str, Any], kind: str, feature: str | None, field: str, download: Any, name: str
) -> None:
    if kind == "feature":
        real = next((f for f in FEATURES if f.lower() == str(feature).lower()), None)
        if real is None:
            c.error(field, f"feature {feature} is not one of {', '.join(FEATURES)}")
            return
        capability = f"Language.{real}~~~{pkg['language']}~0.0.1.0"
        if any(f["capability"] == capability for f in pkg["features"]):
            c.error(field, f"is a second file for {capability}")
            return
        pkg["features"].append({"capability": capability, "file": name, "download": download})
    elif pkg[kind] is not None:
        c.error(field, f"is a second {kind.replace('_', ' ')} for {pkg['language']}")
    else:
        pkg[kind] = {"file": name, "download": download}


def _pair_licenses(c: Checker, packages: dict[str, dict[str, Any]], licenses: dict[str, Any]) -> None:
    """A Local Experience Pack needs the License.xml of its own folder (Add-AppxProvisionedPackage
    -LicensePath); a License.xml without one is an unused pinned file."""
    used = set()
    for pkg in packages.values():
        lxp = pkg["experience_pack"]
        if lxp is None:
            continue
        folder = lxp["file"].rsplit("/", 1)[0] if "/" in lxp["file"] else ""
        if folder not in licenses:
            c.error(
                join("languages.source.files", lxp["file"]),
                f"needs the License.xml of its folder ({folder + '/' if folder else ''}{_LICENSE}) "
                "in languages.source.files",
            )
            continue
        used.add(folder)
        _field, download, name = licenses[folder]
        pkg["license"] = {"file": name, "download": download}
    for folder, (field, _download, _name) in licenses.items():
        if folder not in used:
            c.error(field, "belongs to no LanguageExperiencePack.<tag>.Neutral.appx in the same folder")


def _language_field(c: Checker, data: Mapping[str, Any], key: str, path: str = "languages") -> str | None:
    value = c.string(data, key, path, default=None)
    if isinstance(value, str) and not _CULTURE_RE.match(value):
        c.error(
            join(path, key), f"must be a language-region name like de-DE or sr-Latn-RS, got {show(value)}"
        )
        return None
    return value


def _check_geoid(c: Checker, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= GEOID_MAX:
        c.error(
            "languages.home_location",
            "must be a Windows GeoID (an integer, e.g. 94 for Germany, 244 for the United States), "
            f"got {show(value)}",
        )
        return None
    return value


def _check_user_languages(c: Checker, raw: Any) -> list[dict[str, Any]] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        c.error("languages.user_languages", f"must be a list, got {type_name(raw)}")
        return []
    out, seen = [], set()
    for i, item in enumerate(raw):
        path = f"languages.user_languages[{i}]"
        data = _mapping(c, item, path)
        _unknown(c, data, "languages.user_languages[]", path)
        tag = _language_field(c, data, "language", path)
        if isinstance(item, Mapping) and data.get("language") is None:
            c.error(f"{path}.language", "is required")
        tips = data.get("input_methods", [])
        if not isinstance(tips, list) or not all(isinstance(t, str) and _TIP_RE.match(t) for t in tips):
            c.error(
                f"{path}.input_methods",
                "must be a list of input method tips like 0407:00000407 (language id:keyboard layout) or "
                f"0411:{{CLSID}}{{profile GUID}}, got {show(tips)}",
            )
            tips = []
        if tag and tag.lower() in seen:
            c.error(f"{path}.language", f"{tag} is listed twice")
        elif tag:
            seen.add(tag.lower())
            out.append({"language": tag, "input_methods": list(tips)})
    return out
