"""execution-environment.yml: `ansible-builder create` makes its build context offline, and the
context installs exactly our pins (requirements.lock, collections/requirements.yml). No image is
built here: that needs a container runtime and registry access."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.paths import REPO

BUILDER = Path(sys.executable).with_name("ansible-builder")


def _pins(text: str) -> dict[str, str]:
    """name -> version of every ``name==version`` line (markers kept out of the version)."""
    pins = {}
    for line in text.splitlines():
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ee") / "context"
    run = subprocess.run(
        [str(BUILDER), "create", "-f", "execution-environment.yml", "-c", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return out


def test_python_requirements_are_the_lock_pins(context: Path) -> None:
    lock = _pins((REPO / "requirements.lock").read_text())
    lines = [
        line
        for line in (context / "_build" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    built = _pins("\n".join(lines))
    assert len(built) == len(lines), f"unpinned requirement lines: {lines}"
    assert {name: lock.get(name) for name in built} == built
    for needed in ("pywinrm", "pyspnego", "requests-ntlm", "azure-identity", "azure-mgmt-compute"):
        assert needed in built


def test_every_azcollection_requirement_is_installed(context: Path) -> None:
    import ansible

    azure = Path(ansible.__file__).resolve().parents[1] / "ansible_collections/azure/azcollection"
    wanted = {
        re.match(r"[A-Za-z0-9_.\-]+", line.strip()).group(0).lower().replace("_", "-")
        for line in (azure / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    built = _pins((context / "_build" / "requirements.txt").read_text())
    assert wanted - built.keys() == set()


def test_core_runner_and_collections_are_pinned(context: Path) -> None:
    lock = _pins((REPO / "requirements.lock").read_text())
    dockerfile = (context / "Dockerfile").read_text()
    refs = re.search(r'ARG ANSIBLE_INSTALL_REFS="([^"]+)"', dockerfile).group(1).split()
    assert _pins("\n".join(refs)) == {n: lock[n] for n in ("ansible-core", "ansible-runner")}
    ours = yaml.safe_load((REPO / "collections/requirements.yml").read_text())
    built = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert built == ours
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", c["version"]) for c in built["collections"])


def test_base_image_and_system_packages(context: Path) -> None:
    spec = yaml.safe_load((REPO / "execution-environment.yml").read_text())
    assert spec["version"] == 3
    base = spec["images"]["base_image"]["name"]
    assert re.search(r":[\w.]+$|@sha256:[0-9a-f]{64}$", base) and not base.endswith(":latest")
    assert f'EE_BASE_IMAGE="{base}"' in (context / "Dockerfile").read_text()
    assert "git" in (context / "_build" / "bindep.txt").read_text()
