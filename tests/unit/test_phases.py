"""The phase registry (playbooks/vars/phases.yml) and build-golden.yml agree (docs/contracts.md section 5).

build-golden.yml is the list of phases a user reads; the registry is where each phase is declared.
These tests fail when the two drift apart (order, names, tags, a missing role or playbook), when a
registry entry breaks the contract (validate first, report last, teardown runs after a failure,
the irreversible phases tagged), and when the titles Ansible computes are not "Phase <n>/<total>".
No sandbox needed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
REGISTRY = REPO / "playbooks" / "vars" / "phases.yml"
WRAPPER = "playbooks/phase.yml"
ENTRY_KEYS = {"name", "title", "role", "hosts", "tags", "after_failure", "needs_vm", "playbook"}


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


PHASES: list[dict[str, Any]] = _load(REGISTRY)["avd_phases"]
# The first import is the fan-out of many definitions (docs/contracts.md section 17), no phase.
FANOUT, *IMPORTS = _load(REPO / "build-golden.yml")


def _by_name(name: str) -> dict[str, Any]:
    return next(p for p in PHASES if p["name"] == name)


def test_the_fan_out_run_skips_every_phase() -> None:
    assert FANOUT["ansible.builtin.import_playbook"] == "playbooks/fanout.yml"
    assert {i.get("when") for i in IMPORTS} == {"image_definitions | default(none) is none"}


def test_build_golden_imports_the_registry_in_order() -> None:
    # Each import is named after its phase: "AVD settings" for avd_settings.
    assert [i["name"].lower().replace(" ", "_") for i in IMPORTS] == [p["name"] for p in PHASES]


@pytest.mark.parametrize(("index", "phase"), list(enumerate(PHASES)), ids=[p["name"] for p in PHASES])
def test_each_import_runs_its_phase(index: int, phase: dict[str, Any]) -> None:
    entry = IMPORTS[index]
    if "role" in phase:
        assert entry["ansible.builtin.import_playbook"] == WRAPPER
        assert entry.get("vars") == {"avd_phase": phase["name"]}
    else:
        assert entry["ansible.builtin.import_playbook"] == f"playbooks/{phase['playbook']}"
        assert "vars" not in entry
    # Ansible needs tags before it reads any vars file, so the import repeats the registry's.
    assert sorted(entry.get("tags", [])) == sorted(phase.get("tags", []))


@pytest.mark.parametrize("phase", PHASES, ids=[p["name"] for p in PHASES])
def test_registry_entry_is_well_formed(phase: dict[str, Any]) -> None:
    assert set(phase) <= ENTRY_KEYS, set(phase) - ENTRY_KEYS
    assert re.fullmatch(r"[a-z][a-z0-9_]*", phase["name"])
    assert phase["title"] and not re.match(r"(?i)phase\s*\d", phase["title"]), "the number is computed"
    assert ("role" in phase) != ("playbook" in phase), "a phase has a role or a play of its own"
    if "role" in phase:
        assert phase["hosts"] in ("controller", "build_vm")
        assert phase.get("after_failure", "skip") in ("skip", "run")
        assert isinstance(phase.get("needs_vm", False), bool)
        # Every phase after connect that runs on the VM needs it (check mode has none).
        assert phase["hosts"] != "build_vm" or phase.get("needs_vm") is True
        namespace, collection, role = phase["role"].split(".")
        assert (namespace, collection) == ("avd", "golden"), "roles of this collection, by FQCN"
        assert (REPO / "roles" / role / "tasks" / "main.yml").is_file(), f"no role {role}"
    else:
        assert set(phase) == {"name", "title", "playbook"}
        play = _load(REPO / "playbooks" / phase["playbook"])[0]
        # Its own play still takes the title and its name from the registry.
        assert play["vars"]["avd_phase"] == phase["name"]
        assert "vars/phases.yml" in play["vars_files"]
        assert play["name"] == "{{ avd_phase_title }}"


def test_names_are_unique() -> None:
    names = [p["name"] for p in PHASES]
    assert len(names) == len(set(names)), names


def test_the_fixed_points_of_the_flow() -> None:
    # validate fails the run at once; report reads the ledger last and fails a failed build.
    assert PHASES[0]["name"] == "validate" and "playbook" in PHASES[0]
    assert PHASES[-1]["name"] == "report" and "playbook" in PHASES[-1]
    assert _by_name("teardown").get("after_failure") == "run"
    assert [p["name"] for p in PHASES if p.get("after_failure") == "run"] == ["teardown"]
    # The irreversible steps keep their documented tags (--skip-tags sysprep,capture).
    assert _by_name("sysprep").get("tags") == ["sysprep"]
    assert _by_name("capture").get("tags") == ["capture"]
    order = [p["name"] for p in PHASES]
    assert order.index("sysprep") < order.index("capture") < order.index("teardown")


def test_no_play_types_its_phase_number() -> None:
    typed = [
        f"{path.relative_to(REPO)}:{number}"
        for path in [REPO / "build-golden.yml", *sorted((REPO / "playbooks").rglob("*.yml"))]
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"Phase \d+/\d+", line)
    ]
    assert typed == []


def test_ansible_computes_the_titles_and_hosts() -> None:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / "collections"),
        "ANSIBLE_NOCOLOR": "1",
    }
    proc = subprocess.run(
        ["ansible-playbook", "--list-tags", "build-golden.yml"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    fanout, *plays = re.findall(r"play #\d+ \(([^)]*)\): (.*?)\tTAGS: \[(.*?)\]", proc.stdout)
    assert fanout == ("localhost", "Many images in one run", "")
    total = len(PHASES)
    assert [(hosts, name) for hosts, name, _ in plays] == [
        (
            "avd_build_vm:localhost" if p.get("hosts") == "build_vm" else "localhost",
            f"Phase {n}/{total} · {p['title']}",
        )
        for n, p in enumerate(PHASES, 1)
    ]
    assert [tags for _, _, tags in plays] == [", ".join(p.get("tags", [])) for p in PHASES]
