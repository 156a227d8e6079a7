"""The planning and reporting of application installs (plugins/plugin_utils/_applications.py)."""

# ruff: noqa: E501 - entries and messages read best on one line

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.plugin_utils import _applications as apps  # noqa: E402

WORK = r"C:\ProgramData\avd-golden\applications"
SHA = "a" * 64


def entry(name: str = "Contoso Tool", kind: str = "msi", **over: Any) -> dict[str, Any]:
    base = {
        "name": name,
        "kind": kind,
        "version": "1.2.3",
        "download": {"url": "https://dl.example.com/path/contoso%20tool.msi", "blob": None, "sha256": SHA,
                     "signer": {"thumbprint": "AB" * 20, "subject": None}, "id": "https://dl.example.com/path/contoso%20tool.msi"},
        "package": None,
        "arguments": "",
        "exit_codes": [0, 3010, 1641],
        "reboot_exit_codes": [3010, 1641],
        "detection": {"product_code": "{X}", "registry": None, "file": None, "package_name": None},
        "timeout_minutes": 30,
        "source": "applications[0]",
    }  # fmt: skip
    return {**base, **over}


def blob_entry() -> dict[str, Any]:
    download = {"url": None, "blob": {"storage_account": "st", "resource_group": "rg", "container": "c",
                "name": "fslogix/FSLogixAppsSetup.exe"}, "sha256": SHA, "signer": None, "id": "blob://st/c/fslogix/FSLogixAppsSetup.exe"}  # fmt: skip
    return entry("FSLogix", "exe", download=download)


def test_only_downloads_are_detected() -> None:
    winget = entry("Git", "winget", download=None, package={"id": "Git.Git", "source": "winget"})
    items = apps.detection_items([entry(), winget])
    assert items == [
        {"name": "Contoso Tool", "kind": "msi", "version": "1.2.3", "detection": entry()["detection"]}
    ]


def test_plan_skips_what_is_installed_and_places_files() -> None:
    detected = {"applications": [{"name": "contoso tool", "installed": True, "version": "1.2.3"},
                                 {"name": "FSLogix", "installed": False, "version": None}]}  # fmt: skip
    winget = entry("Git", "winget", download=None, package={"id": "Git.Git", "source": "winget"})
    tool, fslogix, git = apps.plan([entry(), blob_entry(), winget], detected, WORK + "\\")
    assert tool["install"] is False and tool["installed_version"] == "1.2.3"
    assert (
        tool["path"] == WORK + r"\Contoso_Tool\contoso tool.msi"
        and tool["log"] == WORK + r"\Contoso_Tool\install.log"
    )
    assert fslogix["install"] and fslogix["path"] == WORK + r"\FSLogix\FSLogixAppsSetup.exe"
    assert git["install"] and git["path"] is None and git["safe_name"] == "Git"


def test_plan_refuses_a_detection_result_that_misses_an_entry() -> None:
    with pytest.raises(ValueError, match="'Contoso Tool': the detection result does not name it"):
        apps.plan([entry()], {"applications": []}, WORK)


@pytest.mark.parametrize(
    ("results", "rc", "reboot"),
    [
        ([{"skipped": True}, {"changed": True, "rc": 0, "reboot_required": False}], 0, False),
        ([{"changed": True, "rc": 3010, "reboot_required": True}], 3010, True),
        ([{"changed": True, "rc": 1641, "reboot_required": False}], 1641, True),
    ],
)
def test_outcome_reads_the_installer_that_ran(results: list[dict[str, Any]], rc: int, reboot: bool) -> None:
    signature = {"subject": "CN=Contoso", "thumbprint": "AB" * 20}
    out = apps.outcome(entry(), results, signature)
    assert out == {
        "name": "Contoso Tool",
        "changed": True,
        "rc": rc,
        "reboot_required": reboot,
        "signer": signature,
    }


def test_manifest_records_what_changed_with_the_verified_signer() -> None:
    plan = apps.plan([entry(), blob_entry()], {"applications": [
        {"name": "Contoso Tool", "installed": False, "version": "1.0.0"}, {"name": "FSLogix", "installed": True, "version": "3"}]}, WORK)  # fmt: skip
    done = [{"name": "Contoso Tool", "changed": True, "rc": 0, "reboot_required": False,
             "signer": {"subject": "CN=Contoso", "thumbprint": "AB" * 20}}]  # fmt: skip
    out = apps.manifest(plan, done, check_mode=False)
    assert [i["name"] for i in out["items"]] == ["Contoso Tool", "FSLogix"]
    assert out["result"]["changes"] == [
        {
            "name": "Contoso Tool",
            "source": "applications[0]",
            "before": {"version": "1.0.0"},
            "after": {
                "kind": "msi",
                "version": "1.2.3",
                "sha256": SHA,
                "signer": {"subject": "CN=Contoso", "thumbprint": "AB" * 20},
            },
        }
    ]
    what_if = apps.manifest(plan, [], check_mode=True)["result"]["changes"]
    assert [c["name"] for c in what_if] == ["Contoso Tool"]


def test_download_failures_name_the_cause_and_never_the_sas() -> None:
    app = blob_entry()
    url = "https://st.blob.core.windows.net/c/fslogix/FSLogixAppsSetup.exe?sv=2024&sig=SECRET"
    missing = {
        "status_code": 404,
        "msg": f"Error downloading '{url}' to 'C:\\x': The remote server returned an error: (404) Not Found.",
    }
    text = apps.download_failure(app, missing)
    assert text.startswith(
        "application 'FSLogix': the download of blob://st/c/fslogix/FSLogixAppsSetup.exe failed: HTTP 404"
    )
    assert "SECRET" not in text and "?<redacted>" in text
    wrong = {"status_code": 200, "msg": f"The checksum for {url} did not match '{SHA}', it was 'bb'"}
    assert "the SHA-256 does not match the image spec's " + SHA in apps.download_failure(app, wrong)
    assert "SECRET" not in apps.download_failure(app, wrong)


def test_failure_names_step_exit_code_and_log_tail() -> None:
    log = "\r\n".join(f"line {i}" for i in range(40)) + "\r\nInstallation success or error status: 1603.\r\n"
    result = {"msg": "unexpected rc from 'msiexec.exe ...'", "rc": 1603, "log": log}
    text = apps.failure(
        entry(),
        "application | Run the MSI or EXE installer",
        result,
        3,
        "/artifacts/applications/Contoso_Tool.log",
    )
    assert text.startswith("application 'Contoso Tool' (msi 1.2.3) failed in 'Run the MSI or EXE installer'")
    assert "exit code 1603" in text and "(the whole log: /artifacts/applications/Contoso_Tool.log)" in text
    assert text.endswith("line 38\nline 39\nInstallation success or error status: 1603.")
    already = "application 'Contoso Tool': the download of x failed: HTTP 404"
    assert (
        apps.failure(entry(), "Fail naming the application and the download's cause", {"msg": already}, 3)
        == already
    )
