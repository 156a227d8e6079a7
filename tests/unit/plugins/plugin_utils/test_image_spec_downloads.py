"""One download (an HTTPS URL or a blob, its SHA-256 and signer) and the ``downloads`` section.

The naming rules are written out from Azure's storage documentation (account, container and blob
names), not computed from the code under test.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import Checker  # noqa: E402
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.downloads import (  # noqa: E402
    blob_downloads,
    check_download,
    check_downloads_section,
)

SHA = "AB" * 32
BLOB = {"storage_account": "stavdsoftware", "resource_group": "rg-software", "container": "installers"}
FIELD = "applications[0].download"


def run(data: Any) -> tuple[dict[str, Any], list[str]]:
    c = Checker(dt.date(2026, 12, 1))
    return check_download(c, data, FIELD), c.errors


def blob(**changes: Any) -> dict[str, Any]:
    return {"blob": {**BLOB, "name": "fslogix/FSLogixAppsSetup.exe", **changes}, "sha256": SHA}


def test_a_url_download_is_normalised() -> None:
    url = "https://downloads.example.com/FSLogix_25.09.zip?version=2"
    out, errors = run({"url": url, "sha256": SHA, "signer": {"thumbprint": "ab" * 20}})
    assert errors == []
    assert out == {
        "url": url,
        "blob": None,
        "sha256": "ab" * 32,
        "signer": {"thumbprint": "AB" * 20, "subject": None},
        "id": url,
    }


def test_a_blob_download_is_normalised() -> None:
    subject = "CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US"
    out, errors = run({**blob(), "signer": {"subject": subject}})
    assert errors == []
    assert out == {
        "url": None,
        "blob": {**BLOB, "name": "fslogix/FSLogixAppsSetup.exe"},
        "sha256": SHA.lower(),
        "signer": {"thumbprint": None, "subject": subject},
        "id": "blob://stavdsoftware/installers/fslogix/FSLogixAppsSetup.exe",
    }


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        (None, "", "is required"),
        ("https://x.example.com/a.msi", "", "must be a mapping"),
        ({"sha256": SHA}, "", "needs url"),
        ({"url": "https://a.example.com/a", **blob()}, "", "either url or blob"),
        ({"url": "http://a.example.com/a.msi", "sha256": SHA}, ".url", "https://"),
        ({"url": "ftp://a.example.com/a.msi", "sha256": SHA}, ".url", "https://"),
        ({"url": "https:///a.msi", "sha256": SHA}, ".url", "no host"),
        ({"url": "https://a.example.com:99999/a", "sha256": SHA}, ".url", "not a valid URL"),
        ({"url": "https://a.example.com/a b.msi", "sha256": SHA}, ".url", "spaces"),
        ({"url": "https://a.example.com/a.msi#x", "sha256": SHA}, ".url", "fragment"),
        ({"url": "https://a.example.com/a.msi", "sha256": SHA, "mirror": 1}, ".mirror", "unknown key"),
        ({"url": "https://a.example.com/a.msi"}, ".sha256", "is required"),
        ({"url": "https://a.example.com/a.msi", "sha256": SHA[:-1]}, ".sha256", "64 hexadecimal"),
        ({"url": "https://a.example.com/a.msi", "sha256": "g" * 64}, ".sha256", "64 hexadecimal"),
        ({"url": "https://a.example.com/a.msi", "sha256": 12}, ".sha256", "must be a string"),
        ({**blob(), "signer": {}}, ".signer", "exactly one"),
        ({**blob(), "signer": {"thumbprint": "A" * 40, "subject": "CN=x"}}, ".signer", "exactly one"),
        ({**blob(), "signer": {"thumbprint": "A" * 39}}, ".signer.thumbprint", "40 hexadecimal"),
        ({**blob(), "signer": {"subject": " "}}, ".signer.subject", "must not be empty"),
        ({**blob(), "signer": {"issuer": "CN=x"}}, ".signer.issuer", "unknown key"),
        ({**blob(), "signer": "CN=x"}, ".signer", "must be a mapping"),
        ({"blob": "stavd/installers/a.exe", "sha256": SHA}, ".blob", "must be a mapping"),
        ({"blob": {"storage_account": "stavdsoftware"}, "sha256": SHA}, ".blob.container", "is required"),
        (blob(storage_account="st"), ".blob.storage_account", "3-24 lower-case"),
        (blob(storage_account="StAvd"), ".blob.storage_account", "3-24 lower-case"),
        (blob(storage_account="st-avd"), ".blob.storage_account", "3-24 lower-case"),
        (blob(storage_account="a" * 25), ".blob.storage_account", "3-24 lower-case"),
        (blob(resource_group="rg."), ".blob.resource_group", "not ending with a period"),
        (blob(container="ab"), ".blob.container", "3-63"),
        (blob(container="a" * 64), ".blob.container", "3-63"),
        (blob(container="Installers"), ".blob.container", "3-63"),
        (blob(container="-installers"), ".blob.container", "3-63"),
        (blob(container="installers-"), ".blob.container", "3-63"),
        (blob(container="inst--allers"), ".blob.container", "3-63"),
        (blob(container="inst_allers"), ".blob.container", "3-63"),
        (blob(name=""), ".blob.name", "must not be empty"),
        (blob(name="a" * 1025), ".blob.name", "at most 1024"),
        (blob(name="/".join("a" * 255)), ".blob.name", "254 path segments"),
        (blob(name="/a.exe"), ".blob.name", "empty path segment"),
        (blob(name="a//b.exe"), ".blob.name", "empty path segment"),
        (blob(name="setup."), ".blob.name", "must not end with a dot"),
        (blob(name="folder/"), ".blob.name", "must not end with a dot"),
        (blob(name="a\nb"), ".blob.name", "one line"),
        (blob(sas="sv=2024&sig=x"), ".blob.sas", "secrets never go in an image spec"),
        ({**blob(), "sas_token": "x"}, ".sas_token", "secrets never go in an image spec"),
    ],
)
def test_bad_downloads_are_refused_naming_the_field(data: Any, field: str, reason: str) -> None:
    out, errors = run(data)
    assert any(e.startswith(f"{FIELD}{field}: ") and reason in e for e in errors), errors
    if field in (".url", ".blob", ".blob.name", ".blob.container", ".blob.storage_account"):
        assert out["id"] is None


def test_good_names_at_the_limits_are_accepted() -> None:
    for changes in (
        {"storage_account": "abc"},
        {"storage_account": "a" * 24},
        {"container": "a-b"},
        {"container": "a" * 63},
        {"name": "a"},
        {"name": "x" * 1024},
        {"name": "/".join("a" * 254)},
        {"name": "Dir With Spaces/ünïcode setup.EXE"},
        {"resource_group": "rg-soft_ware(1).x"},
    ):
        out, errors = run(blob(**changes))
        assert errors == [], changes
        assert out["blob"] is not None


@pytest.mark.parametrize(
    "url",
    [
        "https://stavd.blob.core.windows.net/c/a.exe?sv=2024-11-04&sp=r&sig=SECRETVALUE",
        "https://stavd.blob.core.windows.net/c/a.exe?SIG=SECRETVALUE",
        "http://stavd.blob.core.windows.net/c/a.exe?sig=SECRETVALUE",
        "https://files.example.com/a.exe?token=SECRETVALUE",
        "https://user:SECRETVALUE@files.example.com/a.exe",
        "http://user:SECRETVALUE@files.example.com/a.exe",
    ],
)
def test_a_url_with_a_secret_is_refused_without_echoing_it(url: str) -> None:
    _, errors = run({"url": url, "sha256": SHA})
    assert len(errors) == 1 and errors[0].startswith(f"{FIELD}.url: ")
    assert "secrets never go in an image spec" in errors[0]
    assert "SECRETVALUE" not in errors[0]


def test_the_downloads_section() -> None:
    def section(data: Any) -> tuple[dict[str, Any], list[str]]:
        c = Checker(dt.date(2026, 12, 1))
        return check_downloads_section(c, {"downloads": data} if data is not None else {}), c.errors

    assert section(None) == ({"auth": "sas", "sas_lifetime_hours": 3}, [])
    assert section({"sas_lifetime_hours": 24}) == ({"auth": "sas", "sas_lifetime_hours": 24}, [])
    for bad, field in (
        ({"sas_lifetime_hours": 0}, "sas_lifetime_hours"),
        ({"sas_lifetime_hours": 25}, "sas_lifetime_hours"),
        ({"sas_lifetime_hours": True}, "sas_lifetime_hours"),
        ({"auth": "key"}, "auth"),
        ({"auth": "managed_identity"}, "auth"),
        ({"lifetime": 3}, "lifetime"),
    ):
        _, errors = section(bad)
        assert len(errors) == 1 and errors[0].startswith(f"downloads.{field}: "), (bad, errors)


def test_blob_downloads_are_collected_from_anywhere_in_a_spec_once_each() -> None:
    one, _ = run(blob())
    two, _ = run(blob(name="teams/MSTeams-x64.msix"))
    url, _ = run({"url": "https://a.example.com/a.msi", "sha256": SHA})
    spec = {
        "applications": [{"name": "a", "download": one}, {"name": "b", "download": url}],
        "avd_stack": {"teams": {"msix": {"download": two}}, "fslogix": {"download": one}},
        "languages": {"source": None},
    }
    found = blob_downloads(spec)
    assert [d["id"] for d in found] == [one["id"], two["id"]]
    assert found[1] == {"id": two["id"], **BLOB, "name": "teams/MSTeams-x64.msix"}
