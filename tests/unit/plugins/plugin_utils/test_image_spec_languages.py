"""The languages section: language tags as Windows offers them, the offline source's files by their
ISO names, the online retry bounds, the defaults, and one error per wrong field."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.downloads import blob_downloads  # noqa: E402
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.languages import (  # noqa: E402
    classify,
    language_packages,
)
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.spec import (  # noqa: E402
    normalize_image_spec,
    validate_image_spec,
)

TODAY = "2026-11-27"
H = "ab" * 32
LP = "x64/langpacks/Microsoft-Windows-Client-Language-Pack_x64_de-de.cab"
FOD = (
    "LanguagesAndOptionalFeatures/"
    "Microsoft-Windows-LanguageFeatures-Basic-de-de-Package~31bf3856ad364e35~amd64~~.cab"
)
LXP = "LocalExperiencePack/de-de/LanguageExperiencePack.de-DE.Neutral.appx"
LIC = "LocalExperiencePack/de-de/License.xml"
OFFLINE = {
    "install": ["de-DE"],
    "source": {
        "type": "offline",
        "base": {"url": "https://files.example.com/lof/26100"},
        "files": {LP: H, FOD: H, LXP: H, LIC: H},
    },
    "ui_language": "de-DE",
    "system_locale": "de-DE",
    "culture": "de-DE",
    "home_location": 94,
    "user_languages": [{"language": "de-DE", "input_methods": ["0407:00000407"]}, {"language": "en-US"}],
}


def _spec(languages: Any, sku: str = "win11-24h2-avd") -> dict[str, Any]:
    spec = yaml.safe_load((REPO_ROOT / "images" / "win11-24h2-avd.yml").read_text())
    if sku.startswith("win10"):
        spec["source"].update(offer="windows-10", sku=sku)
        spec["gallery"]["image_definition"].update(hyper_v_generation="V1", security_type="Standard")
    spec["languages"] = languages
    return spec


def _errors(languages: Any, sku: str = "win11-24h2-avd") -> list[str]:
    return validate_image_spec(_spec(languages, sku), today=TODAY, base_dir=REPO_ROOT / "images")


def _normal(languages: Any) -> dict[str, Any]:
    return normalize_image_spec(_spec(languages), today=TODAY, base_dir=REPO_ROOT / "images")


def test_offline_normalises_each_file_to_a_download_and_stays_stable() -> None:
    normal = _normal(copy.deepcopy(OFFLINE))
    out = normal["languages"]
    base = "https://files.example.com/lof/26100/"
    assert out["source"]["files"][LP] == {
        "url": base + LP,
        "blob": None,
        "sha256": H,
        "signer": None,
        "id": base + LP,
    }
    (pkg,) = language_packages(out)
    assert pkg["language"] == "de-DE"
    assert pkg["language_pack"]["download"]["url"] == base + LP
    assert [f["capability"] for f in pkg["features"]] == ["Language.Basic~~~de-DE~0.0.1.0"]
    assert pkg["experience_pack"]["file"] == LXP and pkg["license"]["file"] == LIC
    assert out["copy_to_welcome_screen"] is out["copy_to_new_users"] is True
    assert out["user_languages"][1] == {"language": "en-US", "input_methods": []}
    # A normalised image spec normalises to itself.
    assert normalize_image_spec(normal, today=TODAY, base_dir=REPO_ROOT / "images") == normal


def test_a_file_may_be_a_download_of_its_own() -> None:
    languages = copy.deepcopy(OFFLINE)
    elsewhere = "https://mirror.example.com/de/License.xml"
    languages["source"]["files"][LIC] = {"url": elsewhere, "sha256": H}
    languages["source"]["files"][LP] = {"sha256": H, "signer": {"subject": "CN=Microsoft Corporation"}}
    out = _normal(languages)["languages"]
    assert out["source"]["files"][LIC]["url"] == elsewhere
    assert out["source"]["files"][LP]["signer"] == {"thumbprint": None, "subject": "CN=Microsoft Corporation"}
    assert out["source"]["files"][LP]["url"].endswith(LP)


def test_blob_base_names_each_blob_below_the_prefix() -> None:
    languages = copy.deepcopy(OFFLINE)
    blob = {
        "storage_account": "stavdsoftware",
        "resource_group": "rg-software",
        "container": "languages",
        "prefix": "26100",
    }
    languages["source"]["base"] = {"blob": blob}
    normal = _normal(languages)
    download = normal["languages"]["source"]["files"][LP]
    assert download["blob"]["name"] == f"26100/{LP}"
    assert download["id"] == f"blob://stavdsoftware/languages/26100/{LP}"
    # The sources phase finds these blobs to mint their SAS URLs.
    assert f"blob://stavdsoftware/languages/26100/{LP}" in {d["id"] for d in blob_downloads(normal)}
    assert normalize_image_spec(normal, today=TODAY, base_dir=REPO_ROOT / "images") == normal


def test_no_section_changes_nothing_and_online_has_bounded_retries() -> None:
    out = _normal(None)["languages"]
    assert out["source"] is None and out["install"] == [] and out["ui_language"] is None
    assert language_packages(out) == [] and out["user_languages"] == []
    online = {"install": ["fr-fr"], "source": {"type": "online"}, "ui_language": "fr-FR"}
    normal = _normal(online)
    out = normal["languages"]
    assert out["install"] == ["fr-FR"]
    assert out["source"] == {"type": "online", "attempts": 3, "retry_delay_seconds": 60}
    assert out["user_languages"] == [{"language": "fr-FR", "input_methods": []}]
    assert normalize_image_spec(normal, today=TODAY, base_dir=REPO_ROOT / "images") == normal


def _with(**changes: Any) -> dict[str, Any]:
    languages = copy.deepcopy(OFFLINE)
    for dotted, value in changes.items():
        node = languages
        *parents, last = dotted.split("__")
        for key in parents:
            node = node[key]
        if value is KeyError:
            node.pop(last)
        else:
            node[last] = value
    return languages


FILES = OFFLINE["source"]["files"]


@pytest.mark.parametrize(
    ("languages", "field", "reason"),
    [
        ("de-DE", "languages", "must be a mapping"),
        (_with(install=["xx-YY"]), "languages.install[0]", "is not a language pack Windows 11 offers"),
        (_with(install=["zh-HK"]), "languages.install[0]", "use zh-TW"),
        (_with(install=["en-US"]), "languages.install[0]", "image's own language"),
        (_with(install=["de-DE", "de-de"]), "languages.install[1]", "listed twice"),
        (_with(source=KeyError), "languages.source", "is required when languages.install"),
        (_with(source__type="usb"), "languages.source.type", "must be one of offline, online"),
        (_with(source__base=KeyError), "languages.source.base", "is required"),
        (
            _with(source__base={"url": "http://files.example.com/lof"}),
            "languages.source.base.url",
            "https://",
        ),
        (_with(source__base={"url": "https://x.example.com/?sv=1"}), "languages.source.base.url", "?query"),
        (_with(source__files={**FILES, LP: "nope"}), f"languages.source.files.{LP}", "SHA-256"),
        (
            _with(source__files={**FILES, LP: {"url": "http://x.example.com/a.cab", "sha256": H}}),
            f"languages.source.files.{LP}.url",
            "https://",
        ),
        (
            _with(source__files={**FILES, "setup.exe": H}),
            "languages.source.files.setup.exe",
            "is not a file of the",
        ),
        (
            _with(source__files={**FILES, "Microsoft-Windows-Client-Language-Pack_x64_fr-fr.cab": H}),
            "languages.source.files.Microsoft-Windows-Client-Language-Pack_x64_fr-fr.cab",
            "which languages.install does not list",
        ),
        (
            _with(source__files={k: v for k, v in FILES.items() if k != LP}),
            "languages.source.files",
            "has no language pack for de-DE",
        ),
        (
            _with(source__files={k: v for k, v in FILES.items() if k != LIC}),
            f"languages.source.files.{LXP}",
            "needs the License.xml",
        ),
        (_with(source__files={LP: H, LIC: H}), f"languages.source.files.{LIC}", "belongs to no"),
        (_with(source__attempts=3), "languages.source.attempts", "only with languages.source.type online"),
        (_with(ui_language="fr-FR"), "languages.ui_language", "neither installed"),
        (_with(culture="german"), "languages.culture", "language-region name"),
        (_with(home_location="DE"), "languages.home_location", "GeoID"),
        (
            _with(user_languages=[{"language": "de-DE", "input_methods": ["DE"]}]),
            "languages.user_languages[0].input_methods",
            "input method tips",
        ),
        (
            _with(user_languages=[{"input_methods": []}]),
            "languages.user_languages[0].language",
            "is required",
        ),
        (_with(copy_to_new_users="yes"), "languages.copy_to_new_users", "true or false"),
        (_with(keyboard="de"), "languages.keyboard", "unknown key"),
    ],
)
def test_each_wrong_field_is_named(languages: Any, field: str, reason: str) -> None:
    errors = _errors(languages)
    assert any(e.startswith(f"{field}: ") and reason in e for e in errors), errors


@pytest.mark.parametrize(
    ("source", "field"),
    [
        ({"type": "online", "attempts": 0}, "attempts"),
        ({"type": "online", "retry_delay_seconds": 3601}, "retry_delay_seconds"),
    ],
)
def test_online_retries_are_bounded(source: dict[str, Any], field: str) -> None:
    errors = _errors({"install": ["de-DE"], "source": source})
    assert any(e.startswith(f"languages.source.{field}: must be an integer") for e in errors), errors


def test_windows_11_languages_are_refused_on_windows_10() -> None:
    errors = _errors({"install": ["vi-VN"], "source": {"type": "online"}}, sku="win10-22h2-avd")
    assert any("not a language pack Windows 10 offers" in e for e in errors), errors
    assert _errors({"install": ["vi-VN"], "source": {"type": "online"}}) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (LP, ("language_pack", "de-de", None)),
        ("Microsoft-Windows-Client-Language-Pack_x64_sr-latn-rs.cab", ("language_pack", "sr-latn-rs", None)),
        (FOD, ("feature", "de-de", "Basic")),
        (LXP, ("experience_pack", "de-DE", None)),
        (LIC, ("license", None, None)),
        ("Microsoft-Windows-Client-Language-Pack_x86_de-de.cab", ("unknown", None, None)),
    ],
)
def test_iso_file_names(name: str, expected: tuple[Any, ...]) -> None:
    assert classify(name) == expected
