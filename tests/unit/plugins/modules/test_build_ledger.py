"""Unit tests for the avd.golden.build_ledger module and the ledger helpers it uses."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.module_utils import _ledger  # noqa: E402
from ansible_collections.avd.golden.plugins.modules import build_ledger  # noqa: E402

VM_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-avdbuild-x/providers/"
    "Microsoft.Compute/virtualMachines/vm-x"
)
VM_TYPE = "Microsoft.Compute/virtualMachines"
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

# The ledger format, version 1 (docs/contracts.md section 2): a change here is a change of the
# contract, so the doc (and, for anything but an addition, the version) must change with it.
LEDGER_KEYS = {"version", "build_id", "created_at", "updated_at", "phases", "resources"}
PHASE_KEYS = {"name", "start", "end", "status", "message", "run"}
# Present only once a build was resumed (docs/contracts.md section 18).
RUN_KEYS = {"run", "started_at", "mode", "reason"}
RESUMED_PHASE_KEYS = {"earlier", "done_in_run"}
RESOURCE_KEYS = {"id", "type", "phase", "recorded_at", "removed", "removed_at"}


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "artifacts" / "b-20261127213005-abcd" / "ledger.json"


@pytest.fixture
def ledger(run_module: Any, ledger_path: Path) -> Any:
    """``ledger(**args)`` runs the module against the test ledger and returns (result, failed)."""

    def _run(check_mode: bool = False, diff: bool = False, **args: Any) -> tuple[dict[str, Any], bool]:
        result, failed, _ = run_module(
            build_ledger.main, {"path": str(ledger_path), **args}, check_mode, diff
        )
        return result, failed

    return _run


def _on_disk(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def test_initialise_creates_the_ledger_once(ledger: Any, ledger_path: Path) -> None:
    result, failed = ledger(build_id="b-20261127213005-abcd")
    assert not failed and result["changed"] is True
    disk = _on_disk(ledger_path)
    assert disk["build_id"] == "b-20261127213005-abcd"
    assert disk["phases"] == [] and disk["resources"] == []
    assert result["ledger"] == disk
    assert oct(ledger_path.stat().st_mode & 0o777) == "0o600"
    again, _ = ledger(build_id="b-20261127213005-abcd")
    assert again["changed"] is False
    assert _on_disk(ledger_path) == disk


def test_initialise_in_check_mode_writes_nothing(ledger: Any, ledger_path: Path) -> None:
    result, failed = ledger(check_mode=True, build_id="b-20261127213005-abcd")
    assert not failed and result["changed"] is True
    assert not ledger_path.parent.exists()


def test_record_resource_is_idempotent(ledger: Any, ledger_path: Path) -> None:
    first, _ = ledger(resource_id=VM_ID, resource_type=VM_TYPE, phase="provision")
    assert first["changed"] is True
    entry = _on_disk(ledger_path)["resources"][0]
    assert entry["id"] == VM_ID and entry["type"] == VM_TYPE and entry["phase"] == "provision"
    assert entry["removed"] is False and entry["removed_at"] is None
    # Same id again, differently cased (ARM ids are case-insensitive): no change.
    second, _ = ledger(resource_id=VM_ID.upper(), resource_type=VM_TYPE, phase="provision")
    assert second["changed"] is False
    assert len(_on_disk(ledger_path)["resources"]) == 1


def test_record_in_check_mode_writes_nothing(ledger: Any, ledger_path: Path) -> None:
    ledger(build_id="b-20261127213005-abcd")
    before = ledger_path.read_text()
    result, _ = ledger(check_mode=True, resource_id=VM_ID, resource_type=VM_TYPE)
    assert result["changed"] is True
    assert result["ledger"]["resources"][0]["id"] == VM_ID
    assert ledger_path.read_text() == before
    # Not even the lock file is created in check mode.
    (ledger_path.parent / "ledger.json.lock").unlink()
    ledger(check_mode=True, phase="x", event="start")
    assert sorted(os.listdir(ledger_path.parent)) == ["ledger.json"]


def test_remove_then_remove_again(ledger: Any, ledger_path: Path) -> None:
    ledger(resource_id=VM_ID, resource_type=VM_TYPE)
    removed, _ = ledger(resource_id=VM_ID, state="removed")
    assert removed["changed"] is True
    entry = _on_disk(ledger_path)["resources"][0]
    assert entry["removed"] is True and entry["removed_at"]
    again, _ = ledger(resource_id=VM_ID, state="removed")
    assert again["changed"] is False
    # Recorded again (a retry re-creates it): present once more.
    back, _ = ledger(resource_id=VM_ID, resource_type=VM_TYPE)
    assert back["changed"] is True
    assert _on_disk(ledger_path)["resources"][0]["removed"] is False


def test_release_drops_the_published_version_from_teardown(ledger: Any, ledger_path: Path) -> None:
    version = VM_ID.rsplit("/providers/", 1)[0] + (
        "/providers/Microsoft.Compute/galleries/g/images/img/versions/1.0.0"
    )
    ledger(resource_id=VM_ID, resource_type=VM_TYPE)
    ledger(resource_id=version, resource_type="Microsoft.Compute/galleries/images/versions")
    released, failed = ledger(resource_id=version.upper(), state="released")
    assert not failed and released["changed"] is True
    assert [r["id"] for r in _on_disk(ledger_path)["resources"]] == [VM_ID]
    again, _ = ledger(resource_id=version, state="released")
    assert again["changed"] is False


def test_remove_unknown_resource_is_kept_as_a_trace(ledger: Any, ledger_path: Path) -> None:
    result, failed = ledger(resource_id=VM_ID, state="removed")
    assert not failed and result["changed"] is True
    assert _on_disk(ledger_path)["resources"] == [
        {**result["ledger"]["resources"][0], "id": VM_ID, "removed": True, "type": None}
    ]


def test_new_resource_needs_a_type(ledger: Any, ledger_path: Path) -> None:
    result, failed = ledger(resource_id=VM_ID)
    assert failed and result["msg"].startswith("resource_type:")
    assert not ledger_path.exists()


def test_phase_start_and_end(ledger: Any, ledger_path: Path) -> None:
    start, _ = ledger(phase="validate", event="start")
    assert start["changed"] is True
    phase = _on_disk(ledger_path)["phases"][0]
    assert phase["name"] == "validate" and phase["status"] == "running" and phase["end"] is None
    restart, _ = ledger(phase="validate", event="start")
    assert restart["changed"] is False
    end, _ = ledger(phase="validate", event="end", status="ok")
    assert end["changed"] is True
    phase = _on_disk(ledger_path)["phases"][0]
    assert phase["status"] == "ok" and phase["end"] >= phase["start"]
    end_again, _ = ledger(phase="validate", event="end", status="ok")
    assert end_again["changed"] is False
    failed_later, _ = ledger(phase="validate", event="end", status="failed", message="boom")
    assert failed_later["changed"] is True
    assert _on_disk(ledger_path)["phases"][0]["message"] == "boom"


def test_phase_end_without_start_records_both(ledger: Any, ledger_path: Path) -> None:
    ledger(phase="capture", event="end", status="skipped")
    phase = _on_disk(ledger_path)["phases"][0]
    assert phase["start"] == phase["end"] and phase["status"] == "skipped"


def test_later_phases_are_recorded_skipped_in_the_same_write(ledger: Any, ledger_path: Path) -> None:
    ledger(phase="provision", event="end", status="failed", message="boom")
    skipped = {"event": "end", "status": "skipped", "message": "skipped: phase provision failed"}
    skip, _ = ledger(phase="connect", later_phases=["configure", "capture"], **skipped)
    assert skip["changed"] is True
    phases = _on_disk(ledger_path)["phases"]
    assert [(p["name"], p["status"]) for p in phases] == [
        ("provision", "failed"), ("connect", "skipped"), ("configure", "skipped"), ("capture", "skipped"),
    ]  # fmt: skip
    assert {p["message"] for p in phases[1:]} == {"skipped: phase provision failed"}
    again, _ = ledger(phase="connect", later_phases=["configure", "capture"], **skipped)
    assert again["changed"] is False


def test_phase_message_is_redacted(ledger: Any, ledger_path: Path) -> None:
    ledger(phase="provision", event="end", status="failed", message="bad admin_password=Sup3rS3cret! given")
    text = ledger_path.read_text()
    assert "Sup3rS3cret" not in text
    assert "admin_password=<redacted>" in text


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ({"event": "start"}, "phase: is required with event"),
        ({"phase": "x", "event": "end"}, "status: is required"),
        ({"phase": "x", "status": "ok"}, "status: is only used with event=end"),
        ({"phase": "x", "event": "end", "status": "ok", "later_phases": ["y"]}, "later_phases: is only used"),
        ({"phase": "x", "event": "middle"}, "value of event must be one of"),
        ({"state": "gone", "resource_id": VM_ID}, "value of state must be one of"),
    ],
)
def test_bad_arguments(ledger: Any, args: dict[str, Any], reason: str) -> None:
    result, failed = ledger(**args)
    assert failed
    assert reason in result["msg"]


def test_foreign_build_id_is_refused(ledger: Any) -> None:
    ledger(build_id="b-20261127213005-abcd")
    result, failed = ledger(build_id="c-20261127213005-abcd")
    assert failed and "belongs to build b-20261127213005-abcd" in result["msg"]


def test_corrupt_ledger_is_refused(ledger: Any, ledger_path: Path) -> None:
    ledger_path.parent.mkdir(parents=True)
    ledger_path.write_text("{not json")
    result, failed = ledger(phase="x", event="start")
    assert failed and "cannot read ledger" in result["msg"]
    ledger_path.write_text('{"version": 99}')
    result, failed = ledger(phase="x", event="start")
    assert failed and "not a version 1 build ledger" in result["msg"]


def test_diff_mode(ledger: Any) -> None:
    ledger(build_id="b-20261127213005-abcd")
    result, _ = ledger(diff=True, resource_id=VM_ID, resource_type=VM_TYPE)
    assert result["diff"]["before"]["resources"] == []
    assert result["diff"]["after"]["resources"][0]["id"] == VM_ID


def test_atomic_write_leaves_no_temporary_files(ledger: Any, ledger_path: Path) -> None:
    for i in range(5):
        ledger(resource_id=f"{VM_ID}{i}", resource_type=VM_TYPE)
    assert sorted(os.listdir(ledger_path.parent)) == ["ledger.json", "ledger.json.lock"]


def test_failed_write_keeps_the_old_file(ledger_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _ledger.write_atomic(str(ledger_path), {"version": 1, "phases": [], "resources": []})
    before = ledger_path.read_text()

    def boom(*_: Any, **__: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(_ledger.json, "dump", boom)
    with pytest.raises(OSError, match="disk full"):
        _ledger.write_atomic(str(ledger_path), {"version": 1, "phases": [1], "resources": []})
    assert ledger_path.read_text() == before
    assert sorted(os.listdir(ledger_path.parent)) == ["ledger.json"]


def test_parallel_writers_lose_nothing(ledger_path: Path) -> None:
    """Threads doing read-modify-write under the lock keep every record."""

    def record(i: int) -> None:
        with _ledger.locked(str(ledger_path), write=True):
            data = _ledger.load(str(ledger_path)) or _ledger.empty_ledger("b")
            _ledger.apply_resource(data, f"{VM_ID}-{i}", VM_TYPE, "recorded", None, _ledger.utc_now())
            _ledger.write_atomic(str(ledger_path), data)

    threads = [threading.Thread(target=record, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(_on_disk(ledger_path)["resources"]) == 20


def test_runs_as_a_script_with_module_args(tmp_path: Path) -> None:
    """The module runs the way Ansible runs it: a process reading ANSIBLE_MODULE_ARGS."""
    path = tmp_path / "ledger.json"
    args = tmp_path / "args.json"
    args.write_text(
        json.dumps({"ANSIBLE_MODULE_ARGS": {"path": str(path), "phase": "validate", "event": "start"}})
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "collections")}
    proc = subprocess.run(
        [sys.executable, "-m", "ansible_collections.avd.golden.plugins.modules.build_ledger", str(args)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["changed"] is True
    assert _on_disk(path)["phases"][0]["name"] == "validate"


def test_the_ledger_has_the_documented_format(ledger: Any, ledger_path: Path, documented_fields: Any) -> None:
    ledger(build_id="b-20261127213005-abcd")
    ledger(phase="provision", event="start")
    ledger(resource_id=VM_ID, resource_type=VM_TYPE, phase="provision")
    ledger(phase="provision", event="end", status="failed", message="vm | Create the build VM: boom")
    ledger(phase="capture", event="end", status="skipped", message="skipped: phase provision failed")
    ledger(resource_id=VM_ID, state="removed")
    disk = _on_disk(ledger_path)
    assert set(disk) == LEDGER_KEYS
    assert disk["version"] == _ledger.LEDGER_VERSION == 1
    assert TIME.match(disk["created_at"]) and TIME.match(disk["updated_at"])
    provision, capture = disk["phases"]
    assert set(provision) == set(capture) == PHASE_KEYS
    assert (provision["name"], provision["status"]) == ("provision", "failed")
    assert (capture["status"], capture["message"]) == ("skipped", "skipped: phase provision failed")
    assert all(TIME.match(p[k]) for p in (provision, capture) for k in ("start", "end"))
    (resource,) = disk["resources"]
    assert set(resource) == RESOURCE_KEYS
    assert resource["removed"] is True and TIME.match(resource["removed_at"])
    # The documentation lists exactly these fields.
    assert documented_fields("### The ledger") == (
        LEDGER_KEYS
        | {"runs"}
        | {f"runs[].{k}" for k in RUN_KEYS}
        | {f"phases[].{k}" for k in PHASE_KEYS | RESUMED_PHASE_KEYS}
        | {f"resources[].{k}" for k in RESOURCE_KEYS}
    )


def test_a_resumed_run_appends_and_keeps_what_earlier_runs_recorded(ledger: Any, ledger_path: Path) -> None:
    ledger(build_id="b-20261127213005-abcd")
    ledger(run=1, run_mode="new")
    for name, status in (("configure", "ok"), ("appx", "failed"), ("teardown", "skipped")):
        ledger(phase=name, event="start")
        ledger(phase=name, event="end", status=status, message="" if status == "ok" else "boom")
    # Run 2: a resume.
    result, failed = ledger(run=2, run_mode="pending", run_reason="run 1 ended with phase appx failed")
    assert not failed and result["changed"]
    ledger(run=2, run_mode="resume", run_reason="reusing the VM")
    result, _ = ledger(run=2, run_mode="resume", run_reason="reusing the VM")
    assert result["changed"] is False
    ledger(
        phase="configure",
        event="end",
        status="skipped",
        message="done in an earlier run (run 1)",
        done_in_run=1,
    )
    ledger(phase="appx", event="start")
    result, _ = ledger(phase="appx", event="start")
    assert result["changed"] is False  # a second start in the same run keeps the first
    ledger(phase="appx", event="end", status="ok")
    disk = _on_disk(ledger_path)
    assert [(r["run"], r["mode"]) for r in disk["runs"]] == [(1, "new"), (2, "resume")]
    assert set(disk["runs"][1]) == RUN_KEYS
    assert disk["runs"][1]["reason"] == "reusing the VM"
    phases = {p["name"]: p for p in disk["phases"]}
    assert [p["name"] for p in disk["phases"]] == ["configure", "appx", "teardown"]
    configure, appx, teardown = phases["configure"], phases["appx"], phases["teardown"]
    assert (configure["status"], configure["run"], configure["done_in_run"]) == ("skipped", 2, 1)
    assert [(e["run"], e["status"]) for e in configure["earlier"]] == [(1, "ok")]
    assert (appx["status"], appx["run"], appx["message"]) == ("ok", 2, "")
    assert [(e["run"], e["status"], e["message"]) for e in appx["earlier"]] == [(1, "failed", "boom")]
    # Not written in run 2: still run 1's record, nothing archived.
    assert (teardown["run"], teardown["status"], "earlier" in teardown) == (1, "skipped", False)
    # A ledger from before runs existed gets run 1 from its creation.
    legacy = {k: v for k, v in disk.items() if k != "runs"}
    assert _ledger.apply_run(legacy, 2, "resume", "", "2026-12-01T00:00:00Z")
    assert [r["run"] for r in legacy["runs"]] == [1, 2]
    assert legacy["runs"][0]["started_at"] == disk["created_at"]
