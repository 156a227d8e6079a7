"""The fan-out of many image definitions (plugins/plugin_utils/_multi.py), driven with real child
processes (small Python scripts standing in for ansible-playbook)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.plugin_utils import _multi  # noqa: E402

# A fake build: records its start/end in a shared file, writes a report and prints its path as
# the report play's "Print the report path" task does (under any artifacts root), exits with the
# code asked for; on SIGTERM writes a cancelled report.
CHILD = r"""
import json, os, signal, sys, time
name, seconds, code, marks, art = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
def report(result):
    d = os.path.join(art, "builds", "b-" + name); os.makedirs(d, exist_ok=True)
    p = os.path.join(d, "report.json")
    with open(p, "w") as f:
        ok = result == "succeeded"
        json.dump({"result": result, "build_id": "b-" + name,
                   "image_version_id": "/x/versions/1.0." + name if ok else None, "duration_seconds": seconds,
                   "details": {"image_version": "1.0." + name if result == "succeeded" else None},
                   "phases": [{"name": "provision", "status": "ok", "duration_seconds": 1.5}]}, f)
    print("ok: [localhost] => ", "    msg: " + p, sep="\n", flush=True)
def on_term(sig, frame):
    with open(marks, "a") as f: f.write(f"term {name}\n")
    report("cancelled"); sys.exit(2)
signal.signal(signal.SIGTERM, on_term)
with open(marks, "a") as f: f.write(f"start {name} {time.monotonic()}\n")
time.sleep(seconds)
with open(marks, "a") as f: f.write(f"end {name} {time.monotonic()}\n")
report("succeeded" if code == 0 else "failed")
sys.exit(code)
"""


@pytest.fixture
def child(tmp_path: Path) -> Path:
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    return script


def commands(child: Path, tmp_path: Path, spec: dict[str, tuple[float, int]]) -> dict[str, list[str]]:
    marks = tmp_path / "marks"
    return {
        n: [sys.executable, str(child), n, str(s), str(c), str(marks), str(tmp_path)]
        for n, (s, c) in spec.items()
    }


def overlap_peak(marks: Path) -> int:
    events = []
    for line in marks.read_text(encoding="utf-8").splitlines():
        kind, _name, *rest = line.split()
        if kind in ("start", "end"):
            events.append((float(rest[0]), 1 if kind == "start" else -1))
    peak = level = 0
    for _t, d in sorted(events):
        level += d
        peak = max(peak, level)
    return peak


def test_concurrency_is_bounded(child: Path, tmp_path: Path) -> None:
    fan = _multi.FanOut(
        commands(child, tmp_path, {f"i{n}": (0.4, 0) for n in range(5)}), 2, tmp_path / "logs"
    )
    results = fan.run()
    assert sorted(results) == [f"i{n}" for n in range(5)]
    assert all(r["returncode"] == 0 for r in results.values())
    # Measured from the children's own start/end marks, not from the runner's counter.
    assert overlap_peak(tmp_path / "marks") == 2


def test_a_failing_child_does_not_stop_the_others(child: Path, tmp_path: Path) -> None:
    spec = {"bad": (0.1, 3), "good1": (0.3, 0), "good2": (0.3, 0)}
    fan = _multi.FanOut(commands(child, tmp_path, spec), 2, tmp_path / "logs")
    results = fan.run()
    assert results["bad"]["returncode"] == 3
    assert results["good1"]["returncode"] == 0
    assert results["good2"]["returncode"] == 0
    names = list(spec)
    summary = _multi.summarise("run1", [f"{n}.yml" for n in names], names, results)
    by = {e["name"]: e for e in summary["images"]}
    assert by["bad"]["result"] == "failed"
    assert by["good2"]["result"] == "succeeded"
    assert by["good2"]["image_version"] == "1.0.good2"
    assert by["good2"]["phases"] == [{"name": "provision", "status": "ok", "duration_seconds": 1.5}]
    assert Path(by["good2"]["report"]).is_file()
    assert summary["results"] == {"failed": 1, "succeeded": 2}
    assert summary["succeeded"] is False


def test_cancel_reaches_every_running_child_and_starts_no_more(child: Path, tmp_path: Path) -> None:
    spec = {"a": (30, 0), "b": (30, 0), "c": (30, 0)}
    fan = _multi.FanOut(commands(child, tmp_path, spec), 2, tmp_path / "logs")
    marks = tmp_path / "marks"
    done: dict = {}
    runner = threading.Thread(target=lambda: done.update(fan.run()))
    runner.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (not marks.exists() or marks.read_text().count("start") < 2):
        time.sleep(0.05)
    started = time.monotonic()
    fan.cancel(signal.SIGTERM)
    runner.join(10)
    assert not runner.is_alive()
    assert time.monotonic() - started < 5
    text = marks.read_text(encoding="utf-8")
    assert "term a" in text and "term b" in text
    assert "start c" not in text
    summary = _multi.summarise("r", ["a.yml", "b.yml", "c.yml"], ["a", "b", "c"], done, fan.cancelled_by)
    assert [e["result"] for e in summary["images"]] == ["cancelled", "cancelled", "not_started"]
    assert summary["cancelled_by"] == "SIGTERM"


def test_resolve_definitions(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    for n in ("b.yml", "a.yaml", "notes.txt"):
        (tmp_path / "d" / n).write_text("x", encoding="utf-8")
    assert [Path(p).name for p in _multi.resolve_definitions("d", tmp_path)] == ["a.yaml", "b.yml"]
    assert len(_multi.resolve_definitions(["d/a.yaml", "d/b.yml"], tmp_path)) == 2
    with pytest.raises(_multi.FanOutError, match=r"image_definitions: nope: no such file"):
        _multi.resolve_definitions("nope", tmp_path)
    with pytest.raises(_multi.FanOutError, match="listed twice"):
        _multi.resolve_definitions(["d", "d/a.yaml"], tmp_path)
    (tmp_path / "e").mkdir()
    with pytest.raises(_multi.FanOutError, match=r"holds no \.yml"):
        _multi.resolve_definitions("e", tmp_path)
    with pytest.raises(_multi.FanOutError, match="must be a directory"):
        _multi.resolve_definitions({"a": 1}, tmp_path)


@pytest.mark.parametrize("value", [0, -1, "x", True, 1.5])
def test_parallel_is_a_positive_whole_number(value: object) -> None:
    with pytest.raises(_multi.FanOutError, match="avd_parallel_builds"):
        _multi.check_parallel(value)


def test_names_are_unique_and_table_lists_each_image() -> None:
    assert _multi.child_names(["x/a.yml", "y/a.yml", "b c.yml"]) == ["a", "a-2", "b_c"]
    summary = _multi.summarise("r", ["a.yml"], ["a"], {"a": {"returncode": 1, "log": None}})
    assert summary["images"][0]["result"] == "not_started"
    assert "a  " in _multi.table(summary).splitlines()[1]
    json.dumps(summary)


def test_the_first_signal_of_the_main_process_reaches_a_registered_worker(tmp_path: Path) -> None:
    from ansible_collections.avd.golden.plugins.plugin_utils import _cancel

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    reg = Path(_cancel.forward_dir())
    reg.mkdir(parents=True, exist_ok=True)
    (reg / str(sleeper.pid)).touch()
    try:
        _cancel.forward(signal.SIGTERM)
        assert sleeper.wait(5) == -signal.SIGTERM
    finally:
        (reg / str(sleeper.pid)).unlink()
        sleeper.kill()
