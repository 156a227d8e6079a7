"""Faults injected through the control endpoint for ARM requests, each on a method + path regex for
the next N matching calls (docs/contracts.md section 1):

- ``throttle``: 429 with ``Retry-After`` (seconds) and the ``x-ms-ratelimit-remaining-subscription-
  {reads,writes,deletes}: 0`` header for the request's kind, as ARM throttles; with ``policy`` (a
  Compute policy such as ``Microsoft.Compute/PutVM3Min``) also ``x-ms-ratelimit-remaining-resource:
  <policy>;0``, as Compute does. Code ``TooManyRequests`` unless ``code`` says otherwise.
- ``server_error``: a 5xx (``status``, default 500) with an ARM error body; N in a row is a burst.
- ``lro_failed``: the long-running operation the request starts ends ``Failed`` with ``code``
  (default ``InternalExecutionError``) and ``message``; the resource is left ``Failed``.
- ``allocation_failed``: the next VM PUT's operation ends ``Failed`` with ``AllocationFailed`` and
  Azure's message (the VM stays, ``Failed`` and stopped, as in Azure).
- ``replication_failed``: the next gallery image version PUT that targets ``region`` ends ``Failed``
  with the message Azure gives when replication failed in some regions; the version's
  replication status shows that region ``Failed``. Azure documents the message, not a code:
  ``code`` defaults to ``GalleryReplicationFailed`` (an assumption).
- ``delay``: answer after ``delay_ms``.

Every field is checked; a fault that could not happen the way it is asked is refused (InvalidFault).
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.arm.errors import ArmError, invalid_fault
from sandbox.arm.throttling import kind_of
from sandbox.arm.values import Request

KINDS = ("throttle", "server_error", "lro_failed", "allocation_failed", "replication_failed", "delay")
FIELDS = {"target", "kind", "method", "path", "count", "retry_after", "delay_ms", "code", "message"}
EXTRA_FIELDS = {
    "throttle": {"status", "policy"},
    "server_error": {"status"},
    "replication_failed": {"region"},
}
VM_PUT_PATH = r"/providers/Microsoft\.Compute/virtualMachines/[^/]+$"
VERSION_PUT_PATH = r"/providers/Microsoft\.Compute/galleries/[^/]+/images/[^/]+/versions/[^/]+$"
ALLOCATION_MESSAGE = (
    "Allocation failed. We do not have sufficient capacity for the requested VM size in this region. "
    "Read more about improving likelihood of allocation success at http://aka.ms/allocation-guidance"
)
REPLICATION_MESSAGE = (
    "Gallery replication jobs failed in one or more regions. The failing regions' details are as "
    "follows: '{{region:{region}, detail:Failed with internal server error.}}'. If retry does not "
    "work, then please do an update by removing the failed regions and update again by adding them back."
)
METHODS = ("*", "GET", "PUT", "PATCH", "POST", "DELETE", "HEAD")


def _int(spec: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = spec.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise invalid_fault(f"{name}: must be an integer from {low} to {high}, got {value!r}")
    return value


def _text(spec: dict[str, Any], name: str, pattern: str | None = None) -> str | None:
    value = spec.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or (pattern and not re.fullmatch(pattern, value)):
        raise invalid_fault(f"{name}: not a valid value: {value!r}")
    return value


def _check(spec: dict[str, Any], kind: str) -> dict[str, Any]:
    unknown = set(spec) - FIELDS - EXTRA_FIELDS.get(kind, set())
    if unknown:
        raise invalid_fault(f"Fields not known for a {kind} fault: {', '.join(sorted(unknown))}.")
    method = str(spec.get("method") or "*").upper()
    if method not in METHODS:
        raise invalid_fault(f"method: one of {', '.join(METHODS)}, got {spec.get('method')!r}")
    path = spec.get("path", ".*")
    try:
        re.compile(path)
    except (re.error, TypeError) as exc:
        raise invalid_fault(f"Bad path regex: {exc}") from exc
    if kind == "throttle":
        status = _int(spec, "status", 429, 429, 429)
    elif kind == "server_error":
        status = _int(spec, "status", 500, 500, 599)
    else:
        status = None
    if kind == "allocation_failed":
        if spec.get("method") not in (None, "PUT") or spec.get("path") is not None:
            raise invalid_fault("allocation_failed: fires on VM PUTs only; give no method or path")
        method, path = "PUT", VM_PUT_PATH
    if kind == "replication_failed":
        if spec.get("method") not in (None, "PUT") or spec.get("path") is not None:
            raise invalid_fault(
                "replication_failed: fires on image version PUTs only; give no method or path"
            )
        method, path = "PUT", VERSION_PUT_PATH
        if not _text(spec, "region", r"[a-z0-9]+"):
            raise invalid_fault("region: the target region whose replication fails is required")
    return {
        "target": "arm",
        "kind": kind,
        "method": method,
        "path": path,
        "count": _int(spec, "count", 1, 1, 10000),
        "retry_after": _int(spec, "retry_after", 1, 0, 3600),
        "delay_ms": _int(spec, "delay_ms", 0, 0, 60000),
        "code": _text(spec, "code", r"[A-Za-z][A-Za-z0-9_.]*"),
        "message": _text(spec, "message"),
        "status": status,
        "policy": _text(spec, "policy", r"Microsoft\.[A-Za-z]+/[A-Za-z0-9]+"),
        "region": spec.get("region"),
        "hits": 0,
    }


def _ratelimit_header(method: str) -> str:
    return f"x-ms-ratelimit-remaining-subscription-{kind_of(method)}"


def _targets(req: Request, region: str) -> bool:
    body = req.body if isinstance(req.body, dict) else {}
    pub = (body.get("properties") or {}).get("publishingProfile") or {}
    names = {str(r.get("name", "")).replace(" ", "").lower() for r in pub.get("targetRegions") or []}
    return region in names


class FaultTable:
    def __init__(self) -> None:
        self.faults: list[dict[str, Any]] = []

    def add(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Arm one fault from a control request (``target`` arm)."""
        kind = spec.get("kind")
        if kind not in KINDS:
            raise invalid_fault(f"Unknown fault kind '{kind}' ({'|'.join(KINDS)}).")
        fault = _check(spec, kind)
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
            if kind == "replication_failed" and not _targets(req, f["region"]):
                continue
            f["count"] -= 1
            f["hits"] += 1
            return f
        return None

    def request_error(self, req: Request) -> ArmError | None:
        """The throttle or server error to answer this request with instead, if one is armed."""
        fault = self.take(req, "throttle")
        if fault:
            headers = {"Retry-After": str(fault["retry_after"]), _ratelimit_header(req.method): "0"}
            if fault.get("policy"):
                headers["x-ms-ratelimit-remaining-resource"] = f"{fault['policy']};0"
            return ArmError(
                429,
                fault.get("code") or "TooManyRequests",
                fault.get("message") or "The request is being throttled (injected fault).",
                headers=headers,
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
        fault = self.take(req, "allocation_failed")
        if fault:
            return {"code": "AllocationFailed", "message": fault.get("message") or ALLOCATION_MESSAGE}
        fault = self.take(req, "replication_failed")
        if fault:
            return {
                "code": fault.get("code") or "GalleryReplicationFailed",
                "message": fault.get("message") or REPLICATION_MESSAGE.format(region=fault["region"]),
                "failed_region": fault["region"],
            }
        fault = self.take(req, "lro_failed")
        if not fault:
            return None
        return {
            "code": fault.get("code") or "InternalExecutionError",
            "message": fault.get("message") or "An internal execution error occurred. Please retry later.",
        }
