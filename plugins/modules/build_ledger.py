#!/usr/bin/python
"""Record build phases and Azure resources in the build ledger."""

from __future__ import annotations

DOCUMENTATION = r"""
module: build_ledger
short_description: Record build phases and Azure resources in the build ledger
version_added: "0.1.0"
description:
  - Maintains the JSON ledger of one image build, C(<artifacts_dir>/ledger.json). It lists the
    phases with their start and end times and status, and every Azure resource the build creates.
  - A resource is recorded B(before) the request that creates it, so teardown and the janitor can
    find it even when the build crashes between the request and its answer.
  - Writes are atomic (temporary file in the same directory, then rename) and serialised with a
    file lock. Recording what is already recorded reports no change.
  - Runs on the controller (C(localhost)).
author:
  - AVD golden image builders
options:
  path:
    description:
      - Path of the ledger file. The file (and its directory) is created when missing.
    type: path
    required: true
  build_id:
    description:
      - Build id stored in a new ledger. Ignored when the ledger exists, except that a different
        id fails, so one build never writes into another build's ledger.
    type: str
  resource_id:
    description:
      - Full Azure resource id to record or mark removed. Compared case-insensitively, as ARM does.
    type: str
  resource_type:
    description:
      - Resource type, for example C(Microsoft.Compute/virtualMachines). Required to record a new
        resource.
    type: str
  state:
    description:
      - C(recorded) adds the resource (or marks a removed one present again); C(removed) marks it
        removed by teardown; C(released) drops a recorded resource from the list once it is the
        build's output (the published image version), which teardown must not delete. Until then
        teardown deletes it, so a version that failed half-way is never left behind.
    type: str
    choices: [recorded, removed, released]
    default: recorded
  phase:
    description:
      - Phase name. With O(event) records the phase start or end; with O(resource_id) names the
        phase that created the resource.
    type: str
  event:
    description:
      - Phase event. A second C(start) of the same phase keeps the first start time.
    type: str
    choices: [start, end]
  status:
    description:
      - Phase outcome, required with O(event=end).
    type: str
    choices: [ok, failed, skipped, cancelled]
  message:
    description:
      - Free text stored with a phase end, typically the failure message. Fragments that look like
        C(password=...) are redacted.
    type: str
  later_phases:
    description:
      - With O(event=end) and O(status=skipped), more phases recorded skipped with the same
        O(message), in order, in the same write (the phases a failed, cancelled or up-to-date build
        skips, at once).
    type: list
    elements: str
    default: []
  done_in_run:
    description:
      - With O(event=end) and O(status=skipped), the earlier run that did the phase's work (a
        resumed build, docs/contracts.md section 18).
    type: int
  run:
    description:
      - Records run number O(run) of the build in C(runs) (appended when new, its mode and reason
        updated when recorded already), with O(run_mode) and O(run_reason). Each
        ansible-playbook run of a build id is one run (docs/contracts.md section 18).
    type: int
  run_mode:
    description:
      - The run's mode, required with O(run) (C(new), C(rerun), C(pending), C(resume), C(rebuild), C(refuse)).
    type: str
  run_reason:
    description:
      - Why the run has its mode, stored with O(run).
    type: str
attributes:
  check_mode:
    support: full
    description: Reports what would change and writes nothing.
  diff_mode:
    support: full
    description: Returns the ledger before and after.
notes:
  - Only the ledger file, its lock file C(<path>.lock) and a temporary file in the same directory
    are written.
"""

EXAMPLES = r"""
- name: Initialise the ledger
  avd.golden.build_ledger:
    path: "{{ avd_build['ledger_path'] }}"
    build_id: "{{ avd_build['id'] }}"

- name: Record the build VM before creating it
  avd.golden.build_ledger:
    path: "{{ avd_build['ledger_path'] }}"
    resource_id: "{{ rg_id }}/providers/Microsoft.Compute/virtualMachines/{{ avd_build['names']['vm'] }}"
    resource_type: Microsoft.Compute/virtualMachines
    phase: provision

- name: Record the end of the provision phase
  avd.golden.build_ledger:
    path: "{{ avd_build['ledger_path'] }}"
    phase: provision
    event: end
    status: ok

- name: Mark the VM removed after teardown deleted it
  avd.golden.build_ledger:
    path: "{{ avd_build['ledger_path'] }}"
    resource_id: "{{ vm_id }}"
    state: removed
"""

RETURN = r"""
ledger:
  description: The ledger after the change (in check mode, as it would be).
  returned: always
  type: dict
  contains:
    version:
      description:
        - Format version of the ledger, 1. Fields may be added within a version; a rename, removal
          or change of meaning raises it. The format is documented in docs/contracts.md section 2.
      type: int
    build_id:
      description: The build id.
      type: str
    runs:
      description: The runs of the build (a resumed build has more than one), each with run,
        started_at, mode, reason. Absent from a ledger written before runs existed.
      type: list
      elements: dict
    phases:
      description: Phases in the order they started, each with name, start, end, status, message,
        run (the run that recorded them), and after a resume earlier (what earlier runs recorded)
        and done_in_run.
      type: list
      elements: dict
    resources:
      description: Resources in the order they were recorded, each with id, type, phase,
        recorded_at, removed, removed_at.
      type: list
      elements: dict
path:
  description: The ledger path.
  returned: always
  type: str
"""

import os  # noqa: E402
from typing import Any  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.avd.golden.plugins.module_utils import _ledger  # noqa: E402


def run(module: AnsibleModule) -> dict[str, Any]:
    """Apply the requested change and return the module result."""
    params = module.params
    path = params["path"]
    if params["run"] is not None and not params["run_mode"]:
        module.fail_json(msg="run_mode: is required with run")
    if params["event"] and not params["phase"]:
        module.fail_json(msg="phase: is required with event")
    if params["event"] == "end" and not params["status"]:
        module.fail_json(msg="status: is required with event=end")
    if params["status"] and params["event"] != "end":
        module.fail_json(msg="status: is only used with event=end")
    if params["later_phases"] and params["status"] != "skipped":
        module.fail_json(msg="later_phases: is only used with event=end and status=skipped")
    if params["resource_id"] and params["state"] == "recorded" and not params["resource_type"]:
        existing = None
        try:
            current = _ledger.load(path)
        except _ledger.LedgerError as exc:
            module.fail_json(msg=str(exc))
        if current is not None:
            existing = _ledger.find_resource(current, params["resource_id"])
        if existing is None:
            module.fail_json(msg="resource_type: is required to record a new resource")

    with _ledger.locked(path, write=not module.check_mode):
        try:
            current = _ledger.load(path)
        except _ledger.LedgerError as exc:
            module.fail_json(msg=str(exc))
        if (
            current is not None
            and params["build_id"]
            and current.get("build_id") not in (None, params["build_id"])
        ):
            module.fail_json(
                msg=f"build_id: the ledger at {path} belongs to build {current['build_id']}, "
                f"not {params['build_id']}"
            )
        before = _ledger.snapshot(current)
        ledger = _ledger.snapshot(current) or _ledger.empty_ledger(params["build_id"])
        changed = current is None
        now = _ledger.utc_now()
        if params["resource_id"]:
            changed |= _ledger.apply_resource(
                ledger, params["resource_id"], params["resource_type"], params["state"], params["phase"], now
            )
        if params["run"] is not None:
            try:
                changed |= _ledger.apply_run(
                    ledger, params["run"], params["run_mode"], params["run_reason"], now
                )
            except _ledger.LedgerError as exc:
                module.fail_json(msg=str(exc))
        for phase in [params["phase"], *params["later_phases"]] if params["event"] else []:
            changed |= _ledger.apply_phase(
                ledger,
                phase,
                params["event"],
                params["status"],
                params["message"],
                now,
                params["done_in_run"] if params["status"] == "skipped" else None,
            )
        if changed:
            ledger["updated_at"] = now
            if not module.check_mode:
                _ledger.write_atomic(path, ledger)

    result: dict[str, Any] = {"changed": changed, "ledger": ledger, "path": os.path.abspath(path)}
    if module._diff:
        result["diff"] = {"before": before or {}, "after": ledger}
    return result


def main() -> None:
    """Module entry point."""
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "build_id": {"type": "str"},
            "resource_id": {"type": "str"},
            "resource_type": {"type": "str"},
            "state": {"type": "str", "choices": ["recorded", "removed", "released"], "default": "recorded"},
            "phase": {"type": "str"},
            "event": {"type": "str", "choices": ["start", "end"]},
            "status": {"type": "str", "choices": list(_ledger.PHASE_STATUSES)},
            "message": {"type": "str"},
            "done_in_run": {"type": "int"},
            "later_phases": {"type": "list", "elements": "str", "default": []},
            "run": {"type": "int"},
            "run_mode": {"type": "str"},
            "run_reason": {"type": "str"},
        },
        supports_check_mode=True,
    )
    module.exit_json(**run(module))


if __name__ == "__main__":
    main()
