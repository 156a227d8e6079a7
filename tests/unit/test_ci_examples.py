"""examples/ci: the commands the pipeline examples run exist (make targets, venv tools, files of the
repository), they authenticate the way azure.azcollection reads workload identity federation, and
they build on the Wednesday after Patch Tuesday. Nothing here runs a pipeline."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import ansible
import pytest
import yaml

from tests.support.paths import REPO

EXAMPLES = REPO / "examples/ci"
VENV_BIN = REPO / ".venv/bin"


def _scripts(name: str) -> list[str]:
    data = yaml.safe_load((EXAMPLES / name).read_text())
    if "jobs" in data and isinstance(data["jobs"], dict):  # GitHub Actions
        steps = [s for job in data["jobs"].values() for s in job["steps"]]
        return [s["run"] for s in steps if "run" in s]
    steps = [s for job in data["jobs"] for s in job["steps"]]
    return [s["script"] for s in steps if "script" in s]


def _commands(script: str) -> list[list[str]]:
    """The simple commands of a script whose first word is make or a .venv tool."""
    lines = script.replace("\\\n", " ").splitlines()
    # $(Pipeline.Macro) is Azure Pipelines' own syntax, expanded before the shell runs.
    words = [shlex.split(re.sub(r"\$\(([A-Za-z_.]+)\)", r"\1", line), comments=True) for line in lines]
    return [w for w in words if w and (w[0] == "make" or w[0].startswith(".venv/"))]


@pytest.mark.parametrize("name", ["github-actions.yml", "azure-pipelines.yml"])
def test_the_commands_exist(name: str) -> None:
    commands = [c for s in _scripts(name) for c in _commands(s)]
    assert [c[0] for c in commands] == ["make", ".venv/bin/ansible-playbook"], commands
    targets = set(re.findall(r"^([a-z][a-z-]*):", (REPO / "Makefile").read_text(), re.M))
    for command in commands:
        if command[0] == "make":
            assert set(command[1:]) <= targets, command
            continue
        assert (VENV_BIN / Path(command[0]).name).is_file(), command[0]
        playbook = command[1]
        assert (REPO / playbook).is_file(), playbook
        inventory = command[command.index("-i") + 1]
        assert (REPO / inventory).exists(), inventory


@pytest.mark.parametrize("name", ["github-actions.yml", "azure-pipelines.yml"])
def test_workload_identity_through_the_variables_azcollection_reads(name: str) -> None:
    common = (
        Path(ansible.__file__).resolve().parents[1]
        / "ansible_collections/azure/azcollection/plugins/module_utils/azure_rm_common.py"
    ).read_text()
    text = (EXAMPLES / name).read_text()
    for env in ("AZURE_SUBSCRIPTION_ID", "AZURE_CLIENT_ID", "AZURE_TENANT", "AZURE_FEDERATED_TOKEN_FILE"):
        assert f"'{env}'" in common and env in text, env
    assert "AZURE_SECRET" not in text
    assert "AzureADTokenExchange" in text or "System.OidcRequestUri" in text


def test_the_default_image_specs_exist() -> None:
    for name in ("github-actions.yml", "azure-pipelines.yml"):
        for spec in re.findall(r"images/[\w.-]+\.yml", (EXAMPLES / name).read_text()):
            assert (REPO / spec).is_file(), spec


def test_scheduled_runs_build_only_the_week_of_patch_tuesday() -> None:
    github = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())
    azure = yaml.safe_load((EXAMPLES / "azure-pipelines.yml").read_text())
    assert [s["cron"] for s in github["on"]["schedule"]] == ["0 6 * * 3"]
    assert [s["cron"] for s in azure["schedules"]] == ["0 6 * * 3"]
    for name in ("github-actions.yml", "azure-pipelines.yml"):
        text = (EXAMPLES / name).read_text()
        assert "-ge 9" in text or "-lt 9" in text, name
        assert "-le 15" in text or "-gt 15" in text, name


def _schema_check(example: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema against the published schema it vendors (no network: --builtin-schema)."""
    if "azure-pipelines" in example.name:
        # Azure Pipelines reads every YAML scalar as a string, as its published schema types them.
        data = yaml.load(example.read_text(), Loader=yaml.BaseLoader)  # noqa: S506 - BaseLoader builds no objects
        example = tmp_path / f"{example.stem}.json"
        example.write_text(json.dumps(data))
        schema = ["vendor.azure-pipelines", "--data-transform", "azure-pipelines"]
        # The schema's patterns use escapes that are invalid in unicode mode.
        schema += ["--regex-variant", "nonunicode"]
    else:
        schema = ["vendor.github-workflows"]
    command = [str(VENV_BIN / "check-jsonschema"), "--builtin-schema", *schema, str(example)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("name", ["github-actions.yml", "azure-pipelines.yml"])
def test_the_published_schema_accepts_the_example(name: str, tmp_path: Path) -> None:
    result = _schema_check(EXAMPLES / name, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("name", "key"), [("github-actions.yml", "runs-on"), ("azure-pipelines.yml", "pool")]
)
def test_the_schema_check_rejects_a_misspelt_key(name: str, key: str, tmp_path: Path) -> None:
    broken = tmp_path / f"broken-{name}"
    text = (EXAMPLES / name).read_text()
    assert f"{key}:" in text
    broken.write_text(text.replace(f"{key}:", f"{key}x:", 1))
    result = _schema_check(broken, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
