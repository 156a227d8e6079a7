"""Benchmark: what the image content (AVD settings, default user, optimization, AppX) costs.

Runs two full builds on fresh sandboxes, one after the other in the same run, and prints:

- the baseline: the demo's image spec (images/win11-24h2-avd.yml) with the content switched off
  (no AVD settings, no per-user defaults, no optimization, no AppX removal): what the demo built
  before the content phases existed;
- the example: images/win11-24h2-avd-m365.yml without its software (languages, applications, the
  AVD stack: bench/software_build.py measures those), every AVD setting and the default
  optimization profile;
- for each: wall time, WinRM module invocations per module, and the phases' durations; then the
  ratio of the wall times (target: at most 1.3) and the module invocations the content phases
  added (target: at most 10), per module.

    .venv/bin/python bench/image_content.py [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.guest_observer import GuestObserver, run_playbook  # noqa: E402
from tests.support.sandbox_process import Sandbox  # noqa: E402

TARGET_RATIO = 1.3
TARGET_CONTENT_CALLS = 10
CONTENT_PHASES = ("avd_settings", "default_user", "optimize", "appx")
# The full example's software sections, which this benchmark leaves out.
SOFTWARE = ("downloads", "languages", "applications", "avd_stack")
# The content sections switched off: what the demo built before the content phases existed.
CONTENT_OFF = {
    "avd": {"time_zone_redirection": False, "storage_sense": True},
    "default_user": [],
    "optimization": {"enabled": False},
    "appx": {"remove": []},
}


def _build(spec: Path) -> dict[str, Any]:
    """One full build of ``spec`` on a fresh sandbox; the numbers this benchmark prints."""
    with Sandbox() as sandbox, GuestObserver(sandbox, interval=0.5) as observer:
        run = run_playbook(sandbox, "build-golden.yml", "-e", f"image_spec={spec}", timeout=1800)
        observer.poll_once()
    modules: dict[str, int] = {}
    for guest in observer.last.values():
        for name, count in (guest.get("winrm") or {}).get("module_invocations", {}).items():
            modules[name] = modules.get(name, 0) + count
    try:
        report = run.report()
    except AssertionError:
        report = {}
    return {
        "spec": spec.name,
        "returncode": run.returncode,
        "result": report.get("result"),
        "wall_seconds": round(run.seconds, 1),
        "winrm_modules": dict(sorted(modules.items())),
        "phases": {p["name"]: p.get("duration_seconds") for p in report.get("phases", [])},
        "manifest": (report.get("manifest") or {}).get("summary", {}),
        "tail": run.stdout[-3000:] if run.returncode else "",
    }


def _content_calls(baseline: dict[str, Any], example: dict[str, Any]) -> dict[str, int]:
    """Module invocations the example made beyond the baseline, per module."""
    out = {}
    for name, count in example["winrm_modules"].items():
        extra = count - baseline["winrm_modules"].get(name, 0)
        if extra:
            out[name] = extra
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args()

    demo = yaml.safe_load((REPO / "images" / "win11-24h2-avd.yml").read_text())
    full = yaml.safe_load((REPO / "images" / "win11-24h2-avd-m365.yml").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        baseline_spec = Path(tmp) / "win11-24h2-avd-content-off.yml"
        baseline_spec.write_text(yaml.safe_dump({**demo, **CONTENT_OFF}, sort_keys=False))
        baseline = _build(baseline_spec)
        example_spec = Path(tmp) / "win11-24h2-avd-m365-content.yml"
        content = {key: value for key, value in full.items() if key not in SOFTWARE}
        example_spec.write_text(yaml.safe_dump(content, sort_keys=False))
        example = _build(example_spec)
    ratio = round(example["wall_seconds"] / baseline["wall_seconds"], 2) if baseline["wall_seconds"] else None
    calls = _content_calls(baseline, example)
    result = {
        "baseline": baseline,
        "example": example,
        "wall_time_ratio": ratio,
        "target_ratio": TARGET_RATIO,
        "content_module_calls": calls,
        "content_module_calls_total": sum(calls.values()),
        "target_content_calls": TARGET_CONTENT_CALLS,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for label, build in (("baseline (content off)", baseline), ("example (every AVD setting)", example)):
            print(f"{label}: {build['spec']} {build['result']} (rc {build['returncode']})")
            print(f"  wall time      {build['wall_seconds']} s")
            print(f"  WinRM modules  {sum(build['winrm_modules'].values())}  {build['winrm_modules']}")
            print(f"  phases (s)     {build['phases']}")
            if build["manifest"]:
                print(f"  manifest       {build['manifest']}")
            if build["tail"]:
                print(build["tail"])
        print(f"wall time ratio        {ratio} (target <= {TARGET_RATIO})")
        print(
            f"content module calls   {result['content_module_calls_total']} "
            f"(target <= {TARGET_CONTENT_CALLS})  {calls}"
        )
        content_time = sum(example["phases"].get(p) or 0 for p in CONTENT_PHASES)
        print(f"content phases         {round(content_time, 1)} s  {CONTENT_PHASES}")
    return 0 if baseline["returncode"] == 0 and example["returncode"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
