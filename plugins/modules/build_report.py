#!/usr/bin/python
"""Write the build report (report.json) from the build ledger."""

from __future__ import annotations

DOCUMENTATION = r"""
module: build_report
short_description: Write the build report from the build ledger
version_added: "0.1.0"
description:
  - Writes C(<artifacts_dir>/report.json) for one image build. It holds the result, the failure (phase
    and message), the published image version id, the source image with the exact version Azure
    resolved, every phase with start, end and duration, and every resource the build recorded with
    whether teardown removed it, and the image manifest (the parts the configuring roles recorded
    with M(avd.golden.build_manifest) under C(<artifacts_dir>/manifest/), with their counts).
  - The report never carries secrets. Mapping keys that contain C(password), C(secret), C(token),
    C(credential) or similar are dropped, and C(key=value) fragments of that kind in text are
    redacted; the module warns naming the dropped fields (never their values).
  - Writes C(report.md) beside it, a short Markdown summary for CI job pages.
  - Writes C(report.html) beside it from the same data, a self-contained page (no JavaScript, no
    external assets, every value HTML-escaped) with the result, phases and their durations, the
    manifest, warnings, the failure and what was left behind.
  - Writing the same report again reports no change (the C(generated_at) time alone does not count).
  - Runs on the controller (C(localhost)).
author:
  - AVD golden image builders
options:
  ledger_path:
    description: Path of the build ledger written by M(avd.golden.build_ledger).
    type: path
    required: true
  artifacts_dir:
    description: Directory for C(report.json). Defaults to the ledger's directory.
    type: path
  result:
    description:
      - Outcome of the build. C(up_to_date) - the preflight found a version built from the same inputs
        (O(image_version_id)), so nothing was built.
    type: str
    required: true
    choices: [succeeded, failed, cancelled, up_to_date]
  failure:
    description:
      - The failure, with C(phase) and C(message). When O(result=failed) and this is omitted, the
        first phase the ledger shows as failed is used; when O(result=cancelled), the first phase
        it shows as cancelled (or failed).
    type: dict
  image_version_id:
    description: Resource id of the published gallery image version.
    type: str
  source_image:
    description:
      - Marketplace source image, for example C(publisher), C(offer), C(sku), C(version) and
        C(exact_version) (the version C(latest) resolved to).
    type: dict
  build_id:
    description: Build id; defaults to the id stored in the ledger.
    type: str
  definition_name:
    description: Name of the image spec the build used (its C(name); the report's C(definition) field).
    type: str
  tags:
    description: Tags the build put on its resources and the image version.
    type: dict
  details:
    description: Further facts to keep in the report (for example the gallery and target regions).
    type: dict
  resume:
    description:
      - The report's C(resume) field (docs/contracts.md section 18) C(mode), C(reason) of this run and,
        when teardown kept the resources of a failed or cancelled build, C(kept) true with
        C(command) (the resume command line) and C(delete_after).
    type: dict
attributes:
  check_mode:
    support: full
    description: Reports whether the file would change and writes nothing.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Write the build report
  avd.golden.build_report:
    ledger_path: "{{ avd_build['ledger_path'] }}"
    result: "{{ 'failed' if avd_build_failed | default(false) else 'succeeded' }}"
    failure: "{{ avd_build_failure | default(omit) }}"
    image_version_id: "{{ avd_build_image_version_id | default(omit) }}"
    source_image:
      publisher: MicrosoftWindowsDesktop
      offer: windows-11
      sku: win11-24h2-avd
      version: latest
      exact_version: 26100.4061.250510
    definition_name: "{{ avd_image['name'] }}"
    tags: "{{ avd_build['tags'] }}"
  register: report

- name: Show where the report is
  ansible.builtin.debug:
    msg: "Build report: {{ report['path'] }}"
"""

RETURN = r"""
path:
  description: Absolute path of the report file.
  returned: always
  type: str
report:
  description: The report as written (in check mode, as it would be written).
  returned: always
  type: dict
  contains:
    report_version:
      description:
        - Format version of the report, 1. Fields may be added within a version; a rename, removal
          or change of meaning raises it. Every field is documented in docs/contracts.md section 2.
      type: int
    result:
      description: C(succeeded), C(failed) or C(cancelled) (a SIGINT or SIGTERM stopped the build).
      type: str
    failure:
      description: C(phase) and C(message) of the failure, null on success.
      type: dict
    phases:
      description: name, start, end, duration_seconds, status and message of each phase.
      type: list
      elements: dict
    resources:
      description: id, type, phase, recorded_at, removed and removed_at of each recorded resource.
      type: list
      elements: dict
    summary:
      description: Counts of recorded and removed resources and the ids left behind.
      type: dict
html_path:
  description: Path of C(report.html), the same report as a self-contained page (no scripts).
  returned: always
  type: str
stripped:
  description: Dotted paths of fields dropped or redacted because they looked like secrets.
  returned: always
  type: list
  elements: str
"""

import json  # noqa: E402
import os  # noqa: E402
from typing import Any  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.avd.golden.plugins.module_utils import _ledger, _manifest, _report_html, _report_md  # noqa: E402

REPORT_VERSION = 1
REPORT_NAME = "report.json"


def _duration(start: str | None, end: str | None) -> float | None:
    begin, finish = _ledger.parse_time(start), _ledger.parse_time(end)
    if begin is None or finish is None:
        return None
    return round((finish - begin).total_seconds(), 3)


def _phase_rows(ledger: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's phases: the ledger's, with durations, the run that recorded each and what
    earlier runs of a resumed build did (docs/contracts.md section 18)."""
    return [
        {
            "name": p["name"],
            "start": p.get("start"),
            "end": p.get("end"),
            "duration_seconds": _duration(p.get("start"), p.get("end")),
            "status": p.get("status"),
            "message": p.get("message") or "",
            "run": int(p.get("run") or 1),
            "done_in_run": p.get("done_in_run"),
            "earlier": [
                {**e, "duration_seconds": _duration(e.get("start"), e.get("end"))}
                for e in p.get("earlier") or []
            ],
        }
        for p in ledger["phases"]
    ]


def _resume_field(resume: dict[str, Any], runs: list[dict[str, Any]]) -> dict[str, Any]:
    """This run's resume mode and reason, and the resume command when teardown kept the resources."""
    kept = bool(resume.get("kept"))
    return {
        "mode": str(resume.get("mode") or runs[-1].get("mode") or "new"),
        "reason": str(resume.get("reason") or runs[-1].get("reason") or ""),
        "kept": kept,
        "command": resume.get("command") if kept else None,
        "delete_after": resume.get("delete_after") if kept else None,
    }


def build(
    params: dict[str, Any], ledger: dict[str, Any], manifest: list[dict[str, Any]] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Return the report (without ``generated_at``) and the fields stripped as secrets."""
    stripped: list[str] = []
    phases = _phase_rows(ledger)
    runs = ledger.get("runs") or [
        {"run": 1, "started_at": ledger.get("created_at"), "mode": "new", "reason": ""}
    ]
    resume = _resume_field(params.get("resume") or {}, runs)
    resources = [
        {
            "id": r["id"],
            "type": r.get("type"),
            "phase": r.get("phase"),
            "recorded_at": r.get("recorded_at"),
            "removed": bool(r.get("removed")),
            "removed_at": r.get("removed_at"),
        }
        for r in ledger["resources"]
    ]
    failure = params["failure"]
    if params["result"] in ("failed", "cancelled") and not failure:
        wanted = ("cancelled", "failed") if params["result"] == "cancelled" else ("failed",)
        failed = next((p for p in phases if p["status"] in wanted), None)
        failure = (
            {"phase": failed["name"], "message": failed["message"]}
            if failed
            else {"phase": None, "message": ""}
        )
    if failure is not None:
        failure = {"phase": failure.get("phase"), "message": str(failure.get("message") or "")}
    starts = [p["start"] for p in phases if p["start"]]
    ends = [p["end"] for p in phases if p["end"]]
    started_at, finished_at = (min(starts) if starts else None), (max(ends) if ends else None)
    left = [r["id"] for r in resources if not r["removed"]]
    report = {
        "report_version": REPORT_VERSION,
        "build_id": params["build_id"] or ledger.get("build_id"),
        "definition": params["definition_name"],
        "result": params["result"],
        "failure": failure,
        "image_version_id": params["image_version_id"],
        "source_image": params["source_image"],
        "tags": params["tags"] or {},
        "started_at": started_at,
        "finished_at": finished_at,
        "duration_seconds": _duration(started_at, finished_at),
        "phases": phases,
        "runs": runs,
        "resume": resume,
        "resources": resources,
        "summary": {
            "resources_recorded": len(resources),
            "resources_removed": len(resources) - len(left),
            "left_behind": left,
        },
        "details": params["details"] or {},
        # What went into the image, part by part (docs/contracts.md section 7).
        "manifest": {"parts": manifest or [], "summary": _manifest.summary(manifest or [])},
    }
    return _ledger.strip_secrets(report, "", stripped), stripped


def run(module: AnsibleModule) -> dict[str, Any]:
    """Build the report, write it when it differs from the file on disk, and return the result."""
    params = module.params
    if params["result"] in ("succeeded", "up_to_date") and params["failure"]:
        module.fail_json(msg=f"failure: must not be set when result is {params['result']}")
    try:
        ledger = _ledger.load(params["ledger_path"])
    except _ledger.LedgerError as exc:
        module.fail_json(msg=str(exc))
    if ledger is None:
        module.fail_json(msg=f"ledger_path: no ledger at {params['ledger_path']}")
    artifacts_dir = params["artifacts_dir"] or os.path.dirname(os.path.abspath(params["ledger_path"]))
    path = os.path.abspath(os.path.join(artifacts_dir, REPORT_NAME))
    report, stripped = build(params, ledger, _manifest.load_parts(artifacts_dir))
    for field in stripped:
        module.warn(f"build_report: dropped or redacted {field} because it looks like a secret")

    previous: dict[str, Any] | None = None
    try:
        with open(path, encoding="utf-8") as handle:
            previous = json.load(handle)
    except FileNotFoundError:
        previous = None
    except (OSError, ValueError):
        previous = None  # unreadable or corrupt: rewrite it
    if isinstance(previous, dict):
        unchanged = {k: v for k, v in previous.items() if k != "generated_at"} == report
    else:
        unchanged = False
    if unchanged and isinstance(previous, dict):
        report = previous
    else:
        report = {**report, "generated_at": _ledger.utc_now()}
        if not module.check_mode:
            _ledger.write_atomic(path, report, mode=0o644)
    # The page is rendered from the same (secret-stripped) dict as report.json.
    html_path = os.path.join(artifacts_dir, _report_html.HTML_NAME)
    md_path = os.path.join(artifacts_dir, _report_md.MD_NAME)
    page_missing = not (os.path.exists(html_path) and os.path.exists(md_path))
    if (not unchanged or page_missing) and not module.check_mode:
        _report_html.write(html_path, _report_html.render(report, _artifact_links(artifacts_dir)))
        _report_html.write(md_path, _report_md.render(report))
    return {
        "changed": not unchanged or page_missing,
        "path": path,
        "html_path": os.path.abspath(html_path),
        "report": report,
        "stripped": stripped,
    }


def _artifact_links(artifacts_dir: str) -> list[str]:
    """Other files and folders of the build's artifacts, for the page to link to."""
    skip = {REPORT_NAME, _report_html.HTML_NAME, _report_md.MD_NAME}
    try:
        names = sorted(os.listdir(artifacts_dir))
    except OSError:
        return []
    return [n for n in names if n not in skip and not n.startswith(".")]


def main() -> None:
    """Module entry point."""
    module = AnsibleModule(
        argument_spec={
            "ledger_path": {"type": "path", "required": True},
            "artifacts_dir": {"type": "path"},
            "result": {
                "type": "str",
                "required": True,
                "choices": ["succeeded", "failed", "cancelled", "up_to_date"],
            },
            "failure": {"type": "dict"},
            "image_version_id": {"type": "str"},
            "source_image": {"type": "dict"},
            "build_id": {"type": "str"},
            "definition_name": {"type": "str"},
            "tags": {"type": "dict"},
            "details": {"type": "dict"},
            "resume": {"type": "dict"},
        },
        supports_check_mode=True,
    )
    module.exit_json(**run(module))


if __name__ == "__main__":
    main()
