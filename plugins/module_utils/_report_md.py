"""Render a build report (the report.json dict) as a short Markdown summary for CI job pages.

The input is the already secret-stripped report, so the summary holds nothing report.json does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MD_NAME = "report.md"


def _cell(value: Any) -> str:
    """One table cell: pipes escaped and newlines folded so the row stays one row."""
    text = "" if value is None else str(value)
    return " ".join(text.replace("\\", "\\\\").replace("|", "\\|").split())


def render(report: Mapping[str, Any]) -> str:
    """Return the Markdown summary for ``report``."""
    phases = report.get("phases") or []
    summary = report.get("summary") or {}
    durations = [p.get("duration_seconds") or 0 for p in phases]
    slowest = durations.index(max(durations)) if durations and max(durations) > 0 else None
    title = report.get("definition") or report.get("build_id")
    out = [
        f"## {_cell(title)}: {_cell(report.get('result'))}",
        "",
        f"- Build id: `{_cell(report.get('build_id'))}`",
        f"- Image version: {_cell(report.get('image_version_id') or 'none published')}",
        f"- Duration: {_cell(report.get('duration_seconds'))} s",
    ]
    failure = report.get("failure")
    if failure:
        out.append(f"- Failure in {_cell(failure.get('phase'))}: {_cell(failure.get('message'))}")
    resume = report.get("resume") or {}
    if len(report.get("runs") or []) > 1:
        out.append(
            f"- Run {len(report['runs'])} of this build id ({_cell(resume.get('mode'))}): "
            f"{_cell(resume.get('reason'))}"
        )
    if resume.get("kept"):
        out.append(f"- Kept for resume: `{_cell(resume.get('command'))}`")
    out += ["", "| Phase | Status | Run | Duration |", "| --- | --- | --- | --- |"]
    for index, phase in enumerate(phases):
        seconds = phase.get("duration_seconds")
        duration = "" if seconds is None else f"{seconds:g} s"
        if index == slowest:
            duration += " (slowest)"
        run = phase.get("run") or 1
        if phase.get("done_in_run"):
            run = f"{run} (done in {phase['done_in_run']})"
        out.append(
            f"| {_cell(phase.get('name'))} | {_cell(phase.get('status'))} | {_cell(run)} | {duration} |"
        )
    left = summary.get("left_behind") or []
    out.append("")
    out.append(
        f"Teardown removed {_cell(summary.get('resources_removed'))} of "
        f"{_cell(summary.get('resources_recorded'))} recorded resources"
        + (": left behind " + ", ".join(f"`{_cell(r)}`" for r in left) + "." if left else ".")
    )
    return "\n".join(out) + "\n"
