"""The build ledger: a JSON file under the build's artifacts that lists phases and resources.

Every Azure resource a build creates is recorded here *before* the request that creates it, so
teardown (and a later janitor) can find it even after a crash. Writes are atomic (temporary
file in the same directory, then ``os.replace``) and serialised with an ``flock`` so parallel
tasks cannot lose each other's updates.

Shape (``version`` 1; every field and what a reader may rely on: docs/contracts.md section 2)::

    {"version": 1, "build_id": "...", "created_at": "...Z", "updated_at": "...Z",
     "phases": [{"name": "validate", "start": "...Z", "end": "...Z", "status": "ok", "message": ""}],
     "resources": [{"id": "/subscriptions/...", "type": "Microsoft.Compute/virtualMachines",
                    "phase": "provision", "recorded_at": "...Z", "removed": false, "removed_at": null}]}
"""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import fcntl
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any

LEDGER_VERSION = 1
# cancelled: the phase stopped after a cancel request (SIGINT/SIGTERM, docs/contracts.md section 15).
PHASE_STATUSES = ("ok", "failed", "skipped", "cancelled")

# Keys whose values must never reach a ledger or a report: the build handles an admin
# password and Azure credentials, and neither belongs in an artifact.
SECRET_KEY_RE = re.compile(
    r"password|passwd|secret|token|credential|private_key|api_key|apikey", re.IGNORECASE
)
# ``password=...`` / ``"client_secret": "..."`` style fragments inside free text.
_SECRET_TEXT_RE = re.compile(
    r"(?P<key>[\w-]*(?:password|passwd|secret|token)[\w-]*)(?P<sep>[\"']?\s*[:=]\s*[\"']?)(?P<value>[^\s\"',;}]+)",
    re.IGNORECASE,
)
REDACTED = "<redacted>"


class LedgerError(Exception):
    """A ledger file that cannot be read or does not look like a ledger."""


def utc_now() -> str:
    """Return the current time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str | None) -> _dt.datetime | None:
    """Parse a ledger timestamp; None for None."""
    if not value:
        return None
    return _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def redact_text(text: str) -> str:
    """Replace ``<secret-ish key>=<value>`` fragments in free text with a placeholder."""
    return _SECRET_TEXT_RE.sub(lambda m: f"{m['key']}{m['sep']}{REDACTED}", text)


def strip_secrets(value: Any, path: str = "", stripped: list[str] | None = None) -> Any:
    """Return a copy of ``value`` without mapping keys that look like secrets.

    ``stripped`` collects the dotted paths of what was removed, so the caller can warn.
    Strings are passed through :func:`redact_text`.
    """
    if stripped is None:
        stripped = []
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if SECRET_KEY_RE.search(str(key)):
                stripped.append(where)
                continue
            out[str(key)] = strip_secrets(item, where, stripped)
        return out
    if isinstance(value, list | tuple):
        return [strip_secrets(item, f"{path}[{i}]", stripped) for i, item in enumerate(value)]
    if isinstance(value, str):
        cleaned = redact_text(value)
        if cleaned != value:
            stripped.append(path or "(value)")
        return cleaned
    return value


def empty_ledger(build_id: str | None = None) -> dict[str, Any]:
    """Return a new, empty ledger."""
    now = utc_now()
    return {
        "version": LEDGER_VERSION,
        "build_id": build_id,
        "created_at": now,
        "updated_at": now,
        "phases": [],
        "resources": [],
    }


def load(path: str) -> dict[str, Any] | None:
    """Return the ledger at ``path``, None when the file does not exist."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise LedgerError(f"cannot read ledger {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("version") != LEDGER_VERSION:
        raise LedgerError(f"{path} is not a version {LEDGER_VERSION} build ledger")
    if not isinstance(data.get("phases"), list) or not isinstance(data.get("resources"), list):
        raise LedgerError(f"{path} is not a build ledger: 'phases' and 'resources' must be lists")
    return data


def write_atomic(path: str, data: Mapping[str, Any], mode: int = 0o600) -> None:
    """Write JSON to ``path`` so readers see the old or the new file, never half of one."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def locked(path: str, write: bool) -> Iterator[None]:
    """Hold an exclusive lock on ``<path>.lock`` for a read-modify-write of the ledger.

    With ``write`` false (check mode) nothing is locked or created: a reader needs no lock because
    writers replace the file atomically.
    """
    if not write:
        yield
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(f"{path}.lock", "a", encoding="utf-8") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _same_id(a: str, b: str) -> bool:
    # ARM resource ids are case-insensitive.
    return a.lower() == b.lower()


def find_resource(ledger: Mapping[str, Any], resource_id: str) -> dict[str, Any] | None:
    """Return the ledger entry for ``resource_id`` (case-insensitive), or None."""
    for entry in ledger["resources"]:
        if _same_id(entry["id"], resource_id):
            return entry
    return None


def find_phase(ledger: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """Return the ledger entry for phase ``name``, or None."""
    for entry in ledger["phases"]:
        if entry["name"] == name:
            return entry
    return None


def apply_resource(
    ledger: dict[str, Any],
    resource_id: str,
    resource_type: str | None,
    state: str,
    phase: str | None,
    now: str,
) -> bool:
    """Record a resource, mark it removed, or release it (the published image version: the build's
    output, which teardown must not delete, leaves the list); return whether the ledger changed."""
    entry = find_resource(ledger, resource_id)
    if state == "released":
        if entry is None:
            return False
        ledger["resources"].remove(entry)
        return True
    if state == "recorded":
        if entry is None:
            ledger["resources"].append(
                {
                    "id": resource_id,
                    "type": resource_type,
                    "phase": phase,
                    "recorded_at": now,
                    "removed": False,
                    "removed_at": None,
                }
            )
            return True
        changed = False
        if entry["removed"]:
            # Recorded again after teardown removed it: it is about to exist again.
            entry["removed"], entry["removed_at"] = False, None
            changed = True
        if resource_type and entry.get("type") != resource_type:
            entry["type"] = resource_type
            changed = True
        return changed
    if entry is None:
        # Removal of something never recorded: keep a trace so the report shows it.
        ledger["resources"].append(
            {
                "id": resource_id,
                "type": resource_type,
                "phase": phase,
                "recorded_at": now,
                "removed": True,
                "removed_at": now,
            }
        )
        return True
    if entry["removed"]:
        return False
    entry["removed"], entry["removed_at"] = True, now
    return True


def current_run(ledger: Mapping[str, Any]) -> int:
    """The number of the run writing now: the latest of ``runs``; 1 for a ledger without them."""
    return len(ledger.get("runs") or []) or 1


def apply_run(ledger: dict[str, Any], number: int, mode: str, reason: str | None, now: str) -> bool:
    """Record run ``number`` of the build with its ``mode`` and ``reason``; return whether the
    ledger changed. Recording the same run again only updates its mode and reason.

    Runs before ``number`` that the ledger lacks (a ledger written before runs existed, or runs
    that only validated) are filled in from ``created_at``. A resumed build's runs append
    (docs/contracts.md section 18).
    """
    if number < 1:
        raise LedgerError(f"run: must be 1 or more, got {number}")
    runs = ledger.setdefault("runs", [])
    reason = redact_text(reason or "")
    changed = False
    while len(runs) < number - 1:
        runs.append(
            {"run": len(runs) + 1, "started_at": ledger.get("created_at"), "mode": "new", "reason": ""}
        )
        changed = True
    if len(runs) < number:
        runs.append({"run": number, "started_at": now, "mode": mode, "reason": reason})
        return True
    entry = runs[number - 1]
    if entry.get("mode") == mode and entry.get("reason") == reason:
        return changed
    entry["mode"], entry["reason"] = mode, reason
    return True


def _archive(entry: dict[str, Any], run: int) -> None:
    """Move what an earlier run recorded for a phase into its ``earlier`` list."""
    earlier = {k: entry.get(k) for k in ("run", "start", "end", "status", "message")}
    earlier["run"] = earlier["run"] or 1
    if entry.get("done_in_run"):
        earlier["done_in_run"] = entry["done_in_run"]
    entry.setdefault("earlier", []).append(earlier)
    entry.pop("done_in_run", None)
    entry["run"] = run


def apply_phase(
    ledger: dict[str, Any],
    name: str,
    event: str,
    status: str | None,
    message: str | None,
    now: str,
    done_in_run: int | None = None,
) -> bool:
    """Record a phase start or end; return whether the ledger changed.

    Within one run, a start for a phase already started changes nothing (the first start time
    stands); an end that repeats the recorded status and message changes nothing either. In a
    later run (a resume), the first start or end of a phase moves what the earlier run recorded
    into the entry's ``earlier`` list. ``done_in_run`` marks a phase skipped because an earlier
    run did its work.
    """
    run = current_run(ledger)
    entry = find_phase(ledger, name)
    fresh = {"name": name, "start": now, "end": None, "status": "running", "message": "", "run": run}
    archived = entry is not None and int(entry.get("run") or 1) < run
    if archived:
        _archive(entry, run)
        entry.update(start=now, end=None, status="running", message="")
    if event == "start":
        if entry is not None:
            return archived
        ledger["phases"].append(fresh)
        return True
    message = redact_text(message or "")
    if entry is None:
        entry = fresh
        ledger["phases"].append(entry)
    elif (
        entry["end"] is not None
        and entry["status"] == status
        and entry["message"] == message
        and entry.get("done_in_run") == done_in_run
    ):
        return False
    entry["end"], entry["status"], entry["message"] = now, status, message
    entry.setdefault("run", run)
    if done_in_run:
        entry["done_in_run"] = int(done_in_run)
    else:
        entry.pop("done_in_run", None)
    return True


def snapshot(ledger: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Return a deep copy (for diffs)."""
    return copy.deepcopy(ledger) if ledger is not None else None
