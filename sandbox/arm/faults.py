"""Faults injected through the control endpoint for ARM requests: throttling (429 +
Retry-After), 5xx, failed long-running operations, delays; each on a method + path regex for N
calls."""

from __future__ import annotations

import re
from typing import Any

from sandbox.arm.errors import ArmError, invalid_fault
from sandbox.arm.values import Request

KINDS = ("throttle", "server_error", "lro_failed", "delay")


class FaultTable:
    def __init__(self) -> None:
        self.faults: list[dict[str, Any]] = []

    def add(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Arm one fault from a control request (``target`` arm)."""
        kind = spec.get("kind")
        if kind not in KINDS:
            raise invalid_fault(f"Unknown fault kind '{kind}' (throttle|server_error|lro_failed|delay).")
        try:
            re.compile(spec.get("path", ".*"))
        except re.error as exc:
            raise invalid_fault(f"Bad path regex: {exc}") from exc
        fault = {
            "target": "arm",
            "kind": kind,
            "method": (spec.get("method") or "*").upper(),
            "path": spec.get("path", ".*"),
            "count": int(spec.get("count", 1)),
            "retry_after": spec.get("retry_after", 1),
            "delay_ms": int(spec.get("delay_ms", 0)),
            "code": spec.get("code"),
            "message": spec.get("message"),
            "status": int(spec.get("status", 500 if kind == "server_error" else 429)),
            "hits": 0,
        }
        self.faults.append(fault)
        return fault

    def take(self, req: Request, kind: str) -> dict[str, Any] | None:
        """Consume one matching fault of `kind` for this request, if any."""
        for f in self.faults:
            if f["kind"] != kind or f["count"] <= 0:
                continue
            if f["method"] not in ("*", req.method):
                continue
            if not re.search(f["path"], req.path, re.I):
                continue
            f["count"] -= 1
            f["hits"] += 1
            return f
        return None

    def request_error(self, req: Request) -> ArmError | None:
        """The throttle or server error to answer this request with instead, if one is armed."""
        fault = self.take(req, "throttle")
        if fault:
            return ArmError(
                fault["status"] if fault["status"] == 429 else 429,
                fault.get("code") or "TooManyRequests",
                fault.get("message") or "The request is being throttled (injected fault).",
                headers={"Retry-After": str(fault["retry_after"])},
            )
        fault = self.take(req, "server_error")
        if fault:
            return ArmError(
                fault["status"],
                fault.get("code") or "InternalServerError",
                fault.get("message") or "Encountered internal server error (injected fault).",
            )
        return None

    def lro_failure(self, req: Request) -> dict[str, str] | None:
        """The error an operation started by this request will end with, if one is armed."""
        fault = self.take(req, "lro_failed")
        if not fault:
            return None
        return {
            "code": fault.get("code") or "InternalExecutionError",
            "message": fault.get("message") or "An internal execution error occurred (injected fault).",
        }
