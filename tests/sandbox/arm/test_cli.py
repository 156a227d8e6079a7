"""The command line: pki is idempotent, start returns when ready and stop ends the process; the
vendored member allowlist matches the installed Azure SDK."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sandbox.arm import schemagen
from tests.support.paths import REPO


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_pki_is_idempotent(tmp_path: Path) -> None:
    first = _run("pki", "--dir", str(tmp_path))
    assert first.returncode == 0, first.stderr
    ca = (tmp_path / "ca.pem").read_bytes()
    assert (tmp_path / "ca.key").stat().st_mode & 0o777 == 0o600
    assert _run("pki", "--dir", str(tmp_path)).returncode == 0
    assert (tmp_path / "ca.pem").read_bytes() == ca


def test_start_and_stop(tmp_path: Path) -> None:
    state = tmp_path / "state"
    started = _run("start", "--state-dir", str(state), "--vm-address-pool", "127.201.7.0/24")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        info = json.loads((state / "sandbox.json").read_text())
        pid = info["pid"]
        assert Path(f"/proc/{pid}").exists()
        assert "export AZURE_SUBSCRIPTION_ID=" in (state / "env").read_text()
        again = _run("start", "--state-dir", str(state))
        assert "already running" in again.stdout
    finally:
        stopped = _run("stop", "--state-dir", str(state))
    assert stopped.returncode == 0
    assert not Path(f"/proc/{pid}").exists() or b"serve" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    assert "not running" in _run("stop", "--state-dir", str(state)).stdout


def test_vendored_schemas_match_the_sdk() -> None:
    assert schemagen.main(["--check"]) == 0
