"""Planning and reporting of the application installs (role windows_applications, tasks/install.yml).

The role's decisions live here, unit-tested: which entries the detection module is asked about,
which are installed already (skipped: nothing downloaded), where each installer and its log go on
the build VM, what a finished install reports (exit code, reboot), what the manifest records and
how a failure reads. The entries are the normalised ``applications[]`` of docs/contracts.md.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

DOWNLOAD_KINDS = ("msi", "exe", "msix")
_UNSAFE = re.compile(r"[^A-Za-z0-9._+()-]+")


def safe_name(name: str) -> str:
    """The application's name as a folder and file name (spaces and the rest become _)."""
    return _UNSAFE.sub("_", name).strip("._") or "application"


def installer_file_name(download: Mapping[str, Any]) -> str:
    """The installer's file name: the last segment of the URL's path or of the blob's name."""
    if download.get("url"):
        path = urllib.parse.unquote(urllib.parse.urlsplit(download["url"]).path)
    else:
        path = download["blob"]["name"]
    return path.rstrip("/").rsplit("/", 1)[-1]


def detection_items(entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """What win_app_detect is asked: the entries that come from a download (a package manager
    knows itself what it has installed)."""
    return [
        {"name": e["name"], "kind": e["kind"], "version": e["version"], "detection": dict(e["detection"])}
        for e in entries
        if e["kind"] in DOWNLOAD_KINDS
    ]


def plan(
    entries: Iterable[Mapping[str, Any]], detected: Mapping[str, Any] | None, work_dir: str
) -> list[dict[str, Any]]:
    """Each entry with ``install`` (False when detection found it), ``installed_version``, its
    paths on the build VM (``folder``, ``path``: the installer, ``log``), ``safe_name`` and
    ``creates_path`` / ``creates_version`` (win_package's file check)."""
    found = {str(d["name"]).lower(): d for d in (detected or {}).get("applications", [])}
    out = []
    for entry in entries:
        item = dict(entry)
        name = safe_name(entry["name"])
        folder = f"{work_dir.rstrip(chr(92))}\\{name}"
        hit = found.get(str(entry["name"]).lower())
        file_rule = (entry.get("detection") or {}).get("file") or {}
        if entry["kind"] in DOWNLOAD_KINDS and hit is None:
            raise ValueError(f"application {entry['name']!r}: the detection result does not name it")
        item.update(
            safe_name=name,
            folder=folder,
            path=f"{folder}\\{installer_file_name(entry['download'])}" if entry.get("download") else None,
            log=f"{folder}\\install.log",
            # win_package's own check of a file detection, so it too skips an installed copy.
            creates_path=file_rule.get("path"),
            creates_version=file_rule.get("version"),
            install=not (hit or {}).get("installed", False),
            installed_version=(hit or {}).get("version"),
        )
        out.append(item)
    return out


def outcome(
    app: Mapping[str, Any], results: Iterable[Mapping[str, Any]], signature: Mapping[str, Any] | None
) -> dict[str, Any]:
    """What one install did: the result of the installer task that ran (the others are skipped)."""
    ran = next((r for r in results if r and not r.get("skipped")), {})
    rc = ran.get("rc", 0)
    reboot = bool(ran.get("reboot_required")) or rc in app.get("reboot_exit_codes", [])
    signer = None
    if signature and not signature.get("skipped"):
        signer = {"subject": signature.get("subject"), "thumbprint": signature.get("thumbprint")}
    return {
        "name": app["name"],
        "changed": bool(ran.get("changed")),
        "rc": rc,
        "reboot_required": reboot,
        "signer": signer,
    }


def manifest_items(entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Manifest entries of kind ``application``: name, kind, version, sha256, signer (the pinned one)."""
    return [
        {
            "name": e["name"],
            "source": e.get("source") or "",
            "kind": e["kind"],
            "version": e["version"],
            "sha256": (e.get("download") or {}).get("sha256"),
            "signer": (e.get("download") or {}).get("signer"),
        }
        for e in entries
    ]


def manifest(
    entries: Iterable[Mapping[str, Any]], done: Iterable[Mapping[str, Any]], check_mode: bool
) -> dict[str, Any]:
    """build_manifest's ``items`` and ``result`` of kind ``application`` for this run."""
    entries = list(entries)
    return {
        "items": manifest_items(entries),
        "result": {"changes": manifest_changes(entries, done, check_mode)},
    }


def manifest_changes(
    entries: Iterable[Mapping[str, Any]], done: Iterable[Mapping[str, Any]], check_mode: bool
) -> list[dict[str, Any]]:
    """The entries a run installed (in check mode: would install), before and after. The signer
    recorded is the one the signature check found, when it ran."""
    by_name = {d["name"]: d for d in done}
    changes = []
    for item, entry in zip(manifest_items(entries), entries, strict=True):
        ran = by_name.get(entry["name"])
        if not (ran and ran["changed"]) and not (check_mode and entry.get("install")):
            continue
        after = {k: v for k, v in item.items() if k not in ("name", "source")}
        if ran and ran.get("signer"):
            after["signer"] = ran["signer"]
        before = {"version": entry["installed_version"]} if entry.get("installed_version") else None
        changes.append({"name": entry["name"], "source": item["source"], "before": before, "after": after})
    return changes


def _safe_url(app: Mapping[str, Any]) -> str:
    """The download as it may be shown: the URL without its query (a SAS), or the blob's id."""
    download = app.get("download") or {}
    if download.get("url"):
        parts = urllib.parse.urlsplit(download["url"])
        return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return str(download.get("id"))


def _redact(text: str) -> str:
    """Drop anything that looks like a URL's query string (a SAS) from a message."""
    return re.sub(r"(https?://[^\s'\"?]+)\?[^\s'\"]*", r"\1?<redacted>", text)


def download_failure(app: Mapping[str, Any], result: Mapping[str, Any]) -> str:
    """The failure of win_get_url for ``app``, naming the cause and never the SAS."""
    status = result.get("status_code")
    msg = _redact(str(result.get("msg") or ""))
    if "checksum" in msg.lower():
        cause = f"the SHA-256 does not match the image spec's {app['download']['sha256']} ({msg})"
    elif status and status not in (200, 304):
        cause = f"HTTP {status}" + (f" ({msg})" if msg else "")
        if status == 403 and (app.get("download") or {}).get("blob"):
            cause += (
                "; Azure Storage refused the read-only SAS the sources phase minted: it has expired "
                "(downloads.sas_lifetime_hours, counted from that phase), the account key that signed it "
                "was rotated, or the account's network rules do not admit the build VM"
            )
    else:
        cause = msg or "unknown error"
    return f"application {app['name']!r}: the download of {_safe_url(app)} failed: {cause}"


def _tail(text: str, lines: int) -> str:
    kept = [line for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
    return "\n".join(kept[-lines:])


def failure(
    app: Mapping[str, Any], task: str, result: Mapping[str, Any], lines: int, log_file: str | None = None
) -> str:
    """The failure message of one application: its name, the step, the exit code and the log's tail."""
    msg = _redact(str(result.get("msg") or ""))
    prefix = f"application {app['name']!r}"
    if msg.startswith(prefix):  # already named (the download check)
        return msg
    step = task.split(" | ", 1)[-1]  # without the task file's name prefix
    parts = [f"{prefix} ({app['kind']} {app['version']}) failed in {step!r}: {msg}"]
    if "rc" in result and result.get("rc") not in (None, 0):
        parts.append(f"exit code {result['rc']}")
    log = str(result.get("log") or "") or "\n".join(
        str(result.get(k) or "") for k in ("stdout", "stderr") if result.get(k)
    )
    if log.strip():
        where = f" (the whole log: {log_file})" if result.get("log") and log_file else ""
        parts.append(f"last lines of the installer's log{where}:\n{_tail(_redact(log), lines)}")
    return "; ".join(parts)
