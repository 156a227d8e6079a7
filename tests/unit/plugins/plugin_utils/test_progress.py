"""What the callback avd.golden.build_progress prints (plugins/plugin_utils/_progress.py): a line as
each phase ends, and a table with each phase's status from the report and its wall time."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.plugin_utils import _progress  # noqa: E402

REPORT = {
    "result": "failed",
    "image_version_id": None,
    "phases": [
        {"name": "validate", "status": "ok"},
        {"name": "sysprep", "status": "failed"},
        {"name": "capture", "status": "skipped"},
    ],
}


def _run() -> tuple[list[str], list[str]]:
    progress = _progress.Progress(started=100.0)
    ends: list[str] = []
    ends += progress.play_start("validate", "Phase 1/3 · Validate the image spec", 100.0)
    progress.task_result("ansible.builtin.assert", {})
    ends += progress.play_start("sysprep", "Phase 2/3 · Sysprep", 103.0)
    progress.task_ran()  # a failed task
    ends += progress.play_start("capture", "Phase 3/3 · Capture", 190.4)
    progress.task_result("avd.golden.build_ledger", {"changed": True})
    ends += progress.play_start(None, "Many images", 191.0)  # not a phase: closes capture
    progress.task_result("avd.golden.build_report", {"report": REPORT})
    return ends, progress.finish(3800.0)


def test_each_phase_end_names_the_phase_its_time_and_the_builds_elapsed_time() -> None:
    ends, _ = _run()
    assert ends == ["[0:03] validate took 0:03", "[1:30] sysprep took 1:27", "[1:31] capture took 0:01"]


def test_the_table_has_each_phase_with_its_reported_status_and_the_result() -> None:
    _, table = _run()
    rows = [line.split() for line in table[2:-1]]
    assert rows == [["validate", "ok", "0:03"], ["sysprep", "failed", "1:27"], ["capture", "skipped", "0:01"]]
    assert table[1].split() == ["Phase", "Status", "Wall"]
    assert table[-1] == "Total 1:01:40, result failed, no image version"


def test_a_phase_in_which_no_task_ran_is_left_out() -> None:
    progress = _progress.Progress(started=0.0)
    assert progress.play_start("configure", "Phase 5/20 · Configure", 1.0) == []
    assert progress.play_start("updates", "Phase 6/20 · Updates", 2.0) == []
    assert progress.finish(3.0) == []


def test_without_a_report_the_table_has_the_wall_times_alone() -> None:
    progress = _progress.Progress(started=0.0)
    progress.play_start("validate", "Phase 1/20 · Validate", 0.0)
    progress.task_ran()
    table = progress.finish(61.0)
    assert table[0] == "[1:01] validate took 1:01"
    assert table[3].split() == ["validate", "1:01"]
    assert table[-1] == "Total 1:01"
