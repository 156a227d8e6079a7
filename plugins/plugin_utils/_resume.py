"""Resume a failed or cancelled build by its build id: what an earlier run left that is safe to
reuse, and what must run again (docs/contracts.md section 18).

Pure functions over plain data: the earlier run's ledger (``artifacts/<id>/ledger.json``), the
image spec it saved (``build.json``), and what Azure says of the build VM now. Two steps, because
the first needs no Azure call and runs in the validate phase (before build.json is written again),
the second in preflight, once the VM has been looked up (read-only, before anything is created):

- :func:`first_look` ``(registry, ledger, earlier_definition, definition)``: ``new`` (no earlier
  run did more than validate), ``rerun`` (the earlier run finished without a failure: every phase
  runs, as before resume existed) or ``pending`` (a failed or
  cancelled run: the VM decides; ``changed`` lists the image spec fields changed since);
- :func:`decide` ``(first, registry, ledger, vm, version_captured)``: the final plan.

What is reused: the build VM (it exists, is running and is not generalized) and the guest phases
(``hosts: build_vm``) that ended ``ok`` in an earlier run, from the first guest phase up to the
first that did not. Controller phases always run again: they are idempotent, cheap, and hand on
facts a later phase needs (provision the VM's outputs and a fresh build credential, connect the
pinned WinRM connection, sources fresh download URLs, capture the published version). After
sysprep the VM cannot be configured or started again: resume goes on from capture only when the
version was captured (provision and connect are then skipped too), else it is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

DONE = "ok"
UNFINISHED = ("failed", "cancelled", "running")
SYSPREP = "sysprep"


class ResumeError(Exception):
    """Input that is not a ledger, a registry or a VM look-up."""


def _phases(ledger: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if ledger is None:
        return []
    phases = ledger.get("phases")
    if not isinstance(phases, list):
        raise ResumeError("the earlier ledger has no 'phases' list")
    return phases


def run_number(ledger: Mapping[str, Any] | None) -> int:
    """The number of the latest run the ledger records (a ledger without ``runs`` is run 1)."""
    if not ledger:
        return 0
    runs = ledger.get("runs") or []
    return len(runs) or (1 if ledger.get("phases") else 0)


def done_in_run(entry: Mapping[str, Any]) -> int | None:
    """The run in which a phase's work was done: its ``ok`` run, or the run a skip points to."""
    if entry.get("status") == DONE:
        return int(entry.get("run") or 1)
    if entry.get("status") == "skipped" and entry.get("done_in_run"):
        return int(entry["done_in_run"])
    return None


def changed_fields(earlier: Any, now: Any, path: str = "") -> list[str]:
    """Dotted paths where two image specs differ (mappings recursively, anything else whole)."""
    if isinstance(earlier, Mapping) and isinstance(now, Mapping):
        out: list[str] = []
        for key in sorted(set(earlier) | set(now), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in earlier or key not in now:
                out.append(where)
            else:
                out.extend(changed_fields(earlier[key], now[key], where))
        return out
    return [] if earlier == now else [path or "(the whole spec)"]


def _plan(mode: str, run: int, reason: str, skip: Mapping[str, int] | None = None) -> dict[str, Any]:
    return {"mode": mode, "run": run, "reason": reason, "skip": dict(skip or {})}


def first_look(
    registry: Sequence[Mapping[str, Any]],
    ledger: Mapping[str, Any] | None,
    earlier_definition: Any,
    definition: Any,
) -> dict[str, Any]:
    """The plan before Azure is asked: ``new``, ``rerun`` or ``pending``.

    ``run`` is the number this run gets (1 for a new ledger).
    """
    names = [p["name"] for p in registry]
    phases = [p for p in _phases(ledger) if p.get("name") in names]
    run = run_number(ledger) + 1
    if not any(p["name"] != "validate" for p in phases):
        return _plan("new", run, "")
    unfinished = [p["name"] for p in phases if p.get("status") in UNFINISHED]
    if not unfinished:
        return _plan(
            "rerun", run, f"run {run - 1} of this build id finished without a failure: every phase runs again"
        )
    plan = _plan(
        "pending", run, f"run {run - 1} ended with phase {unfinished[0]} {_status(phases, unfinished[0])}"
    )
    plan["changed"] = changed_fields(earlier_definition, definition) if earlier_definition is not None else []
    return plan


def _status(phases: Sequence[Mapping[str, Any]], name: str) -> str:
    return next((str(p.get("status")) for p in phases if p["name"] == name), "?")


def decide(
    first: Mapping[str, Any],
    registry: Sequence[Mapping[str, Any]],
    ledger: Mapping[str, Any] | None,
    vm: Mapping[str, Any] | None,
    version_captured: bool,
) -> dict[str, Any]:
    """The final plan once the build VM was looked up.

    ``vm``: None when it does not exist, else ``{"name", "power", "generalized"}`` (``power`` as
    the instance view's ``PowerState/<power>``). ``version_captured``: the image version this
    build publishes exists (tag ``avd-build-id``) and succeeded.

    Modes: ``resume`` (``skip`` maps each phase to reuse to the run that did it), ``rebuild`` (no
    VM any more: every phase runs, from provision; a changed image spec is then harmless),
    ``refuse`` (the VM exists but is not safe to reuse, or the image spec changed; ``reason`` says why).
    Plans other than ``pending`` are returned as they are.
    """
    if first.get("mode") != "pending":
        return dict(first)
    run = int(first["run"])
    if vm is None:
        return _plan(
            "rebuild",
            run,
            f"{first['reason']}, and its build VM no longer exists (torn down, or removed by the janitor): "
            "every phase runs again, from provision",
        )
    if not isinstance(vm, Mapping) or "power" not in vm:
        raise ResumeError("vm must be None or a mapping with 'power'")
    changed = list(first.get("changed") or [])
    if changed:
        return _plan(
            "refuse",
            run,
            f"{first['reason']}; the image spec changed since then ({', '.join(changed[:8])}"
            f"{', ...' if len(changed) > 8 else ''}) and its build VM still exists: resuming would mix two "
            "specs in one image",
        )
    by_name = {p["name"]: p for p in _phases(ledger)}
    guest = [p["name"] for p in registry if p.get("hosts") == "build_vm"]
    skip: dict[str, int] = {}
    for name in guest:
        entry = by_name.get(name)
        done = done_in_run(entry) if entry else None
        if done is None:
            break
        skip[name] = done
    sysprepped = SYSPREP in skip or bool(vm.get("generalized"))
    vm_name = vm.get("name") or "the build VM"
    if sysprepped:
        return _after_sysprep(first, skip, by_name, guest, vm, version_captured)
    if vm.get("power") != "running":
        return _plan(
            "refuse",
            run,
            f"{first['reason']}; {vm_name} is {vm.get('power') or 'in an unknown power state'}, not running: "
            "what its guest holds is not known to be intact",
        )
    nxt = next((n for n in guest if n not in skip), None)
    where = f"from phase {nxt}" if nxt else "after the guest phases"
    return _plan(
        "resume",
        run,
        f"{first['reason']}; {vm_name} is running: reusing it and {len(skip)} guest phase(s) done before, "
        f"resuming {where}",
        skip,
    )


def _after_sysprep(
    first: Mapping[str, Any],
    skip: dict[str, int],
    by_name: Mapping[str, Mapping[str, Any]],
    guest: Sequence[str],
    vm: Mapping[str, Any],
    version_captured: bool,
) -> dict[str, Any]:
    """A VM after sysprep: resume from capture when the version was captured, else refuse."""
    run = int(first["run"])
    earlier = run - 1
    vm_name = vm.get("name") or "the build VM"
    if not version_captured:
        what = "was generalized" if vm.get("generalized") else f"went through sysprep in run {skip[SYSPREP]}"
        return _plan(
            "refuse",
            run,
            f"{first['reason']}; {vm_name} {what} and no image version was captured from it: a VM "
            "after sysprep cannot be configured or captured again, so the build must start over",
        )
    # The VM cannot start again: provision (which would start it) and connect are skipped too;
    # the wrapper restores provision's outputs from build_vm.json.
    done = {
        name: done_in_run(by_name[name]) or earlier if name in by_name else earlier
        for name in ("provision", "connect")
    }
    return _plan(
        "resume",
        run,
        f"{first['reason']}; the image version was captured: resuming from capture",
        done | {name: skip.get(name, earlier) for name in guest},
    )


def vm_state(instance_view: Mapping[str, Any] | None, name: str | None = None) -> dict[str, Any] | None:
    """``{"name", "power", "generalized"}`` from a VM's instance view; None for no view (404)."""
    if not instance_view:
        return None
    statuses = instance_view.get("statuses") or []
    if not isinstance(statuses, list) or not all(isinstance(s, Mapping) for s in statuses):
        raise ResumeError("the instance view's 'statuses' must be a list of mappings")
    codes = [str(s.get("code") or "") for s in statuses]
    power = next((c.split("/", 1)[1] for c in codes if c.startswith("PowerState/")), "")
    return {"name": name, "power": power, "generalized": "OSState/generalized" in codes}
