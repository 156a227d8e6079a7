"""Fault injection by phase, for tests/integration/test_faults.py and bench/fault_matrix.py.

A build runs unchanged against a sandbox while a watcher thread reads the build's ledger: when a
target phase starts it arms that phase's faults through the control endpoint, and when the phase
ends it disarms whatever is left (so a sustained fault stays inside its phase). The outcome is read
from Azure's side afterwards: the report, the resources the build left (orphans), the image
versions that are not Succeeded (failed versions) and how often each fault fired.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.azure_side import temporary_resources
from tests.support.runs import image_versions
from tests.support.sandbox_process import Sandbox

ANY_ARM = r"^/subscriptions/"  # ARM calls, not the token endpoint
ARM_PHASES = ("preflight", "provision", "connect", "sources", "capture", "teardown")
LRO_PHASES = ("provision", "connect", "capture", "teardown")
WINRM_PHASES = ("connect", "configure", "avd_settings", "default_user", "optimize", "appx", "sysprep")
PHASES = (
    "validate",
    "preflight",
    "provision",
    "connect",
    "configure",
    "sources",
    "avd_settings",
    "default_user",
    "optimize",
    "appx",
    "sysprep",
    "capture",
    "teardown",
)

Arm = Callable[[Sandbox, str | None], None]


@dataclass(frozen=True)
class Fault:
    """One column of the matrix: where it can happen, how to arm it, what a good build does."""

    name: str
    phases: tuple[str, ...]
    arm: Arm
    expect: str  # survived | failed
    needs_vm: bool = False


def _arm_spec(**spec: Any) -> Arm:
    return lambda sb, _vm: sb.fault(target="arm", **spec) and None


def _winrm_spec(**spec: Any) -> Arm:
    def arm(sb: Sandbox, vm: str | None) -> None:
        assert vm, "a WinRM fault needs the build VM"
        sb.fault(target="winrm", vm=vm, **spec)

    return arm


FAULTS: dict[str, Fault] = {
    f.name: f
    for f in (
        Fault(
            "429", ARM_PHASES, _arm_spec(kind="throttle", path=ANY_ARM, retry_after=2, count=2), "survived"
        ),
        Fault(
            "5xx burst",
            ARM_PHASES,
            _arm_spec(kind="server_error", path=ANY_ARM, status=503, count=3),
            "survived",
        ),
        Fault(
            "sustained 5xx",
            ARM_PHASES,
            _arm_spec(kind="server_error", path=ANY_ARM, status=500, count=10000),
            "failed",
        ),
        Fault(
            "failed LRO",
            LRO_PHASES,
            _arm_spec(kind="lro_failed", path=ANY_ARM, code="InternalExecutionError"),
            "survived",
        ),
        Fault("AllocationFailed", ("provision",), _arm_spec(kind="allocation_failed"), "failed"),
        Fault("WinRM drop", WINRM_PHASES, _winrm_spec(kind="drop_connection"), "survived", needs_vm=True),
        Fault(
            "guest reboot",
            WINRM_PHASES[1:-1],
            _winrm_spec(kind="guest_reboot", seconds=3),
            "survived",
            needs_vm=True,
        ),
        Fault("sysprep failure", ("sysprep",), _winrm_spec(kind="sysprep_fail"), "failed", needs_vm=True),
        Fault(
            "replication failure",
            ("capture",),
            _arm_spec(kind="replication_failed", region="northeurope"),
            "survived",
        ),
    )
}


FAULT_KINDS = {
    "429": "throttle",
    "5xx burst": "server_error",
    "sustained 5xx": "server_error",
    "failed LRO": "lro_failed",
    "AllocationFailed": "allocation_failed",
    "WinRM drop": "drop_connection",
    "guest reboot": "guest_reboot",
    "sysprep failure": "sysprep_fail",
    "replication failure": "replication_failed",
}


# Storms longer than azure-core's own 3 retries, on requests its RetryPolicy covers (the SDK
# modules' PUTs): the SDK gives up and the phase re-runs.
THROTTLE_STORM = Fault(
    "429 storm",
    ("provision",),
    _arm_spec(kind="throttle", method="PUT", path=ANY_ARM, retry_after=1, count=4),
    "survived",
)
VERSION_5XX_BURST = Fault(
    "5xx burst on the version PUT",
    ("capture",),
    _arm_spec(kind="server_error", method="PUT", path=r"/images/[^/]+/versions/[^/]+$", status=500, count=5),
    "survived",
)
FAULTS.update({THROTTLE_STORM.name: THROTTLE_STORM, VERSION_5XX_BURST.name: VERSION_5XX_BURST})
FAULT_KINDS_EXTRA = {THROTTLE_STORM.name: "throttle", VERSION_5XX_BURST.name: "server_error"}


def _ledger(artifacts_root: Path) -> dict[str, Any] | None:
    found = sorted(artifacts_root.glob("*/ledger.json"))
    if not found:
        return None
    try:
        return json.loads(found[-1].read_text())
    except (OSError, ValueError):
        return None  # caught mid-rename; the next look sees it whole


def _build_vm(sandbox: Sandbox) -> str | None:
    vms = sorted((sandbox.state().get("vms") or {}).keys())
    return vms[0] if vms else None


@dataclass
class PhaseFaults:
    """Arms ``injections`` ({phase: [fault names]}) when each phase starts; disarms at its end."""

    sandbox: Sandbox
    artifacts_root: Path
    injections: dict[str, list[str]]
    interval: float = 0.2
    armed: list[tuple[str, str]] = field(default_factory=list)
    fired: dict[tuple[str, str], int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="phase-faults", daemon=True)
        self._done: set[str] = set()

    def __enter__(self) -> PhaseFaults:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # keep watching; the test reports these
                self.errors.append(repr(exc))
            self._stop.wait(self.interval)

    def poll_once(self) -> None:
        ledger = _ledger(self.artifacts_root)
        if ledger is None:
            return
        for phase in ledger.get("phases") or []:
            name = phase["name"]
            if name not in self.injections or name in self._done:
                continue
            armed_here = [a for a in self.armed if a[0] == name]
            if phase["status"] == "running" and not armed_here:
                vm = _build_vm(self.sandbox)
                for fault_name in self.injections[name]:
                    fault = FAULTS[fault_name]
                    if fault.needs_vm and vm is None:
                        return  # the VM appears later in the phase: try again next poll
                for fault_name in self.injections[name]:
                    FAULTS[fault_name].arm(self.sandbox, vm)
                    self.armed.append((name, fault_name))
            elif phase["status"] != "running":
                if armed_here:
                    self._count_fired(name, [f for _, f in armed_here])
                    self.sandbox.clear_faults()
                self._done.add(name)

    def _count_fired(self, phase: str, names: list[str]) -> None:
        """How often each fault of the phase fired: ARM faults count hits, WinRM and guest faults
        are armed with a count and fired when nothing of it is left."""
        hits = {f["kind"]: f["hits"] for f in self.sandbox.faults()}
        guests = self.sandbox.state().get("guests") or {}
        left: dict[str, int] = {}
        for dump in guests.values():
            for kind, n in ((dump.get("winrm") or {}).get("faults") or {}).items():
                left[kind] = left.get(kind, 0) + n
            if (dump.get("faults") or {}).get("sysprep_fail"):
                left["sysprep_fail"] = dump["faults"]["sysprep_fail"]
        for name in names:
            kind = {**FAULT_KINDS, **FAULT_KINDS_EXTRA}[name]
            self.fired[(phase, name)] = hits.get(kind, 0) if kind in hits else int(not left.get(kind))


@dataclass
class Outcome:
    """What one build left: result, failure, orphans, failed versions, fault hits, re-runs."""

    returncode: int
    report: dict[str, Any]
    orphans: list[str]
    failed_versions: list[str]
    published: list[str]
    reruns: int
    armed: list[tuple[str, str]]
    fired: dict[tuple[str, str], int]
    seconds: float
    stdout: str

    @property
    def verdict(self) -> str:
        if self.report.get("result") == "succeeded" and not self.orphans and not self.failed_versions:
            return "survived"
        if self.report.get("result") == "failed" and not self.orphans and not self.failed_versions:
            return "failed cleanly"
        return f"LEFT {len(self.orphans)} orphans, {len(self.failed_versions)} failed versions"


def outcome(sandbox: Sandbox, run: Any, report: dict[str, Any], watcher: PhaseFaults) -> Outcome:
    """Read the build's outcome from the sandbox after the run."""
    state = sandbox.state()
    versions = image_versions(state)
    return Outcome(
        returncode=run.returncode,
        report=report,
        orphans=temporary_resources(state),
        failed_versions=sorted(
            rid for rid, v in versions.items() if v["properties"].get("provisioningState") != "Succeeded"
        ),
        published=sorted(
            rid for rid, v in versions.items() if v["properties"].get("provisioningState") == "Succeeded"
        ),
        reruns=run.stdout.count("transient fault on attempt"),
        armed=list(watcher.armed),
        fired=dict(watcher.fired),
        seconds=run.seconds,
        stdout=run.stdout,
    )
