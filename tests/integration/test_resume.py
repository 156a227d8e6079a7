"""Resume a failed build by its build id (docs/contracts.md section 18): two runs of one build.

1. `build-golden.yml` with `avd_build_keep_on_failure=true` meets a non-transient fault in the last
   guest phase (sysprep fails in generalize): the build fails, and teardown keeps the VM and its
   resources, saying so in the ledger and the report with the resume command.
2. The same command with `-e avd_build_id=<id>`: preflight finds the VM running and not
   generalized, the guest phases done in run 1 are recorded `skipped` ("done in an earlier run")
   and not re-run, provision and connect run again (a fresh password through VMAccessAgent, the
   certificate pinned again through Azure), sysprep and the rest run; the image is published and
   nothing else of the build is left.

Only these two runs: each full build costs minutes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.azure_side import report_of
from tests.support.fault_matrix import PhaseFaults
from tests.support.guest_observer import run_playbook
from tests.support.paths import REPO
from tests.support.runs import assert_nothing_left, build_resources, image_versions
from tests.support.sandbox_process import Sandbox

pytestmark = pytest.mark.integration

SPEC = REPO / "images" / "win11-24h2-avd.yml"
# Every guest phase before sysprep, from the registry: run 2 reuses them all.
REGISTRY = yaml.safe_load((REPO / "playbooks" / "vars" / "phases.yml").read_text())["avd_phases"]
GUEST = [p["name"] for p in REGISTRY if p.get("hosts") == "build_vm"]
EARLY_GUEST = tuple(GUEST[: GUEST.index("sysprep")])
VM_TYPE = "microsoft.compute/virtualmachines"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def _phases(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in report["phases"]}


def test_a_failed_build_kept_for_resume_resumes_by_its_build_id(sandbox: Sandbox, tmp_path: Path) -> None:
    artifacts = tmp_path / "artifacts"
    evars = {
        "image_spec": str(SPEC),
        "image_spec_artifacts_root": str(artifacts),
        "avd_phase_retry_delay": 1,
        "avd_build_keep_on_failure": True,
    }
    # Run 1: sysprep fails (not transient), the resources are kept.
    with PhaseFaults(sandbox, artifacts, {"sysprep": ["sysprep failure"]}) as watcher:
        first = run_playbook(sandbox, "build-golden.yml", "-e", json.dumps(evars), timeout=1500)
    assert first.returncode != 0, first.stdout[-6000:]
    assert watcher.errors == []
    report = report_of(artifacts)
    build_id = report["build_id"]
    assert report["result"] == "failed"
    assert report["failure"]["phase"] == "sysprep"
    phases = _phases(report)
    assert all(phases[name]["status"] == "ok" for name in ("provision", "connect", *EARLY_GUEST))
    teardown = phases["teardown"]
    assert teardown["status"] == "skipped"
    assert teardown["message"].startswith("kept for resume:")
    assert report["resume"]["kept"] is True
    assert f"avd_build_id={build_id}" in report["resume"]["command"]
    assert "KEPT FOR RESUME" in first.stdout
    # The VM and its resources really are still there, running and not generalized.
    state = sandbox.state()
    vms = [
        (name, vm) for name, vm in (state.get("vms") or {}).items() if build_id.lower() in vm["id"].lower()
    ]
    assert len(vms) == 1, state.get("vms")
    _vm_name, vm = vms[0]
    assert (vm["power"], vm["generalized"]) == ("running", False)
    kept = set(build_resources(state, build_id))
    assert vm["id"].lower() in kept
    assert (
        set(report["summary"]["left_behind"])
        and {r.lower() for r in report["summary"]["left_behind"]} <= kept
    )

    # Run 2: the same build id resumes.
    second = run_playbook(
        sandbox, "build-golden.yml", "-e", json.dumps({**evars, "avd_build_id": build_id}), timeout=1500
    )
    assert second.returncode == 0, second.stdout[-8000:]
    report = report_of(artifacts)
    assert report["result"] == "succeeded"
    assert [(r["run"], r["mode"]) for r in report["runs"]] == [(1, "new"), (2, "resume")]
    assert report["resume"]["mode"] == "resume" and report["resume"]["kept"] is False
    phases = _phases(report)
    # The early guest phases were not re-run: skipped as done in run 1, their run-1 record kept.
    for name in EARLY_GUEST:
        phase = phases[name]
        assert (phase["status"], phase["run"], phase["done_in_run"]) == ("skipped", 2, 1), phase
        assert phase["message"] == "done in an earlier run (run 1)"
        assert [(e["run"], e["status"]) for e in phase["earlier"]] == [(1, "ok")]
    # Run again: provision and connect (new credential, certificate pinned again), the failed
    # sysprep and everything after it.
    assert len(EARLY_GUEST) >= 6
    again = ("preflight", "provision", "connect", "sources", "sysprep", "capture", "verify", "promote")
    for name in (*again, "teardown"):
        assert (phases[name]["status"], phases[name]["run"]) == ("ok", 2), phases[name]
    assert [(e["run"], e["status"]) for e in phases["sysprep"]["earlier"]] == [(1, "failed")]
    # The same VM was reused, never created again; it got run 2's password through VMAccessAgent.
    puts = [r for r in sandbox.requests() if r["method"] == "PUT"]
    vm_path = vm["id"].lower()
    # (Provision's idempotent PUT of the existing VM answers 200; only a create answers 201.)
    vm_puts = [int(r["status"]) for r in puts if r["path"].lower() == vm_path]
    assert vm_puts.count(201) == 1, vm_puts
    assert any(r["path"].lower().startswith(vm_path + "/extensions/") for r in puts)
    # Published, and nothing of the build left.
    assert report["image_version_id"].lower() in image_versions(sandbox.state())
    assert_nothing_left(sandbox, report)
    assert VM_TYPE not in {r["type"].lower() for r in report["resources"] if not r["removed"]}
