"""Benchmark: the full golden-image build on the sandbox, as `make demo` runs it.

Starts a fresh sandbox, runs `ansible-playbook build-golden.yml` unchanged and prints:
wall time of the playbook, ARM requests (the emulator's request log), WinRM module invocations
(counted by the simulated guest, read from the control endpoint while the build runs, since the
guest is forgotten when teardown deletes the VM), the per-phase durations from the build report,
and peak memory (largest RSS among the processes this script waited for: ansible-playbook and its
workers; and the sandbox process's own high-water mark). Target: <= 180 s on a 2-core machine.
Then the same build again with unchanged inputs (docs/contracts.md section 19): its wall time,
result and ARM writes. Target: up to date in under 15 s, with no ARM write.

    .venv/bin/python bench/full_build.py [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.guest_observer import GuestObserver, run_playbook  # noqa: E402
from tests.support.sandbox_process import Sandbox  # noqa: E402

TARGET_SECONDS = 180
SECOND_RUN_TARGET_SECONDS = 15


def _vm_hwm_kib(pid: int) -> int | None:
    """VmHWM (peak resident set) of a live process, in KiB, or None when unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args()

    with Sandbox() as sandbox, GuestObserver(sandbox, interval=0.5) as observer:
        run = run_playbook(sandbox, timeout=1800)
        observer.poll_once()
        arm_requests = len(sandbox.requests())
        again = run_playbook(sandbox, timeout=600)
        second_writes = [
            r
            for r in sandbox.requests()[arm_requests:]
            if r["method"] != "GET" and r["path"].startswith("/subscriptions/")
        ]
        unmodelled = sandbox.unmodelled()
        sandbox_hwm = _vm_hwm_kib(sandbox.proc.pid) if sandbox.proc else None

    modules: dict[str, int] = {}
    for guest in observer.last.values():
        for name, count in (guest.get("winrm") or {}).get("module_invocations", {}).items():
            modules[name] = modules.get(name, 0) + count
    children_max_rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    try:
        report = run.report()
    except AssertionError:
        report = {}
    try:
        second_result = again.report().get("result")
    except AssertionError:
        second_result = None
    result = {
        "returncode": run.returncode,
        "result": report.get("result"),
        "wall_seconds": round(run.seconds, 1),
        "target_seconds": TARGET_SECONDS,
        "arm_requests": arm_requests,
        "winrm_module_invocations": sum(modules.values()),
        "winrm_modules": dict(sorted(modules.items())),
        "phases": {p["name"]: p.get("duration_seconds") for p in report.get("phases", [])},
        "peak_rss_mib_ansible": round(children_max_rss_kib / 1024, 1),
        "peak_rss_mib_sandbox": round(sandbox_hwm / 1024, 1) if sandbox_hwm else None,
        "second_run": {
            "returncode": again.returncode,
            "result": second_result,
            "wall_seconds": round(again.seconds, 1),
            "target_seconds": SECOND_RUN_TARGET_SECONDS,
            "arm_writes": len(second_writes),
        },
        "unmodelled": len(unmodelled),
        "observer_errors": len(observer.errors),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"full build: {result['result']} (rc {run.returncode})")
        print(f"  wall time          {result['wall_seconds']} s (target <= {TARGET_SECONDS} s)")
        print(f"  ARM requests       {arm_requests}")
        print(f"  WinRM modules      {result['winrm_module_invocations']}  {result['winrm_modules']}")
        print(f"  phases (s)         {result['phases']}")
        print(
            f"  peak memory        ansible-playbook {result['peak_rss_mib_ansible']} MiB, "
            f"sandbox {result['peak_rss_mib_sandbox']} MiB"
        )
        second = result["second_run"]
        print(
            f"  second run         {second['result']} (rc {again.returncode}) in {second['wall_seconds']} s "
            f"(target < {SECOND_RUN_TARGET_SECONDS} s), {second['arm_writes']} ARM writes (target 0)"
        )
        if unmodelled:
            print(f"  UNMODELLED         {unmodelled}")
        if run.returncode != 0:
            print(run.stdout[-3000:])
    return 0 if run.returncode == 0 and again.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
