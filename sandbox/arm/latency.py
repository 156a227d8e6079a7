"""Optional latency model (`serve --latency realistic`): long-running operations take Azure-like
time, drawn from a lognormal model of published Azure timings (median and p90 per operation, from
build logs and issue reports): mu = ln(median), sigma = ln(p90/median)/1.2816, plus a small stall
tail.

Off by default: the sandbox is fast. AVD_SANDBOX_LATENCY_SCALE (default 1.0) multiplies every
draw, e.g. 0.01 to keep the shape of the timings while running 100x faster. Only ARM operations
are modelled here; guest-side durations belong to the Windows side.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable

# (median s, p90 s, stall probability, stall factor) per operation key "<kind>:<action>:<type>".
MODEL: dict[str, tuple[float, float, float, float]] = {
    "put::resourcegroups": (3, 8, 0, 1),
    "put::virtualnetworks": (9, 15, 0, 1),
    "put::subnets": (3, 6, 0, 1),
    "put::networksecuritygroups": (10, 15, 0, 1),
    "put::publicipaddresses": (6, 12, 0, 1),
    "put::networkinterfaces": (8, 15, 0, 1),
    "put::virtualmachines": (150, 360, 0.02, 5),
    "action:deallocate:virtualmachines": (60, 180, 0, 1),
    "action:powerOff:virtualmachines": (30, 90, 0, 1),
    "action:start:virtualmachines": (60, 180, 0, 1),
    "action:restart:virtualmachines": (120, 240, 0.01, 5),
    "action:runCommand:virtualmachines": (40, 120, 0.01, 10),
    "put::versions": (900, 1800, 0, 1),
    "rgdelete::resourcegroups": (300, 600, 0, 1),
}
DEFAULT = (5.0, 15.0, 0.0, 1.0)


def draw(key: str, rng: random.Random, scale: float) -> float:
    """Seconds for one operation."""
    median, p90, p_stall, factor = MODEL.get(key, DEFAULT)
    sigma = math.log(p90 / median) / 1.2816
    value = rng.lognormvariate(math.log(median), sigma)
    if p_stall and rng.random() < p_stall:
        value *= factor
    return value * scale


def realistic(seed: int | None = None) -> Callable[[str], float]:
    """The latency function the emulator calls with "<kind>:<action>:<lower type>"."""
    rng = random.Random(seed)  # noqa: S311 - timing noise, not security
    scale = float(os.environ.get("AVD_SANDBOX_LATENCY_SCALE", "1.0"))

    def latency(key: str) -> float:
        kind, action, rtype = key.split(":", 2)
        return draw(
            f"{kind}:{action}:{rtype.lower()}"
            if f"{kind}:{action}:{rtype.lower()}" in MODEL
            else f"{kind}::{rtype.lower()}",
            rng,
            scale,
        )

    return latency
