"""Value types and small value makers every layer of the emulator shares: the parsed request,
the response, ARM's timestamps, etags and MAC addresses."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from typing import Any


def utcnow() -> str:
    """ISO 8601 UTC timestamp with 7 fractional digits, as ARM prints them."""
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}0+00:00"


def etag() -> str:
    return f'W/"{uuid.uuid4()}"'


def new_mac() -> str:
    return "00-0D-3A-" + "-".join(f"{random.randint(0, 255):02X}" for _ in range(3))  # noqa: S311


@dataclass
class Request:
    """One HTTP request, parsed."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    raw_body: bytes
    base_url: str  # https://127.0.0.1:<port>
    body: Any = None
    segments: list[str] = field(default_factory=list)
    action: str | None = None  # the RBAC action ARM checked (sandbox.arm.rbac)

    @property
    def api_version(self) -> str | None:
        return self.query.get("api-version")


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-able, or bytes, or None
    headers: dict[str, str] = field(default_factory=dict)
