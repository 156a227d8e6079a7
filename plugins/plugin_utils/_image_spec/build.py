"""Build ids, the Azure resource names derived from them, and the build context ``avd_build``."""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
import secrets
from collections.abc import Mapping
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.naming import SPEC_NAME_RE
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.spec import source_facts
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.versions import image_version, utc

# Build ids must leave room for the longest derived name: "osdisk-<id>" and "vnet-<id>" (64).
BUILD_ID_MAX = 56
_BUILD_ID_SUFFIX_LEN = len("-20261127213000-abcd")
_BUILD_ID_RE = re.compile(
    r"^(?P<name>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)-(?P<ts>[0-9]{14})-(?P<hex>[0-9a-f]{4})\Z"
)


def new_build_id(name: str, moment: _dt.datetime | None = None, suffix: str | None = None) -> str:
    """Return ``<name>-<yyyymmddHHMMSS>-<4 hex>``, the name part shortened to fit BUILD_ID_MAX."""
    if not isinstance(name, str) or not SPEC_NAME_RE.match(name):
        raise ValueError(f"build ids are made from a valid image spec name, got {name!r}")
    suffix = suffix if suffix is not None else secrets.token_hex(2)
    if not re.fullmatch(r"[0-9a-f]{4}", suffix):
        raise ValueError(f"the build id suffix must be 4 lower-case hex digits, got {suffix!r}")
    stem = name[: BUILD_ID_MAX - _BUILD_ID_SUFFIX_LEN].rstrip("-")
    return f"{stem}-{utc(moment).strftime('%Y%m%d%H%M%S')}-{suffix}"


def parse_build_id(build_id: str) -> tuple[str, _dt.datetime]:
    """Return the name part and the UTC start time encoded in a build id; raise ValueError."""
    match = _BUILD_ID_RE.match(build_id) if isinstance(build_id, str) else None
    if not match or len(build_id) > BUILD_ID_MAX:
        raise ValueError(
            f"not a build id (<name>-<yyyymmddHHMMSS>-<4 hex>, at most {BUILD_ID_MAX} characters): "
            f"{build_id!r}"
        )
    try:
        started = _dt.datetime.strptime(match["ts"], "%Y%m%d%H%M%S").replace(tzinfo=_dt.UTC)
    except ValueError as exc:
        raise ValueError(f"build id {build_id!r} has an impossible timestamp: {exc}") from None
    return match["name"], started


def computer_name(build_id: str) -> str:
    """Return the Windows computer name: ``avdb`` + 11 hex chars of a hash (15, NetBIOS limit)."""
    return "avdb" + hashlib.sha256(build_id.encode()).hexdigest()[:11]


def build_names(build_id: str) -> dict[str, str]:
    """Return the Azure resource names derived from a build id (all within Azure's limits)."""
    parse_build_id(build_id)
    return {
        "resource_group": f"rg-avdbuild-{build_id}",
        "vnet": f"vnet-{build_id}",
        "subnet": "snet-build",
        "nsg": f"nsg-{build_id}",
        "public_ip": f"pip-{build_id}",
        "nic": f"nic-{build_id}",
        "vm": f"vm-{build_id}",
        "os_disk": f"osdisk-{build_id}",
        "computer_name": computer_name(build_id),
    }


def _iso(moment: _dt.datetime) -> str:
    return moment.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_context(
    spec: Mapping[str, Any],
    build_id: str,
    owner: str | None,
    ttl_hours: int = 24,
    artifacts_root: str = "artifacts",
    awx_job_id: str | int | None = None,
) -> dict[str, Any]:
    """Return the ``avd_build`` dict (docs/contracts.md section 3) for a normalised image spec.

    Everything is derived from the build id (its timestamp is the build start), so the same id
    always gives the same context: re-running the validate phase for a build changes nothing.
    """
    started = _build_start(spec, build_id)
    if isinstance(ttl_hours, bool) or not isinstance(ttl_hours, int) or not 1 <= ttl_hours <= 8760:
        raise ValueError(f"avd_build_ttl_hours must be an integer from 1 to 8760, got {ttl_hours!r}")
    owner = (owner or "").strip() or "unknown"
    names = build_names(build_id)
    delete_after = started + _dt.timedelta(hours=ttl_hours)
    artifacts_dir = os.path.join(os.path.realpath(os.path.expanduser(artifacts_root)), build_id)
    rg = spec["build_vm"]["resource_group"]
    facts = source_facts(spec)
    return {
        "id": build_id,
        "artifacts_dir": artifacts_dir,
        "ledger_path": os.path.join(artifacts_dir, "ledger.json"),
        "owner": owner,
        "created_at": _iso(started),
        "delete_after": _iso(delete_after),
        "ttl_hours": ttl_hours,
        "resource_group": rg or names["resource_group"],
        "resource_group_created_by_build": rg is None,
        "location": spec["location"],
        "names": {k: v for k, v in names.items() if k != "resource_group"},
        "tags": _build_tags(spec, build_id, owner, delete_after, awx_job_id),
        "image_version": image_version(spec, started),
        "image_version_strategy": spec["gallery"]["version"]["strategy"],
        "source_hyper_v_generation": facts.get("generation"),
        "session_type": facts.get("session"),
    }


def _build_start(spec: Mapping[str, Any], build_id: str) -> _dt.datetime:
    """Return the start time in ``build_id`` after checking the id belongs to ``spec``."""
    # A generated id is always valid, so a bad one came from the user's avd_build_id: name it.
    try:
        name_part, started = parse_build_id(build_id)
    except ValueError as exc:
        raise ValueError(f"avd_build_id: {exc}") from None
    if not spec["name"].startswith(name_part):
        raise ValueError(
            f"avd_build_id: build id {build_id!r} does not belong to image spec {spec['name']!r}"
        )
    return started


def _build_tags(
    spec: Mapping[str, Any],
    build_id: str,
    owner: str,
    delete_after: _dt.datetime,
    awx_job_id: str | int | None,
) -> dict[str, str]:
    """The build's own tags (tags.RESERVED_TAG_KEYS) followed by the spec's ``tags``."""
    tags = {
        "avd-build-id": build_id,
        "avd-build-owner": owner[:256],
        "avd-build-delete-after": _iso(delete_after),
        "avd-image": spec["name"],
    }
    if awx_job_id not in (None, ""):
        tags["avd-build-awx-job"] = str(awx_job_id)[:256]
    tags.update(spec.get("tags") or {})
    return tags
