"""Many image definitions in one run: resolve them, run one child build per definition with a
bound on how many run at once, forward a cancel to every running child, and summarise.

Each child is its own `ansible-playbook build-golden.yml -e image_spec=<file>` (own build id, VM,
resources, ledger and report), so one child failing or being cancelled leaves the others alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

# Two at once by default: each child runs its own ansible-playbook with its own module processes
# on the controller, and a 2-core controller saturates beyond that; the Azure side (VM create,
# image version replication) dominates, so more helps only with more cores (raise it with -e).
DEFAULT_PARALLEL = 2
SUFFIXES = (".yml", ".yaml")
# The report play's "Print the report path" line; the artifacts root is the user's choice
# (image_spec_artifacts_root), so any absolute path ending in report.json.
_REPORT_LINE = re.compile(r"^\s*msg: (/\S+/report\.json)\s*$", re.MULTILINE)


class FanOutError(ValueError):
    """A bad input of the fan-out (names the field and the reason)."""


def resolve_definitions(value, base_dir="."):
    """The definition files of `image_definitions`: a directory (its *.yml/*.yaml, sorted), a
    file, or a list of either. Fails on an empty result, a missing path, or a duplicate."""
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        items = list(value)
    else:
        raise FanOutError("image_definitions: must be a directory, a file or a list of files")
    files = []
    for item in items:
        path = Path(base_dir, item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in SUFFIXES)
            if not found:
                raise FanOutError(f"image_definitions: {item}: the directory holds no .yml/.yaml file")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise FanOutError(f"image_definitions: {item}: no such file or directory")
    seen = set()
    for path in files:
        key = path.resolve()
        if key in seen:
            raise FanOutError(f"image_definitions: {path}: listed twice")
        seen.add(key)
    return [str(p) for p in files]


def check_parallel(value):
    """avd_parallel_builds as a positive int."""
    if isinstance(value, bool) or not re.fullmatch(r"[0-9]+", str(value)) or int(value) < 1:
        raise FanOutError(f"avd_parallel_builds: must be a positive whole number (got {value!r})")
    return int(value)


def child_names(files):
    """A unique, file-system safe label per definition (its file stem; a suffix when two clash)."""
    names, used = [], set()
    for file in files:
        base = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(file).stem) or "image"
        name, n = base, 2
        while name in used:
            name, n = f"{base}-{n}", n + 1
        used.add(name)
        names.append(name)
    return names


def find_report_path(log_text):
    """The report path a child printed (the report phase prints it as its last line)."""
    matches = _REPORT_LINE.findall(log_text)
    return matches[-1] if matches else None


def read_report(path):
    """The fields of a child's report the summary carries; None when it cannot be read."""
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return None
    return report if isinstance(report, dict) else None


class FanOut:
    """Runs `commands` (name -> argv) with at most `parallel` at once; `cancel(sig)` stops
    starting new children and sends `sig` to each running one (its build_cancel callback then
    cancels it cleanly: teardown and a cancelled report still run)."""

    def __init__(self, commands, parallel, log_dir, env=None, cwd=None):
        self.commands = dict(commands)
        self.parallel = check_parallel(parallel)
        self.log_dir = Path(log_dir)
        self.env = env
        self.cwd = cwd
        self.results = {}
        self.running = {}
        self.peak = 0
        self.cancelled_by = None
        self._lock = threading.Lock()

    def cancel(self, sig=signal.SIGTERM):
        with self._lock:
            self.cancelled_by = self.cancelled_by or signal.Signals(sig).name
            procs = list(self.running.values())
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)

    def _start(self, name):
        log = self.log_dir / f"{name}.log"
        handle = open(log, "wb")  # noqa: SIM115 - closed when the child ends
        proc = subprocess.Popen(
            self.commands[name],
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.env,
            cwd=self.cwd,
            # Its own session: a terminal's Ctrl-C reaches the child once, through cancel().
            start_new_session=True,
        )
        return proc, handle, log, time.monotonic()

    def run(self, poll=0.05):
        self.log_dir.mkdir(parents=True, exist_ok=True)
        pending = list(self.commands)
        active = {}
        while pending or active:
            with self._lock:
                while pending and len(active) < self.parallel and self.cancelled_by is None:
                    name = pending.pop(0)
                    active[name] = self._start(name)
                    self.running[name] = active[name][0]
                self.peak = max(self.peak, len(active))
                if self.cancelled_by is not None:
                    for name in pending:
                        self.results[name] = {"returncode": None, "log": None, "duration_seconds": 0.0}
                    pending = []
            for name, (proc, handle, log, started) in list(active.items()):
                if proc.poll() is None:
                    continue
                handle.close()
                with self._lock:
                    del self.running[name]
                del active[name]
                self.results[name] = {
                    "returncode": proc.returncode,
                    "log": str(log),
                    "duration_seconds": round(time.monotonic() - started, 1),
                }
            time.sleep(poll)
        return self.results


def summarise(run_id, files, names, results, cancelled_by=None):
    """summary.json's content: one entry per definition, in the order given."""
    images = []
    for file, name in zip(files, names, strict=True):
        res = results.get(name, {})
        entry = {
            "definition_file": file,
            "name": name,
            "returncode": res.get("returncode"),
            "duration_seconds": res.get("duration_seconds"),
            "log": res.get("log"),
            "report": None,
            "result": "not_started" if res.get("log") is None else "failed",
            "build_id": None,
            "image_version": None,
            "image_version_id": None,
            "phases": [],
        }
        text = ""
        if res.get("log"):
            try:
                text = Path(res["log"]).read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
        path = find_report_path(text)
        report = read_report(path) if path else None
        if report is not None:
            entry["report"] = path
            entry["result"] = report.get("result") or entry["result"]
            entry["build_id"] = report.get("build_id")
            entry["image_version_id"] = report.get("image_version_id")
            entry["image_version"] = (report.get("details") or {}).get("image_version")
            entry["duration_seconds"] = report.get("duration_seconds") or entry["duration_seconds"]
            entry["phases"] = [
                {
                    "name": p.get("name"),
                    "status": p.get("status"),
                    "duration_seconds": p.get("duration_seconds"),
                }
                for p in report.get("phases") or []
                if isinstance(p, dict)
            ]
        elif res.get("returncode") == 0:
            entry["result"] = "unknown"
        images.append(entry)
    counts = {}
    for entry in images:
        counts[entry["result"]] = counts.get(entry["result"], 0) + 1
    return {
        "summary_version": 1,
        "run_id": run_id,
        "cancelled_by": cancelled_by,
        "results": counts,
        "images": images,
        "succeeded": bool(images) and all(e["result"] in ("succeeded", "up_to_date") for e in images),
    }


def table(summary):
    """A short printable table of the summary."""
    rows = [("IMAGE", "RESULT", "VERSION", "SECONDS", "REPORT")]
    for e in summary["images"]:
        seconds = "" if e["duration_seconds"] is None else f"{e['duration_seconds']:.0f}"
        rows.append(
            (e["name"], e["result"], e["image_version"] or "-", seconds, e["report"] or e["log"] or "-")
        )
    widths = [max(len(str(r[i])) for r in rows) for i in range(4)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r[:4], widths, strict=True)) for r in rows]
    return "\n".join(f"{line}  {r[4]}" for line, r in zip(lines, rows, strict=True))


def child_env(base=None):
    """The children's environment: the parent's, unchanged (same config, inventory, credentials)."""
    return dict(os.environ if base is None else base)
