"""Benchmark: the full example's software, languages and updates (issue 8's numbers).

1. The full example (images/win11-24h2-avd-m365.yml, its installers and language files built and
   uploaded to Azurite by tests/support/full_example.py) built end to end on a fresh sandbox, with
   the product's defaults: the wall time, then per phase its duration, the WinRM module
   invocations (the sandbox logs when each starts), the bytes the build VM downloaded and its
   reboots. Target: at most one reboot in each phase that needs one (Windows Update: one per round
   that asks for it), none elsewhere, and every file downloaded once.
2. The software phases again on a VM that has them (the languages, applications and avd_stack
   roles run twice on one simulated build VM, tests/support/build_vm.py, with the same files from a
   local HTTPS folder): the second run's changes (target 0), downloads (target 0), module
   invocations and wall time.

    .venv/bin/python bench/software_build.py [--json]

The sandbox's installers finish at once, so its wall times are mostly the product's own overhead
and the polling of running installers (windows_applications_poll_seconds, 10 s by default): they
say nothing of how long Microsoft's installers take on a real VM.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support import full_example  # noqa: E402
from tests.support.build_vm import BuildVm  # noqa: E402
from tests.support.file_server import FileServer  # noqa: E402
from tests.support.guest_observer import GuestObserver, run_playbook  # noqa: E402
from tests.support.sandbox_process import Sandbox  # noqa: E402

SOFTWARE_PHASES = ("languages", "applications", "avd_stack")
# Phases whose work asks for a restart in the full example, and how many at most.
REBOOTS_ALLOWED = {"updates": 4, "languages": 1, "applications": 1, "avd_stack": 1, "optimize": 1}
PLAY = REPO / "bench" / "software_phases.yml"


class Sampler(GuestObserver):
    """A GuestObserver that also keeps, per guest and for every look, when it looked, the bytes the
    guest had downloaded and its boot time."""

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox, interval=0.25)
        self.samples: dict[str, list[tuple[float, int, float]]] = {}

    def poll_once(self) -> None:
        super().poll_once()
        now = time.time()
        for name, dump in self.last.items():
            self.samples.setdefault(name, []).append((now, dump["bytes_downloaded"], dump["boot_time"]))


def _epoch(stamp: str) -> float:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _phase_of(phases: list[dict[str, Any]], when: float) -> str:
    """The phase running at ``when``; the report gives starts and ends to the second."""
    for phase in phases:
        if phase.get("start") and _epoch(phase["start"]) <= when < _epoch(phase["end"]) + 1:
            return phase["name"]
    return "(between phases)"


def _per_phase(report: dict[str, Any], sampler: Sampler) -> dict[str, dict[str, Any]]:
    phases = [p for p in report["phases"] if p.get("start")]
    rows = {
        p["name"]: {"seconds": p.get("duration_seconds"), "modules": 0, "bytes": 0, "reboots": 0}
        for p in report["phases"]
    }
    rows["(between phases)"] = {"seconds": None, "modules": 0, "bytes": 0, "reboots": 0}
    for name, dump in sampler.last.items():
        for when, _module in dump["winrm"]["module_log"]:
            rows[_phase_of(phases, when)]["modules"] += 1
        samples = sampler.samples[name]
        for (_, was_bytes, was_boot), (when, now_bytes, now_boot) in itertools.pairwise(samples):
            rows[_phase_of(phases, when)]["bytes"] += now_bytes - was_bytes
            if now_boot != was_boot:
                rows[_phase_of(phases, now_boot)]["reboots"] += 1
    return rows


def full_build() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, Sandbox(azurite=True) as sandbox:
        example = full_example.prepare(sandbox, Path(tmp))
        with Sampler(sandbox) as sampler:
            run = run_playbook(sandbox, "build-golden.yml", "-e", f"image_spec={example.spec}", timeout=2400)
        try:
            report = run.report()
        except AssertionError:
            return {"returncode": run.returncode, "tail": run.stdout[-4000:]}
        phases = _per_phase(report, sampler)
        # From each guest's first look: the validation VM boots from the image, counter included.
        downloaded = sum(samples[-1][1] - samples[0][1] for samples in sampler.samples.values())
        return {
            "returncode": run.returncode,
            "result": report["result"],
            "wall_seconds": round(run.seconds, 1),
            "phases": phases,
            "bytes_downloaded": downloaded,
            "bytes_of_the_files": example.bytes,
            "reboots_over_target": {
                name: row["reboots"]
                for name, row in phases.items()
                if row["reboots"] > REBOOTS_ALLOWED.get(name, 0)
            },
            "tail": run.stdout[-4000:] if run.returncode else "",
        }


def rerun() -> dict[str, Any]:
    """The software phases twice on one VM; the numbers of each run."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        vm = BuildVm(work)
        try:
            with vm.host.lock:
                vm.guest.trusted_ca = str(vm.world.ca.cert)
            example = full_example.build(work, vm.world.ca)
            with FileServer(example.root, vm.world.ca) as server:
                spec = work / "software.json"
                spec.write_text(json.dumps(full_example.with_urls(example, server.url)))
                args = (str(PLAY), "-e", f"spec_file={spec}", "-e", f"artifacts_dir={work / 'artifacts'}")
                runs = []
                for label in ("first", "second"):
                    calls = sum(vm.host.vms[vm.vm_id].modules.values())
                    seen = len(server.requests)
                    play = vm.play(*args, timeout=1800)
                    runs.append(
                        {
                            "run": label,
                            "rc": play.rc,
                            "changed": play.stats.get("changed"),
                            "downloads": len(server.requests) - seen,
                            "modules": sum(vm.host.vms[vm.vm_id].modules.values()) - calls,
                            "seconds": round(play.seconds, 1),
                            "error": "" if play.rc == 0 else play.explain()[-3000:],
                        }
                    )
                    if play.rc:
                        break
                return {"files": len(example.blobs), "runs": runs}
        finally:
            vm.close()


def _print(build: dict[str, Any], again: dict[str, Any]) -> None:
    print(f"full example: {build.get('result')} (rc {build['returncode']}) in {build.get('wall_seconds')} s")
    if "phases" in build:
        print(f"  {'phase':<18}{'seconds':>8}{'modules':>9}{'bytes':>10}{'reboots':>9}")
        for name, row in build["phases"].items():
            if row["seconds"] is None and not any((row["modules"], row["bytes"], row["reboots"])):
                continue
            seconds = row["seconds"] if row["seconds"] is not None else ""
            print(f"  {name:<18}{seconds:>8}{row['modules']:>9}{row['bytes']:>10}{row['reboots']:>9}")
        print(f"  downloaded {build['bytes_downloaded']} bytes, the files are {build['bytes_of_the_files']}")
        print(f"  reboots over the target: {build['reboots_over_target'] or 'none'}")
    if build.get("tail"):
        print(build["tail"])
    print(f"software phases twice on one VM ({again['files']} files):")
    for row in again["runs"]:
        print(
            f"  {row['run']:<7} rc {row['rc']}  changed {row['changed']}  downloads {row['downloads']}  "
            f"modules {row['modules']}  {row['seconds']} s"
        )
        if row["error"]:
            print(row["error"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args()
    build = full_build()
    again = rerun()
    if args.json:
        print(json.dumps({"full_build": build, "rerun": again}, indent=2))
    else:
        _print(build, again)
    second = again["runs"][-1]
    ok = (
        build["returncode"] == 0
        and not build.get("reboots_over_target")
        and build.get("bytes_downloaded") == build.get("bytes_of_the_files")
        and (second["run"], second["rc"], second["changed"], second["downloads"]) == ("second", 0, 0, 0)
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
