"""One ARM call through azure.azcollection's GenericRestClient, every status handed back (the
client raises on a status it was not told to expect), the JSON body parsed."""

from __future__ import annotations

import json
from typing import Any

ALL_STATUS = list(range(100, 600))


def query(rest: Any, method: str, url: str, params: dict[str, str] | None) -> tuple[int, dict[str, str], Any]:
    """``(status, headers, body)``; body is None when empty or not JSON."""
    response = rest.query(url, method, dict(params or {}), None, None, ALL_STATUS, 0, 0)
    raw = response.body() if hasattr(response, "body") else response.text()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    return response.status_code, dict(response.headers), body
