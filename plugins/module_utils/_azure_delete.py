"""Ordered, verified, bounded deletion of Azure resources by id (logic of azure_ordered_delete).

Kept free of Ansible and of the Azure SDK so it can be unit-tested with a fake transport: the
module passes a ``send(method, url, params) -> Reply`` callable that performs one HTTP request
against Azure Resource Manager (authenticated by azure.azcollection's client).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Statuses worth another try: throttling, conflicts such as "in use" (a NIC Azure still reserves
# after a failed VM create, a subnet whose NIC is being deleted) and server errors.
RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
TERMINAL_LRO = {"succeeded", "failed", "canceled", "cancelled"}


@dataclass
class Reply:
    """One HTTP answer: status, headers (any case) and the decoded JSON body (or None)."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None

    def header(self, name: str) -> str | None:
        """Header lookup, case-insensitive as HTTP headers are."""
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


class DeleteError(Exception):
    """A delete that did not complete; ``retryable`` says whether another try may help."""

    def __init__(self, message: str, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


Send = Callable[[str, str, Mapping[str, str] | None], Reply]


def _error_text(reply: Reply) -> str:
    body = reply.body if isinstance(reply.body, dict) else {}
    err = body.get("error") if isinstance(body.get("error"), dict) else body
    code = err.get("code") if isinstance(err, dict) else None
    message = err.get("message") if isinstance(err, dict) else None
    return f"HTTP {reply.status}" + (f" {code}" if code else "") + (f": {message}" if message else "")


def _poll_delay(reply: Reply, default: float) -> float:
    """Seconds to wait before the next poll: Retry-After-Ms, then Retry-After, else default."""
    for name, scale in (("retry-after-ms", 0.001), ("x-ms-retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = reply.header(name)
        if value:
            try:
                seconds = float(value) * scale
            except ValueError:
                continue
            if seconds > 0:
                return seconds
    return default


def wait_for_delete(
    send: Send,
    accepted: Reply,
    deadline: float,
    poll_interval: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Follow a 202 Accepted delete to its end: Azure-AsyncOperation first, else Location."""
    async_url = accepted.header("azure-asyncoperation")
    location = accepted.header("location")
    if not async_url and not location:
        return
    last = accepted
    while True:
        if clock() >= deadline:
            raise DeleteError("the delete did not finish before the timeout", retryable=False)
        sleep(min(_poll_delay(last, poll_interval), max(0.0, deadline - clock())))
        if async_url:
            last = send("GET", async_url, None)
            if last.status >= 400:
                raise DeleteError(
                    f"polling the delete failed: {_error_text(last)}", last.status in RETRYABLE_STATUS
                )
            status = str((last.body or {}).get("status", "")).lower()
            if status in TERMINAL_LRO:
                if status != "succeeded":
                    err = (last.body or {}).get("error") or {}
                    raise DeleteError(
                        f"the delete ended {status}: {err.get('code', '')} {err.get('message', '')}".strip(),
                        retryable=True,
                    )
                return
        else:
            last = send("GET", location, None)
            if last.status == 202:
                continue
            if last.status >= 400:
                raise DeleteError(f"the delete failed: {_error_text(last)}", last.status in RETRYABLE_STATUS)
            return


def delete_one(
    send: Send,
    resource_id: str,
    api_version: str,
    *,
    timeout: float,
    poll_interval: float,
    check_mode: bool,
    only_state: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """GET; if present DELETE and wait; then GET again until 404. Returns existed/removed. With
    ``only_state`` a resource in another provisioning state is left alone (``skipped``)."""
    params = {"api-version": api_version}
    deadline = clock() + timeout
    first = send("GET", resource_id, params)
    if first.status == 404:
        return {"existed": False, "removed": True}
    if first.status >= 400:
        raise DeleteError(
            f"reading the resource failed: {_error_text(first)}", first.status in RETRYABLE_STATUS
        )
    if only_state is not None:
        props = (first.body or {}).get("properties") if isinstance(first.body, dict) else None
        state = str((props or {}).get("provisioningState", ""))
        if state.lower() != only_state.lower():
            return {"existed": True, "removed": False, "skipped": True}
    if check_mode:
        return {"existed": True, "removed": False}
    reply = send("DELETE", resource_id, params)
    if reply.status == 202:
        wait_for_delete(send, reply, deadline, poll_interval, clock, sleep)
    elif reply.status not in (200, 204, 404):
        raise DeleteError(f"the delete was refused: {_error_text(reply)}", reply.status in RETRYABLE_STATUS)
    # Verify: only a 404 proves the resource is gone.
    while True:
        check = send("GET", resource_id, params)
        if check.status == 404:
            return {"existed": True, "removed": True}
        if clock() >= deadline:
            raise DeleteError(
                f"the resource still exists after the delete (HTTP {check.status})", retryable=True
            )
        sleep(min(poll_interval, max(0.0, deadline - clock())))


def delete_in_order(
    send: Send,
    resources: Iterable[Mapping[str, str]],
    *,
    timeout: float,
    retries: int,
    delay: float,
    poll_interval: float,
    check_mode: bool,
    only_state: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, Any]]:
    """Delete each resource in the given order. A failure is recorded and the next resource is
    still tried; retryable failures are retried up to ``retries`` times, ``delay`` seconds apart."""
    results: list[dict[str, Any]] = []
    for item in resources:
        rid, api = item["id"], item["api_version"]
        result: dict[str, Any] = {"id": rid, "existed": None, "removed": False, "attempts": 0, "error": None}
        for attempt in range(1, max(1, retries) + 1):
            result["attempts"] = attempt
            try:
                outcome = delete_one(
                    send,
                    rid,
                    api,
                    timeout=timeout,
                    poll_interval=poll_interval,
                    check_mode=check_mode,
                    only_state=only_state,
                    clock=clock,
                    sleep=sleep,
                )
            except DeleteError as exc:
                result["error"] = str(exc)
                if exc.retryable and attempt < retries:
                    sleep(delay)
                    continue
                break
            result.update(outcome, error=None)
            break
        results.append(result)
    return results
