"""The REAL azure.azcollection modules against the emulator: the whole Azure side of a build
(playbooks/azure_flow.yml), then the emulator must be empty and nothing may have been unmodelled.

The guest is marked sysprepped through the control endpoint (a test shortcut; in the product the
Windows side sets ImageState when sysprep runs). The run command sends the product's own WinRM
bootstrap script, which the Windows side recognises by content.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO
from tests.support.sandbox_process import Sandbox

PLAYBOOK = Path(__file__).with_name("playbooks") / "azure_flow.yml"
BOOTSTRAP = REPO / "roles" / "windows_connect" / "files" / "Enable-WinRMHttps.ps1"
PASSWORD = "Flow-Canary-Pa55word-9!"

pytestmark = pytest.mark.integration


def test_real_modules_build_and_tear_down(tmp_path: Path) -> None:
    with Sandbox(tmp_path / "state") as sb:
        env = {
            **os.environ,
            **sb.env,
            "FLOW_ADMIN_PASSWORD": PASSWORD,
            "FLOW_BOOTSTRAP_SCRIPT": str(BOOTSTRAP),
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
            "ANSIBLE_NOCOLOR": "1",
        }
        bin_dir = Path(sys.executable).parent
        proc = subprocess.run(
            [str(bin_dir / "ansible-playbook"), str(PLAYBOOK)],
            env=env,
            cwd=str(tmp_path),
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
        assert "failed=0" in proc.stdout
        assert sb.unmodelled() == []
        state = sb.state()
        assert state["resources"] == {}, list(state["resources"])
        log = sb.requests()
        seen = {(e["method"], e["path"].rsplit("/", 1)[-1]) for e in log}
        for expected in [
            ("PUT", "vm-flow"),
            ("POST", "runCommand"),
            ("POST", "powerOff"),
            ("POST", "deallocate"),
            ("POST", "generalize"),
            ("PUT", "2026.1127.2130"),
            ("DELETE", "vm-flow"),
            ("DELETE", "gal_avd_flow"),
        ]:
            assert expected in seen, expected
        # The admin password went to the guest, never to the log, the output or the disk.
        assert PASSWORD not in str(log)
        assert PASSWORD not in proc.stdout
        for path in sb.state_dir.rglob("*"):
            if path.is_file():
                assert PASSWORD not in path.read_text(errors="replace"), path
