"""ARM's subscription throttling as Azure documents it since 2024 ("Request limits and
throttling": regional throttling and the token bucket algorithm).

Per subscription, per principal and per kind of operation (reads, writes, deletes) a bucket of
tokens: each request takes one, the bucket refills at a fixed rate up to its size. A global
subscription bucket per kind, 15 times the per-principal one, is shared by every principal. A
request finding either bucket empty is answered 429 ``TooManyRequests`` with ``Retry-After``
(seconds until a token is back) and takes nothing. Every answer carries the remaining tokens in
``x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}`` and
``x-ms-ratelimit-remaining-subscription-global-{reads,writes,deletes}``.

Not modelled: the tenant-level buckets (the product makes no tenant-scoped call but the tenant
list of azure-cli, which is not counted), the resource providers' own limits (Compute's
per-minute policies), and the lower limits of free or trial subscriptions.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from sandbox.arm.errors import ArmError, BadRequest

# kind -> (bucket size, refill per second), per subscription and principal.
LIMITS: dict[str, tuple[float, float]] = {"reads": (250, 25), "writes": (200, 10), "deletes": (200, 10)}
GLOBAL_FACTOR = 15


def kind_of(method: str) -> str:
    """The bucket a request draws from: GET and HEAD read, DELETE deletes, the rest write."""
    return {"GET": "reads", "HEAD": "reads", "DELETE": "deletes"}.get(method.upper(), "writes")


class _Bucket:
    def __init__(self, size: float, refill: float, now: float):
        self.size, self.refill, self.tokens, self.at = size, refill, size, now

    def level(self, now: float) -> float:
        self.tokens = min(self.size, self.tokens + (now - self.at) * self.refill)
        self.at = now
        return self.tokens

    def wait(self) -> int:
        """Whole seconds until one token is back (Azure's Retry-After is in seconds)."""
        return max(1, math.ceil((1 - self.tokens) / self.refill))


class Throttling:
    """The buckets of one sandbox subscription; ``scale`` shrinks size and refill alike."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.lock = threading.Lock()
        self.configure({})

    def configure(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Set the limits (control route ``/_sandbox/throttling``): ``scale`` (0 < scale <= 1000,
        default 1 = Azure's) and/or per kind ``{"reads": {"size": n, "refill": r}}``."""
        if not isinstance(spec, dict):
            raise BadRequest("InvalidThrottling", "the throttling configuration must be an object")
        unknown = sorted(set(spec) - {"scale", *LIMITS})
        if unknown:
            raise BadRequest("InvalidThrottling", f"unknown throttling field(s): {', '.join(unknown)}")
        scale = spec.get("scale", 1)
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale <= 1000:
            raise BadRequest("InvalidThrottling", "scale must be a number > 0 and <= 1000")
        limits = {}
        for kind, (size, refill) in LIMITS.items():
            given = spec.get(kind, {})
            if not isinstance(given, dict) or set(given) - {"size", "refill"}:
                raise BadRequest("InvalidThrottling", f"{kind} takes only size and refill")
            size, refill = float(given.get("size", size * scale)), float(given.get("refill", refill * scale))
            if size < 1 or refill <= 0:
                raise BadRequest("InvalidThrottling", f"{kind}: size must be >= 1 and refill > 0")
            limits[kind] = (size, refill)
        with self.lock:
            self.limits = limits
            self.buckets: dict[tuple[str, str], _Bucket] = {}
        return self.describe()

    def describe(self) -> dict[str, Any]:
        """The limits and every bucket's current level."""
        now = self.clock()
        with self.lock:
            levels = {f"{who}/{kind}": round(b.level(now), 3) for (who, kind), b in self.buckets.items()}
            return {
                "limits": {k: {"size": s, "refill": r} for k, (s, r) in self.limits.items()},
                "global_factor": GLOBAL_FACTOR,
                "levels": levels,
            }

    def _bucket(self, who: str, kind: str, now: float) -> _Bucket:
        key = (who, kind)
        if key not in self.buckets:
            size, refill = self.limits[kind]
            factor = GLOBAL_FACTOR if who == "*" else 1
            self.buckets[key] = _Bucket(size * factor, refill * factor, now)
        return self.buckets[key]

    def take(self, principal: str, method: str) -> dict[str, str]:
        """Take a token for this request: the remaining-tokens headers, or ArmError 429."""
        kind = kind_of(method)
        now = self.clock()
        with self.lock:
            mine, shared = self._bucket(principal.lower(), kind, now), self._bucket("*", kind, now)
            empty = [b for b in (mine, shared) if b.level(now) < 1]
            if not empty:
                mine.tokens -= 1
                shared.tokens -= 1
            headers = {
                f"x-ms-ratelimit-remaining-subscription-{kind}": str(int(mine.tokens)),
                f"x-ms-ratelimit-remaining-subscription-global-{kind}": str(int(shared.tokens)),
            }
            if not empty:
                return headers
            wait = max(b.wait() for b in empty)
        scope = "subscription" if shared in empty else "subscription and principal"
        raise ArmError(
            429,
            "TooManyRequests",
            f"The request is being throttled: the {scope} {kind} limit is exhausted. "
            f"Please retry after {wait} seconds.",
            headers={"Retry-After": str(wait), **headers},
        )
