"""Benchmark: the ARM requests one build makes, per throttling bucket (reads, writes, deletes),
against Azure's token buckets (sandbox/arm/throttling.py, docs/contracts.md section 10).

Runs the Azure side of one build on the sandbox (as bench/azure_side_build.py does), then reads
the sandbox's request log: requests per bucket, the busiest second, and the lowest level each
bucket reached when the log is replayed through Azure's default buckets (one principal).

    .venv/bin/python bench/throttling.py

The sandbox answers LROs faster than Azure and its polls come quicker, so the busiest second is
an upper bound of what a real build sends; the totals are what a build costs.
"""

from __future__ import annotations

import collections
import datetime as dt
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sandbox.arm.errors import ArmError  # noqa: E402
from sandbox.arm.throttling import LIMITS, Throttling, kind_of  # noqa: E402
from tests.support.azure_side import extra_vars, image_spec, run_azure_side  # noqa: E402
from tests.support.sandbox_process import Sandbox  # noqa: E402


def _seconds(entry: dict) -> float:
    return dt.datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00")).timestamp()


def summarize(requests: list[dict]) -> dict[str, dict[str, float]]:
    """Per bucket: total, busiest second, lowest replayed level, replayed 429s."""
    arm = [r for r in requests if str(r.get("path", "")).lower().startswith("/subscriptions/")]
    now = [0.0]
    replay = Throttling(lambda: now[0])
    out: dict[str, dict[str, float]] = {
        k: {"total": 0, "peak_per_s": 0, "lowest": size, "throttled": 0} for k, (size, _r) in LIMITS.items()
    }
    per_second: collections.Counter[tuple[str, int]] = collections.Counter()
    for entry in sorted(arm, key=_seconds):
        kind = kind_of(entry["method"])
        now[0] = _seconds(entry)
        out[kind]["total"] += 1
        per_second[(kind, int(now[0]))] += 1
        try:
            left = int(replay.take("build", entry["method"])[f"x-ms-ratelimit-remaining-subscription-{kind}"])
            out[kind]["lowest"] = min(out[kind]["lowest"], left)
        except ArmError:
            out[kind]["throttled"] += 1
    for (kind, _sec), count in per_second.items():
        out[kind]["peak_per_s"] = max(out[kind]["peak_per_s"], count)
    return out


def main() -> int:
    """Run one Azure-side build and print the numbers per bucket."""
    with tempfile.TemporaryDirectory(prefix="avd-bench-") as tmp, Sandbox() as sb:
        definition = image_spec(Path(tmp))
        run = run_azure_side(sb, extra_vars(definition, Path(tmp) / "artifacts"))
        if run.returncode != 0:
            print(run.explain())
            return 1
        requests = sb.requests()
    served_429 = sum(1 for r in requests if r.get("error") == "TooManyRequests")
    head = ("bucket", "requests", "busiest s", "lowest left", "size/refill", "429 replayed")
    print(f"{head[0]:8} " + " ".join(f"{h:>{len(h)}}" for h in head[1:]))
    for kind, row in summarize(requests).items():
        size, refill = LIMITS[kind]
        print(
            f"{kind:8} {row['total']:>8.0f} {row['peak_per_s']:>9.0f} {row['lowest']:>11.0f} "
            f"{f'{size:.0f}/{refill:.0f}':>11} {row['throttled']:>12.0f}"
        )
    print(f"429 TooManyRequests served by the sandbox during the build: {served_429}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
