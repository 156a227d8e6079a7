"""What the languages phase does, planned from the normalised ``languages`` section (pure Python).

``languages_plan`` turns the section into the inputs of the role's tasks: the components for
``avd.golden.win_language_install`` (language pack, features, Local Experience Pack per language,
or one ``online`` component), the files to download for each of them, the arguments of
``ansible.windows.win_region`` and of ``avd.golden.win_language_settings``, and the manifest items.
``download_errors`` names each failed download without the URL's query (a SAS).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.languages import language_packages

LXP_PREFIX = "Microsoft.LanguageExperiencePack"
_QUERY_RE = re.compile(r"(https?://[^\s'\"?]+)\?[^\s'\"]*")


class LanguagesPlanError(ValueError):
    """The input is not a normalised languages section."""


def _win_join(folder: str, *parts: str) -> str:
    return "\\".join([folder.rstrip("\\"), *parts])


def _file(
    download: Mapping[str, Any], folder: str, name: str, component: str, language: str
) -> dict[str, Any]:
    d = download["download"]
    return {
        "component": component,
        "language": language,
        "file": download["file"],
        "folder": _win_join(folder, language),
        "dest": _win_join(folder, language, name),
        "url": d["url"],
        "id": d["id"],
        "sha256": d["sha256"],
    }


def _offline(pkg: Mapping[str, Any], folder: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    tag = pkg["language"]
    components, files = [], []
    lp = pkg["language_pack"]
    base = lp["file"].rsplit("/", 1)[-1]
    components.append(
        {"language": tag, "kind": "language_pack", "name": tag, "path": _win_join(folder, tag, base)}
    )
    files.append(_file(lp, folder, base, f"language_pack/{tag}", tag))
    for feature in pkg["features"]:
        base = feature["file"].rsplit("/", 1)[-1]
        ident = f"feature/{feature['capability']}"
        components.append(
            {
                "language": tag,
                "kind": "feature",
                "name": feature["capability"],
                "path": _win_join(folder, tag, base),
            }
        )
        files.append(_file(feature, folder, base, ident, tag))
    lxp = pkg["experience_pack"]
    if lxp is not None:
        base, name = lxp["file"].rsplit("/", 1)[-1], f"{LXP_PREFIX}{tag}"
        components.append(
            {
                "language": tag,
                "kind": "experience_pack",
                "name": name,
                "path": _win_join(folder, tag, base),
                "license_path": _win_join(folder, tag, "License.xml"),
            }
        )
        files.append(_file(lxp, folder, base, f"experience_pack/{name}", tag))
        files.append(_file(pkg["license"], folder, "License.xml", f"experience_pack/{name}", tag))
    return components, files


def languages_plan(languages: Any, download_dir: str) -> dict[str, Any]:
    """The role's plan; see the module docstring."""
    if not isinstance(languages, Mapping) or not {"install", "source", "user_languages"} <= set(languages):
        raise LanguagesPlanError(
            "expects the normalised languages section of an image spec (avd_image['languages'])"
        )
    source = languages["source"] or {"type": "offline"}
    components: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    for pkg in language_packages(languages):
        if source["type"] == "online":
            components.append({"language": pkg["language"], "kind": "online", "name": pkg["language"]})
            continue
        more, more_files = _offline(pkg, download_dir)
        components += more
        files += more_files
    region = {
        "format": languages["culture"],
        "location": None if languages["home_location"] is None else str(languages["home_location"]),
        "unicode_language": languages["system_locale"],
    }
    settings = {
        "ui_language": languages["ui_language"],
        "user_languages": languages["user_languages"],
        "copy_to_welcome_screen": languages["copy_to_welcome_screen"],
        "copy_to_new_users": languages["copy_to_new_users"],
    }
    return {
        "components": components,
        "files": files,
        "attempts": source.get("attempts", 1),
        "retry_delay_seconds": source.get("retry_delay_seconds", 0),
        "region": {k: v for k, v in region.items() if v is not None},
        "settings": settings,
        "items": _items(components, settings),
        "region_items": _region_items(region),
        # win_region says only that something changed, not what nor from what: each of its
        # settings is then recorded as set, the value before unknown (null).
        "region_changes": [{**i, "before": None, "after": i["value"]} for i in _region_items(region)],
    }


def _items(components: list[dict[str, Any]], settings: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The manifest's items (kind ``language``): each component, the UI language, the language list."""
    items = [
        {
            "name": f"{c['kind']}/{c['name']}",
            "value": "Installed",
            "source": f"languages.install ({c['language']})",
        }
        for c in components
    ]
    if settings["ui_language"]:
        items.append(
            {
                "name": "setting/ui_language",
                "value": settings["ui_language"],
                "source": "languages.ui_language",
            }
        )
    if settings["user_languages"]:
        items.append(
            {
                "name": "setting/user_languages",
                "value": settings["user_languages"],
                "source": "languages.user_languages",
            }
        )
    return items


def _region_items(region: Mapping[str, Any]) -> list[dict[str, Any]]:
    names = {"format": "culture", "location": "home_location", "unicode_language": "system_locale"}
    return [
        {
            "name": f"setting/{names[key]}",
            "value": int(value) if key == "location" else value,
            "source": f"languages.{names[key]}",
        }
        for key, value in region.items()
        if value is not None
    ]


def redact_url_query(text: Any) -> str:
    """``text`` with the query of every URL in it replaced (a SAS is a query)."""
    return _QUERY_RE.sub(r"\1?<redacted>", str(text))


def download_errors(results: Any) -> list[str]:
    """One line per failed download of a looped win_get_url result: file, language, cause."""
    out = []
    for result in (results or {}).get("results", []):
        if not result.get("failed"):
            continue
        item = result.get("item") or {}
        out.append(
            f"{item.get('file')} ({item.get('component')}, {item.get('language')}): "
            f"{redact_url_query(result.get('msg', 'failed'))}"
        )
    return out


def tasks_to_restore(changes: Any) -> list[dict[str, Any]]:
    """The tasks avd.golden.win_scheduled_task_state disabled (its ``changes``), to enable again."""
    return [
        {"path": c["path"], "name": c["name"], "enabled": True}
        for c in changes or []
        if c.get("after") == "Disabled" and c.get("before") != "Disabled"
    ]
