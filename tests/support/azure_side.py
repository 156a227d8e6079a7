"""Helpers for the Azure-side integration tests and bench/azure_side_build.py.

They run tests/integration/playbooks/azure_side.yml (the real validate, provision, capture,
teardown and report playbooks, with a test-only stand-in for the guest's sysprep) against a
sandbox, and read what the ARM emulator holds afterwards.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.paths import INVENTORY, REPO
from tests.support.runs import playbook_env
from tests.support.sandbox_process import Sandbox

PLAYBOOK = REPO / "tests" / "integration" / "playbooks" / "azure_side.yml"

# A canary administrator password for the secret-hygiene test: passed as avd_build_admin_password,
# the role uses it instead of generating one (it generates only when none is set), so it travels
# every path the generated password travels - the VM PUT body, the facts, the task arguments.
CANARY_PASSWORD = "Cy7-canary_Q9x.pass!w0rd-Z4k"


@dataclass
class Run:
    """One ansible-playbook run: exit code, output, the JSON-lines events and the wall time."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    events: list[dict[str, Any]] = field(default_factory=list)

    def explain(self) -> str:
        return (
            f"rc={self.returncode}\n--- stdout (tail)\n{self.stdout[-8000:]}\n"
            f"--- stderr\n{self.stderr[-3000:]}"
        )


def image_spec(tmp: Path, **changes: Any) -> Path:
    """A copy of images/win11-24h2-avd.yml with `changes` merged into its gallery section."""
    data = yaml.safe_load((REPO / "images" / "win11-24h2-avd.yml").read_text())
    data["gallery"].update(changes)
    path = tmp / "image.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def extra_vars(definition: Path, artifacts_root: Path, **more: Any) -> dict[str, Any]:
    """The -e variables of a test run: short polling delays, own artifacts folder."""
    return {
        "image_spec": str(definition),
        "image_spec_artifacts_root": str(artifacts_root),
        "gallery_capture_stop_delay": 2,
        "azure_teardown_delay": 2,
        **more,
    }


def run_azure_side(
    sandbox: Sandbox, evars: dict[str, Any], *args: str, timeout: float = 1500, playbook: Path = PLAYBOOK
) -> Run:
    """ansible-playbook azure_side.yml (or `playbook`) with the jsonl callback; events are parsed
    from stdout."""
    started = time.monotonic()
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(INVENTORY), str(playbook), "-e", json.dumps(evars), *args],
        cwd=REPO,
        env=playbook_env(sandbox, jsonl_events=True),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    events = []
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
    return Run(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started, events)


def changed_tasks_per_play(events: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """[(play name, [names of tasks that reported changed])] in play order (jsonl events)."""
    plays: list[tuple[str, list[str]]] = []
    for event in events:
        kind = event.get("_event")
        if kind == "v2_playbook_on_play_start":
            plays.append((event["play"]["name"], []))
        elif kind == "v2_runner_on_ok" and plays:
            for result in _host_results(event):
                if result.get("changed"):
                    plays[-1][1].append(event["task"]["name"])
    return plays


def _host_results(event: dict[str, Any]) -> list[dict[str, Any]]:
    hosts = event.get("hosts") or {}
    return list(hosts.values()) if hosts else [event.get("result") or {}]


def report_of(artifacts_root: Path) -> dict[str, Any]:
    """The report.json of the only build under artifacts_root."""
    reports = sorted(artifacts_root.glob("*/report.json"))
    assert len(reports) == 1, f"expected one build report, found {reports}"
    return json.loads(reports[0].read_text())


def temporary_resources(state: dict[str, Any]) -> list[str]:
    """Ids of resources that carry the build's delete-after tag or live in a build resource group."""
    left = []
    for rid, res in (state.get("resources") or {}).items():
        tags = res.get("tags") or {}
        if "avd-build-delete-after" in tags or "/resourcegroups/rg-avdbuild-" in rid.lower():
            left.append(rid)
    return sorted(left)


def build_puts(requests: list[dict[str, Any]], build_rg: str) -> list[dict[str, Any]]:
    """Successful PUTs of the build's own resources (the build resource group and what is in it)."""
    needle = f"/resourcegroups/{build_rg.lower()}"
    return [
        r
        for r in requests
        if r.get("method") == "PUT" and needle in r.get("path", "").lower() and int(r.get("status", 0)) < 300
    ]
