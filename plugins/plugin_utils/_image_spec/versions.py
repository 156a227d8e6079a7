"""Gallery image version numbers: the ``gallery.version`` section, parsing, the next number.

Azure stores each of MAJOR.MINOR.PATCH as an int32, so every part stays within INT32_MAX.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import Checker
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.messages import show, type_name
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.schema import VERSION_STRATEGIES

INT32_MAX = 2147483647

_LENIENT_VERSION_RE = re.compile(r"^([0-9]+)\.([0-9]+)\.([0-9]+)\Z")
_IMAGE_VERSION_RE = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\Z")


def utc(moment: _dt.datetime | None) -> _dt.datetime:
    """Return ``moment`` in UTC (naive means UTC); now when None."""
    if moment is None:
        return _dt.datetime.now(_dt.UTC)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=_dt.UTC)
    return moment.astimezone(_dt.UTC)


def _check_version_string(c: Checker, field: str, value: str) -> None:
    match = _IMAGE_VERSION_RE.match(value)
    if not match:
        c.error(
            field,
            "must be MAJOR.MINOR.PATCH with each part a whole number without leading zeros, "
            f"like 1.2.3, got {show(value)}",
        )
    elif any(int(part) > INT32_MAX for part in match.groups()):
        c.error(field, f"each part must be from 0 to {INT32_MAX} (Azure stores them as int32), got {value!r}")


def check_version_section(c: Checker, gallery: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``gallery.version``; return it normalised (``value`` only with ``explicit``)."""
    path = "gallery.version"
    data = c.mapping(gallery, "version", path, required=False) or {}
    c.unknown_keys(data, path, path)
    strategy = c.choice(data, "strategy", path, VERSION_STRATEGIES, default="date")
    raw = data.get("value")
    value: str | None = None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        c.error(f"{path}.value", f'must be a quoted string like "1.2.3", got {type_name(raw)} {raw}')
    else:
        value = c.string(data, "value", path, default=None)
    if strategy == "explicit":
        if value is None and raw is None:
            c.error(f"{path}.value", "is required when gallery.version.strategy is explicit")
        elif value is not None:
            _check_version_string(c, f"{path}.value", value)
    elif raw is not None:
        c.error(
            f"{path}.value", f"is only used with gallery.version.strategy explicit (strategy is {strategy})"
        )
        value = None
    return {"strategy": strategy, "value": value}


def date_image_version(moment: _dt.datetime | None = None) -> str:
    """Return the ``date`` strategy version ``YYYY.MMDD.HHMM`` (UTC) for ``moment``.

    Azure parses each part as an int32, so parts carry no leading zeros: 5 January 2027 09:30
    is ``2027.105.930``. The order of versions still follows the order of build times.
    """
    m = utc(moment)
    return f"{m.year}.{m.month * 100 + m.day}.{m.hour * 100 + m.minute}"


def parse_image_version(value: str) -> tuple[int, int, int]:
    """Parse ``MAJOR.MINOR.PATCH`` into a tuple; raise ValueError on anything else.

    Leading zeros are accepted here (Azure parses each part as an integer, and galleries written by
    other tools may hold ``2026.0105.0930``); only our own explicit values must avoid them.
    """
    match = _LENIENT_VERSION_RE.match(value) if isinstance(value, str) else None
    if not match or any(int(p) > INT32_MAX for p in match.groups()):
        raise ValueError(f"not a gallery image version (MAJOR.MINOR.PATCH, int32 parts): {value!r}")
    major, minor, patch = (int(p) for p in match.groups())
    return major, minor, patch


def next_image_version(existing: Iterable[Any] | None) -> str:
    """Return the highest existing version with the patch part plus one; ``1.0.0`` when none.

    Items may be version strings or mappings with a ``name`` (as the gallery info modules return).
    """
    versions: list[tuple[int, int, int]] = []
    for item in existing or []:
        name = item.get("name") if isinstance(item, Mapping) else item
        versions.append(parse_image_version(name))
    if not versions:
        return "1.0.0"
    major, minor, patch = max(versions)
    if patch >= INT32_MAX:
        raise ValueError(f"cannot increment {major}.{minor}.{patch}: the patch part is at the int32 limit")
    return f"{major}.{minor}.{patch + 1}"


def image_version(spec: Mapping[str, Any], build_started: _dt.datetime | None = None) -> str | None:
    """Return the version the build publishes; None for ``increment`` (resolved against the gallery)."""
    version = spec["gallery"]["version"]
    if version["strategy"] == "explicit":
        return version["value"]
    if version["strategy"] == "date":
        return date_image_version(build_started)
    return None
