"""Fixtures of the Windows double's self-tests: one simulated build VM behind its real WinRM
listener (tests/support/build_vm.py), closed after the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.build_vm import BuildVm


@pytest.fixture
def build_vm(tmp_path: Path) -> Iterator[BuildVm]:
    vm = BuildVm(tmp_path)
    try:
        yield vm
    finally:
        vm.close()
