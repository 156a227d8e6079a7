"""The request log (``requests.jsonl``, redacted) and the record of everything the sandbox did not
model (501s, sandbox bugs), which tests assert is empty."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from sandbox.arm.errors import ArmError
from sandbox.arm.redact import redact, redact_run_command
from sandbox.arm.values import Request, utcnow

REQUEST_LOG_FILE = "requests.jsonl"
MAX_LOG = 50_000


class RequestLog:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / REQUEST_LOG_FILE
        self.entries: list[dict[str, Any]] = []
        self.unmodelled: list[dict[str, Any]] = []

    def load(self) -> None:
        """The entries of a previous run (the file is informative, not state)."""
        if not self.path.exists():
            return
        entries = []
        with self.path.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    continue  # a line cut short by a crash
        self.entries = entries[-MAX_LOG:]

    def clear(self) -> None:
        self.entries.clear()
        self.unmodelled.clear()
        self.path.unlink(missing_ok=True)

    def log(self, req: Request, status: int, error: ArmError | None = None) -> None:
        if req.segments[:1] == ["_sandbox"] and req.method == "GET":
            return  # reading the log must not grow it
        entry = {
            "time": utcnow(),
            "method": req.method,
            "path": req.path,
            "query": dict(req.query),
            "status": status,
            "body": _redacted_body(req),
        }
        if req.action:
            entry["action"] = req.action
        if error is not None:
            entry["error"] = error.code
        self.entries.append(entry)
        if len(self.entries) > MAX_LOG:
            del self.entries[: len(self.entries) - MAX_LOG]
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, sort_keys=True) + "\n")

    def record_unmodelled(self, req: Request, message: str) -> None:
        self.unmodelled.append(
            {
                "time": utcnow(),
                "method": req.method,
                "path": req.path,
                "query": dict(req.query),
                "message": message,
            }
        )


def _redacted_body(req: Request) -> Any:
    if req.raw_body and req.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return redact({k: v[0] for k, v in parse_qs(req.raw_body.decode("utf-8", "replace")).items()})
    if req.body is not None:
        return redact_run_command(req.body) if req.path.lower().endswith("/runcommand") else redact(req.body)
    return None
