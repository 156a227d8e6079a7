"""Render a build report (the report.json dict) as one self-contained HTML page.

No JavaScript, no external assets: the page is read from an artifacts share or a CI artifact
viewer. Every value goes through ``html.escape``; the input is the already secret-stripped report,
so the page holds nothing report.json does not.
"""

from __future__ import annotations

import contextlib
import html
import os
import tempfile
from collections.abc import Mapping
from typing import Any

HTML_NAME = "report.html"

_STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:70em}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;"
    "text-align:left;vertical-align:top}.bar{background:#4a7;height:.8em;display:inline-block}"
    ".succeeded,.up_to_date{color:#262}.failed,.cancelled{color:#a22}.warn{color:#a60}"
)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _phases(report: Mapping[str, Any]) -> str:
    phases = report.get("phases") or []
    longest = max((p.get("duration_seconds") or 0 for p in phases), default=0) or 1
    rows = []
    for p in phases:
        seconds = p.get("duration_seconds")
        width = int(300 * (seconds or 0) / longest)
        rows.append(
            [
                _e(p.get("name")),
                _e(p.get("status")),
                _e(
                    f"{p.get('run') or 1}"
                    + (f" (done in {p['done_in_run']})" if p.get("done_in_run") else "")
                ),
                _e("" if seconds is None else f"{seconds:g} s"),
                f'<span class="bar" style="width:{width}px"></span>',
                _e(p.get("message")),
            ]
        )
    return "<h2>Where the time went</h2>" + _table(
        ["Phase", "Status", "Run", "Duration", "", "Message"], rows
    )


def _manifest(report: Mapping[str, Any]) -> str:
    parts = (report.get("manifest") or {}).get("parts") or []
    if not parts:
        return "<h2>What the image holds</h2><p>No manifest parts were recorded.</p>"
    out = ["<h2>What the image holds</h2>"]
    for part in parts:
        entries = part.get("entries") or []
        out.append(f"<h3>{_e(part.get('part'))} ({len(entries)} entries)</h3>")
        info = part.get("info") or {}
        if info:
            out.append(_table(["Field", "Value"], [[_e(k), _e(v)] for k, v in sorted(info.items())]))
        if entries:
            out.append(_table(["Kind", "Id"], [[_e(x.get("kind")), _e(x.get("id"))] for x in entries]))
        for label, key, field in (("Missing", "missing", "source"), ("Failed", "failed", "error")):
            items = part.get(key) or []
            if items:
                rows = [[_e(x.get("kind")), _e(x.get("id")), _e(x.get(field))] for x in items]
                out.append(f'<p class="warn">{label}:</p>' + _table(["Kind", "Id", field.title()], rows))
    return "".join(out)


def _warnings(report: Mapping[str, Any]) -> list[str]:
    details = report.get("details") or {}
    found = details.get("warnings") or []
    found = [found] if isinstance(found, str) else list(found)
    for part in (report.get("manifest") or {}).get("parts") or []:
        for item in part.get("failed") or []:
            found.append(f"{part.get('part')}: {item.get('id')} failed: {item.get('error')}")
    return [str(w) for w in found]


def render(report: Mapping[str, Any], artifacts: list[str] | None = None) -> str:
    """Return the HTML page for ``report``; ``artifacts`` are file names beside it to link."""
    result = report.get("result")
    source = report.get("source_image") or {}
    summary = report.get("summary") or {}
    failure = report.get("failure")
    title = f"{report.get('definition') or report.get('build_id')}: {result}"
    overview = [
        ["Result", f'<span class="{_e(result)}">{_e(result)}</span>'],
        ["Build id", _e(report.get("build_id"))],
        ["Image definition", _e(report.get("definition"))],
        ["Image version", _e(report.get("image_version_id") or "none published")],
        [
            "Source image",
            _e(
                ":".join(str(source.get(k) or "") for k in ("publisher", "offer", "sku", "version"))
                + (f" (resolved {source['exact_version']})" if source.get("exact_version") else "")
            ),
        ],
        ["Started / finished", _e(f"{report.get('started_at')} / {report.get('finished_at')}")],
        ["Duration", _e(f"{report.get('duration_seconds')} s")],
    ]
    out = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        _table(["", ""], [[_e(k), v] for k, v in overview]),
    ]
    if failure:
        out.append("<h2>Failure</h2>")
        rows = [["Phase", _e(failure.get("phase"))], ["Message", _e(failure.get("message"))]]
        hint = failure.get("hint") or (report.get("details") or {}).get("hint")
        if hint:
            rows.append(["Hint", _e(hint)])
        out.append(_table(["", ""], rows))
    warnings = _warnings(report)
    if warnings:
        out.append(
            "<h2>Warnings</h2><ul>" + "".join(f'<li class="warn">{_e(w)}</li>' for w in warnings) + "</ul>"
        )
    resume = report.get("resume") or {}
    if resume.get("kept"):
        out.append(
            "<h2>Kept for resume</h2><p>Teardown kept the build's resources (avd_build_keep_on_failure). "
            f"Resume with <code>{_e(resume.get('command'))}</code>; they carry avd-build-delete-after "
            f"{_e(resume.get('delete_after'))}.</p>"
        )
    out.append(_phases(report))
    out.append(_manifest(report))
    left = summary.get("left_behind") or []
    out.append("<h2>Left behind</h2>")
    out.append(
        "<ul>"
        + "".join(f"<li>{_e(r)}</li>" for r in left)
        + "</ul><p>Remove them with <code>ansible-playbook playbooks/teardown.yml -e avd_build_id="
        + _e(report.get("build_id"))
        + "</code>.</p>"
        if left
        else f"<p>Nothing: {_e(summary.get('resources_removed'))} of "
        f"{_e(summary.get('resources_recorded'))} recorded resources removed.</p>"
    )
    links = ["report.json", *(artifacts or [])]
    out.append("<h2>Artifacts</h2><ul>")
    out.append("".join(f'<li><a href="{_e(name)}">{_e(name)}</a></li>' for name in links))
    out.append(f"</ul><p>Generated {_e(report.get('generated_at'))}.</p></body></html>\n")
    return "".join(out)


def write(path: str, text: str) -> None:
    """Write ``text`` so readers see the old or the new page, never half of one."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".html", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
