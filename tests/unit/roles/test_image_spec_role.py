"""Run the avd.golden.image_spec role with ansible-playbook on localhost.

Covers a good image spec (found by a path relative to the collection root), a second run of the
same build (no change), check mode (nothing written), bad specs whose error text must name each
field, one per line, and the variable names from before the rename.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent

PLAYBOOK = """\
---
- name: Validate the image spec
  hosts: localhost
  gather_facts: false
  roles:
    - role: avd.golden.image_spec
"""


def run_role(tmp_path: Path, *extra: str, check: bool = False) -> tuple[int, dict[str, Any], str]:
    """Run the role; return (rc, the json callback's document, stderr)."""
    playbook = tmp_path / "validate.yml"
    playbook.write_text(PLAYBOOK)
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_COLLECTIONS_PATH": str(REPO_ROOT / "collections"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / ".ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "USER": "role-test-user",
    }
    env.pop("ANSIBLE_CONFIG", None)
    cmd = [
        str(VENV_BIN / "ansible-playbook"),
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        f"ansible_python_interpreter={sys.executable}",
        "-e",
        f"image_spec_artifacts_root={tmp_path / 'artifacts'}",
        *extra,
        str(playbook),
    ]
    if check:
        cmd.append("--check")
    # cwd is the temp dir: relative image spec paths must resolve against the collection root.
    proc = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"no JSON from ansible-playbook (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.returncode, doc, proc.stderr


def task_result(doc: dict[str, Any], name_part: str) -> dict[str, Any]:
    for task in doc["plays"][0]["tasks"]:
        if name_part in task["task"]["name"]:
            return task["hosts"]["localhost"]
    raise AssertionError(f"no task named like {name_part!r}")


def failure(doc: dict[str, Any]) -> str:
    for task in doc["plays"][0]["tasks"]:
        result = task["hosts"].get("localhost", {})
        if result.get("failed"):
            return str(result.get("msg"))
    raise AssertionError("no failed task")


def test_good_spec_then_no_change_then_check_mode(tmp_path: Path) -> None:
    rc, doc, err = run_role(tmp_path, "-e", "image_spec=images/win11-24h2-avd.yml")
    assert rc == 0, err
    build = task_result(doc, "Compute the build context")["ansible_facts"]["avd_build"]
    image = task_result(doc, "Fill in the defaults")["ansible_facts"]["avd_image"]
    assert image["name"] == "win11-24h2-avd"
    assert image["network"]["existing_subnet_id"] is None  # defaults filled
    assert build["id"].startswith("win11-24h2-avd-")
    assert build["owner"] == "role-test-user"
    assert build["tags"]["avd-build-owner"] == "role-test-user"
    assert build["tags"]["workload"] == "avd"
    assert len(build["names"]["computer_name"]) <= 15
    artifacts = Path(build["artifacts_dir"])
    assert artifacts == tmp_path / "artifacts" / build["id"]
    ledger = json.loads(Path(build["ledger_path"]).read_text())
    assert ledger["build_id"] == build["id"]
    assert [(p["name"], p["status"]) for p in ledger["phases"]] == [("validate", "ok")]
    assert ledger["resources"] == []
    saved = json.loads((artifacts / "build.json").read_text())
    assert saved["build"] == build and saved["definition"] == image
    assert Path(saved["definition_file"]).resolve() == (REPO_ROOT / "images" / "win11-24h2-avd.yml").resolve()
    assert doc["stats"]["localhost"]["changed"] > 0

    # The same build again: everything derives from the id, so nothing changes.
    before = Path(build["ledger_path"]).read_text()
    rc, doc, err = run_role(
        tmp_path, "-e", "image_spec=images/win11-24h2-avd.yml", "-e", f"avd_build_id={build['id']}"
    )
    assert rc == 0, err
    assert doc["stats"]["localhost"]["changed"] == 0
    assert task_result(doc, "Compute the build context")["ansible_facts"]["avd_build"] == build
    assert Path(build["ledger_path"]).read_text() == before

    # Check mode for a new build: validates, reports changes, writes nothing.
    check_root = tmp_path / "check-artifacts"
    rc, doc, err = run_role(
        tmp_path,
        "-e",
        f"image_spec={REPO_ROOT / 'images' / 'win11-24h2-avd-m365.yml'}",
        "-e",
        f"image_spec_artifacts_root={check_root}",
        check=True,
    )
    assert rc == 0, err
    assert doc["stats"]["localhost"]["changed"] > 0
    assert (
        task_result(doc, "Compute the build context")["ansible_facts"]["avd_build"]["image_version"] is None
    )
    assert not check_root.exists()


BAD_SPEC = {
    "name": "Bad_Name",
    "source": {"offer": "windows-10", "sku": "win10-22h2-avd"},
    "location": "westeurope",
    "bulid_vm": {"size": "Standard_D4s_v5"},
    "network": {"mode": "temporary", "address_prefix": "8.8.8.0/24"},
    "gallery": {
        "resource_group": "rg-avd-images",
        "name": "gal-avd",
        "image_definition": {"name": "img", "publisher": "p", "offer": "o", "sku": "s"},
        "version": {"strategy": "explicit", "value": "1.0"},
        "target_regions": [{"name": "westeurope", "replica_count": 0}],
        "end_of_life_date": "2020-01-01",
    },
    "windows": {"time_zone": "Europe/Berlin"},
    "tags": {"avd-build-id": "mine"},
}


def test_bad_spec_lists_every_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump(BAD_SPEC))
    rc, doc, _ = run_role(tmp_path, "-e", f"image_spec={path}")
    assert rc != 0
    msg = failure(doc)
    lines = msg.splitlines()
    assert lines[0] == f"Image spec {path} is not valid (10 error(s)):"
    fields = [line.split(": ", 1)[0] for line in lines[1:]]
    assert sorted(fields) == sorted(
        [
            "bulid_vm",
            "name",
            "network.address_prefix",
            "gallery.name",
            "gallery.version.value",
            "gallery.target_regions[0].replica_count",
            "gallery.end_of_life_date",
            "windows.time_zone",
            "tags.avd-build-id",
            "source.sku",
        ]
    )
    assert "bulid_vm: unknown key; did you mean 'build_vm'?" in lines
    assert "gallery.target_regions[0].replica_count: must be an integer from 1 to 100, got 0" in lines
    # Nothing was created for an invalid image spec.
    assert not (tmp_path / "artifacts").exists()


@pytest.mark.parametrize(
    ("content", "extra", "expected"),
    [
        ("- just\n- a list\n", [], "(root): an image spec must be a mapping, got list"),
        (
            None,
            ["image_spec=does/not/exist.yml"],
            "image_spec: file not found: does/not/exist.yml",
        ),
        (None, [], "image_spec is required: the image spec file to build"),
        (
            None,
            ["image_spec=images/win11-24h2-avd.yml", "avd_build_id=other-20261127213005-abcd"],
            "avd_build_id: build id 'other-20261127213005-abcd' does not belong to image spec",
        ),
        # The names from before the rename fail, naming the new ones, even beside image_spec.
        (
            None,
            ["image_definition=images/win11-24h2-avd.yml"],
            "image_definition: renamed to image_spec (the YAML file is an image spec)",
        ),
        (
            None,
            ["image_spec=images/win11-24h2-avd.yml", "image_definition_build_id=x"],
            "image_definition_build_id: renamed to image_spec_build_id",
        ),
        # The resume switch (docs/contracts.md section 18) is a boolean, refused before anything exists.
        (
            None,
            ["image_spec=images/win11-24h2-avd.yml", "avd_build_keep_on_failure=maybe"],
            "argument 'avd_build_keep_on_failure' is of type str and we were unable to convert to bool",
        ),
    ],
    ids=[
        "not-a-mapping",
        "missing-file",
        "no-variable",
        "foreign-build-id",
        "old-name",
        "old-prefix",
        "keep-not-bool",
    ],
)
def test_unusable_input_names_the_problem(
    tmp_path: Path, content: str | None, extra: list[str], expected: str
) -> None:
    args = [arg for pair in (("-e", e) for e in extra) for arg in pair]
    if content is not None:
        path = tmp_path / "spec.yml"
        path.write_text(content)
        args += ["-e", f"image_spec={path}"]
    rc, doc, _ = run_role(tmp_path, *args)
    assert rc != 0
    assert expected in failure(doc)
    assert not (tmp_path / "artifacts").exists()
