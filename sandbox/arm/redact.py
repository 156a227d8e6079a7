"""Redaction of secrets before anything reaches the request log or the state on disk."""

from __future__ import annotations

import re
from typing import Any

REDACTED = "***REDACTED***"

# Keys whose values are secrets wherever they appear (compared case-insensitively).
_SECRET_KEYS = {
    "adminpassword",
    "password",
    "client_secret",
    "clientsecret",
    "secret",
    "access_token",
    "accesstoken",
    "refresh_token",
    "id_token",
    "client_assertion",
    "protectedsettings",
    "protectedparameters",
    "customdata",
    "authorization",
    "assertion",
}


def redact(value: Any) -> Any:
    """A deep copy of `value` with every secret replaced by a marker."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if isinstance(k, str) and k.lower() in _SECRET_KEYS:
                out[k] = REDACTED
            else:
                out[k] = redact(v)
        return out
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def redact_run_command(body: Any) -> Any:
    """Run command bodies: `protectedParameters` values are secrets; so is any `parameters` entry
    whose name says so (the product passes nothing secret there, but a user might)."""
    body = redact(body)
    if isinstance(body, dict) and isinstance(body.get("parameters"), list):
        for p in body["parameters"]:
            if isinstance(p, dict) and re.search(r"pass|secret|token|key", str(p.get("name", "")), re.I):
                p["value"] = REDACTED
    return body
