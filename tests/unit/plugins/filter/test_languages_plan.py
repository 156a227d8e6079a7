"""The languages phase's plan: components and files per language, online components, the region
and settings arguments, the manifest items, the restore list and the redacted download errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.filter import languages as filt  # noqa: E402
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.spec import normalize_image_spec  # noqa: E402
from ansible_collections.avd.golden.plugins.plugin_utils._languages import (  # noqa: E402
    download_errors,
    languages_plan,
    redact_url_query,
    tasks_to_restore,
)

H = "cd" * 32
DIR = "C:\\Windows\\Temp\\avd-languages"
LP = "x64/langpacks/Microsoft-Windows-Client-Language-Pack_x64_de-de.cab"
FOD = "Microsoft-Windows-LanguageFeatures-OCR-de-de-Package~31bf3856ad364e35~amd64~~.cab"
LXP = "LocalExperiencePack/de-de/LanguageExperiencePack.de-DE.Neutral.appx"
LIC = "LocalExperiencePack/de-de/License.xml"
BLOB = {"storage_account": "stavdsoftware", "resource_group": "rg-software", "container": "languages"}


def _languages(section: dict) -> dict:
    spec = yaml.safe_load((REPO_ROOT / "images" / "win11-24h2-avd.yml").read_text())
    spec["languages"] = section
    return normalize_image_spec(spec, today="2026-11-27", base_dir=REPO_ROOT / "images")["languages"]


def test_offline_plan_lists_components_in_install_order_with_their_files() -> None:
    section = {
        "install": ["de-DE"],
        "source": {"type": "offline", "base": {"blob": BLOB}, "files": {LXP: H, LIC: H, FOD: H, LP: H}},
        "culture": "de-CH",
        "home_location": 223,
        "system_locale": "de-DE",
        "ui_language": "de-DE",
    }
    plan = languages_plan(_languages(section), DIR)
    assert [(c["kind"], c["name"]) for c in plan["components"]] == [
        ("language_pack", "de-DE"),
        ("feature", "Language.OCR~~~de-DE~0.0.1.0"),
        ("experience_pack", "Microsoft.LanguageExperiencePackde-DE"),
    ]
    lxp = plan["components"][2]
    assert lxp["path"] == f"{DIR}\\de-DE\\LanguageExperiencePack.de-DE.Neutral.appx"
    assert lxp["license_path"] == f"{DIR}\\de-DE\\License.xml"
    assert [(f["component"], f["dest"].rsplit("\\", 1)[-1]) for f in plan["files"]] == [
        ("language_pack/de-DE", "Microsoft-Windows-Client-Language-Pack_x64_de-de.cab"),
        ("feature/Language.OCR~~~de-DE~0.0.1.0", FOD),
        (
            "experience_pack/Microsoft.LanguageExperiencePackde-DE",
            "LanguageExperiencePack.de-DE.Neutral.appx",
        ),
        ("experience_pack/Microsoft.LanguageExperiencePackde-DE", "License.xml"),
    ]
    assert (
        plan["files"][0]["url"] is None and plan["files"][0]["id"] == f"blob://stavdsoftware/languages/{LP}"
    )
    assert {f["folder"] for f in plan["files"]} == {f"{DIR}\\de-DE"}
    assert plan["region"] == {"format": "de-CH", "location": "223", "unicode_language": "de-DE"}
    assert [i["name"] for i in plan["region_items"]] == [
        "setting/culture",
        "setting/home_location",
        "setting/system_locale",
    ]
    assert all(c["before"] is None for c in plan["region_changes"])
    assert plan["settings"]["user_languages"] == [{"language": "de-DE", "input_methods": []}]
    assert [i["name"] for i in plan["items"]][-2:] == ["setting/ui_language", "setting/user_languages"]


def test_online_plan_has_one_component_per_language_and_the_retry_bounds() -> None:
    plan = languages_plan(
        _languages({"install": ["fr-FR", "it-IT"], "source": {"type": "online", "attempts": 5}}), DIR
    )
    assert plan["components"] == [
        {"language": "fr-FR", "kind": "online", "name": "fr-FR"},
        {"language": "it-IT", "kind": "online", "name": "it-IT"},
    ]
    assert plan["files"] == [] and (plan["attempts"], plan["retry_delay_seconds"]) == (5, 60)
    assert plan["region"] == {} and plan["region_items"] == []


def test_no_section_plans_nothing() -> None:
    plan = languages_plan(_languages(None), DIR)
    assert plan["components"] == plan["files"] == plan["items"] == []


def test_the_filter_refuses_what_is_not_a_normalised_section() -> None:
    with pytest.raises(AnsibleFilterError, match="normalised languages section"):
        filt.FilterModule().filters()["languages_plan"]({"install": ["de-DE"]}, DIR)
    with pytest.raises(AnsibleFilterError, match="download_dir"):
        filt.FilterModule().filters()["languages_plan"](_languages(None), "")


def test_restore_lists_only_the_tasks_the_disable_step_changed() -> None:
    changes = [
        {"path": "\\A\\", "name": "Installation", "before": "Ready", "after": "Disabled", "source": None},
        {"path": "\\A\\", "name": "Other", "before": "Disabled", "after": "Ready", "source": None},
    ]
    assert tasks_to_restore(changes) == [{"path": "\\A\\", "name": "Installation", "enabled": True}]
    assert tasks_to_restore(None) == []


def test_download_errors_name_the_file_and_hide_the_sas() -> None:
    url = "https://stavdsoftware.blob.core.windows.net/languages/x.cab?sv=2024&sig=SECRETSIG"
    results = {
        "results": [
            {"failed": False, "item": {"file": "ok.cab"}},
            {
                "failed": True,
                "msg": f"Error downloading '{url}' to 'C:\\x.cab': 403 Forbidden",
                "item": {"file": LP, "component": "language_pack/de-DE", "language": "de-DE"},
            },
        ]
    }
    (line,) = download_errors(results)
    assert line.startswith(f"{LP} (language_pack/de-DE, de-DE): ") and "403 Forbidden" in line
    assert "SECRETSIG" not in line and "x.cab?<redacted>" in line
    assert redact_url_query("no url here") == "no url here"
