"""The simulated language state: avd.golden.win_language_install (real CAB and .appx files, the
LanguageComponentsInstaller race, Install-Language's transient failures), avd.golden.win_language_settings
and ansible.windows.win_region."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sandbox.guest_api import SourceImage
from sandbox.windows.modules import _languages as lang
from tests.support import language_files as lf

INSTALL = "avd.golden.win_language_install"
SETTINGS = "avd.golden.win_language_settings"
DIR = "C:\\Windows\\Temp\\lp"
LP = f"{DIR}\\Microsoft-Windows-Client-Language-Pack_x64_de-de.cab"
WIN10 = SourceImage("MicrosoftWindowsDesktop", "windows-10", "win10-22h2-avd", "19045.5965.250610")


def _put(guest: Any, path: str, local: Path) -> None:
    guest.fs.write(path, local.read_bytes(), make_parents=True)


def _disable_racing_tasks(guest: Any) -> None:
    for path in lang.RACING_TASKS:
        guest.scheduled_tasks[path.lower()]["state"] = "Disabled"


def _components(tmp_path: Path, guest: Any, lp: Path | None = None) -> list[dict[str, Any]]:
    _put(guest, LP, lp or lf.language_pack(tmp_path, "de-DE"))
    fod = lf.feature(tmp_path, "Basic", "de-DE")
    _put(guest, f"{DIR}\\{fod.name}", fod)
    appx, lic = lf.experience_pack(tmp_path / "lxp", "de-DE")
    _put(guest, f"{DIR}\\{appx.name}", appx)
    _put(guest, f"{DIR}\\License.xml", lic)
    return [
        {"language": "de-DE", "kind": "language_pack", "name": "de-DE", "path": LP},
        {
            "language": "de-DE",
            "kind": "feature",
            "name": "Language.Basic~~~de-DE~0.0.1.0",
            "path": f"{DIR}\\{fod.name}",
        },
        {
            "language": "de-DE",
            "kind": "experience_pack",
            "name": "Microsoft.LanguageExperiencePackde-DE",
            "path": f"{DIR}\\{appx.name}",
            "license_path": f"{DIR}\\License.xml",
        },
    ]


def test_offline_install_races_while_the_tasks_are_enabled(run, guest, tmp_path):
    components = _components(tmp_path, guest)
    failed = run(INSTALL, {"components": components})
    assert failed.get("failed") and "0x80070020" in failed["msg"], failed
    assert "de-DE" not in lang.installed_languages(guest)


def test_offline_install_check_then_apply_then_no_change(run, guest, tmp_path):
    components = _components(tmp_path, guest)
    _disable_racing_tasks(guest)
    query = run(
        INSTALL,
        {"components": [{k: v for k, v in c.items() if "path" not in k} for c in components]},
        check=True,
    )
    assert query["pending"] == [
        "language_pack/de-DE",
        "feature/Language.Basic~~~de-DE~0.0.1.0",
        "experience_pack/Microsoft.LanguageExperiencePackde-DE",
    ]
    assert "de-DE" not in lang.installed_languages(guest)
    done = run(INSTALL, {"components": components})
    assert done["changed"] and done["reboot_required"], done
    assert lang.installed_languages(guest)["de-DE"] == "InstallPending"
    assert guest.capabilities["Language.Basic~~~de-DE~0.0.1.0"] == "Installed"
    assert any(p["name"] == "Microsoft.LanguageExperiencePackde-DE" for p in guest.appx_provisioned)
    assert "ComponentBasedServicing" in guest.pending_reboot_reasons()
    guest.reboot()
    assert lang.installed_languages(guest)["de-DE"] == "Installed"
    again = run(INSTALL, {"components": components})
    assert not again["changed"] and again["pending"] == [], again


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda d: lf.language_pack(d, "de-DE", holds="fr-FR"), "the file holds another package"),
        (lambda d: lf.language_pack(d, "de-DE", build="22631"), "0x800F081E"),
        (lambda d: lf.language_pack(d, "de-DE", compress=False), None),
    ],
    ids=["another-language-inside", "another-build", "stored-cab"],
)
def test_a_cab_installs_what_its_update_mum_says(run, guest, tmp_path, make, error):
    components = _components(tmp_path, guest, lp=make(tmp_path))[:1]
    _disable_racing_tasks(guest)
    result = run(INSTALL, {"components": components})
    if error is None:
        assert result["changed"] and "de-DE" in lang.installed_languages(guest), result
    else:
        assert result.get("failed") and error in result["msg"], result
        assert "de-DE" not in lang.installed_languages(guest)


def test_a_file_that_is_not_a_cab_is_refused(run, guest, tmp_path):
    fake = tmp_path / "x.cab"
    fake.write_bytes(b"MZ not a cabinet")
    components = _components(tmp_path, guest, lp=fake)[:1]
    _disable_racing_tasks(guest)
    result = run(INSTALL, {"components": components})
    assert result.get("failed") and "not a Microsoft Cabinet file" in result["msg"], result


def test_a_missing_file_or_license_fails_naming_it(run, guest, tmp_path):
    components = _components(tmp_path, guest)
    _disable_racing_tasks(guest)
    lxp = dict(components[2], license_path=f"{DIR}\\missing.xml")
    result = run(INSTALL, {"components": [lxp]})
    assert (
        result.get("failed")
        and "license_path 'C:\\Windows\\Temp\\lp\\missing.xml' does not exist" in result["msg"]
    )


@pytest.mark.parametrize(("failures", "ok"), [(2, True), (3, False)])
def test_install_language_retries_a_bounded_number_of_times(run, guest, failures, ok):
    _disable_racing_tasks(guest)
    guest.inject_fault({"kind": "language_install_fail", "count": failures})
    args = {
        "components": [{"language": "fr-FR", "kind": "online", "name": "fr-FR"}],
        "attempts": 3,
        "retry_delay_seconds": 60,
    }
    result = run(INSTALL, args)
    assert [(a["attempt"], a["wait_seconds"], a["error"] is None) for a in result["attempts"]] == [
        (1, 60, False),
        (2, 120, False),
        (3, 0, ok),
    ]
    assert len(result.get("warnings", [])) == failures
    assert ("fr-FR" in lang.installed_languages(guest)) is ok
    assert bool(result.get("failed")) is not ok


def test_settings_need_an_installed_language_then_copy_once(run, guest, tmp_path):
    args = {
        "ui_language": "de-DE",
        "user_languages": [{"language": "de-DE"}, {"language": "en-US", "input_methods": ["0409:00000409"]}],
        "copy_to_welcome_screen": True,
        "copy_to_new_users": True,
    }
    refused = run(SETTINGS, args)
    assert refused.get("failed") and "not installed" in refused["msg"], refused
    _disable_racing_tasks(guest)
    run(INSTALL, {"components": _components(tmp_path, guest)[:1]})
    check = run(SETTINGS, args, check=True)
    assert [c["name"] for c in check["changes"]] == [
        "setting/ui_language",
        "setting/user_languages",
        "setting/copy",
    ]
    assert lang.system_ui_language(guest) == "en-US"
    done = run(SETTINGS, args)
    assert done["copy_method"] == "Copy-UserInternationalSettingsToSystem"
    wanted = [
        {"language": "de-DE", "input_methods": ["0407:00000407"]},
        {"language": "en-US", "input_methods": ["0409:00000409"]},
    ]
    for profile in ("admin", "welcome", "default_user"):
        assert lang.read_profile(guest, profile)["languages"] == wanted, profile
    assert lang.system_ui_language(guest) == "de-DE"
    assert not run(SETTINGS, args)["changed"]


def test_region_then_copy_to_the_welcome_screen_on_windows_10(make_guest):
    guest = make_guest(WIN10)

    def call(module: str, args: dict[str, Any], check: bool = False) -> dict[str, Any]:
        return guest.run_module(
            module, args, check_mode=check, diff=False, module_path=f"{module}.ps1", internal={}
        )

    region = {"format": "de-DE", "location": "94", "unicode_language": "de-DE"}
    assert call("ansible.windows.win_region", region, check=True)["changed"]
    assert lang.system_locale(guest) == "en-US"
    done = call("ansible.windows.win_region", region)
    assert done["changed"] and done["restart_required"]
    assert lang.system_locale(guest) == "de-DE"
    assert lang.read_profile(guest, "admin")["culture"] == "de-DE"
    assert not call("ansible.windows.win_region", region)["changed"]
    copy = call(SETTINGS, {"copy_to_welcome_screen": True})
    assert copy["changed"] and copy["copy_method"] == "intl.cpl"
    assert lang.read_profile(guest, "welcome")["home_location"] == 94
    assert lang.read_profile(guest, "default_user")["culture"] == "en-US", "new users were not asked for"
    assert not call(SETTINGS, {"copy_to_welcome_screen": True})["changed"]
    bad = call("ansible.windows.win_region", {"location": "Germany"})
    assert bad.get("failed") and "does not contain a valid Geo ID" in bad["msg"]
