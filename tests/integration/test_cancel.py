"""Cancelling `ansible-playbook build-golden.yml` against the sandbox (docs/contracts.md section 15).

Each test starts a real build and signals it at a chosen moment, found by watching the ledger or
the ARM emulator's state (never a sleep): SIGTERM while configure runs, SIGINT while the VM
create's long-running operation is polled (the sandbox's realistic latency, scaled down, makes
it last seconds, so the signal lands inside it). Both end with nothing of the build left in
ARM, the report's result `cancelled`, and no admin password in the payload directories
(remote_tmp and local_tmp, redirected per test; ~/.ansible/tmp by default). A forced stop (a
second SIGTERM) and an ansible-runner cancel (SIGKILL of the process group) leave the build
behind; the janitor then finds it by its heartbeat tag alone: the dry run lists it, apply
deletes it, and neither touches a group without build tags or a build whose heartbeat is fresh.
The per-phase matrix: bench/cancel_matrix.py.
"""

from __future__ import annotations

import calendar
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import ansible_runner
import pytest

from tests.support.cancel_run import (
    LATENCY_SCALE,
    Build,
    build_groups,
    password_files,
    put_group,
    utc,
    vm_create_polled,
    wait_for,
)
from tests.support.paths import INVENTORY, REPO
from tests.support.runs import build_resources, playbook_env
from tests.support.sandbox_process import Sandbox

pytestmark = pytest.mark.integration

# What ansible-runner passes on of the test's environment (AWX injects credentials the same way).
# The phases after connect and before capture: the build's resources all exist, none is published.
GUEST_PHASES = ("configure", "avd_settings", "default_user", "optimize", "appx", "sysprep")
RUNNER_ENV = ("ANSIBLE_COLLECTIONS_PATH", "PATH", "ANSIBLE_REMOTE_TMP", "ANSIBLE_LOCAL_TEMP")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


@pytest.fixture
def slow_sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    monkeypatch.setenv("AVD_SANDBOX_LATENCY_SCALE", LATENCY_SCALE)
    with Sandbox(latency="realistic") as sb:
        yield sb


def assert_cancelled_cleanly(build: Build, rc: int, out: str, phase: str, signame: str) -> None:
    assert rc != 0, out[-6000:]
    assert list(build.artifacts.glob("*/report.json")), out[-6000:]
    report = build.report()
    assert report["result"] == "cancelled", out[-6000:]
    assert report["failure"]["phase"] == phase
    assert f"cancelled by {signame}" in report["failure"]["message"]
    phases = {p["name"]: p for p in report["phases"]}
    assert phases[phase]["status"] == "cancelled"
    assert phases["capture"]["status"] == "skipped"
    assert phases["teardown"]["status"] == "ok", phases["teardown"]
    assert build_resources(build.sandbox.state(), report["build_id"]) == []
    assert report["summary"]["left_behind"] == []
    assert password_files(build.payloads) == []
    assert build.sandbox.unmodelled() == []


def test_sigterm_during_configure_tears_down_and_reports_cancelled(sandbox: Sandbox, tmp_path: Path) -> None:
    build = Build(sandbox, tmp_path).start()
    wait_for(
        "the configure phase to start",
        lambda: build.phase("configure").get("status") == "running",
        build.proc,
    )
    build.proc.send_signal(signal.SIGTERM)
    rc, out = build.finish()
    assert_cancelled_cleanly(build, rc, out, "configure", "SIGTERM")
    # The rest of configure and every later phase did nothing on the guest.
    assert "was cancelled in phase configure" in out


def build_in_vm_create(sandbox: Sandbox, tmp_path: Path) -> Build:
    """A build started and polling its VM create's operation."""
    build = Build(sandbox, tmp_path).start()
    wait_for("the VM create's operation", lambda: vm_create_polled(sandbox), build.proc)
    return build


def test_sigint_during_the_vm_create_tears_down_and_reports_cancelled(
    slow_sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox = slow_sandbox
    build = build_in_vm_create(sandbox, tmp_path)
    build.proc.send_signal(signal.SIGINT)
    rc, out = build.finish()
    assert_cancelled_cleanly(build, rc, out, "provision", "SIGINT")
    assert build.phase("connect")["status"] == "skipped"


# --- forced stops and the janitor ----------------------------------------------------------------


def run_janitor(sandbox: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "ansible-playbook",
            "-i",
            str(INVENTORY),
            "playbooks/janitor.yml",
            "-e",
            "janitor_heartbeat_max_age_minutes=0.5",
            *args,
        ],
        cwd=REPO,
        env=playbook_env(sandbox),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


class LiveBuild:
    """A resource group whose build is alive: its heartbeat is refreshed every second."""

    def __init__(self, sandbox: Sandbox, name: str) -> None:
        self.sandbox, self.name, self.stop = sandbox, name, threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self) -> None:
        while not self.stop.is_set():
            put_group(self.sandbox, self.name, {"avd-build-id": "alive-1", "avd-build-heartbeat": utc()})
            self.stop.wait(1)

    def __enter__(self) -> LiveBuild:
        put_group(self.sandbox, self.name, {"avd-build-id": "alive-1", "avd-build-heartbeat": utc()})
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def janitor_cleans_up(sandbox: Sandbox, dead_group: str) -> None:
    """The janitor, from Azure alone: dry run lists the dead build, apply deletes only it."""
    beat = build_groups(sandbox)[dead_group]["avd-build-heartbeat"]
    # The threshold is 30 s: wait until the dead build's heartbeat is older than that.
    beat_epoch = calendar.timegm(time.strptime(beat, "%Y-%m-%dT%H:%M:%SZ"))
    time.sleep(max(0.0, beat_epoch + 35 - time.time()))
    put_group(sandbox, "rg-expired-not-a-build", {"avd-build-delete-after": "2020-01-01T00:00:00Z"})
    with LiveBuild(sandbox, "rg-avdbuild-alive"):
        dry = run_janitor(sandbox)
        assert dry.returncode == 0, dry.stdout[-4000:]
        assert f"1 dead build resource group(s): {dead_group}." in dry.stdout, dry.stdout[-4000:]
        assert dead_group in build_groups(sandbox)
        applied = run_janitor(sandbox, "-e", "janitor_apply=true")
        assert applied.returncode == 0, applied.stdout[-4000:]
    assert set(build_groups(sandbox)) == {"rg-expired-not-a-build", "rg-avdbuild-alive"}
    assert [rid for rid in sandbox.state()["resources"] if dead_group.lower() in rid.lower()] == []
    assert sandbox.unmodelled() == []


def test_forced_stop_during_the_vm_create_leaves_no_password_and_the_janitor_cleans_up(
    slow_sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox = slow_sandbox
    build = build_in_vm_create(sandbox, tmp_path)
    build.proc.send_signal(signal.SIGTERM)
    # Two signals before the handler ran would count as one: send the second once it answered.
    wait_for("the cancel to be noted", lambda: "SIGTERM received" in build.output, build.proc)
    build.proc.send_signal(signal.SIGTERM)
    rc, out = build.finish()
    assert rc == -signal.SIGTERM, out[-4000:]
    # The VM create's worker was killed with its module: its arguments were never in a file.
    assert password_files(build.payloads) == []
    group = build.ledger()["resources"][0]["id"].rsplit("/", 1)[-1]
    assert group in build_groups(sandbox)
    janitor_cleans_up(sandbox, group)


def test_ansible_runner_cancel_then_the_janitor_cleans_up(sandbox: Sandbox, tmp_path: Path) -> None:
    # ansible-runner cancels (AWX's cancel, its job timeout) with SIGKILL to the whole process group
    # (Runner.handle_termination), so nothing in the playbook can react: the janitor must.
    build = Build(sandbox, tmp_path)

    def guest_phase_beat() -> bool:
        """A guest phase runs and its heartbeat reached the build's resource group.

        ansible-runner polls this only every few seconds (pexpect_timeout), so any phase from
        configure to sysprep will do: a short configure alone can run between two polls.
        """
        running = [p for p in build.ledger().get("phases", []) if p.get("status") == "running"]
        if not running or running[-1]["name"] not in GUEST_PHASES:
            return False
        group = build.ledger()["resources"][0]["id"].rsplit("/", 1)[-1]
        beat = build_groups(sandbox).get(group, {}).get("avd-build-heartbeat", "")
        return beat >= (running[-1].get("start") or "~")

    (tmp_path / "runner").mkdir()
    result = ansible_runner.run(
        private_data_dir=str(tmp_path / "runner"),
        project_dir=str(REPO),
        playbook="build-golden.yml",
        inventory=str(INVENTORY),
        envvars={
            **sandbox.env,
            **{k: build.env[k] for k in RUNNER_ENV},
            "ANSIBLE_NOCOLOR": "1",
        },
        extravars=build.extra_vars(),
        cancel_callback=guest_phase_beat,
        quiet=True,
        timeout=900,
    )
    assert result.status == "canceled", result.stdout.read()[-4000:]
    assert not list(build.artifacts.glob("*/report.json"))  # killed: no report, the janitor's turn
    assert password_files(build.payloads) == []
    janitor_cleans_up(sandbox, build.ledger()["resources"][0]["id"].rsplit("/", 1)[-1])


def test_a_bound_that_runs_out_names_what_it_waited_for(sandbox: Sandbox, tmp_path: Path) -> None:
    # The marketplace look-up is held back for longer than the preflight phase's bound (6 s).
    versions = "/skus/[^/]+/versions"
    sandbox.fault(target="arm", kind="delay", method="GET", path=versions, count=1, delay_ms=20_000)
    build = Build(sandbox, tmp_path, "-e", '{"avd_phase_timeouts": {"preflight": 0.1}}').start()
    rc, out = build.finish()
    assert rc != 0, out[-4000:]
    report = build.report()
    assert report["result"] == "failed"
    assert report["failure"]["phase"] == "preflight"
    message = report["failure"]["message"]
    assert "Look up the published versions of the marketplace image" in message, message
    assert re.search(r"[Tt]imed out after \d+ s", message), message
    bound = "(the preflight phase's bound of 0.1 min (avd_phase_timeouts.preflight))"
    assert message.endswith(bound), message
    assert report["resources"] == []
