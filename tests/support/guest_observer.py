"""Run the real build playbook against a sandbox while watching the simulated guest from outside.

The product deletes the build VM in teardown, and the sandbox forgets a guest with its VM, so the
Windows state a build leaves behind (after sysprep, before capture) can only be seen while the
build runs. ``GuestObserver`` polls the control endpoint's state dump in a thread and keeps the
last dump of every guest it saw; it can also inject faults when a guest reaches a given condition
(a fault needs the VM's name, which only exists once the build created it). It never talks to the
product: the playbook runs unchanged, as `ansible-playbook build-golden.yml` would.

Used by tests/integration/test_full_build.py and bench/full_build.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.paths import REPO
from tests.support.runs import playbook_env
from tests.support.sandbox_process import Sandbox

GuestDump = dict[str, Any]


@dataclass
class Trigger:
    """When ``condition(guest dump)`` first holds for a guest, call ``action(sandbox, vm name)``."""

    name: str
    condition: Callable[[GuestDump], bool]
    action: Callable[[Sandbox, str], None]
    fired_for: list[str] = field(default_factory=list)


class GuestObserver:
    """Polls ``/_sandbox/state`` every ``interval`` seconds; keeps the last dump of each guest."""

    def __init__(self, sandbox: Sandbox, interval: float = 0.25) -> None:
        self.sandbox = sandbox
        self.interval = interval
        self.last: dict[str, GuestDump] = {}
        self.history: dict[str, list[tuple[float, GuestDump]]] = {}
        self.triggers: list[Trigger] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="guest-observer", daemon=True)

    def when(
        self, name: str, condition: Callable[[GuestDump], bool], action: Callable[[Sandbox, str], None]
    ) -> None:
        """Register a trigger (fires once per guest)."""
        self.triggers.append(Trigger(name, condition, action))

    def fired(self, name: str) -> list[str]:
        """The guests a trigger fired for."""
        return next(t.fired_for for t in self.triggers if t.name == name)

    def __enter__(self) -> GuestObserver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def poll_once(self) -> None:
        """One look at the state dump (also called by the thread)."""
        try:
            guests = self.sandbox.state().get("guests") or {}
        except Exception as exc:
            self.errors.append(repr(exc))
            return
        now = time.monotonic()
        for name, dump in guests.items():
            self.last[name] = dump
            history = self.history.setdefault(name, [])
            if not history or _summary(history[-1][1]) != _summary(dump):
                history.append((now, dump))
            for trigger in self.triggers:
                if name not in trigger.fired_for and trigger.condition(dump):
                    trigger.fired_for.append(name)
                    trigger.action(self.sandbox, name)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.interval)


def _summary(dump: GuestDump) -> tuple[Any, ...]:
    winrm = dump.get("winrm") or {}
    return (
        dump.get("image_state"),
        dump.get("time_zone"),
        dump.get("boot_time_filetime"),
        winrm.get("power"),
        winrm.get("listening"),
        winrm.get("rebooting"),
        len(dump.get("appx_not_provisioned") or []),
    )


@dataclass
class BuildRun:
    """The outcome of one ansible-playbook run."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + "\n" + self.stderr

    def report_path(self) -> Path:
        """The report path the report play prints (its `msg:` line ends in report.json)."""
        found = re.findall(r"(/\S+/report\.json)", self.stdout)
        if not found:
            raise AssertionError(f"no report path in the output:\n{self.stdout[-4000:]}")
        return Path(found[-1])

    def report(self) -> dict[str, Any]:
        return json.loads(self.report_path().read_text())


def run_playbook(
    sandbox: Sandbox,
    playbook: str = "build-golden.yml",
    *args: str,
    timeout: float = 900,
    cwd: Path = REPO,
    env: dict[str, str] | None = None,
) -> BuildRun:
    """ansible-playbook <playbook> <args> from the repository root against the sandbox."""
    started = time.monotonic()
    proc = subprocess.run(
        ["ansible-playbook", playbook, *args],
        cwd=cwd,
        env=env or playbook_env(sandbox),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return BuildRun(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)
