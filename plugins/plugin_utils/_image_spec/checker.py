"""Walk an image spec: read typed fields, collect every error, never stop at the first.

The section checks (``source``, ``network``, ...) call a ``Checker`` for each field; it returns
the value to normalise to (the default when the field is missing or wrong) and records what is
wrong as ``"<dotted.field>: <reason>"``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import re
from collections.abc import Iterator, Mapping
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.messages import (
    invisible,
    join,
    show,
    suggest,
    type_name,
)
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.schema import KEYS, REFUSED_KEYS

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


class ImageSpecError(ValueError):
    """Raised with every validation error when an image spec is not valid."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("image spec is not valid:\n" + "\n".join(self.errors))


class Checker:
    """Collects errors while walking an image spec and builds the normalised copy."""

    def __init__(self, today: _dt.date) -> None:
        self.errors: list[str] = []
        self.today = today
        # Depth of missing required sections: their children are not reported again as missing.
        self._missing = 0

    @contextlib.contextmanager
    def section(self, data: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
        """Yield a section's mapping ({} when absent); inside an absent one, skip "is required"."""
        self._missing += data is None
        try:
            yield data or {}
        finally:
            self._missing -= data is None

    def error(self, field: str, reason: str) -> None:
        self.errors.append(f"{field}: {reason}")

    def missing(self, field: str) -> None:
        """Report a required field as missing, unless its whole section is (reported already)."""
        if not self._missing:
            self.error(field, "is required")

    # -- structure ---------------------------------------------------------------------------
    def mapping(
        self, parent: Mapping[str, Any], key: str, path: str, required: bool
    ) -> dict[str, Any] | None:
        """Return a sub-mapping; None (with an error if required) when it is missing or wrong."""
        value = parent.get(key)
        if value is None:
            if required:
                self.missing(path)
            return None
        if not isinstance(value, Mapping):
            self.error(path, f"must be a mapping, got {type_name(value)}")
            return None
        return dict(value)

    def unknown_keys(self, data: Mapping[str, Any], spec: str, path: str) -> None:
        """Report every key of ``data`` that the schema entry ``spec`` does not list."""
        allowed = KEYS[spec]
        for key in data:
            if not isinstance(key, str):
                self.error(join(path, str(key)), "keys must be strings")
                continue
            if key in allowed:
                continue
            field = join(path, key)
            refused = REFUSED_KEYS.get(join(spec, key))
            if refused:
                self.error(field, refused)
            else:
                self.error(field, f"unknown key{suggest(key, allowed)}")

    # -- scalars -----------------------------------------------------------------------------
    def string(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        *,
        required: bool = False,
        default: Any = None,
        multiline: bool = False,
    ) -> Any:
        """A string field; unless ``multiline``, one line without control or invisible characters."""
        field = join(path, key)
        value = data.get(key)
        if value is None:
            if required:
                self.missing(field)
            return default
        if not isinstance(value, str):
            self.error(field, f"must be a string, got {type_name(value)} {show(value)}")
            return default
        if not multiline and not self.single_line(field, value):
            return default
        if not value.strip():
            if required:
                self.error(field, "must not be empty")
                return default
            return value
        return value

    def single_line(self, field: str, value: str) -> bool:
        """Report a control or invisible character (a newline, a tab, a zero-width space) in a
        one-line value; False when there is one."""
        if not invisible(value):
            return True
        if value.endswith("\n") and not invisible(value[:-1]):
            reason = (
                "must not end with a newline (a YAML block scalar, | or >, adds one: write the value "
                "on the key's line)"
            )
        else:
            reason = "must be one line without control or invisible characters (newline, tab, ...)"
        self.error(field, f"{reason}, got {show(value)}")
        return False

    def choice(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        choices: tuple[str, ...],
        *,
        default: str | None = None,
        required: bool = False,
    ) -> str | None:
        value = self.string(data, key, path, required=required, default=None)
        if value is None:
            return default
        if value not in choices:
            self.error(
                join(path, key),
                f"must be one of {', '.join(choices)}, got {show(value)}{suggest(value, choices)}",
            )
            return default
        return value

    def integer(
        self, data: Mapping[str, Any], key: str, path: str, low: int, high: int, *, default: int
    ) -> int:
        field = join(path, key)
        value = data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.error(field, f"must be an integer from {low} to {high}, got {show(value)}")
            return default
        return int(value)

    def date(self, field: str, value: Any) -> _dt.date | None:
        """A date written ``YYYY-MM-DD`` (YAML reads it as a date) that exists; None (reported) else."""
        if isinstance(value, _dt.datetime):
            return value.date()
        if isinstance(value, _dt.date):
            return value
        if not isinstance(value, str):
            self.error(field, f"must be a date written YYYY-MM-DD, got {type_name(value)} {show(value)}")
            return None
        if not self.single_line(field, value):
            return None
        if not _DATE_RE.match(value):
            self.error(field, f"must be a date written YYYY-MM-DD, got {show(value)}")
            return None
        try:
            return _dt.date.fromisoformat(value)
        except ValueError as exc:
            self.error(field, f"must be a real date, {value} does not exist ({exc})")
            return None

    def boolean(self, data: Mapping[str, Any], key: str, path: str, *, default: bool) -> bool:
        value = data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(join(path, key), f"must be true or false, got {show(value)}")
            return default
        return value
