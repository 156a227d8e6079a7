"""Fixtures: simulated guests seeded from marketplace images, with a controllable clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sandbox.guest_api import SourceImage
from sandbox.windows.state import WindowsState, create_guest
from tests.support.windows_state import MULTI, Clock, FakeArm, spec


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(WindowsState, "clock", staticmethod(c))
    return c


@pytest.fixture
def arm() -> FakeArm:
    return FakeArm()


@pytest.fixture
def make_guest(clock: Clock, arm: FakeArm) -> Callable[..., WindowsState]:
    def make(image: SourceImage = MULTI) -> WindowsState:
        return create_guest(spec(image), arm)

    return make


@pytest.fixture
def guest(make_guest: Callable[..., WindowsState]) -> WindowsState:
    return make_guest()


@pytest.fixture
def run(guest: WindowsState) -> Callable[..., dict[str, Any]]:
    """run("win_regedit", {...}, check=False, diff=False) -> the module's result."""

    def _run(module: str, args: dict[str, Any], *, check: bool = False, diff: bool = False, **internal: Any):
        fqcn = module if "." in module else f"ansible.windows.{module}"
        internal = {f"_ansible_{k}": v for k, v in internal.items()}
        internal.setdefault("_ansible_check_mode", check)
        internal.setdefault("_ansible_diff", diff)
        return guest.run_module(
            fqcn, args, check_mode=check, diff=diff, module_path=f"{fqcn}.ps1", internal=internal
        )

    return _run
