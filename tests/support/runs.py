"""What every playbook run against a sandbox shares: the environment a user would have after
sourcing the sandbox's env file, and readers of what the ARM emulator holds afterwards."""

from __future__ import annotations

import os
from typing import Any

from tests.support.paths import REPO
from tests.support.sandbox_process import Sandbox

VERSION_TYPE = "microsoft.compute/galleries/images/versions"


def playbook_env(sandbox: Sandbox, *, jsonl_events: bool = False) -> dict[str, str]:
    """The sandbox's credentials and endpoints, the collection path and the venv's tools; with
    ``jsonl_events`` the output is one JSON event a line (ansible.posix.jsonl) for the tests to parse."""
    env = {**os.environ, **sandbox.env}
    env["ANSIBLE_COLLECTIONS_PATH"] = str(REPO / "collections")
    env["PATH"] = f"{REPO / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("ANSIBLE_FORCE_COLOR", "0")
    env["ANSIBLE_NOCOLOR"] = "1"
    if jsonl_events:
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.jsonl"
    return env


def image_versions(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Gallery image versions in the emulator, by lower-case id."""
    return {
        rid.lower(): res
        for rid, res in (state.get("resources") or {}).items()
        if (res.get("type") or "").lower() == VERSION_TYPE
    }


def build_resources(state: dict[str, Any], build_id: str) -> list[str]:
    """Resource ids (lower case) that belong to the build: in its resource group or named after it."""
    needle = build_id.lower()
    return sorted(rid.lower() for rid in (state.get("resources") or {}) if needle in rid.lower())


def assert_nothing_left(sandbox: Sandbox, report: dict[str, Any]) -> None:
    """Of the build, only its image version is left in the emulator: teardown removed the rest,
    the ledger says so, and nothing went unmodelled."""
    build_id = report["build_id"]
    state = sandbox.state()
    leftovers = [rid for rid in build_resources(state, build_id) if rid not in image_versions(state)]
    assert leftovers == [], f"teardown left {leftovers}"
    assert all(r.get("removed") for r in report["resources"]), report["resources"]
    assert sandbox.unmodelled() == []
