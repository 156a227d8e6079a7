"""avd.golden.win_appx_remove (simulated): check mode, apply, idempotence, wildcards, every user's
copy before the provisioned package (nothing left installed-for-a-user-but-not-provisioned), system
apps that refuse (fail or warn) and argument errors."""

from __future__ import annotations

import copy

from sandbox.windows.modules.appx import CHECK_MODE_ERROR

MODULE = "avd.golden.win_appx_remove"
PACKAGES = [{"name": "Microsoft.BingNews", "source": "appx.remove"}, {"name": "microsoft.xbox*"}]
XBOX = ["Microsoft.Xbox.TCUI", "Microsoft.XboxGamingOverlay", "Microsoft.XboxIdentityProvider"]
XBOX += ["Microsoft.XboxSpeechToTextOverlay"]


def _installed(guest, name):
    return sorted(u for u, pkgs in guest.appx_user.items() for p in pkgs if p["name"].lower() == name.lower())


def _provisioned(guest, name):
    return [p for p in guest.appx_provisioned if p["name"].lower() == name.lower()]


def _snapshot(guest):
    return copy.deepcopy((guest.appx_user, guest.appx_provisioned))


def test_check_mode_reports_the_same_removals_and_removes_nothing(run, guest):
    before = _snapshot(guest)
    check = run(MODULE, {"packages": PACKAGES}, check=True, diff=True)
    assert _snapshot(guest) == before
    done = run(MODULE, {"packages": PACKAGES}, diff=True)
    assert check["changed"] is True and done["changed"] is True
    assert check["removed"] == done["removed"] and check["diff"] == done["diff"]
    assert [r["name"] for r in done["removed"]] == ["Microsoft.BingNews", *XBOX]
    news = done["removed"][0]
    assert news == {
        "name": "Microsoft.BingNews",
        "provisioned": ["Microsoft.BingNews_4.55.62231.0_neutral_~_8wekyb3d8bbwe"],
        "users": ["Microsoft.BingNews_4.55.62231.0_x64__8wekyb3d8bbwe"],
        "source": "appx.remove",
    }
    assert done["not_present"] == [] and done["not_removed"] == []
    assert done["diff"]["before"]["packages"] == ["Microsoft.BingNews", *XBOX]
    assert done["diff"]["after"]["packages"] == []
    for name in ["Microsoft.BingNews", *XBOX]:
        assert _installed(guest, name) == [] and _provisioned(guest, name) == []
    assert guest.appx_not_provisioned() == []


def test_second_run_reports_nothing_present(run):
    run(MODULE, {"packages": PACKAGES})
    again = run(MODULE, {"packages": PACKAGES})
    assert again["changed"] is False and again["removed"] == []
    assert again["not_present"] == ["Microsoft.BingNews", "microsoft.xbox*"]


def test_every_users_copy_in_any_version(run, guest):
    # A second profile with the package, and a Store update of Copilot for the admin only.
    guest.appx_user["avduser"] = [p for p in guest.appx_user["avdadmin"] if p["name"] == "Microsoft.Copilot"]
    guest.inject_fault({"kind": "user_appx", "package": "Microsoft.Copilot"})
    assert guest.appx_not_provisioned() != []
    result = run(MODULE, {"packages": [{"name": "Microsoft.Copilot"}]})
    assert result["removed"][0]["users"] == [
        "Microsoft.Copilot_1.25034.133.0_x64__8wekyb3d8bbwe",
        "Microsoft.Copilot_1.25035.133.0_x64__8wekyb3d8bbwe",
    ]
    assert _installed(guest, "Microsoft.Copilot") == [] and _provisioned(guest, "Microsoft.Copilot") == []
    assert guest.appx_not_provisioned() == []


def test_a_user_only_package_is_removed_for_users(run, guest):
    guest.inject_fault(
        {"kind": "user_appx", "package": "Microsoft.WidgetsPlatformRuntime", "version": "1.4.0.0"}
    )
    result = run(MODULE, {"packages": [{"name": "Microsoft.WidgetsPlatformRuntime"}]})
    assert result["removed"] == [
        {
            "name": "Microsoft.WidgetsPlatformRuntime",
            "provisioned": [],
            "users": ["Microsoft.WidgetsPlatformRuntime_1.4.0.0_x64__8wekyb3d8bbwe"],
            "source": None,
        }
    ]
    assert guest.appx_not_provisioned() == []


def test_a_failed_provisioned_removal_leaves_nothing_user_only(run, guest):
    # Users' copies go first: when deprovisioning then fails, the package is still provisioned.
    _provisioned(guest, "Microsoft.BingWeather")[0]["non_removable"] = True
    result = run(MODULE, {"packages": [{"name": "Microsoft.BingWeather", "on_failure": "warn"}]})
    assert result["changed"] is True and result["removed"] == []
    assert "failed" not in result and result["not_removed"] == [
        {
            "name": "Microsoft.BingWeather",
            "package": "Microsoft.BingWeather_4.54.63007.0_neutral_~_8wekyb3d8bbwe",
            "error": "The request is not supported.",
            "on_failure": "warn",
            "source": None,
        }
    ]
    assert _installed(guest, "Microsoft.BingWeather") == [] and _provisioned(guest, "Microsoft.BingWeather")
    assert guest.appx_not_provisioned() == []


def test_a_system_app_fails_naming_it_after_the_others_are_removed(run, guest):
    items = [{"name": "Microsoft.SecHealthUI"}, {"name": "Microsoft.BingNews"}]
    check = run(MODULE, {"packages": items}, check=True)
    result = run(MODULE, {"packages": items})
    full = "Microsoft.SecHealthUI_1000.27703.1006.0_x64__8wekyb3d8bbwe"
    assert result["failed"] is True
    assert result["msg"].startswith(f"AppX packages not removed: Microsoft.SecHealthUI ({full}): ")
    [refused] = result["not_removed"]
    assert refused["name"] == "Microsoft.SecHealthUI" and refused["package"] == full
    assert "error 0x80070032: AppX Deployment Remove operation on package " + full in refused["error"]
    assert "This app is part of Windows and cannot be uninstalled on a per-user basis." in refused["error"]
    assert [r["name"] for r in result["removed"]] == ["Microsoft.BingNews"]
    assert _installed(guest, "Microsoft.SecHealthUI") == ["avdadmin"]
    assert _provisioned(guest, "Microsoft.SecHealthUI")
    # Check mode predicts the refusal from NonRemovable, and the same removals.
    assert check["failed"] is True and check["not_removed"][0]["error"] == CHECK_MODE_ERROR
    assert [r["name"] for r in check["removed"]] == ["Microsoft.BingNews"]
    assert guest.appx_not_provisioned() == []


def test_a_system_app_with_on_failure_warn_warns(run, guest):
    result = run(
        MODULE, {"packages": [{"name": "Microsoft.SecHealthUI", "on_failure": "warn", "source": "x"}]}
    )
    assert "failed" not in result and result["changed"] is False
    full = "Microsoft.SecHealthUI_1000.27703.1006.0_x64__8wekyb3d8bbwe"
    assert result["not_removed"][0]["on_failure"] == "warn" and result["not_removed"][0]["source"] == "x"
    [warning] = result["warnings"]
    assert warning.startswith(
        f"AppX package Microsoft.SecHealthUI ({full}) was not removed: Deployment failed"
    )


def test_frameworks_never_match(run, guest):
    result = run(MODULE, {"packages": [{"name": "Microsoft.VCLibs*"}, {"name": "Microsoft.UI.Xaml.2.8"}]})
    assert (
        result["not_present"] == ["Microsoft.VCLibs*", "Microsoft.UI.Xaml.2.8"] and result["changed"] is False
    )
    assert _installed(guest, "Microsoft.VCLibs.140.00") == ["avdadmin"]


def test_a_package_two_items_match_is_handled_once(run):
    result = run(MODULE, {"packages": [{"name": "Microsoft.Xbox*"}, {"name": "Microsoft.XboxGamingOverlay"}]})
    assert [r["name"] for r in result["removed"]] == XBOX and result["not_present"] == []


def test_argument_errors(run):
    assert run(MODULE, {})["msg"] == "missing required arguments: packages"
    assert run(MODULE, {"packages": [{"name": "x", "on_failure": "skip"}]})["msg"] == (
        "value of on_failure must be one of: fail, warn. Got no match for: skip found in packages"
    )
    assert run(MODULE, {"packages": [{"on_failure": "warn"}]})["msg"] == (
        "missing required arguments: name found in packages"
    )


def test_sysprep_generalizes_after_removing_what_the_store_updated(run, guest):
    guest.inject_fault({"kind": "user_appx", "package": "Microsoft.Copilot"})
    packages = [{"name": "Microsoft.Copilot"}, {"name": "Microsoft.Xbox*"}, {"name": "Microsoft.SecHealthUI"}]
    assert run(MODULE, {"packages": packages})["failed"] is True  # the system app refuses, the rest goes
    assert guest.appx_not_provisioned() == []
    run(
        "win_command",
        {"_raw_params": r"C:\Windows\System32\Sysprep\sysprep.exe /generalize /oobe /mode:vm /quit"},
    )
    assert guest.image_state() == "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
