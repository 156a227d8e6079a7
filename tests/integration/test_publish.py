"""Safe publishing against the sandbox (docs/contracts.md section 9): the version is published
excluded from latest, a Trusted Launch VM booted from it must hold what the image manifest says
before it is promoted, and a failed validation leaves it excluded with the reason in the report.

Two builds of tests/integration/playbooks/publish.yml (real validate, provision, connect,
avd_settings, capture, verify, promote, teardown, report; a stand-in for sysprep), in one gallery:
1. the build VM loses a registry value the manifest records (the sandbox fault
   registry_value_lost) before capture: validation fails, version 1.0.0 stays excluded;
2. a clean build: 1.0.1 passes, is promoted, and keep_versions: 1 prunes 1.0.0.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.azure_side import (
    Run,
    changed_tasks_per_play,
    extra_vars,
    image_spec,
    report_of,
    run_azure_side,
    temporary_resources,
)
from tests.support.paths import REPO
from tests.support.runs import image_versions
from tests.support.sandbox_process import Sandbox

pytestmark = pytest.mark.integration

PLAYBOOK = REPO / "tests" / "integration" / "playbooks" / "publish.yml"
LOST = {"path": r"HKLM\SOFTWARE\FSLogix\Profiles", "name": "Enabled"}
REPEAT_PLAY = "Repeat a phase to prove it changes nothing"


class Build:
    def __init__(self, sandbox: Sandbox, tmp: Path, run: Run) -> None:
        self.run = run
        self.state = sandbox.state()
        self.unmodelled = sandbox.unmodelled()
        self.report = report_of(tmp / "artifacts")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def _build(sandbox: Sandbox, tmp: Path, **more: Any) -> Build:
    definition = image_spec(tmp, version={"strategy": "increment"}, publish={"keep_versions": 1})
    run = run_azure_side(sandbox, extra_vars(definition, tmp / "artifacts", **more), playbook=PLAYBOOK)
    (tmp / "stdout.jsonl").write_text(run.stdout)
    return Build(sandbox, tmp, run)


@pytest.fixture(scope="module")
def failed(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Build:
    build = _build(sandbox, tmp_path_factory.mktemp("publish-failed"), avd_test_lose_value=LOST)
    assert build.run.returncode != 0, build.run.explain()
    return build


@pytest.fixture(scope="module")
def passed(sandbox: Sandbox, failed: Build, tmp_path_factory: pytest.TempPathFactory) -> Build:
    build = _build(sandbox, tmp_path_factory.mktemp("publish-passed"), avd_test_repeat=True)
    assert build.run.returncode == 0, build.run.explain()
    return build


def _validation_vms(state: dict[str, Any]) -> list[str]:
    return [rid for rid in state["resources"] if "/virtualmachines/vmv-" in rid]


def test_failed_validation_keeps_the_version_excluded_and_says_why(failed: Build) -> None:
    versions = image_versions(failed.state)
    assert [v["name"] for v in versions.values()] == ["1.0.0"]
    version = next(iter(versions.values()))
    assert version["properties"]["publishingProfile"]["excludeFromLatest"] is True
    report = failed.report
    assert report["result"] == "failed"
    assert report["failure"]["phase"] == "verify"
    assert "FSLogix" in report["failure"]["message"] and "Enabled" in report["failure"]["message"]
    assert "kept excluded from latest" in report["failure"]["message"]
    validation = report["details"]["publish"]["validation"]
    assert validation["result"] == "failed"
    assert any(r"SOFTWARE\FSLogix\Profiles\Enabled" in p for p in validation["problems"]), validation
    assert report["details"]["publish"]["promotion"] is None
    assert {p["name"]: p["status"] for p in report["phases"]}["promote"] == "skipped"
    # The validation VM went with the other temporary resources.
    assert _validation_vms(failed.state) == []
    assert temporary_resources(failed.state) == []
    assert report["summary"]["left_behind"] == []
    assert failed.unmodelled == []


def test_validated_version_is_promoted_and_the_old_one_pruned(passed: Build) -> None:
    versions = {v["name"]: v for v in image_versions(passed.state).values()}
    assert list(versions) == ["1.0.1"]  # keep_versions: 1 pruned the failed 1.0.0
    assert versions["1.0.1"]["properties"]["publishingProfile"]["excludeFromLatest"] is False
    report = passed.report
    assert report["result"] == "succeeded", report["failure"]
    assert report["image_version_id"].lower().endswith("/versions/1.0.1")
    publish = report["details"]["publish"]
    assert publish["validation"]["result"] == "passed"
    assert publish["validation"]["problems"] == []
    assert publish["validation"]["checked"] > 10
    assert [p["name"] for p in publish["promotion"]["pruned"]] == ["1.0.0"]
    assert publish["promotion"]["exclude_from_latest"] is False


def test_validation_vm_was_trusted_launch_from_the_version_and_is_gone(passed: Build) -> None:
    recorded = [r for r in passed.report["resources"] if r["phase"] == "verify"]
    assert sorted(r["type"] for r in recorded) == [
        "Microsoft.Compute/disks",
        "Microsoft.Compute/virtualMachines",
        "Microsoft.Network/networkInterfaces",
        "Microsoft.Network/publicIPAddresses",
    ]
    assert all(r["removed"] for r in recorded), recorded
    assert _validation_vms(passed.state) == []
    assert temporary_resources(passed.state) == []
    assert passed.state["guests"] == {} or all(not n.startswith("vmv-") for n in passed.state["guests"])
    assert passed.unmodelled == []


def test_promote_again_changes_nothing(passed: Build) -> None:
    repeats = [changed for play, changed in changed_tasks_per_play(passed.run.events) if play == REPEAT_PLAY]
    assert repeats == [[]], repeats
