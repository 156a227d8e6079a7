"""The sources phase's role (avd.golden.azure_download_urls) against the sandbox, ARM + Azurite:
the URL it mints downloads the blob with a plain HTTPS GET, the SAS appears in no output (at
-vvv), no sandbox log and no request log, and an account that does not exist fails naming the
download. A role-level run (seconds), not a build."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.blobs import seed_blobs
from tests.support.guest_observer import run_playbook
from tests.support.paths import REPO
from tests.support.sandbox_process import Sandbox

pytestmark = pytest.mark.integration

RG, ACCOUNT, CONTAINER = "rg-software", "stavdsoftware", "installers"
BLOBS = {"fslogix/FSLogixAppsSetup.exe": b"MZ fslogix " * 64, "teams/MSTeams x64.msix": b"PK teams " * 64}
PLAYBOOK = str(REPO / "tests" / "integration" / "playbooks" / "download_urls.yml")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(azurite=True) as sb:
        seed_blobs(sb, RG, ACCOUNT, CONTAINER, BLOBS)
        yield sb


def _download(account: str, name: str) -> dict[str, Any]:
    """A normalised download (plugins/plugin_utils/_image_spec/downloads.py) of a blob."""
    blob = {"storage_account": account, "resource_group": RG, "container": CONTAINER, "name": name}
    return {
        "url": None,
        "blob": blob,
        "sha256": "0" * 64,
        "signer": None,
        "id": f"blob://{account}/{CONTAINER}/{name}",
    }


def _run(sandbox: Sandbox, tmp: Path, downloads: list[dict[str, Any]]) -> tuple[Any, Path]:
    image = {
        "applications": [{"name": f"app{i}", "download": d} for i, d in enumerate(downloads)],
        "avd_stack": {"teams": {"download": downloads[-1]}},  # the same blob twice: one URL
        "downloads": {"auth": "sas", "sas_lifetime_hours": 2},
    }
    urls = tmp / "urls.json"
    evars = {"avd_image": image, "urls_file": str(urls)}
    run = run_playbook(sandbox, PLAYBOOK, "-vvv", "-e", json.dumps(evars), timeout=300)
    (tmp / "stdout.txt").write_text(run.stdout + "\n--- stderr\n" + run.stderr)  # for diagnosis
    return run, urls


def _get(sandbox: Sandbox, url: str) -> bytes:
    ctx = ssl.create_default_context(cafile=str(sandbox.ca))
    with urllib.request.urlopen(url, context=ctx, timeout=30) as r:  # noqa: S310 - https
        return r.read()


def test_the_minted_urls_download_the_blobs_and_the_sas_is_in_no_output(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    run, urls_file = _run(sandbox, tmp_path, [_download(ACCOUNT, n) for n in BLOBS])
    assert run.returncode == 0, run.stdout[-4000:]
    urls = json.loads(urls_file.read_text())
    assert sorted(urls) == sorted(f"blob://{ACCOUNT}/{CONTAINER}/{n}" for n in BLOBS)
    for name, data in BLOBS.items():
        url = urls[f"blob://{ACCOUNT}/{CONTAINER}/{name}"]
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        assert (q["sp"], q["spr"], q["sr"]) == ("r", "https", "b")
        expiry = dt.datetime.fromisoformat(q["se"].replace("Z", "+00:00"))
        assert dt.timedelta(hours=1, minutes=55) < expiry - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=2)
        assert _get(sandbox, url) == data
        signature = q["sig"]
        logs = [
            p for p in sandbox.state_dir.rglob("*") if p.is_file() and p.suffix in (".log", ".jsonl", ".json")
        ]
        for text in (run.stdout, run.stderr, *(p.read_text(errors="replace") for p in logs)):
            for needle in (signature, urllib.parse.quote(signature, safe="")):
                assert needle not in text
    assert "2 blob download URL(s) minted" in run.stdout
    assert sandbox.unmodelled() == []


def test_a_missing_storage_account_fails_naming_the_fields(sandbox: Sandbox, tmp_path: Path) -> None:
    run, urls_file = _run(sandbox, tmp_path, [_download("stmissing", "a.msi")])
    assert run.returncode != 0
    assert (
        "applications[0].download.blob.storage_account, avd_stack.teams.download.blob.storage_account: "
        in run.stdout
    )
    assert "storage account 'stmissing' in resource group 'rg-software' was not found" in run.stdout
    assert "was not found (ResourceNotFound" in run.stdout
    assert not urls_file.exists()
