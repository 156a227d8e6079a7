"""How a bad value, a type and a did-you-mean hint read in a validation error."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any


def type_name(value: Any) -> str:
    """Name a YAML value's type as a user reads it (``mapping``, not ``dict``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, list | tuple):
        return "list"
    return type(value).__name__


def show(value: Any) -> str:
    """Render a bad value for an error message without dumping large structures."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 100 else repr(value[:97] + "...")
    if isinstance(value, Mapping | list | tuple):
        return f"a {type_name(value)}"
    return str(value)


# Control characters (newline, tab, ...), invisible formatting characters (zero-width space, the
# byte order mark, bidirectional overrides) and the line and paragraph separators.
_INVISIBLE = frozenset(("Cc", "Cf", "Zl", "Zp"))


def invisible(value: str) -> bool:
    """Whether ``value`` holds a character that no one-line name or setting should: see _INVISIBLE."""
    return any(unicodedata.category(ch) in _INVISIBLE for ch in value)


def join(parent: str, key: str) -> str:
    """Return the dotted field name of ``key`` under ``parent`` (the root is ``""``).

    A ``key`` with control or invisible characters is escaped (``\\n``), so an error stays one
    readable line.
    """
    if invisible(key):
        key = key.encode("unicode_escape").decode("ascii")
    return f"{parent}.{key}" if parent else key


def suggest(word: str, choices: Iterable[str]) -> str:
    """Return a ``; did you mean 'x'?`` hint when a close match exists."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered:
        return f"; did you mean {lowered[word.lower()]!r}?"
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not match:
        match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        match = [lowered[m] for m in match]
    return f"; did you mean {match[0]!r}?" if match else ""
