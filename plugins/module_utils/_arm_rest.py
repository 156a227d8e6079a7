"""One ARM call through azure.azcollection's GenericRestClient, every status handed back (the
client raises on a status it was not told to expect), the JSON body parsed.

That client has no retry policy (docs/contracts.md section 10), so this layer retries what is
safe to repeat: GET and HEAD (reads) and PUT (ARM's PUT is a full, idempotent create-or-update).
POST and PATCH are never repeated (a POST action such as Run Command may have run), and DELETE is
left to ``_azure_delete``, which already retries deletes with its own bound (retrying here too
would multiply the two bounds).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

ALL_STATUS = list(range(100, 600))
RETRY_METHODS = frozenset({"GET", "HEAD", "PUT"})
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
ATTEMPTS = 5
BACKOFF = 2.0
RETRY_AFTER_CAP = 60.0
DEADLINE = 300.0

try:
    from azure.core.exceptions import ServiceRequestError, ServiceResponseError

    _TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
        ConnectionError,
        ServiceRequestError,
        ServiceResponseError,
    )
except ImportError:  # pragma: no cover - azure-core comes with azcollection's requirements
    _TRANSIENT_ERRORS = (ConnectionError,)


class ArmRequestError(Exception):
    """A retried request that still failed: the message names the method and the path only."""


def _name(method: str, url: str) -> str:
    # The path only: a query string is the place a token could travel.
    return f"{method} {urlsplit(url).path or url}"


def _retry_after(headers: dict[str, str]) -> float | None:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None  # an HTTP date: Azure sends seconds, fall back to the backoff
    return None


def _once(rest: Any, method: str, url: str, params: dict[str, str] | None) -> tuple[int, dict[str, str], Any]:
    response = rest.query(url, method, dict(params or {}), None, None, ALL_STATUS, 0, 0)
    raw = response.body() if hasattr(response, "body") else response.text()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    return response.status_code, dict(response.headers), body


def _error_code(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("code")) if isinstance(error, dict) and error.get("code") else ""


def query(
    rest: Any,
    method: str,
    url: str,
    params: dict[str, str] | None,
    *,
    attempts: int = ATTEMPTS,
    deadline: float = DEADLINE,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[int, dict[str, str], Any]:
    """``(status, headers, body)``; body is None when empty or not JSON.

    GET, HEAD and PUT are retried on 408, 429 and 5xx and on a dropped connection, waiting as
    long as ``Retry-After`` says (at most RETRY_AFTER_CAP) or an exponential backoff, within
    ``attempts`` tries and ``deadline`` seconds in all; then ArmRequestError names the request.
    """
    tries = attempts if method.upper() in RETRY_METHODS else 1
    start = clock()
    last = ""
    for attempt in range(1, tries + 1):
        wait = BACKOFF * 2 ** (attempt - 1)
        try:
            status, headers, body = _once(rest, method, url, params)
        except _TRANSIENT_ERRORS as exc:
            if tries == 1:
                raise ArmRequestError(
                    f"{_name(method, url)}: connection failed ({type(exc).__name__})"
                ) from exc
            last = f"connection failed ({type(exc).__name__})"
        else:
            if status not in RETRY_STATUS or tries == 1:
                return status, headers, body
            last = f"HTTP {status} {_error_code(body)}".rstrip()
            advised = _retry_after(headers)
            wait = min(advised, RETRY_AFTER_CAP) if advised is not None else wait
        if attempt == tries or clock() - start + wait > deadline:
            break
        sleep(wait)
    elapsed = clock() - start
    raise ArmRequestError(
        f"{_name(method, url)} gave up after {attempt} attempts in {elapsed:.0f}s: last answer {last}"
    )
