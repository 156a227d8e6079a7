"""Every PowerShell script in the repository parses cleanly (tree-sitter-powershell).

PowerShell cannot run here; a parse with no ERROR/MISSING node is the check we can make. The same
logic backs ``python -m tests.support.pscheck`` (the lint target).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import pscheck

SCRIPTS = pscheck.find_scripts()
# The scripts the roles send; if one moves, this test must learn it (they are what the sandbox
# recognises by content).
EXPECTED = {
    "roles/windows_connect/files/Enable-WinRMHttps.ps1",
    "roles/windows_sysprep/files/Get-SysprepPreflight.ps1",
    "roles/windows_sysprep/files/Remove-UserOnlyAppx.ps1",
    "roles/windows_sysprep/files/Disable-BitLockerForSysprep.ps1",
    "roles/windows_sysprep/files/Stop-BuildVm.ps1",
}


def test_the_role_scripts_are_found() -> None:
    found = {p.relative_to(pscheck.REPO_ROOT).as_posix() for p in SCRIPTS}
    assert found >= EXPECTED


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.relative_to(pscheck.REPO_ROOT).as_posix())
def test_script_parses(path: Path) -> None:
    assert pscheck.check_files([path]) == []


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.relative_to(pscheck.REPO_ROOT).as_posix())
def test_script_is_ascii_with_lf_endings(path: Path) -> None:
    # Windows PowerShell 5.1 reads a BOM-less file as the ANSI code page, and the sandbox (and any
    # reviewer) identifies the scripts by exact content: keep them plain ASCII with LF endings.
    data = path.read_bytes()
    assert data.isascii(), f"{path} has non-ASCII bytes"
    assert b"\r" not in data, f"{path} has CR line endings"


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("if ($x {\n  'a'\n}\n", "ERROR"),
        ("function f {\n  'a'\n", "MISSING"),
        ("$h = @{ a = 1\n", "MISSING"),
    ],
)
def test_checker_catches_broken_syntax(source: str, kind: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ps1"
    bad.write_text(source)
    problems = pscheck.check_files([bad])
    assert problems, "a broken script must be reported"
    assert {p.kind for p in problems} & {kind, "ERROR"}


def test_cli_names_the_bad_file_and_fails(tmp_path: Path) -> None:
    good = tmp_path / "good.ps1"
    good.write_text('param([string] $Name)\nWrite-Output "Hello $Name"\n')
    bad = tmp_path / "broken.ps1"
    bad.write_text("foreach ($i in 1..3 {\n")
    run = subprocess.run(
        [sys.executable, "-m", "tests.support.pscheck", str(good), str(bad)],
        cwd=pscheck.REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1
    assert "broken.ps1" in run.stderr
    assert "good.ps1" not in run.stderr
    ok = subprocess.run(
        [sys.executable, "-m", "tests.support.pscheck", str(good)],
        cwd=pscheck.REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
