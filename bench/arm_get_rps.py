"""Benchmark: simple authenticated ARM GETs per second against a fresh sandbox.

Starts `python -m sandbox serve` (tests.support.sandbox_process.Sandbox), creates one resource group, then for
about 5 seconds issues GET <resource group> from a few threads over kept-alive HTTPS connections
(loopback only) and prints requests/second. Target: >= 200.

    .venv/bin/python bench/arm_get_rps.py [--seconds 5] [--threads 4]
"""

from __future__ import annotations

import argparse
import http.client
import ssl
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.sandbox_process import Sandbox

TARGET_RPS = 200


def worker(
    sb: Sandbox, path: str, token: str, stop: float, counts: list[int], errors: list[str], i: int
) -> None:
    ctx = ssl.create_default_context(cafile=str(sb.ca))
    conn = http.client.HTTPSConnection("127.0.0.1", sb.info["port"], context=ctx, timeout=30)
    n = 0
    try:
        while time.monotonic() < stop:
            conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                errors.append(f"status {resp.status}")
                break
            n += 1
    finally:
        conn.close()
    counts[i] = n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with Sandbox() as sb:
        sub = sb.subscription_id
        path = f"/subscriptions/{sub}/resourcegroups/rg-bench?api-version=2022-09-01"
        assert sb.request("PUT", path, {"location": "westeurope"}).status == 201
        token = sb.token()
        counts = [0] * args.threads
        errors: list[str] = []
        start = time.monotonic()
        stop = start + args.seconds
        threads = [
            threading.Thread(target=worker, args=(sb, path, token, stop, counts, errors, i))
            for i in range(args.threads)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
        total = sum(counts)
        rps = total / elapsed
        print(
            f"ARM GET: {total} requests in {elapsed:.2f} s from {args.threads} threads = {rps:.0f} req/s "
            f"(target >= {TARGET_RPS}); errors: {len(errors)}"
        )
        if errors:
            print("first error:", errors[0])
            return 1
        return 0 if rps >= TARGET_RPS else 2


if __name__ == "__main__":
    sys.exit(main())
