"""awx/configure.yml without an AWX: the job templates point at playbooks that exist, every survey
(and schedule) variable is one the playbook reads and validates, the schedules fire when they
say, and the job timeouts leave the build's own deadline and teardown room (docs/contracts.md
section 15: an AWX timeout or cancel is a SIGKILL)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import ansible
import pytest
import yaml
from dateutil.rrule import rrulestr

from tests.support.paths import REPO

AWX = REPO / "awx"
VARS = yaml.safe_load((AWX / "vars/awx.yml").read_text())
PLAY = yaml.safe_load((AWX / "configure.yml").read_text())
TEMPLATES = {t["name"]: t for t in VARS["awx_job_templates"]}
SURVEY_VARS = [
    (t["name"], q["variable"]) for t in TEMPLATES.values() for q in t.get("survey", {}).get("spec", [])
]
_ROLE = re.compile(r"\bavd\.golden\.([a-z_]+)\b")
_IMPORT = re.compile(r"import_playbook:\s*(\S+)")
_ALIAS = re.compile(r"^\s*([a-z_][a-z0-9_]*):\s*[\"']?\{\{\s*([a-z_][a-z0-9_]*)\b", re.M)


def _value(value: object) -> object:
    """A template's value, with a plain "{{ awx_var }}" resolved from awx/vars/awx.yml."""
    m = re.fullmatch(r"\{\{\s*(\w+)\s*\}\}", value) if isinstance(value, str) else None
    return VARS[m.group(1)] if m else value


def reachable(playbook: Path) -> tuple[list[Path], list[Path]]:
    """(the playbook files and role task files the playbook runs, the argument specs of its roles)."""
    files, roles, todo = [], set(), [playbook]
    while todo:
        path = todo.pop()
        if path in files or not path.is_file():
            continue
        files.append(path)
        text = path.read_text()
        todo += [(path.parent / target).resolve() for target in _IMPORT.findall(text)]
        for role in set(_ROLE.findall(text)) - roles:
            if (REPO / "roles" / role).is_dir():
                roles.add(role)
                todo += sorted((REPO / "roles" / role).glob("tasks/*.yml"))
    return files, [REPO / "roles" / r / "meta/argument_specs.yml" for r in sorted(roles)]


def validated_names(files: list[Path], specs: list[Path]) -> set[str]:
    """Names a role's argument spec declares, or an assert's `that` tests, or passed to one of those."""
    names: set[str] = set()
    for spec in specs:
        for entry in yaml.safe_load(spec.read_text())["argument_specs"].values():
            names |= set(entry.get("options", {}))
    aliases: list[tuple[str, str]] = []
    for path in files:
        text = path.read_text()
        aliases += _ALIAS.findall(text)
        for task in _tasks(yaml.safe_load(text)):
            that = (task.get("ansible.builtin.assert") or task.get("assert") or {}).get("that", [])
            for line in [that] if isinstance(that, str) else that:
                names |= set(re.findall(r"[a-z_][a-z0-9_]*", line))
    return names | {source for target, source in aliases if target in names}


def _tasks(data: object) -> list[dict]:
    found = []
    if isinstance(data, list):
        for item in data:
            found += _tasks(item)
    elif isinstance(data, dict):
        found.append(data)
        for key in ("tasks", "block", "rescue", "always", "pre_tasks", "post_tasks"):
            found += _tasks(data.get(key))
    return found


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_each_job_template_runs_a_playbook_of_the_project(name: str) -> None:
    playbook = REPO / TEMPLATES[name]["playbook"]
    assert playbook.is_file(), f"{name}: {playbook} does not exist"
    assert isinstance(yaml.safe_load(playbook.read_text()), list)


@pytest.mark.parametrize(("template", "variable"), SURVEY_VARS)
def test_each_survey_variable_is_read_and_validated_by_the_playbook(template: str, variable: str) -> None:
    files, specs = reachable((REPO / TEMPLATES[template]["playbook"]).resolve())
    assert any(re.search(rf"\b{variable}\b", p.read_text()) for p in files + specs), (
        f"{variable} is never read"
    )
    assert variable in validated_names(files, specs), f"{template}: {variable} is read but never validated"


def test_the_validation_scan_can_fail() -> None:
    files, specs = reachable(REPO / "playbooks/janitor.yml")
    assert "image_spec" not in validated_names(files, specs)
    assert "azure_teardown_build_id" in validated_names(*reachable(REPO / "playbooks/teardown.yml"))


def test_surveys_are_well_formed() -> None:
    for template in TEMPLATES.values():
        survey = template.get("survey")
        if survey is None:
            continue
        assert {"name", "description", "spec"} <= survey.keys()
        for q in survey["spec"]:
            assert q["type"] in {"text", "integer", "multiplechoice", "password"}
            if q["type"] == "integer" and "default" in q:
                assert q["min"] <= q["default"] <= q["max"], q["variable"]


def test_the_build_survey_default_is_an_image_spec_of_the_repository() -> None:
    (question,) = [
        q for q in TEMPLATES["AVD golden · build"]["survey"]["spec"] if q["variable"] == "image_spec"
    ]
    assert (REPO / question["default"]).is_file()


def test_job_timeouts_are_only_a_backstop_to_the_builds_own_bounds() -> None:
    bounds = yaml.safe_load((REPO / "playbooks/vars/timeouts.yml").read_text())
    deadline, teardown = (
        bounds["avd_build_deadline_minutes"],
        bounds["avd_phase_timeouts_default"]["teardown"],
    )
    assert _value(TEMPLATES["AVD golden · build"]["timeout"]) > (deadline + teardown) * 60
    assert _value(TEMPLATES["AVD golden · teardown"]["timeout"]) > teardown * 60
    (deadline_question,) = [
        q
        for q in TEMPLATES["AVD golden · build"]["survey"]["spec"]
        if q["variable"] == "avd_build_deadline_minutes"
    ]
    assert deadline_question["max"] <= deadline
    readme = (AWX / "README.md").read_text()
    assert "section 15" in readme and "SIGKILL" in readme and "janitor" in readme


def test_the_janitor_templates_differ_only_by_janitor_apply() -> None:
    assert TEMPLATES["AVD golden · janitor (dry run)"]["extra_vars"] == {"janitor_apply": False}
    assert TEMPLATES["AVD golden · janitor"]["extra_vars"] == {"janitor_apply": True}
    assert "janitor_apply" in (REPO / "playbooks/janitor.yml").read_text()


def test_the_monthly_build_runs_the_day_after_patch_tuesday() -> None:
    (schedule,) = [s for s in VARS["awx_schedules"] if "Patch Tuesday" in s["name"]]
    assert schedule["job_template"] == "AVD golden · build"
    runs = list(rrulestr(schedule["rrule"].replace(" RRULE:", "\nRRULE:"), forceset=True))[:24]
    assert len(runs) == 24
    for run in runs:
        tuesday = run - timedelta(days=1)
        assert tuesday.weekday() == 1 and 8 <= tuesday.day <= 14, run
    assert set(schedule["extra_data"]) <= {v for t, v in SURVEY_VARS if t == schedule["job_template"]}
    assert (REPO / schedule["extra_data"]["image_spec"]).is_file()


def test_the_janitor_applies_hourly() -> None:
    (schedule,) = [s for s in VARS["awx_schedules"] if s["job_template"] == "AVD golden · janitor"]
    rule = rrulestr(schedule["rrule"].replace(" RRULE:", "\nRRULE:"), forceset=True)
    runs = list(rule.xafter(datetime(2027, 3, 1, tzinfo=UTC), 3))
    assert [b - a for a, b in pairwise(runs)] == [timedelta(hours=1)] * 2


def test_every_schedule_names_a_job_template() -> None:
    assert {s["job_template"] for s in VARS["awx_schedules"]} <= TEMPLATES.keys()


def test_the_credential_injects_what_azure_azcollection_reads() -> None:
    # The builtin "Microsoft Azure Resource Manager" type's injectors (AWX's credential type source).
    injected = {
        "subscription": "AZURE_SUBSCRIPTION_ID",
        "client": "AZURE_CLIENT_ID",
        "secret": "AZURE_SECRET",
        "tenant": "AZURE_TENANT",
    }
    common = (
        Path(ansible.__file__).resolve().parents[1]
        / "ansible_collections/azure/azcollection/plugins/module_utils/azure_rm_common.py"
    )
    text = common.read_text()
    for env in injected.values():
        assert f"'{env}'" in text, env
    (task,) = [t for t in PLAY[0]["tasks"] if "awx.awx.credential" in t]
    module = task["awx.awx.credential"]
    assert module["credential_type"] == "Microsoft Azure Resource Manager"
    assert set(module["inputs"]) == set(injected)
    for field, env in injected.items():
        assert env in module["inputs"][field]
    assert task["no_log"] is True


def test_every_awx_module_is_pinned_and_mocked_for_lint() -> None:
    used = {key for t in PLAY[0]["tasks"] for key in t if key.startswith("awx.awx.")}
    lint = yaml.safe_load((REPO / ".ansible-lint").read_text())
    assert used == set(lint["mock_modules"]) & used and used <= set(lint["mock_modules"])
    pins = yaml.safe_load((AWX / "collections/requirements.yml").read_text())["collections"]
    assert [(c["name"], bool(re.fullmatch(r"\d+\.\d+\.\d+", c["version"]))) for c in pins] == [
        ("awx.awx", True)
    ]
