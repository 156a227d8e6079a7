"""Fixtures of the ARM emulator's tests: an in-process emulator (tests/support/arm_emulator.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.arm_emulator import Emu, make_emu


@pytest.fixture
def emu(tmp_path: Path) -> Emu:
    return make_emu(tmp_path)


@pytest.fixture
def emu_factory(tmp_path: Path) -> Any:
    def factory(**kw: Any) -> Emu:
        return make_emu(tmp_path, **kw)

    return factory
