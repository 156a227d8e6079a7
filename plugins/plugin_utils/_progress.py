"""What the callback avd.golden.build_progress prints: a line as each phase ends (its wall time and
the build's elapsed time; the stdout callback already shows its start), and a table of the phases
when the run ends. A phase in which no task ran (the phases a run of many images skips) is left out.

A phase is a play that sets ``avd_phase`` (build-golden.yml's imports and the validate and report
plays). The table takes each phase's status from the report that build_report returned, when the
run got that far; before that (a refused definition, check mode) it shows the wall times alone.
Only play titles, phase names, statuses, times and the image version id are printed, never a
variable's value, so nothing secret can reach the console.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

REPORT_ACTIONS = frozenset({"avd.golden.build_report", "build_report"})


def clock(seconds: float) -> str:
    """``m:ss`` of a duration in seconds, ``h:mm:ss`` from an hour on."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass
class _Phase:
    name: str
    title: str
    start: float
    end: float | None = None
    ran: bool = False


@dataclass
class Progress:
    """The phases seen so far, timed by the clock the callback passes in (seconds)."""

    started: float
    phases: list[_Phase] = field(default_factory=list)
    report: Mapping[str, Any] | None = None

    def play_start(self, phase: Any, title: str, now: float) -> list[str]:
        lines = self._close(now)
        if isinstance(phase, str) and phase:
            self.phases.append(_Phase(phase, title or phase, now))
        return lines

    def task_ran(self) -> None:
        if self.phases and self.phases[-1].end is None:
            self.phases[-1].ran = True

    def task_result(self, action: str, result: Mapping[str, Any]) -> None:
        self.task_ran()
        report = result.get("report")
        if action in REPORT_ACTIONS and isinstance(report, Mapping):
            self.report = report

    def finish(self, now: float) -> list[str]:
        return [*self._close(now), *self.table(now)]

    def _close(self, now: float) -> list[str]:
        if not self.phases or self.phases[-1].end is not None:
            return []
        last = self.phases[-1]
        last.end = now
        if not last.ran:
            return []
        return [f"[{clock(now - self.started)}] {last.name} took {clock(now - last.start)}"]

    def table(self, now: float) -> list[str]:
        ran = [p for p in self.phases if p.ran]
        if not ran:
            return []
        reported = (self.report or {}).get("phases") or []
        status = {p.get("name"): str(p.get("status") or "") for p in reported if isinstance(p, Mapping)}
        rows = [(p.name, status.get(p.name, ""), clock((p.end or now) - p.start)) for p in ran]
        width = max(5, *(len(name) for name, _, _ in rows))
        lines = ["", f"{'Phase':<{width}}  {'Status':<10}  Wall"]
        lines += [f"{name:<{width}}  {state:<10}  {wall}" for name, state, wall in rows]
        total = f"Total {clock(now - self.started)}"
        if self.report is not None:
            version = self.report.get("image_version_id") or "no image version"
            total += f", result {self.report.get('result', '')}, {version}"
        return [*lines, total]
