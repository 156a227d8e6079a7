"""The collection as users install it: `ansible-galaxy collection build` of the repository, then
`ansible-galaxy collection install` into a temporary directory, then ansible-doc and a playbook
syntax check that can find avd.golden only in that installed copy (no repository on the path)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.support.paths import REPO

BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((REPO / "galaxy.yml").read_text())


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None, ok: bool = True) -> str:
    """The command's output; ``ok``: it must succeed, else it must fail."""
    run = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert (run.returncode == 0) is ok, f"{args}: {run.stdout}{run.stderr}"
    return run.stdout + (run.stderr if not ok else "")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build")
    _run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out), str(REPO)], REPO)
    return out / f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"


@pytest.fixture(scope="module")
def installed(built: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """(a directory outside the repository, the environment that finds only the installed copy)."""
    root = tmp_path_factory.mktemp("installed")
    collections = root / "collections"
    (root / "ansible.cfg").write_text("[defaults]\n")
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(root / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_HOME": str(root / "home"),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    # --no-deps: the dependencies come with the ansible package (sys.path), Galaxy is not needed.
    # The install runs with the installed copy's environment too: with the repository's own
    # collections path (make exports it) galaxy finds avd.golden there and installs nothing.
    _run(
        [
            str(BIN / "ansible-galaxy"),
            "collection",
            "install",
            "--no-deps",
            "-p",
            str(collections),
            str(built),
        ],
        root,
        env,
    )
    return root, env


def tar_member(archive: Path, name: str) -> str:
    with tarfile.open(archive) as tar:
        return tar.extractfile(name).read().decode()


def test_the_build_leaves_out_development_files(built: Path) -> None:
    with tarfile.open(built) as tar:
        names = tar.getnames()
    tops = {name.split("/")[0] for name in names}
    assert {"roles", "plugins", "playbooks", "meta", "MANIFEST.json"} <= tops
    leaked = tops & {"tests", "sandbox", ".venv", ".sandbox", "bench", "artifacts", "awx", "ee", "Makefile"}
    assert leaked == set()
    assert not [n for n in names if "__pycache__" in n or "/molecule/" in n or n.endswith(".pyc")]
    manifest = json.loads(tar_member(built, "MANIFEST.json"))["collection_info"]
    assert manifest["dependencies"] == GALAXY["dependencies"]


def test_galaxy_metadata_is_releasable() -> None:
    assert GALAXY["version"].count(".") == 2
    # Ranges, not exact pins: users' ansible packages differ.
    assert all(v.startswith(">=") and ",<" in v for v in GALAXY["dependencies"].values())


@pytest.mark.parametrize(("kind", "name"), [("module", "build_report"), ("filter", "validate_image_spec")])
def test_ansible_doc_reads_the_installed_plugins(
    installed: tuple[Path, dict[str, str]], kind: str, name: str
) -> None:
    root, env = installed
    out = _run([str(BIN / "ansible-doc"), "-t", kind, "--json", f"avd.golden.{name}"], root, env)
    doc = json.loads(out)[f"avd.golden.{name}"]["doc"]
    assert doc["filename"].startswith(str(root / "collections")), doc["filename"]
    assert doc["short_description"]


def test_a_playbook_of_the_installed_roles_passes_the_syntax_check(
    installed: tuple[Path, dict[str, str]],
) -> None:
    root, env = installed
    (root / "site.yml").write_text(
        "- name: Use the installed collection\n"
        "  hosts: localhost\n"
        "  gather_facts: false\n"
        "  roles:\n"
        "    - avd.golden.image_spec\n"
        "  tasks:\n"
        "    - name: A role's task file\n"
        "      ansible.builtin.import_role:\n"
        "        name: avd.golden.azure_teardown\n"
        "        tasks_from: from_build_id\n"
        "- name: A playbook of the collection\n"
        "  ansible.builtin.import_playbook: avd.golden.janitor\n"
    )
    _run([str(BIN / "ansible-playbook"), "--syntax-check", "-i", "localhost,", "site.yml"], root, env)
    # The same playbook cannot find a role that the collection does not have: the check can fail.
    (root / "bad.yml").write_text(
        "- name: A missing role\n  hosts: localhost\n  roles:\n    - avd.golden.no_such_role\n"
    )
    out = _run(
        [str(BIN / "ansible-playbook"), "--syntax-check", "-i", "localhost,", "bad.yml"], root, env, ok=False
    )
    assert "no_such_role" in out
