"""Body checks shared by every resource type: unknown members (against the vendored schemas
generated from the Azure SDK models), required fields and enum values."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from sandbox.arm.errors import BadRequest, InvalidParameter, InvalidRequestContent

_SCHEMAS = Path(__file__).with_name("schemas.json")


@cache
def _schemas() -> dict[str, Any]:
    return json.loads(_SCHEMAS.read_text())


def unknown_members(body: Any, root_key: str) -> list[str]:
    """JSON paths of members in `body` that the API version's model does not have."""
    doc = _schemas()
    root = doc["roots"][root_key]
    defs = doc["defs"][root["ns"]]
    found: list[str] = []

    def walk(value: Any, ref: Any, path: str) -> None:
        if ref == "scalar" or value is None:
            return
        if isinstance(ref, list):
            kind, inner = ref
            if kind == "list" and isinstance(value, list):
                for i, v in enumerate(value):
                    walk(v, inner, f"{path}[{i}]")
            elif kind == "map" and isinstance(value, dict):
                for k, v in value.items():
                    walk(v, inner, f"{path}.{k}" if path else k)
            return
        members = defs[ref]["members"] if isinstance(ref, str) else ref
        walk_members(value, members, path)

    def walk_members(value: Any, members: dict[str, Any], path: str) -> None:
        if not isinstance(value, dict):
            return
        for k, v in value.items():
            sub = f"{path}.{k}" if path else k
            if k not in members:
                found.append(sub)
                continue
            m = members[k]
            if isinstance(m, dict) and "__object__" in m:
                walk_members(v, m["__object__"], sub)
            else:
                walk(v, m, sub)

    walk(body, root["def"], "")
    return found


def check_members(body: Any, root_key: str, type_name: str) -> None:
    """400 InvalidRequestContent naming the first member the real API does not have."""
    unknown = unknown_members(body, root_key)
    if unknown:
        raise InvalidRequestContent(
            f"The request content was invalid and could not be deserialized: "
            f"Could not find member '{unknown[0].rsplit('.', 1)[-1]}' on object of type "
            f"'{type_name}'. Path '{unknown[0]}'.",
            target=unknown[0],
            details=[
                {"code": "UnknownMember", "target": p, "message": f"Unknown member '{p}'"} for p in unknown
            ],
        )


def get(body: Any, path: str, default: Any = None) -> Any:
    """body["a"]["b"]... for a dotted path; default when any step is missing or None."""
    cur = body
    for part in path.split("."):
        if not isinstance(cur, dict) or cur.get(part) is None:
            return default
        cur = cur[part]
    return cur


def require(body: Any, path: str, code: str = "InvalidParameter") -> Any:
    """The value at `path`, or 400 naming the missing required parameter."""
    value = get(body, path)
    if value is None or value == "":
        leaf = path.rsplit(".", 1)[-1]
        raise BadRequest(code, f"Required parameter '{leaf}' is missing (null).", target=path)
    return value


def enum(
    body: Any, path: str, allowed: list[str] | tuple[str, ...], ci: bool = True, target: str | None = None
) -> Any:
    """The value at `path` if it is one of `allowed` (or absent); else 400 InvalidParameter."""
    value = get(body, path)
    if value is None:
        return None
    ok = {a.lower() for a in allowed} if ci else set(allowed)
    if (str(value).lower() if ci else value) not in ok:
        raise InvalidParameter(
            f"The value '{value}' of parameter '{path.rsplit('.', 1)[-1]}' is not allowed. "
            f"Allowed values are: {', '.join(allowed)}.",
            target=target or path,
        )
    # Return Azure's canonical casing.
    for a in allowed:
        if str(a).lower() == str(value).lower():
            return a
    return value


def tags(tags: Any) -> dict[str, str]:
    """A resource's tags as ARM stores them (string values), or 400 naming the broken rule."""
    if not isinstance(tags, dict):
        raise BadRequest("InvalidTag", "Tags must be an object of string values.")
    if len(tags) > 50:
        raise BadRequest("InvalidTagCount", "The number of tags exceeds the limit of 50.")
    out = {}
    for k, v in tags.items():
        if len(k) > 512 or any(c in k for c in "<>%&\\?/"):
            raise BadRequest(
                "InvalidTagNameCharacters", f"The tag name '{k}' has invalid characters or is too long."
            )
        if v is not None and len(str(v)) > 256:
            raise BadRequest(
                "InvalidTagValueLength", f"The value of tag '{k}' is longer than 256 characters."
            )
        out[k] = "" if v is None else str(v)
    return out


def body_tags(body: dict[str, Any]) -> dict[str, str] | None:
    """The checked ``tags`` of a PUT/PATCH body, None when it has none."""
    return tags(body["tags"]) if body.get("tags") is not None else None
