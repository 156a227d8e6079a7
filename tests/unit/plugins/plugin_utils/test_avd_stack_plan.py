"""The AVD software stack as application entries and the steps around them (role avd_stack)."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.plugin_utils import _avd_stack  # noqa: E402
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.spec import normalize_image_spec  # noqa: E402

from tests.support.avd_stack_spec import FULL, TODAY, spec  # noqa: E402

WORK = "C:\\ProgramData\\avd-golden\\avd-stack\\"


def stack(part: dict[str, Any] | None = None) -> dict[str, Any]:
    return normalize_image_spec(spec(FULL if part is None else part), TODAY)["avd_stack"]


def by_name(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["source"]: e for e in plan["applications"]}


def test_microsofts_order_and_silent_switches() -> None:
    plan = _avd_stack.plan(stack(), WORK)
    assert [(e["source"], e["kind"], e["arguments"]) for e in plan["applications"]] == [
        ("avd_stack.vc_redist", "exe", "/install /quiet /norestart"),
        ("avd_stack.fslogix", "exe", "/install /quiet /norestart"),
        ("avd_stack.teams.webrtc_redirector", "msi", ""),
        ("avd_stack.teams.webview2", "exe", "/silent /install"),
        (
            "avd_stack.teams.bootstrapper",
            "exe",
            '-p -o "C:\\ProgramData\\avd-golden\\avd-stack\\teams\\MSTeams-x64.msix"',
        ),
        ("avd_stack.multimedia_redirection", "msi", ""),
        ("avd_stack.onedrive", "exe", "/allusers"),
        (
            "avd_stack.m365_apps",
            "exe",
            '/configure "C:\\ProgramData\\avd-golden\\avd-stack\\m365\\configuration.xml"',
        ),
    ]
    # Each entry is a full normalised application entry (docs/contracts.md, "Applications").
    for entry in plan["applications"]:
        assert set(entry) == {
            "name",
            "kind",
            "version",
            "download",
            "package",
            "arguments",
            "exit_codes",
            "reboot_exit_codes",
            "detection",
            "timeout_minutes",
            "source",
        }
        assert [k for k, v in entry["detection"].items() if v] != [], entry
        assert entry["download"]["sha256"] == "ab" * 32


def test_detection_per_component() -> None:
    apps = by_name(_avd_stack.plan(stack(), WORK))
    assert apps["avd_stack.fslogix"]["detection"]["file"] == {
        "path": "C:\\Program Files\\FSLogix\\Apps\\frxsvc.exe",
        "version": "3.26.826.17182",
    }
    assert apps["avd_stack.teams.webrtc_redirector"]["detection"]["product_code"] == (
        "{11111111-2222-3333-4444-555555555555}"
    )
    assert apps["avd_stack.teams.bootstrapper"]["detection"]["file"]["path"] == (
        "C:\\Program Files\\WindowsApps\\MSTeams_25044.2208.3471.2155_x64__8wekyb3d8bbwe\\ms-teams.exe"
    )
    office = apps["avd_stack.m365_apps"]
    # The entry is the Office build ODT installs; its download is the tool (setup.exe).
    assert office["version"] == "16.0.12345.20000"
    assert office["download"]["url"].endswith("/setup.exe")
    assert office["detection"]["registry"] == {
        "key": "HKLM\\SOFTWARE\\Microsoft\\Office\\ClickToRun\\Configuration",
        "name": "VersionToReport",
        "value": "16.0.12345.20000",
    }
    assert 1638 in apps["avd_stack.vc_redist"]["exit_codes"]
    assert 1638 not in apps["avd_stack.fslogix"]["exit_codes"]


def test_registry_before_the_installs() -> None:
    plan = _avd_stack.plan(stack(), WORK)
    assert [(i["key"], i["name"], i["data"]) for i in plan["registry"]] == [
        ("SOFTWARE\\Microsoft\\OneDrive", "AllUsersInstall", 1),
        (
            "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run",
            "OneDrive",
            "C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe /background",
        ),
        ("SOFTWARE\\Microsoft\\Teams", "IsWVDEnvironment", 1),
    ]


def test_teams_and_office_steps() -> None:
    plan = _avd_stack.plan(stack(), WORK)
    assert plan["teams"]["msix_path"] == "C:\\ProgramData\\avd-golden\\avd-stack\\teams\\MSTeams-x64.msix"
    assert (plan["teams"]["package_name"], plan["teams"]["version"]) == ("MSTeams", "25044.2208.3471.2155")
    office = plan["m365_apps"]
    root = ET.fromstring(office["xml"])  # noqa: S314 (our own output)
    assert root.find("Logging").get("Path") == office["logs"]
    assert root.find("Add").get("Version") == office["version"]
    assert office["products"] == ["O365ProPlusRetail"]
    assert (office["platform"], office["shared_computer_activation"]) == ("x64", "1")


@pytest.mark.parametrize(
    ("part", "sources"),
    [
        ({"fslogix": FULL["fslogix"]}, ["avd_stack.fslogix"]),
        ({"onedrive": FULL["onedrive"]}, ["avd_stack.onedrive"]),
        (
            {"vc_redist": FULL["vc_redist"], "multimedia_redirection": FULL["multimedia_redirection"]},
            ["avd_stack.vc_redist", "avd_stack.multimedia_redirection"],
        ),
    ],
)
def test_only_the_parts_given(part: dict[str, Any], sources: list[str]) -> None:
    plan = _avd_stack.plan(stack(part), WORK)
    assert [e["source"] for e in plan["applications"]] == sources
    assert plan["teams"] is None and plan["m365_apps"] is None


def test_empty_stack_plans_nothing() -> None:
    plan = _avd_stack.plan(stack({}), WORK)
    assert plan == {"applications": [], "checks": [], "registry": [], "teams": None, "m365_apps": None}
    assert _avd_stack.manifest_info(stack({})) == {}


def test_manifest_info_has_versions_and_hashes_never_a_query() -> None:
    data = spec({"fslogix": {**FULL["fslogix"]}})
    data["avd_stack"]["fslogix"]["download"] = {
        "blob": {
            "storage_account": "stavdsw",
            "resource_group": "rg-sw",
            "container": "soft",
            "name": "FSLogix.exe",
        },
        "sha256": "CD" * 32,
    }
    info = _avd_stack.manifest_info(normalize_image_spec(data, TODAY)["avd_stack"])
    assert info == {
        "fslogix": {
            "version": "3.26.826.17182",
            "sha256": "cd" * 32,
            "download": "blob://stavdsw/soft/FSLogix.exe",
        }
    }
    full = _avd_stack.manifest_info(stack())
    assert set(full) == {"vc_redist", "fslogix", "multimedia_redirection", "onedrive", "teams", "m365_apps"}
    assert set(full["teams"]) == {"webrtc_redirector", "webview2", "bootstrapper", "msix"}
    assert full["m365_apps"]["odt"]["version"] == "16.0.18129.20100"
    assert full["m365_apps"]["version"] == "16.0.12345.20000"


def _as_written(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as a user would write it in `applications` (the download and detection as given)."""
    download = {k: entry["download"][k] for k in ("url", "blob", "sha256") if entry["download"][k]}
    detection = {k: v for k, v in entry["detection"].items() if v}
    return {
        "name": entry["name"],
        "kind": entry["kind"],
        "version": entry["version"],
        "download": download,
        "arguments": entry["arguments"],
        "exit_codes": entry["exit_codes"],
        "detection": detection,
        "timeout_minutes": entry["timeout_minutes"],
    }


def test_every_entry_is_one_the_applications_section_would_normalise_to() -> None:
    # The same validator as the image spec's applications (docs/contracts.md section 12).
    from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.applications import check_application
    from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import Checker

    for entry in _avd_stack.plan(stack(), WORK)["applications"]:
        c = Checker(TODAY)
        normal = check_application(c, _as_written(entry), "applications[0]")
        assert c.errors == [], (entry["name"], c.errors)
        assert {**normal, "source": entry["source"]} == entry


def _detected(plan: dict[str, Any], **override: dict[str, Any]) -> dict[str, Any]:
    apps = []
    for check in plan["checks"]:
        hit = {"name": check["name"], "installed": True, "version": check["version"]}
        apps.append({**hit, **override.get(check["name"], {})})
    return {"applications": apps}


C2R_OK = {
    "properties": {
        "ProductReleaseIds": {"value": "O365ProPlusRetail"},
        "Platform": {"value": "x64"},
        "SharedComputerLicensing": {"value": "1"},
    }
}


def test_problems_none_when_everything_is_as_pinned() -> None:
    plan = _avd_stack.plan(stack(), WORK)
    assert [c["name"] for c in plan["checks"]][-1] == "Microsoft Teams (provisioned)"
    assert _avd_stack.problems(plan, _detected(plan), C2R_OK) == []
    # A newer VC++ runtime serves too (its installer exits 1638).
    newer = {"Visual C++ Redistributable (x64)": {"installed": False, "version": "14.50.1.0"}}
    assert _avd_stack.problems(plan, _detected(plan, **newer), C2R_OK) == []


def test_problems_name_the_field_and_what_is_wrong() -> None:
    plan = _avd_stack.plan(stack(), WORK)
    wrong = {
        "Microsoft FSLogix Apps": {"installed": False, "version": "3.25.626.21064"},
        "Microsoft Teams (provisioned)": {"installed": False, "version": None},
        "Visual C++ Redistributable (x64)": {"installed": False, "version": "14.0.1.0"},
    }
    c2r = {"properties": {**C2R_OK["properties"], "Platform": {"value": "x86"}}}
    found = _avd_stack.problems(plan, _detected(plan, **wrong), c2r)
    assert found == [
        "avd_stack.vc_redist: Visual C++ Redistributable (x64) is not installed at 14.44.35211.0 after its "
        "installer ran (found 14.0.1.0): C:\\Windows\\System32\\vcruntime140.dll is missing or at another "
        "version (is the pin the file's?)",
        "avd_stack.fslogix: Microsoft FSLogix Apps is not installed at 3.26.826.17182 after its installer "
        "ran (found 3.25.626.21064): C:\\Program Files\\FSLogix\\Apps\\frxsvc.exe is missing or at another "
        "version (is the pin the file's?)",
        "avd_stack.teams.msix: Microsoft Teams (provisioned) is not installed at 25044.2208.3471.2155 after "
        "its installer ran: MSTeams is not provisioned at that version",
        "avd_stack.m365_apps.architecture: Click-to-Run records 'x86', not 'x64'",
    ]
