"""The Azure side of a build through ansible-runner, the engine AWX / Automation Controller uses.

Credentials reach the run only as environment variables (ansible-runner `envvars`, which is what
an AWX credential injects), never as files or extra vars. The guest's sysprep is stood in for as
in test_azure_side.py (a test-only play marks the simulated guest generalized through the sandbox
control endpoint and stops the VM through Azure). The end state is read from the emulator.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import ansible_runner
import pytest

from tests.support.azure_side import (
    CANARY_PASSWORD,
    PLAYBOOK,
    extra_vars,
    image_spec,
    report_of,
    temporary_resources,
)
from tests.support.paths import INVENTORY, REPO
from tests.support.runs import image_versions
from tests.support.sandbox_process import Sandbox

pytestmark = pytest.mark.integration


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def test_build_through_ansible_runner(sandbox: Sandbox, tmp_path: Path) -> None:
    envvars = {
        **sandbox.env,  # AZURE_CLIENT_ID / AZURE_SECRET / AZURE_TENANT / AZURE_SUBSCRIPTION_ID + endpoints
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / "collections"),
        "PATH": f"{REPO / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_NOCOLOR": "1",
    }
    assert "AZURE_SECRET" in envvars and "AZURE_CLIENT_ID" in envvars
    definition = image_spec(tmp_path, version={"strategy": "explicit", "value": "2.3.4"})
    evars = extra_vars(definition, tmp_path / "artifacts", avd_build_admin_password=CANARY_PASSWORD)
    (tmp_path / "runner").mkdir()
    result = ansible_runner.run(
        private_data_dir=str(tmp_path / "runner"),
        project_dir=str(REPO),
        playbook=str(PLAYBOOK),
        inventory=str(INVENTORY),
        envvars=envvars,
        extravars=evars,
        quiet=True,
        timeout=1500,
    )
    stdout = result.stdout.read()
    assert result.status == "successful" and result.rc == 0, stdout[-6000:]

    state = sandbox.state()
    versions = image_versions(state)
    assert len(versions) == 1
    version = next(iter(versions.values()))
    assert version["name"] == "2.3.4"
    assert version["properties"]["provisioningState"] == "Succeeded"
    assert temporary_resources(state) == []
    assert sandbox.unmodelled() == []

    report = report_of(tmp_path / "artifacts")
    assert report["result"] == "succeeded"
    assert report["image_version_id"].lower() == next(iter(versions)).lower()
    assert report["resources"] and all(r["removed"] for r in report["resources"])

    # Every event and the stdout ansible-runner recorded (what AWX stores and shows) are free of
    # the password; runner/env/ holds our own input (the extra vars), so it is not searched.
    changed = [
        e["event_data"].get("task")
        for e in result.events
        if e.get("event") == "runner_on_ok" and e["event_data"].get("res", {}).get("changed")
    ]
    assert changed, "the runner saw no task change anything"
    assert CANARY_PASSWORD not in stdout
    for path in (tmp_path / "runner" / "artifacts").rglob("*"):
        if path.is_file():
            assert CANARY_PASSWORD.encode() not in path.read_bytes(), path
