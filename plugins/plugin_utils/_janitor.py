"""Which resource groups the janitor deletes (pure Python, no Ansible imports, unit-tested).

A resource group is a build's when it carries the tag ``avd-build-id`` (only a build that created
its group tags it so: docs/contracts.md section 4). It is deleted when its heartbeat
(``avd-build-heartbeat``, refreshed at each phase start: section 15) is older than the threshold,
or, for a group without a heartbeat, when ``avd-build-delete-after`` has passed. Any other group,
an expired ``avd-build-delete-after`` without ``avd-build-id`` included, is never selected.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import Any

BUILD_TAG = "avd-build-id"
HEARTBEAT_TAG = "avd-build-heartbeat"
DELETE_AFTER_TAG = "avd-build-delete-after"
_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
RESOURCE_GROUP_API = "2022-09-01"


class JanitorError(ValueError):
    """Bad input to the selection, naming the variable."""


def parse_time(value: Any) -> _dt.datetime | None:
    """A tag's UTC time (``YYYY-MM-DDTHH:MM:SSZ``), None when it is not one."""
    try:
        return _dt.datetime.strptime(str(value), _FORMAT).replace(tzinfo=_dt.UTC)
    except ValueError:
        return None


def select(
    groups: Iterable[Mapping[str, Any]], now: str, max_age_minutes: Any
) -> dict[str, list[dict[str, Any]]]:
    """Split the resource groups (``name``, ``id``, ``tags``) of a subscription into the build
    groups to ``delete`` and the build groups ``kept``, each with ``name``, ``id``, ``build_id``
    and a ``reason`` for people; ``resources`` lists the groups to delete as
    avd.golden.azure_ordered_delete takes them. Groups that are not a build's are in no list."""
    current = parse_time(now)
    if current is None:
        raise JanitorError(f"now: must be a UTC time like 2026-12-01T10:00:00Z, got {now!r}")
    try:
        max_age = float(max_age_minutes)
    except (TypeError, ValueError):
        max_age = -1.0
    if max_age < 0:
        raise JanitorError(
            f"janitor_heartbeat_max_age_minutes: must be a number of minutes >= 0, got {max_age_minutes!r}"
        )
    out: dict[str, list[dict[str, Any]]] = {"delete": [], "kept": []}
    for group in groups:
        tags = group.get("tags") or {}
        if not tags.get(BUILD_TAG):
            continue
        delete, reason = _judge(tags, current, max_age)
        entry = {
            "name": group.get("name"),
            "id": group.get("id"),
            "build_id": tags[BUILD_TAG],
            "reason": reason,
        }
        out["delete" if delete else "kept"].append(entry)
    out["resources"] = [{"id": g["id"], "api_version": RESOURCE_GROUP_API} for g in out["delete"]]
    return out


def _judge(tags: Mapping[str, Any], now: _dt.datetime, max_age: float) -> tuple[bool, str]:
    if HEARTBEAT_TAG in tags:
        beat = parse_time(tags[HEARTBEAT_TAG])
        if beat is None:
            return False, f"kept: {HEARTBEAT_TAG} {tags[HEARTBEAT_TAG]!r} is not a UTC time"
        age = (now - beat).total_seconds() / 60
        if age > max_age:
            return (
                True,
                f"heartbeat {tags[HEARTBEAT_TAG]} stopped {age:.1f} min ago (threshold {max_age:g} min)",
            )
        return (
            False,
            f"kept: heartbeat {tags[HEARTBEAT_TAG]} is {max(age, 0):.1f} min old (threshold {max_age:g} min)",
        )
    expiry = parse_time(tags.get(DELETE_AFTER_TAG))
    if expiry is not None and expiry < now:
        return True, f"no heartbeat, and {DELETE_AFTER_TAG} {tags[DELETE_AFTER_TAG]} has passed"
    return (
        False,
        f"kept: no heartbeat, and {DELETE_AFTER_TAG} {tags.get(DELETE_AFTER_TAG, '(none)')} has not passed",
    )
