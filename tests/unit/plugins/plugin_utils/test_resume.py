"""The resume decision (plugins/plugin_utils/_resume.py): what an earlier run of a build id left
that is safe to reuse, against the real phase registry."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.filter.resume import resume_decide, resume_first_look  # noqa: E402
from ansible_collections.avd.golden.plugins.plugin_utils._resume import changed_fields, vm_state  # noqa: E402

REGISTRY = yaml.safe_load((REPO_ROOT / "playbooks" / "vars" / "phases.yml").read_text())["avd_phases"]
NAMES = [p["name"] for p in REGISTRY]
GUEST = [p["name"] for p in REGISTRY if p.get("hosts") == "build_vm"]
SPEC = {"name": "x", "build_vm": {"size": "Standard_D4s_v5"}, "appx": {"remove": ["a"]}}


def ledger(failed: str | None, *, status: str = "failed", runs: int | None = None) -> dict:
    """A ledger whose phases before ``failed`` ended ok, ``failed`` with ``status``, the rest skipped."""
    phases, seen = [], False
    for name in NAMES[:-1]:  # the report is not a ledger phase
        if name == failed:
            phases.append({"name": name, "status": status, "run": 1})
            seen = True
        elif name == "teardown":
            phases.append({"name": name, "status": "skipped" if failed else "ok", "run": 1})
        else:
            phases.append({"name": name, "status": "skipped" if seen else "ok", "run": 1})
    out = {"version": 1, "phases": phases, "resources": []}
    if runs:
        out["runs"] = [{"run": n + 1} for n in range(runs)]
    return out


def view(power: str = "running", generalized: bool = False) -> dict:
    statuses = [{"code": "ProvisioningState/succeeded"}]
    if generalized:
        statuses.append({"code": "OSState/generalized"})
    return {"statuses": [*statuses, {"code": f"PowerState/{power}"}]}


def plan(
    led: dict | None, instance_view: dict | None = None, captured: bool = False, spec: dict = SPEC
) -> dict:
    first = resume_first_look(led, REGISTRY, SPEC, spec)
    return resume_decide(first, REGISTRY, led, instance_view, "vm-b1", captured)


def test_no_earlier_run_is_a_new_build() -> None:
    assert plan(None)["mode"] == "new"
    assert plan({"version": 1, "phases": [{"name": "validate", "status": "ok"}], "resources": []})["run"] == 2


def test_a_finished_run_runs_again_whole() -> None:
    out = plan(ledger(None), view())
    assert (out["mode"], out["skip"]) == ("rerun", {})


@pytest.mark.parametrize("status", ["failed", "cancelled", "running"])
def test_a_running_vm_resumes_at_the_failed_guest_phase(status: str) -> None:
    out = plan(ledger("appx", status=status), view())
    assert out["mode"] == "resume"
    assert out["run"] == 2
    # Every guest phase before appx is reused, no controller phase ever is.
    assert out["skip"] == dict.fromkeys(GUEST[: GUEST.index("appx")], 1)
    assert not set(out["skip"]) & {"provision", "connect", "sources", "capture", "teardown"}
    assert "from phase appx" in out["reason"]


def test_a_failure_before_any_guest_phase_resumes_with_nothing_skipped() -> None:
    out = plan(ledger("connect"), view())
    assert (out["mode"], out["skip"]) == ("resume", {})


def test_a_skip_of_an_earlier_resume_counts_as_done_in_its_run() -> None:
    led = ledger("appx", runs=2)
    for p in led["phases"]:
        if p["name"] == "configure":
            p.update(status="skipped", done_in_run=1, run=2)
        elif p["name"] == "optimize":
            p.update(run=2)
    out = plan(led, view())
    assert out["run"] == 3
    assert out["skip"]["configure"] == 1
    assert out["skip"]["optimize"] == 2


@pytest.mark.parametrize("failed", ["provision", "configure", "appx", "sysprep", "capture"])
def test_a_vm_that_is_gone_rebuilds_from_provision(failed: str) -> None:
    out = plan(ledger(failed), None)
    assert (out["mode"], out["skip"]) == ("rebuild", {})
    assert "no longer exists" in out["reason"]


def test_a_changed_spec_is_harmless_without_a_vm_and_refused_with_one() -> None:
    changed = {**SPEC, "appx": {"remove": ["a", "b"]}}
    assert plan(ledger("appx"), None, spec=changed)["mode"] == "rebuild"
    out = plan(ledger("appx"), view(), spec=changed)
    assert out["mode"] == "refuse"
    assert "appx.remove" in out["reason"]


@pytest.mark.parametrize("power", ["deallocated", "stopped", ""])
def test_a_vm_that_is_not_running_before_sysprep_is_refused(power: str) -> None:
    out = plan(ledger("appx"), view(power))
    assert out["mode"] == "refuse"
    assert "not running" in out["reason"]


@pytest.mark.parametrize(
    ("failed", "generalized"),
    [("capture", True), ("capture", False), ("verify", True), ("sysprep", True)],
)
def test_after_sysprep_only_a_captured_version_resumes(failed: str, generalized: bool) -> None:
    vm = view("stopped", generalized)
    out = plan(ledger(failed), vm, captured=False)
    assert out["mode"] == "refuse"
    assert "no image version was captured" in out["reason"]
    out = plan(ledger(failed), vm, captured=True)
    assert out["mode"] == "resume"
    # A VM after sysprep cannot start again: provision and connect are not re-run either.
    assert set(out["skip"]) == set(GUEST) | {"provision", "connect"}
    assert "resuming from capture" in out["reason"]


@pytest.mark.parametrize(
    ("earlier", "now", "changed"),
    [
        ({"a": 1}, {"a": 1}, []),
        ({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3}}, ["a.c"]),
        ({"a": 1}, {"a": 1, "d": 2}, ["d"]),
        ({"a": [1, 2]}, {"a": [2, 1]}, ["a"]),
    ],
)
def test_changed_fields(earlier: dict, now: dict, changed: list[str]) -> None:
    assert changed_fields(earlier, now) == changed


def test_vm_state_reads_the_instance_view() -> None:
    assert vm_state(None) is None
    assert vm_state(view("running"), "v") == {"name": "v", "power": "running", "generalized": False}
    assert vm_state(view("stopped", True))["generalized"] is True


def test_bad_input_is_a_filter_error() -> None:
    with pytest.raises(AnsibleFilterError):
        resume_first_look({"phases": "no"}, REGISTRY)
    with pytest.raises(AnsibleFilterError):
        resume_decide(
            {"mode": "pending", "run": 2, "reason": "r"}, REGISTRY, ledger("appx"), {"statuses": "x"}
        )
