"""Which failures of a phase are transient: the phase wrapper re-runs the phase (its roles are
idempotent) after a bounded backoff for those, and fails fast on everything else.

``classify(result)`` reads a failed task result (``ansible_failed_result``) and returns
``{"transient", "kind", "code", "status", "resource", "summary"}``:

- ``throttled``: HTTP 429 (``TooManyRequests``), after azure-core's RetryPolicy gave up (it retries
  3 times and honours ``Retry-After``) or at once for azcollection's generic REST modules
  (``azure_rm_resource*``, the gallery modules), whose pipeline has no retry policy at all;
- ``server_error``: HTTP 408, 500, 502, 503, 504 and their ARM codes;
- ``lro_retryable``: a long-running operation that ended ``Failed`` with a code Azure says to retry
  (``InternalExecutionError`` "Please retry later", ``InternalOperationError``, ``RetryableError*``,
  ``AnotherOperationInProgress``) or a gallery replication that failed in some regions, whose
  message says to retry;
- ``winrm_connection``: the WinRM connection dropped mid-command (the guest restarted, a link
  reset; a restarting guest often shows as "connection refused" when the client cleans up the
  lost command): Ansible fails the task without re-running it, so the phase is re-run instead;
- ``fatal``: anything else, including ``AllocationFailed`` (Azure's advice is another size, zone or
  region, which a re-run with the same definition does not give), quota, policy, authorization and
  bad input.

The summary names Azure's code and the resource (the first ARM id in the message, else the
failed task's resource group, parents and name, else the caller's hint) for the failure message the
ledger and the report carry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
THROTTLE_CODES = frozenset({"toomanyrequests", "throttled", "subscriptionrequeststhrottled"})
SERVER_CODES = frozenset(
    {
        "internalservererror",
        "serviceunavailable",
        "gatewaytimeout",
        "badgateway",
        "badgatewayconnection",
        "servertimeout",
        "requesttimeout",
    }
)
# Long-running operations that Azure's messages (or its own tools) say to retry.
LRO_RETRY_CODES = frozenset(
    {
        "internalexecutionerror",
        "internaloperationerror",
        "retryableerror",
        "retryableerrorduetoanotheroperation",
        "anotheroperationinprogress",
    }
)
REPLICATION_FAILED = "gallery replication jobs failed in one or more regions"
WINRM_DROPS = (
    "remote end closed connection without response",
    "connection aborted",
    "connection reset",
    "connectionreseterror",
    "remotedisconnected",
    "winrm connection error",
    "read timed out",
    "broken pipe",
    # a guest restarting: the client's clean-up of the lost command finds the listener down
    "connection refused",
    "failed to establish a new connection",
)
STATUS_WORDS = {
    "too many requests": 429,
    "internal server error": 500,
    "bad gateway": 502,
    "service unavailable": 503,
    "gateway timeout": 504,
}

_CODE_PATTERNS = (
    re.compile(r"\bCode:\s*([A-Za-z][A-Za-z0-9_.]+)"),
    re.compile(r"""["']code["']\s*:\s*["']([A-Za-z][A-Za-z0-9_.]+)["']"""),
    re.compile(r"\(([A-Z][A-Za-z0-9]+)\)"),
)
_STATUS_PATTERNS = (
    re.compile(r"""status[ _]code["']?\s*[:=]?\s*["']?(\d{3})\b""", re.I),
    re.compile(r"\bstatus\s+(\d{3})\b", re.I),
    re.compile(r"\b(\d{3}) (?:Client|Server) Error\b"),
    re.compile(r"""["']status["']\s*:\s*["']?(\d{3})\b"""),
    # azcollection's generic REST client: SendRequestException(<body>, <status>)
    re.compile(r"SendRequestException\b.*?,\s*(\d{3})\)", re.S),
)
_ARM_ID = re.compile(r"/subscriptions/[0-9a-fA-F-]{36}(?:/[^\s'\",;)}\]]+)+")


def _text(result: Mapping[str, Any]) -> str:
    keys = ("msg", "exception", "module_stderr", "module_stdout", "response")
    parts = [result.get(key) for key in keys]
    return "\n".join(str(p) for p in parts if p)


def azure_code(text: str) -> str | None:
    """Azure's error code in a failure message (``Code: X``, ``"code": "X"`` or ``(X) message``)."""
    for pattern in _CODE_PATTERNS:
        match = pattern.search(text)
        if match:
            return match.group(1)
    return None


def http_status(result: Mapping[str, Any], text: str, *, words: bool = True) -> int | None:
    """The HTTP status of the failed request, when the result or its message carries one (with
    ``words``, also a reason phrase such as "Service Unavailable")."""
    value = result.get("status_code")
    if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
        return value
    for pattern in _STATUS_PATTERNS:
        match = pattern.search(text)
        if match and 100 <= int(match.group(1)) <= 599:
            return int(match.group(1))
    low = text.lower() if words else ""
    return next((status for phrase, status in STATUS_WORDS.items() if phrase in low), None)


def _kind(code: str | None, status: int | None, low: str) -> str:
    lcode = (code or "").lower()
    if lcode in LRO_RETRY_CODES or REPLICATION_FAILED in low:
        return "lro_retryable"
    if lcode in THROTTLE_CODES or status == 429:
        return "throttled"
    if lcode in SERVER_CODES or (code is None and status in TRANSIENT_STATUS):
        return "server_error"
    if code is None and any(drop in low for drop in WINRM_DROPS):
        return "winrm_connection"
    return "fatal"


def _named_resource(result: Mapping[str, Any]) -> str | None:
    """The resource the failed Azure task was about, from its arguments (the module's own message
    often names only the resource, or nothing): url, or resource group + parents + name."""
    invocation = result.get("invocation")
    args = invocation.get("module_args") if isinstance(invocation, Mapping) else None
    if not isinstance(args, Mapping):
        return None
    if isinstance(args.get("url"), str) and args["url"].startswith("/subscriptions/"):
        return args["url"]
    parts = [args.get(k) for k in ("resource_group", "gallery_name", "gallery_image_name", "name")]
    named = [str(p) for p in parts if isinstance(p, str) and p]
    return "/".join(named) if len(named) >= 2 and args.get("name") else None


def classify(result: Any, resource: str | None = None) -> dict[str, Any]:
    """Classify a failed task result; anything unrecognised is fatal. ``resource`` names the
    resource when neither the message nor the task's arguments do (the caller's best knowledge:
    the resource the build recorded last, just before creating it)."""
    if not isinstance(result, Mapping):
        result = {"msg": str(result)}
    text = _text(result)
    code = azure_code(text)
    status = http_status(result, text, words=code is None)
    kind = _kind(code, status, text.lower())
    match = _ARM_ID.search(text)
    resource = match.group(0) if match else (_named_resource(result) or resource or None)
    bits = [f"Azure code {code}" if code else None, f"HTTP {status}" if status else None]
    named = ", ".join(b for b in bits if b)
    summary = kind.replace("_", " ")
    if named:
        summary += f" ({named})"
    if resource:
        summary += f" on {resource}"
    return {
        "transient": kind != "fatal",
        "kind": kind,
        "code": code,
        "status": status,
        "resource": resource,
        "summary": summary,
    }


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """The wait before re-running after failed attempt ``attempt`` (1-based): base * 2^(n-1), capped."""
    if attempt < 1 or base < 0 or cap < 0:
        raise ValueError("attempt must be >= 1 and base, cap >= 0")
    return float(min(cap, base * 2 ** (attempt - 1)))
