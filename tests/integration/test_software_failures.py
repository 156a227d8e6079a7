"""A build whose installers come from blob storage fails cleanly when the software is wrong.

Each case is one whole build: the real entry point `ansible-playbook build-golden.yml`, unchanged,
against a fresh `Sandbox(azurite=True)`, with the demo image spec (images/win11-24h2-avd.yml)
stripped of its content phases (as bench/image_content.py's baseline) plus one `applications`
entry, an MSI built by wixl and signed by osslsigncode with a code-signing certificate of the
sandbox CA (which a build VM trusts), uploaded to a storage account the build reads through a SAS
it mints itself in the `sources` phase. Each case proves, for its own cause:

- the run ends non-zero, the report's result is `failed`, the failing phase is `applications`,
  and the failure message names the application and the cause;
- nothing of the build is left in the emulator (teardown removed every resource it recorded, no
  image version exists, nothing went unmodelled);
- the SAS the build minted (its `sig=` value, recomputed by the test from the account key and the
  expiry the sources phase prints, and shown to be the build's by downloading with it) is in
  neither the run's output nor any artifact, the report included, and no `sig=` parameter is in
  them at all. (This caught ansible-core printing a failed `no_log` task's message: see the
  download task in roles/windows_applications/tasks/application.yml.)

The cases (each costs a whole build, so only the two a role-level test cannot prove: a wrong
checksum and a wrong signer fail the same task file before any install, which
tests/integration/test_windows_applications.py proves on one VM, and their teardown is this one):

- failing installer: the guest fault `installer_exit` (docs/contracts.md section 12, armed when
  the build VM appears) makes msiexec exit 1603; the message names the code, quotes the log's tail,
  and the log is fetched into the build's artifacts;
- expired SAS: the blob service's clock runs two hours ahead of the controller's, so the SAS the
  build minted for one hour (`downloads.sas_lifetime_hours: 1`) has expired, by the storage
  service's clock, when the guest downloads: what Azure Storage sees when a build outlives its SAS.
  Azurite's own SAS check refuses it (403), nothing answers on its behalf, and the message says
  what makes Azure Storage refuse a SAS. The clock is a `Date`
  that runs ahead, preloaded into Azurite's Node process with `NODE_OPTIONS=--require` (the only
  Node process the sandbox starts); the test also shows that a SAS valid past the offset still
  downloads, so the refusal is the expiry and nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from sandbox import pki
from tests.support import installers as ti
from tests.support.blobs import seed_blobs
from tests.support.guest_observer import BuildRun, GuestObserver, run_playbook
from tests.support.paths import REPO
from tests.support.runs import assert_nothing_left, image_versions
from tests.support.sandbox_process import Sandbox

sys.path.insert(0, str(REPO / "collections"))
from ansible_collections.avd.golden.plugins.module_utils._blob_sas import START_SKEW, sas_url

pytestmark = pytest.mark.integration

DEMO = REPO / "images" / "win11-24h2-avd.yml"
# The content sections switched off, as bench/image_content.py's CONTENT_OFF: the build goes from
# the sources phase straight to the applications (no Windows Update section: updates are off).
CONTENT_OFF = {
    "avd": {"time_zone_redirection": False, "storage_sense": True},
    "default_user": [],
    "optimization": {"enabled": False},
    "appx": {"remove": []},
}
RG, ACCOUNT, CONTAINER, BLOB = "rg-software", "stavdsoftware", "installers", "contoso/contoso-tool.msi"
BLOB_ID = f"blob://{ACCOUNT}/{CONTAINER}/{BLOB}"
APP = "Contoso Tool"
SIGNER = "CN=Contoso Code Signing, O=Contoso Ltd"
SAS_HOURS = 1
CLOCK_AHEAD_HOURS = 2  # more than SAS_HOURS: the build's SAS has expired by the storage's clock
# Node's Date, running ahead by a fixed offset: `new Date()`, `Date()` and `Date.now()`; a Date
# built from a value (the SAS's `se`) is that value.
AHEAD_JS = """'use strict';
const RealDate = globalThis.Date;
const OFFSET_MS = %d;
const now = () => RealDate.now() + OFFSET_MS;
globalThis.Date = new Proxy(RealDate, {
  construct: (target, args, newTarget) =>
    Reflect.construct(target, args.length ? args : [now()], newTarget),
  apply: () => new RealDate(now()).toString(),
  get: (target, prop, receiver) => (prop === 'now' ? now : Reflect.get(target, prop, receiver)),
});
"""
CASES = ["failing_installer", "expired_sas"]


@contextmanager
def _sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock_ahead_hours: int) -> Iterator[Sandbox]:
    """A fresh sandbox with Azurite; with ``clock_ahead_hours``, Azurite's clock runs that far ahead
    (NODE_OPTIONS in the sandbox process's environment, which Azurite inherits; not in the build's)."""
    with monkeypatch.context() as env:
        if clock_ahead_hours:
            preload = tmp_path / "clock-ahead.js"
            preload.write_text(AHEAD_JS % (clock_ahead_hours * 3600 * 1000))
            env.setenv("NODE_OPTIONS", f"--require {preload}")
        sb = Sandbox(azurite=True).start()
    try:
        yield sb
    finally:
        sb.close()


def _spec(tmp_path: Path, msi: ti.Installer) -> Path:
    """The demo spec, content off, with one blob-hosted MSI application."""
    demo = yaml.safe_load(DEMO.read_text())
    app = {
        "name": APP,
        "kind": "msi",
        "version": msi.version,
        "download": {
            "blob": {"storage_account": ACCOUNT, "resource_group": RG, "container": CONTAINER, "name": BLOB},
            "sha256": msi.sha256,
            "signer": {"subject": SIGNER},
        },
        "detection": {"product_code": msi.product_code},
    }
    spec = {
        **demo,
        **CONTENT_OFF,
        "downloads": {"auth": "sas", "sas_lifetime_hours": SAS_HOURS},
        "applications": [app],
    }
    path = tmp_path / "win11-24h2-avd-software.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _explain(run: BuildRun) -> str:
    return (
        f"rc={run.returncode}\n--- stdout (tail)\n{run.stdout[-8000:]}\n"
        f"--- stderr (tail)\n{run.stderr[-3000:]}"
    )


def _get(sb: Sandbox, url: str) -> tuple[int, bytes]:
    """A plain HTTPS GET trusting the sandbox CA, as the build VM makes it."""
    ctx = ssl.create_default_context(cafile=str(sb.ca))
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=30) as r:  # noqa: S310 - https
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _minted_sas(run: BuildRun, account: dict[str, str]) -> str:
    """The SAS URL the sources phase minted, recomputed as _blob_sas.mint_urls signs it: the same
    key, blob and times (the expiry is the one the phase prints; the start is 15 minutes before
    the moment of minting, i.e. the expiry less the lifetime and the skew)."""
    found = re.findall(r"blob download URL\(s\) minted \(read-only SAS, expires (\S+Z)\)", run.stdout)
    assert len(found) == 1, _explain(run)
    expiry = dt.datetime.strptime(found[0], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    start = expiry - dt.timedelta(hours=SAS_HOURS) - START_SKEW
    return sas_url(account["endpoint"], ACCOUNT, account["key"], CONTAINER, BLOB, start, expiry)


def _assert_no_secret(run: BuildRun, artifacts: Path, secrets: list[str]) -> None:
    """No secret, and no SAS signature parameter at all, in the output or any artifact."""
    texts = {"stdout": run.stdout, "stderr": run.stderr}
    for path in artifacts.rglob("*"):
        if path.is_file():
            texts[str(path.relative_to(artifacts))] = path.read_bytes().decode("utf-8", "replace")
    assert any(name.endswith("report.json") for name in texts), sorted(texts)
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"a secret is in {where}"
        assert not re.search(r"[?&]sig=", text), f"a SAS signature parameter is in {where}"


def _assert_names_the_cause(case: str, message: str, artifacts: Path) -> None:
    """The failure message of each case: the application, the step or the download, the cause."""
    assert f"application '{APP}'" in message, message
    if case == "failing_installer":
        assert "failed in 'Run the MSI or EXE installer'" in message, message
        assert "exit code 1603" in message, message
        assert "Installation success or error status: 1603" in message, message
        log = artifacts / "applications" / "Contoso_Tool.log"
        assert log.is_file(), sorted(str(p.relative_to(artifacts)) for p in artifacts.rglob("*"))
        assert "Installation success or error status: 1603" in log.read_bytes().decode("utf-16")
    else:
        assert f"the download of {BLOB_ID} failed: HTTP 403" in message, message
        assert "refused the read-only SAS the sources phase minted: it has expired" in message, message


def _assert_the_sas_was_the_build_s(
    case: str, sb: Sandbox, account: dict[str, str], minted: str, blob: bytes
) -> None:
    """The recomputed SAS is the one the build used: it downloads the blob; in the expired case it
    is refused, and a SAS for the same blob valid past the clock's offset downloads, so the
    refusal is the expiry and nothing else."""
    status, body = _get(sb, minted)
    if case != "expired_sas":
        assert (status, body) == (200, blob), status
        return
    assert status == 403, status
    now = dt.datetime.now(dt.UTC)
    later = now + dt.timedelta(hours=CLOCK_AHEAD_HOURS + 1)
    valid = sas_url(account["endpoint"], ACCOUNT, account["key"], CONTAINER, BLOB, now - START_SKEW, later)
    assert _get(sb, valid) == (200, blob)


@pytest.mark.parametrize("case", CASES)
def test_a_wrong_installer_fails_the_build_naming_it_and_leaves_nothing(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if ti.missing_tools():
        pytest.fail(f"test installers need {', '.join(ti.missing_tools())}: run make setup", pytrace=False)
    with _sandbox(tmp_path, monkeypatch, CLOCK_AHEAD_HOURS if case == "expired_sas" else 0) as sb:
        (tmp_path / "www").mkdir()
        cert = ti.code_signing_cert(pki.ensure_ca(sb.ca.parent), tmp_path)
        msi = ti.sign(ti.build_msi(tmp_path / "www" / "contoso-tool.msi"), cert)
        blob = msi.path.read_bytes()
        account = seed_blobs(sb, RG, ACCOUNT, CONTAINER, {BLOB: blob})
        spec = _spec(tmp_path, msi)
        evars = {"image_spec": str(spec), "image_spec_artifacts_root": str(tmp_path / "artifacts")}
        with GuestObserver(sb) as observer:
            if case == "failing_installer":
                # As soon as the build VM exists: its next install of the MSI exits 1603.
                observer.when(
                    "installer_exit",
                    lambda dump: True,
                    lambda box, vm: box.fault(
                        target="winrm", vm=vm, kind="installer_exit", installer=APP, rc=1603
                    ),
                )
            run = run_playbook(sb, "build-golden.yml", "-e", json.dumps(evars), timeout=900)
        (tmp_path / "stdout.txt").write_text(run.stdout + "\n--- stderr\n" + run.stderr)  # for diagnosis
        if case == "failing_installer":
            assert observer.fired("installer_exit"), "the fault was never armed"

        # The build failed in the applications phase, naming the application and the cause.
        assert run.returncode != 0, _explain(run)
        report = run.report()
        assert report["result"] == "failed", report.get("failure")
        assert report["failure"]["phase"] == "applications", report["failure"]
        statuses = {p["name"]: p["status"] for p in report["phases"]}
        assert statuses["sources"] == "ok" and statuses["applications"] == "failed", statuses
        assert statuses["sysprep"] == "skipped" and statuses["teardown"] == "ok", statuses
        artifacts = run.report_path().parent
        _assert_names_the_cause(case, report["failure"]["message"], artifacts)

        # Nothing of the build is left in "Azure" (the seeded storage account is the user's).
        assert image_versions(sb.state()) == {}
        assert_nothing_left(sb, report)

        # The SAS the build minted is in no output and no artifact; nor is the account's key.
        minted = _minted_sas(run, account)
        sig = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(minted).query))["sig"]
        _assert_no_secret(run, artifacts, [sig, urllib.parse.quote(sig, safe=""), account["key"]])
        _assert_the_sas_was_the_build_s(case, sb, account, minted, blob)
