"""Unit tests for the avd.golden.build_report module."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.module_utils import _ledger  # noqa: E402
from ansible_collections.avd.golden.plugins.modules import build_report  # noqa: E402

BUILD_ID = "win11-24h2-avd-20261127213005-3fa2"
RG_ID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-avdbuild-x"
VM_ID = f"{RG_ID}/providers/Microsoft.Compute/virtualMachines/vm-x"
CANARY = "Canary-Pa55word-0xDEADBEEF"

# The report format, version 1 (docs/contracts.md section 2): a change here is a change of the
# contract, so the doc (and, for anything but an addition, the version) must change with it.
REPORT_KEYS = {
    "report_version",
    "build_id",
    "definition",
    "result",
    "failure",
    "image_version_id",
    "source_image",
    "tags",
    "started_at",
    "finished_at",
    "duration_seconds",
    "phases",
    "runs",
    "resume",
    "resources",
    "summary",
    "details",
    "manifest",
    "generated_at",
}
PHASE_KEYS = {
    "name",
    "start",
    "end",
    "duration_seconds",
    "status",
    "message",
    "run",
    "done_in_run",
    "earlier",
}
RESOURCE_KEYS = {"id", "type", "phase", "recorded_at", "removed", "removed_at"}
SUMMARY_KEYS = {"resources_recorded", "resources_removed", "left_behind"}


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    path = tmp_path / BUILD_ID / "ledger.json"
    data = _ledger.empty_ledger(BUILD_ID)
    data["phases"] = [
        {
            "name": "validate",
            "start": "2026-11-27T21:30:05Z",
            "end": "2026-11-27T21:30:07Z",
            "status": "ok",
            "message": "",
        },
        {
            "name": "provision",
            "start": "2026-11-27T21:30:08Z",
            "end": "2026-11-27T21:31:08Z",
            "status": "ok",
            "message": "",
        },
        {
            "name": "capture",
            "start": "2026-11-27T21:31:10Z",
            "end": "2026-11-27T21:32:00Z",
            "status": "failed",
            "message": "gallery_capture: replication failed",
        },
        {
            "name": "teardown",
            "start": "2026-11-27T21:32:01Z",
            "end": None,
            "status": "running",
            "message": "",
        },
    ]
    data["resources"] = [
        {
            "id": RG_ID,
            "type": "Microsoft.Resources/resourceGroups",
            "phase": "provision",
            "recorded_at": "2026-11-27T21:30:08Z",
            "removed": True,
            "removed_at": "2026-11-27T21:33:00Z",
        },
        {
            "id": VM_ID,
            "type": "Microsoft.Compute/virtualMachines",
            "phase": "provision",
            "recorded_at": "2026-11-27T21:30:30Z",
            "removed": False,
            "removed_at": None,
        },
    ]
    _ledger.write_atomic(str(path), data)
    return path


@pytest.fixture
def report(run_module: Any, ledger_path: Path) -> Any:
    def _run(check_mode: bool = False, **args: Any) -> tuple[dict[str, Any], bool, list[str]]:
        return run_module(build_report.main, {"ledger_path": str(ledger_path), **args}, check_mode)

    return _run


SOURCE = {
    "publisher": "MicrosoftWindowsDesktop",
    "offer": "windows-11",
    "sku": "win11-24h2-avd",
    "version": "latest",
    "exact_version": "26100.4061.250510",
}


def test_writes_the_report(report: Any, ledger_path: Path) -> None:
    result, failed, warnings = report(
        result="succeeded",
        image_version_id="/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/d/versions/1.0.0",
        source_image=SOURCE,
        definition_name="win11-24h2-avd",
        tags={"avd-build-id": BUILD_ID},
    )
    assert not failed and not warnings
    assert result["changed"] is True
    path = ledger_path.parent / "report.json"
    assert result["path"] == str(path)
    disk = json.loads(path.read_text())
    assert disk == result["report"]
    assert disk["build_id"] == BUILD_ID
    assert disk["result"] == "succeeded" and disk["failure"] is None
    assert disk["source_image"]["exact_version"] == "26100.4061.250510"
    assert disk["definition"] == "win11-24h2-avd"
    assert disk["image_version_id"].endswith("/versions/1.0.0")
    assert [p["name"] for p in disk["phases"]] == ["validate", "provision", "capture", "teardown"]
    assert disk["phases"][1]["duration_seconds"] == 60.0
    assert disk["phases"][3]["duration_seconds"] is None
    assert disk["started_at"] == "2026-11-27T21:30:05Z" and disk["finished_at"] == "2026-11-27T21:32:00Z"
    assert [(r["id"], r["removed"]) for r in disk["resources"]] == [(RG_ID, True), (VM_ID, False)]
    assert disk["summary"] == {"resources_recorded": 2, "resources_removed": 1, "left_behind": [VM_ID]}
    assert disk["generated_at"]


def test_second_run_is_no_change(report: Any, ledger_path: Path) -> None:
    first, _, _ = report(result="succeeded", source_image=SOURCE)
    path = ledger_path.parent / "report.json"
    before = path.read_text()
    second, _, _ = report(result="succeeded", source_image=SOURCE)
    assert second["changed"] is False
    assert path.read_text() == before
    assert second["report"] == first["report"]
    third, _, _ = report(result="failed")
    assert third["changed"] is True


def test_check_mode_writes_nothing(report: Any, ledger_path: Path) -> None:
    result, failed, _ = report(check_mode=True, result="succeeded")
    assert not failed and result["changed"] is True
    assert result["report"]["result"] == "succeeded"
    assert not (ledger_path.parent / "report.json").exists()


def test_failure_given(report: Any) -> None:
    result, _, _ = report(
        result="failed", failure={"phase": "sysprep", "message": "AppX package Foo blocks sysprep"}
    )
    assert result["report"]["failure"] == {"phase": "sysprep", "message": "AppX package Foo blocks sysprep"}


def test_failure_taken_from_the_ledger(report: Any) -> None:
    result, _, _ = report(result="failed")
    assert result["report"]["failure"] == {
        "phase": "capture",
        "message": "gallery_capture: replication failed",
    }


def test_failure_with_success_is_refused(report: Any) -> None:
    result, failed, _ = report(result="succeeded", failure={"phase": "x", "message": "y"})
    assert failed and result["msg"].startswith("failure:")


def test_secrets_never_reach_the_report(report: Any, ledger_path: Path) -> None:
    result, failed, warnings = report(
        result="failed",
        failure={"phase": "provision", "message": f"VM create failed: admin_password={CANARY}"},
        source_image={**SOURCE, "admin_password": CANARY},
        tags={"owner": "alice", "api_token": CANARY},
        details={"build_vm": {"name": "vm-x", "client_secret": CANARY, "nested": [{"Password": CANARY}]}},
    )
    assert not failed
    text = (ledger_path.parent / "report.json").read_text()
    assert CANARY not in text
    assert CANARY not in json.dumps(result)
    assert CANARY not in " ".join(warnings)
    assert set(result["stripped"]) == {
        "failure.message",
        "source_image.admin_password",
        "tags.api_token",
        "details.build_vm.client_secret",
        "details.build_vm.nested[0].Password",
    }
    assert result["report"]["tags"] == {"owner": "alice"}
    assert result["report"]["details"]["build_vm"] == {"name": "vm-x", "nested": [{}]}
    assert len(warnings) == 5


def test_missing_ledger(run_module: Any, tmp_path: Path) -> None:
    result, failed, _ = run_module(
        build_report.main, {"ledger_path": str(tmp_path / "nope.json"), "result": "failed"}
    )
    assert failed and result["msg"].startswith("ledger_path: no ledger")


def test_artifacts_dir_option(report: Any, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere"
    result, failed, _ = report(result="succeeded", artifacts_dir=str(out))
    assert not failed
    assert result["path"] == str(out / "report.json")
    assert (out / "report.json").is_file()


def test_corrupt_previous_report_is_replaced(report: Any, ledger_path: Path) -> None:
    path = ledger_path.parent / "report.json"
    path.write_text("{garbage")
    result, failed, _ = report(result="succeeded")
    assert not failed and result["changed"] is True
    assert json.loads(path.read_text())["result"] == "succeeded"


def test_the_report_has_the_documented_format(report: Any, documented_fields: Any) -> None:
    result, failed, _ = report(result="failed", source_image=SOURCE, definition_name="win11-24h2-avd")
    assert not failed
    disk = result["report"]
    assert set(disk) == REPORT_KEYS
    assert disk["report_version"] == build_report.REPORT_VERSION == 1
    assert disk["failure"] == {"phase": "capture", "message": "gallery_capture: replication failed"}
    assert all(set(p) == PHASE_KEYS for p in disk["phases"])
    assert all(set(r) == RESOURCE_KEYS for r in disk["resources"])
    assert set(disk["summary"]) == SUMMARY_KEYS
    assert isinstance(disk["duration_seconds"], float)
    # The documentation lists exactly these top-level fields.
    assert documented_fields("### The report") == REPORT_KEYS


def _page(ledger_path: Path) -> str:
    return (ledger_path.parent / "report.html").read_text()


def test_html_page_for_a_succeeded_build(report: Any, ledger_path: Path) -> None:
    (ledger_path.parent / "manifest").mkdir()
    part = {
        "manifest_version": 1,
        "part": "optimize",
        "info": {"profile": "win11-multi-session"},
        "entries": [{"kind": "service", "id": "MapsBroker", "source": "Services.json#1"}],
        "missing": [],
        "failed": [{"kind": "appx", "id": "Microsoft.BingNews", "error": "in use"}],
    }
    (ledger_path.parent / "manifest" / "optimize.json").write_text(json.dumps(part))
    result, failed, _ = report(
        result="succeeded",
        image_version_id="/galleries/g/images/d/versions/1.0.0",
        source_image=SOURCE,
        definition_name="win11-24h2-avd",
    )
    assert not failed and result["html_path"] == str(ledger_path.parent / "report.html")
    page = _page(ledger_path)
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "http" not in page
    assert '<span class="succeeded">succeeded</span>' in page
    assert "/versions/1.0.0" in page and "26100.4061.250510" in page
    # Each phase with its duration; the longest (provision, 60 s) gets the full bar.
    assert "<td>provision</td><td>ok</td><td>1</td><td>60 s</td>" in page and "width:300px" in page
    assert "win11-multi-session" in page and "MapsBroker" in page
    assert "Microsoft.BingNews failed: in use" in page  # a warn-level failure is a warning
    assert VM_ID in page.split("Left behind")[1]  # the VM the teardown did not remove
    assert f"playbooks/teardown.yml -e avd_build_id={BUILD_ID}" in page
    assert '<a href="ledger.json">' in page and '<a href="manifest">' in page
    # Idempotent: a second run rewrites neither file.
    before = page
    second, _, _ = report(
        result="succeeded",
        image_version_id="/galleries/g/images/d/versions/1.0.0",
        source_image=SOURCE,
        definition_name="win11-24h2-avd",
    )
    assert second["changed"] is False and _page(ledger_path) == before


@pytest.mark.parametrize("result_name", ["failed", "cancelled"])
def test_html_page_for_a_failed_or_cancelled_build(report: Any, ledger_path: Path, result_name: str) -> None:
    result, failed, _ = report(
        result=result_name,
        failure={"phase": "sysprep", "message": "AppX <script>alert(1)</script> & co blocks sysprep"},
        definition_name='bad"<name>',
        details={"hint": "remove the package with windows_appx"},
    )
    assert not failed and result["report"]["result"] == result_name
    page = _page(ledger_path)
    assert f'<span class="{result_name}">{result_name}</span>' in page
    assert "<h2>Failure</h2>" in page and "<td>sysprep</td>" in page
    assert "AppX &lt;script&gt;alert(1)&lt;/script&gt; &amp; co blocks sysprep" in page
    assert "bad&quot;&lt;name&gt;" in page
    assert "<script" not in page and "<name>" not in page
    assert "remove the package with windows_appx" in page


def test_html_page_holds_no_secret(report: Any, ledger_path: Path) -> None:
    report(
        result="failed",
        failure={"phase": "provision", "message": f"VM create failed: admin_password={CANARY}"},
        source_image={**SOURCE, "admin_password": CANARY},
        tags={"api_token": CANARY},
        details={"build_vm": {"client_secret": CANARY}},
    )
    page = _page(ledger_path)
    assert CANARY not in page
    assert "VM create failed" in page  # the redacted message is still there


def test_html_check_mode_writes_nothing(report: Any, ledger_path: Path) -> None:
    result, failed, _ = report(check_mode=True, result="succeeded")
    assert not failed and result["changed"] is True
    assert not (ledger_path.parent / "report.html").exists()


def test_markdown_summary_beside_the_report(report: Any, ledger_path: Path) -> None:
    result, failed, _ = report(
        result="succeeded",
        image_version_id="/galleries/g/images/d/versions/1.0.0",
        source_image=SOURCE,
        definition_name="win11-24h2-avd",
    )
    summary = (ledger_path.parent / "report.md").read_text()
    assert not failed and summary.startswith("## win11-24h2-avd: succeeded\n")
    assert "/galleries/g/images/d/versions/1.0.0" in summary and "(slowest)" in summary
    rows = [line for line in summary.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + len(result["report"]["phases"])


def test_markdown_cells_escape_pipes_and_newlines() -> None:
    from ansible_collections.avd.golden.plugins.module_utils import _report_md

    phase = {"name": "a|b\nc", "status": "failed", "duration_seconds": 3}
    text = _report_md.render({"result": "failed", "phases": [phase], "summary": {}})
    assert "| a\\|b c | failed | 1 | 3 s (slowest) |" in text
