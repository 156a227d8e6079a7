"""Benchmark: cancel `build-golden.yml` in every phase and print the matrix (issue 9: cancel at
each phase, 0 orphans within the bounded teardown time, report written).

For each phase of playbooks/vars/phases.yml that the wrapper runs (preflight .. capture, and
teardown itself), a fresh sandbox and a fresh build; when the ledger shows the phase running, one
signal (SIGTERM, or --signal SIGINT). Each row: the phase, the report's result, the phase's
ledger status, resources left in ARM, payload files holding the admin password, and the seconds
from the signal to the end of the run. Exit code 1 when a row is not clean. Slow (one partial
build per phase, minutes each on 2 cores): tests/integration/test_cancel.py runs two of them.

    .venv/bin/python bench/cancel_matrix.py [--signal SIGINT] [--phases configure,sysprep]
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.cancel_run import Build, password_files, wait_for  # noqa: E402
from tests.support.runs import build_resources  # noqa: E402
from tests.support.sandbox_process import Sandbox  # noqa: E402


def wrapper_phases() -> list[str]:
    registry = yaml.safe_load((REPO / "playbooks" / "vars" / "phases.yml").read_text())["avd_phases"]
    return [p["name"] for p in registry if "role" in p]


def one(phase: str, signum: signal.Signals) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="avd-cancel-") as tmp, Sandbox() as sb:
        build = Build(sb, Path(tmp)).start()
        assert build.proc is not None
        running = lambda: build.phase(phase).get("status") == "running"  # noqa: E731
        wait_for(f"the {phase} phase to start", running, build.proc, 1800)
        sent = time.monotonic()
        build.proc.send_signal(signum)
        rc, _ = build.finish()
        seconds = time.monotonic() - sent
        report = build.report()
        left = build_resources(sb.state(), report["build_id"])
        versions = [r for r in left if "/galleries/" in r]
        return {
            "phase": phase,
            "rc": rc,
            "result": report["result"],
            "status": build.phase(phase).get("status"),
            # A version published before the cancel is the build's product, not an orphan.
            "orphans": len(left) - len(versions) if report["image_version_id"] else len(left),
            "password_files": len(password_files(build.payloads)),
            "seconds": round(seconds, 1),
        }


def clean(row: dict[str, object]) -> bool:
    if row["orphans"] or row["password_files"]:
        return False
    if row["phase"] == "teardown":  # teardown ignores a first signal and finishes
        return row["status"] == "ok"
    return row["result"] == "cancelled" and row["status"] == "cancelled" and row["rc"] != 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signal", default="SIGTERM", choices=["SIGTERM", "SIGINT"])
    parser.add_argument("--phases", default="", help="comma-separated subset (default: every wrapper phase)")
    args = parser.parse_args()
    phases = [p for p in args.phases.split(",") if p] or wrapper_phases()
    rows = [one(phase, signal.Signals[args.signal]) for phase in phases]
    header = ("phase", "result", "status", "orphans", "password_files", "seconds", "clean")
    print(" | ".join(header))
    for row in rows:
        print(" | ".join(str(row[h]) for h in header[:-1]) + f" | {'yes' if clean(row) else 'NO'}")
    return 0 if all(clean(r) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
