"""Transient faults survived, the others failed cleanly: the reduced fault matrix (the whole one is
bench/fault_matrix.py). Builds are expensive, so each run folds several faults into one build.

1. A full build (`build-golden.yml`, unchanged) that meets, each in its own phase, a throttling
   storm longer than the SDK's own retries and a failed long-running operation Azure says to retry
   (provision), a WinRM connection dropped mid-command (configure), a guest that restarts on its
   own mid-command (appx) and a burst of 5xx (capture): every phase re-runs and the image is
   published, with nothing else left.
2. The Azure side of a build (tests/integration/playbooks/azure_side.yml) whose image version
   ends Failed with a code that is not transient: capture fails at once naming Azure's code and the
   version, and teardown deletes the half-made version with the rest.

Faults are armed through the sandbox control endpoint when their phase starts (the build's
ledger says so) and disarmed when it ends (tests/support/fault_matrix.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.azure_side import extra_vars, image_spec, report_of, run_azure_side
from tests.support.fault_matrix import PhaseFaults, outcome
from tests.support.guest_observer import run_playbook
from tests.support.paths import REPO
from tests.support.runs import image_versions
from tests.support.sandbox_process import Sandbox

pytestmark = pytest.mark.integration

SPEC = REPO / "images" / "win11-24h2-avd.yml"
VERSION_TYPE = "Microsoft.Compute/galleries/images/versions"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def _phase(report: dict, name: str) -> dict:
    return next(p for p in report["phases"] if p["name"] == name)


def test_a_build_survives_transient_faults_in_four_phases(sandbox: Sandbox, tmp_path: Path) -> None:
    artifacts = tmp_path / "artifacts"
    injections = {
        "provision": ["429 storm", "failed LRO"],
        "configure": ["WinRM drop"],
        "appx": ["guest reboot"],
        "capture": ["5xx burst on the version PUT"],
    }
    evars = {"image_spec": str(SPEC), "image_spec_artifacts_root": str(artifacts), "avd_phase_retry_delay": 1}
    with PhaseFaults(sandbox, artifacts, injections) as watcher:
        run = run_playbook(sandbox, "build-golden.yml", "-e", json.dumps(evars), timeout=1500)
    out = outcome(sandbox, run, report_of(artifacts), watcher)
    assert run.returncode == 0, run.stdout[-6000:]
    assert watcher.errors == []
    # Every fault was armed in its phase and fired there.
    armed = {(phase, name) for phase, names in injections.items() for name in names}
    assert set(out.armed) == armed
    assert {cell: n > 0 for cell, n in out.fired.items()} == dict.fromkeys(armed, True), out.fired
    # Survived: published, each faulted phase ended ok, re-run at least once per phase.
    assert out.report["result"] == "succeeded"
    assert all(_phase(out.report, phase)["status"] == "ok" for phase in injections)
    assert out.reruns >= len(injections)
    assert out.report["image_version_id"].lower() in out.published
    # Nothing left: no temporary resource, no failed version, the published one out of the ledger.
    assert out.orphans == []
    assert out.failed_versions == []
    assert all(r["removed"] for r in out.report["resources"]), out.report["resources"]
    assert sandbox.unmodelled() == []
    # What the failed operation left Failed was deleted, then created again by the re-run (teardown's
    # deletes are never followed by a PUT of the same resource).
    log = [(r["method"], r["path"].lower(), int(r["status"])) for r in sandbox.requests()]
    recreated = [
        path
        for i, (method, path, _) in enumerate(log)
        if method == "DELETE" and any(m == "PUT" and p == path and st < 300 for m, p, st in log[i + 1 :])
    ]
    assert recreated, "nothing the failed operation left was deleted and created again"


def test_a_non_transient_failure_at_capture_fails_fast_and_removes_the_failed_version(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.fault(
        target="arm",
        kind="lro_failed",
        method="PUT",
        path=r"/galleries/[^/]+/images/[^/]+/versions/[^/]+$",
        code="OperationNotAllowed",
        message="The operation is not allowed for the source of this image version (injected fault).",
    )
    evars = extra_vars(image_spec(tmp_path), tmp_path / "artifacts", avd_phase_retry_delay=1)
    run = run_azure_side(sandbox, evars)
    assert run.returncode != 0, run.explain()
    report = report_of(tmp_path / "artifacts")
    assert report["result"] == "failed"
    # Failed fast: no re-run, the message names the task, Azure's code and the version.
    assert "transient fault on attempt" not in run.stdout
    failure = report["failure"]
    assert failure["phase"] == "capture"
    assert "OperationNotAllowed" in failure["message"]
    assert "Create the image version" in failure["message"]
    version = next(r for r in report["resources"] if r["type"] == VERSION_TYPE)
    assert version["id"].rsplit("/", 1)[-1] in failure["message"]
    assert version["phase"] == "capture"
    # The half-made version was in the ledger and teardown removed it, with everything else.
    assert version["removed"] is True
    assert all(r["removed"] for r in report["resources"]), report["resources"]
    assert image_versions(sandbox.state()) == {}
    assert report["summary"]["left_behind"] == []
    assert report["image_version_id"] is None
    assert sandbox.unmodelled() == []
