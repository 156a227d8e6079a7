"""Benchmark: the fault matrix. Each phase x each fault, one full build per cell on a fresh sandbox.

`ansible-playbook build-golden.yml` runs unchanged; when the cell's phase starts, the fault is
armed through the sandbox control endpoint, and disarmed when the phase ends
(tests/support/fault_matrix.py). Each cell is then judged from Azure's side: the build result,
the resources left behind (orphans, must be 0) and the image versions left not Succeeded (failed
versions, must be 0). A transient fault must be survived (result succeeded, the phase re-run at
least once); any other must fail cleanly (result failed, the failure naming the phase).

    .venv/bin/python bench/fault_matrix.py [--phases provision,capture] [--faults 429,"WinRM drop"]
                                           [--json out.json]

A cell that does not apply (no ARM call, no WinRM, no such operation in that phase) prints "-".
A fault armed in a phase that did not fire (the phase made no matching call) prints "not hit".
The full matrix is about 40 builds, 2 to 4 minutes each on a 2-core machine.
Cancel is not a column here (see the teardown-on-cancel tests).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.fault_matrix import FAULT_KINDS, FAULTS, PHASES, PhaseFaults, outcome  # noqa: E402
from tests.support.guest_observer import run_playbook  # noqa: E402
from tests.support.sandbox_process import Sandbox  # noqa: E402

SPEC = REPO / "images" / "win11-24h2-avd.yml"
# Short backoff between phase attempts; the real default is 30 s doubling to 300 s.
EXTRA = {"avd_phase_retry_delay": 2, "gallery_capture_stop_delay": 2, "azure_teardown_delay": 2}


def run_cell(phase: str, fault_name: str) -> dict[str, Any]:
    """One build with `fault_name` armed when `phase` starts."""
    with Sandbox() as sandbox, tempfile.TemporaryDirectory(prefix="fault-matrix-") as tmp:
        artifacts = Path(tmp) / "artifacts"
        evars = {"image_spec": str(SPEC), "image_spec_artifacts_root": str(artifacts), **EXTRA}
        with PhaseFaults(sandbox, artifacts, {phase: [fault_name]}) as watcher:
            run = run_playbook(sandbox, "build-golden.yml", "-e", json.dumps(evars), timeout=1800)
        reports = sorted(artifacts.glob("*/report.json"))
        report = json.loads(reports[0].read_text()) if reports else {}
        out = outcome(sandbox, run, report, watcher)
        fired = out.fired.get((phase, fault_name), 0)
        expected = FAULTS[fault_name].expect
        verdict = out.verdict if fired else "not hit"
        failure = report.get("failure") or {}
        # Survived may need no re-run at all: azure-core retried below us.
        ok = fired and (
            (expected == "survived" and verdict == "survived")
            or (expected == "failed" and verdict == "failed cleanly" and failure.get("phase") == phase)
        )
        return {
            "phase": phase,
            "fault": fault_name,
            "expected": expected,
            "verdict": verdict,
            "as_expected": bool(ok),
            "reruns": out.reruns,
            "fired": fired,
            "orphans": len(out.orphans),
            "failed_versions": len(out.failed_versions),
            "failure": failure,
            "seconds": round(out.seconds),
            "watcher_errors": watcher.errors,
            "unmodelled": len(sandbox.unmodelled()),
        }


def cells(phases: list[str], faults: list[str]) -> list[tuple[str, str]]:
    return [(p, f) for p in phases for f in faults if p in FAULTS[f].phases]


def print_matrix(
    phases: list[str], faults: list[str], results: dict[tuple[str, str], dict[str, Any]]
) -> None:
    short = {"survived": "survived", "failed cleanly": "failed ok", "not hit": "not hit"}
    width = max(12, *(len(f) + 2 for f in faults))
    print("phase".ljust(14) + "".join(f.ljust(width) for f in faults))
    for phase in phases:
        row = phase.ljust(14)
        for fault in faults:
            res = results.get((phase, fault))
            if res is None:
                text = "-"
            else:
                text = short.get(res["verdict"], "LEFT")
                if not res["as_expected"]:
                    text = "!" + text
            row += text.ljust(width)
        print(row)
    done = list(results.values())
    print(
        f"\n{len(done)} builds; as expected: {sum(r['as_expected'] for r in done)}; "
        f"orphans: {sum(r['orphans'] for r in done)}; failed versions left: "
        f"{sum(r['failed_versions'] for r in done)}; '!' marks a cell that is not as expected."
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--phases", default=",".join(PHASES))
    parser.add_argument("--faults", default=",".join(FAULT_KINDS))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    phases = [p for p in args.phases.split(",") if p]
    faults = [f for f in args.faults.split(",") if f]
    unknown = [p for p in phases if p not in PHASES] + [f for f in faults if f not in FAULTS]
    if unknown:
        parser.error(f"unknown phase or fault: {', '.join(unknown)}")
    results: dict[tuple[str, str], dict[str, Any]] = {}
    started = time.monotonic()
    for phase, fault in cells(phases, faults):
        res = run_cell(phase, fault)
        results[(phase, fault)] = res
        note = "" if res["as_expected"] else "  NOT AS EXPECTED"
        print(
            f"[{round(time.monotonic() - started)} s] {phase} x {fault}: {res['verdict']} "
            f"(re-runs {res['reruns']}, {res['seconds']} s){note}",
            flush=True,
        )
    print()
    print_matrix(phases, faults, results)
    if args.json:
        args.json.write_text(json.dumps(list(results.values()), indent=2))
    bad = [r for r in results.values() if not r["as_expected"] or r["orphans"] or r["failed_versions"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
