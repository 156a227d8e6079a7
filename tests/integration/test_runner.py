"""A whole build through ansible-runner, the engine AWX / Automation Controller uses, as the
least-privileged build identity, at -vvvv with a canary administrator password.

- Credentials reach the run only as environment variables (ansible-runner `envvars`, which is what
  an AWX credential injects), never as files or extra vars. They are those of a service principal
  holding only the shipped custom roles (rbac/*.json: the builder role on the subscription, the
  publisher role on the gallery's resource group), so a build that needs more fails here with
  Azure's AuthorizationFailed, which the sandbox enforces.
- The canary password (avd_build_admin_password, used instead of a generated one) takes every path a
  generated one takes - the VM create, WinRM's NTLM logon, sysprep - and must show up nowhere: not in
  the -vvvv stdout, the runner's artifacts (what AWX stores and shows), the report, nor anything the
  sandbox wrote.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import ansible_runner
import pytest

from tests.support.azure_side import (
    CANARY_PASSWORD,
    extra_vars,
    image_spec,
    report_of,
    temporary_resources,
)
from tests.support.paths import INVENTORY, REPO
from tests.support.rbac import least_privilege_env
from tests.support.runs import image_versions
from tests.support.sandbox_process import Sandbox

PLAYBOOK = REPO / "build-golden.yml"

pytestmark = pytest.mark.integration


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def test_build_through_ansible_runner(sandbox: Sandbox, tmp_path: Path) -> None:
    envvars = {
        **sandbox.env,  # AZURE_CLIENT_ID / AZURE_SECRET / AZURE_TENANT / AZURE_SUBSCRIPTION_ID + endpoints
        **least_privilege_env(sandbox, "rg-avd-images"),  # the build identity replaces the sandbox's owner
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
        verbosity=4,
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
    for path in (tmp_path / "artifacts").rglob("*"):
        if path.is_file():
            assert CANARY_PASSWORD.encode() not in path.read_bytes(), path
    for path in sandbox.state_dir.rglob("*"):
        if path.is_file():
            assert CANARY_PASSWORD.encode() not in path.read_bytes(), path
    # The canary was the password in use: the build VM's WinRM logon took it (the guest's phases ran).
    assert any(p["name"] == "sysprep" and p["status"] == "ok" for p in report["phases"]), report["phases"]

    # The build ran as the least-privileged principal: every ARM request was checked against its
    # roles, none was refused, and the publisher role's actions were used on the gallery only.
    arm = [r for r in sandbox.requests() if r.get("action")]
    assert arm and not [
        r for r in arm if r.get("error") in ("AuthorizationFailed", "LinkedAuthorizationFailed")
    ]
    gallery_writes = {
        r["path"].lower().split("/providers/")[0]
        for r in arm
        if "galleries" in r["action"].lower() and r["method"] == "PUT"
    }
    assert gallery_writes == {
        f"/subscriptions/{sandbox.subscription_id}/resourcegroups/rg-avd-images".lower()
    }
