"""Helpers for tests/integration/test_cancel.py and bench/cancel_matrix.py: a build-golden.yml run in
the background that a test can signal at a moment it waits for (the ledger, the ARM emulator's
state or the output), and searches of what it left on disk and in ARM."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.azure_side import CANARY_PASSWORD
from tests.support.paths import REPO
from tests.support.runs import playbook_env
from tests.support.sandbox_process import Sandbox

SPEC = REPO / "images" / "win11-24h2-avd.yml"
RG_API = "2022-09-01"
# Azure's timings x 0.04: a VM create takes seconds (median 6 s), the rest stays short.
LATENCY_SCALE = "0.04"


def wait_for(what: str, check: Callable[[], Any], proc: Any = None, timeout: float = 600) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` (or the build's end)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the build ended (rc={proc.returncode}) before {what}")
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Build:
    """One build-golden.yml run in the background, with its own artifacts and payload dirs."""

    def __init__(self, sandbox: Sandbox, tmp: Path, *args: str) -> None:
        self.sandbox, self.artifacts, self.payloads = (
            sandbox,
            tmp / "artifacts",
            [tmp / "remote", tmp / "local"],
        )
        self.env = {
            **playbook_env(sandbox),
            "ANSIBLE_REMOTE_TMP": str(self.payloads[0]),
            "ANSIBLE_LOCAL_TEMP": str(self.payloads[1]),
        }
        self.argv = ["ansible-playbook", "build-golden.yml", "-e", json.dumps(self.extra_vars()), *args]
        self.proc: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self._reader: threading.Thread | None = None

    def extra_vars(self) -> dict[str, Any]:
        return {
            "image_spec": str(SPEC),
            "image_spec_artifacts_root": str(self.artifacts),
            "avd_build_admin_password": CANARY_PASSWORD,
            "azure_teardown_delay": 1,
            "gallery_capture_stop_delay": 1,
        }

    def start(self) -> Build:
        self.proc = subprocess.Popen(
            self.argv, cwd=REPO, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def finish(self, timeout: float = 900) -> tuple[int, str]:
        assert self.proc is not None and self._reader is not None
        self.proc.wait(timeout=timeout)
        self._reader.join(timeout=60)
        return self.proc.returncode, self.output

    def ledger(self) -> dict[str, Any]:
        found = list(self.artifacts.glob("*/ledger.json"))
        if not found:
            return {}
        try:
            return json.loads(found[0].read_text())
        except ValueError:  # written atomically, but a reader may race the first write
            return {}

    def phase(self, name: str) -> dict[str, Any]:
        return next((p for p in self.ledger().get("phases", []) if p["name"] == name), {})

    def report(self) -> dict[str, Any]:
        found = list(self.artifacts.glob("*/report.json"))
        assert len(found) == 1, f"expected one report, found {found}"
        return json.loads(found[0].read_text())


def vm_create_polled(sandbox: Sandbox) -> bool:
    return any(
        op["kind"] == "put" and "/virtualmachines/" in op["rid"].lower()
        for op in sandbox.state()["pending_operations"]
    )


def password_files(dirs: list[Path]) -> list[str]:
    """Files under ``dirs`` that hold the admin password."""
    hits = []
    for root in dirs:
        for path in root.rglob("*") if root.exists() else []:
            if path.is_file() and CANARY_PASSWORD.encode() in path.read_bytes():
                hits.append(str(path))
    return hits


def build_groups(sandbox: Sandbox) -> dict[str, dict[str, str]]:
    return {
        res["name"]: res.get("tags") or {}
        for res in sandbox.state()["resources"].values()
        if res.get("type", "").lower() == "microsoft.resources/resourcegroups"
    }


def put_group(sandbox: Sandbox, name: str, tags: dict[str, str]) -> None:
    r = sandbox.request(
        "PUT",
        f"/subscriptions/{sandbox.subscription_id}/resourcegroups/{name}?api-version={RG_API}",
        {"location": "westeurope", "tags": tags},
    )
    assert r.status in (200, 201), r


def utc(epoch: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
