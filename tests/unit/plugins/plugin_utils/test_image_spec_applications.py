"""The applications section: every field checked, errors named by field, the normalised entry."""

# ruff: noqa: E501 - one bad spec and its error per line reads best as a table

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.applications import (  # noqa: E402
    check_applications,
)
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import Checker  # noqa: E402

SHA = "A" * 64
CODE = "{23170f69-40c1-2702-2409-000001000000}"


def _check(apps: Any) -> tuple[list[dict[str, Any]], list[str]]:
    c = Checker(dt.date(2026, 1, 1))
    return check_applications(c, {"applications": apps}), c.errors


def msi(**over: Any) -> dict[str, Any]:
    base = {
        "name": "7-Zip",
        "kind": "msi",
        "version": "24.09",
        "download": {"url": "https://downloads.example.com/7z2409-x64.msi", "sha256": SHA},
        "detection": {"product_code": CODE},
    }
    return {**base, **over}


def test_an_msi_normalises_with_the_defaults() -> None:
    entries, errors = _check([msi()])
    assert errors == []
    assert entries == [
        {
            "name": "7-Zip",
            "kind": "msi",
            "version": "24.09",
            "download": {
                "url": "https://downloads.example.com/7z2409-x64.msi",
                "blob": None,
                "sha256": SHA.lower(),
                "signer": None,
                "id": "https://downloads.example.com/7z2409-x64.msi",
            },
            "package": None,
            "arguments": "",
            "exit_codes": [0, 3010, 1641],
            "reboot_exit_codes": [3010, 1641],
            "detection": {"product_code": CODE.upper(), "registry": None, "file": None, "package_name": None},
            "timeout_minutes": 30,
            "source": "applications[0]",
        }
    ]


def test_packages_and_other_kinds_normalise() -> None:
    apps = [
        {"name": "Git", "kind": "winget", "version": "2.47.1", "package": {"id": "Git.Git"}},
        {"name": "VLC", "kind": "choco", "version": "3.0.21", "package": {"id": "vlc"}, "arguments": "/NoDesktop"},
        {
            "name": "Notes",
            "kind": "msix",
            "version": "1.4.2.0",
            "download": {"blob": {"storage_account": "stsw", "resource_group": "rg-sw", "container": "apps",
                                  "name": "notes/Notes.msixbundle"}, "sha256": SHA},
            "detection": {"package_name": "Contoso.Notes"},
        },
        {
            "name": "Npp",
            "kind": "exe",
            "version": "8.7.1",
            "download": {"url": "https://x.example.com/npp.exe", "sha256": SHA},
            "detection": {"file": {"path": r"C:\Program Files\Notepad++\notepad++.exe", "version": "8.7.1.0"}},
            "exit_codes": [0, 1, 3010],
        },
    ]  # fmt: skip
    entries, errors = _check(apps)
    assert errors == []
    git, vlc, notes, npp = entries
    assert git["package"] == {"id": "Git.Git", "source": "winget"} and git["download"] is None
    assert vlc["package"] == {"id": "vlc", "source": None} and vlc["arguments"] == "/NoDesktop"
    assert notes["download"]["id"] == "blob://stsw/apps/notes/Notes.msixbundle"
    assert notes["detection"]["package_name"] == "Contoso.Notes"
    assert npp["arguments"] == "/quiet /norestart"
    assert npp["exit_codes"] == [0, 1, 3010] and npp["reboot_exit_codes"] == [3010]


@pytest.mark.parametrize(
    ("app", "error"),
    [
        (msi(version="latest"), "applications[0].version: must be a pinned version, never 'latest'"),
        (msi(version=24.09), "applications[0].version: must be a quoted string"),
        (msi(version=">=1.0"), "applications[0].version: must be a pinned version like 1.2.3"),
        (msi(kind="zip"), "applications[0].kind: must be one of msi, exe, msix, winget, choco"),
        (msi(name="a/b"), "applications[0].name: must be 1-64 letters"),
        (msi(download=None), "applications[0].download: is required"),
        (msi(download={"url": "http://x.example.com/a.msi", "sha256": SHA}), "applications[0].download.url: must be an https:// URL"),
        (msi(download={"url": "https://x.example.com/a.exe", "sha256": SHA}), "applications[0].download.url: must name a .msi file for kind msi, got 'a.exe'"),
        (msi(download={"url": "https://x.example.com/a.msi"}), "applications[0].download.sha256: is required"),
        (msi(detection=None), "applications[0].detection: is required"),
        (msi(detection={"product_code": "7zip"}), "applications[0].detection.product_code: must be a GUID in braces"),
        (msi(detection={"file": {"path": "C:\\a.exe"}}), "applications[0].detection: a msi is detected by exactly one of product_code, got file"),
        (msi(detection={"product_code": CODE, "file": {"path": "C:\\a"}}), "applications[0].detection: a msi is detected by exactly one of product_code, got product_code, file"),
        (msi(kind="exe", download={"url": "https://x.example.com/a.exe", "sha256": SHA},
             detection={"registry": {"key": r"HKCU\Software\X", "name": "V"}}), "applications[0].detection.registry.key: must be a key under HKLM"),
        (msi(kind="exe", download={"url": "https://x.example.com/a.exe", "sha256": SHA},
             detection={"file": {"path": "app.exe"}}), "applications[0].detection.file.path: must be an absolute path"),
        (msi(kind="exe", download={"url": "https://x.example.com/a.exe", "sha256": SHA},
             detection={"file": {"path": "C:\\a.exe", "version": 8}}), "applications[0].detection.file.version: must be a quoted file version"),
        (msi(exit_codes=[0, 0]), "applications[0].exit_codes[1]: 0 is listed twice"),
        (msi(exit_codes=["0"]), "applications[0].exit_codes[0]: must be an integer exit code"),
        (msi(exit_codes=[]), "applications[0].exit_codes: must be a non-empty list"),
        (msi(timeout_minutes=0), "applications[0].timeout_minutes: must be an integer from 1 to 240"),
        (msi(arguments=["/qn"]), "applications[0].arguments: must be a string"),
        (msi(package={"id": "x"}), "applications[0].package: is for winget and choco packages"),
        (msi(silent="/qn"), "applications[0].silent: unknown key"),
        ({"name": "Git", "kind": "winget", "version": "2.47.1"}, "applications[0].package: is required"),
        ({"name": "Git", "kind": "winget", "version": "2.47.1", "package": {"id": "git"}}, "applications[0].package.id: must be Publisher.Name"),
        ({"name": "Git", "kind": "winget", "version": "2.47.1", "package": {"id": "Git.Git"}, "arguments": "/S"},
         "applications[0].arguments: are not used for winget"),
        ({"name": "Git", "kind": "winget", "version": "2.47.1", "package": {"id": "Git.Git"}, "exit_codes": [0]},
         "applications[0].exit_codes: are not used for winget"),
        ({"name": "Git", "kind": "winget", "version": "2.47.1", "package": {"id": "Git.Git"}, "detection": {}},
         "applications[0].detection: is not used for winget"),
        ({"name": "VLC", "kind": "choco", "version": "3.0.21", "package": {"id": "vlc", "source": "http://feed"}},
         "applications[0].package.source: must be an https:// feed URL"),
        ({"name": "VLC", "kind": "choco", "version": "3.0.21", "package": {"id": "vlc"},
          "download": {"url": "https://x.example.com/a.nupkg", "sha256": SHA}}, "applications[0].download: is for msi, exe and msix"),
        ("7-Zip", "applications[0]: must be a mapping"),
    ],
)  # fmt: skip
def test_each_bad_field_is_named(app: Any, error: str) -> None:
    _, errors = _check([app])
    assert any(e.startswith(error) for e in errors), errors


def test_names_are_unique_case_insensitively() -> None:
    _, errors = _check([msi(), msi(name="7-zip")])
    assert errors == [
        "applications[1].name: '7-zip' is already the name of applications[0] (names are unique)"
    ]


def test_the_section_is_a_list_and_optional() -> None:
    assert _check(None) == ([], [])
    assert _check({"a": 1})[1] == ["applications: must be a list of applications, got mapping"]


def test_a_secret_in_the_download_url_is_refused_without_echoing_it() -> None:
    _, errors = _check([msi(download={"url": "https://x.example.com/a.msi?sig=SECRET", "sha256": SHA})])
    assert errors and not any("SECRET" in e for e in errors)
