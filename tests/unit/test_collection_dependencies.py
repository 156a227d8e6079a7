"""galaxy.yml declares exactly the collections the content uses, and requirements.yml pins them.

The content is what a user of the collection runs: roles (with their Molecule scenarios),
playbooks, plugins and build-golden.yml. A collection counts as used when one of its FQCNs appears
there (a module as a task key, a filter, a lookup, a role, a Python or PowerShell import). A
candidate ``a.b.c`` is judged against the collections the ansible package installs, so dotted
names such as ``os.path.join`` or ``gallery.image_definition.name`` are not mistaken for FQCNs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

import ansible
import pytest
import yaml
from packaging.specifiers import SpecifierSet

REPO = Path(__file__).resolve().parents[2]
CONTENT = ["build-golden.yml", "playbooks", "roles", "plugins"]
SUFFIXES = {".yml", ".yaml", ".py", ".j2", ".ps1", ".psm1"}
# Collections the ansible package installs next to ansible-core (site-packages/ansible_collections).
INSTALLED = Path(ansible.__file__).resolve().parents[1] / "ansible_collections"
OURS = "avd.golden"

_DOTTED = re.compile(r"(?<![\w.])([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)\.[a-z_][a-z0-9_]*")
_PYTHON_IMPORT = re.compile(r"\bansible_collections\.([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)\b")


def installed_versions() -> dict[str, str]:
    versions = {}
    for manifest in INSTALLED.glob("*/*/MANIFEST.json"):
        info = json.loads(manifest.read_text())["collection_info"]
        versions[f"{info['namespace']}.{info['name']}"] = info["version"]
    # Without them no FQCN could be recognised and every check below would pass vacuously.
    assert versions, f"no collections under {INSTALLED}: install the ansible package (make setup)"
    return versions


def collections_named(text: str, known: Iterable[str]) -> set[str]:
    """The known collections that ``text`` names through an FQCN or an ansible_collections import."""
    pairs = {f"{a}.{b}" for a, b in _DOTTED.findall(text)} | {
        f"{a}.{b}" for a, b in _PYTHON_IMPORT.findall(text)
    }
    return pairs & set(known)


def content_files() -> list[Path]:
    files: list[Path] = []
    for entry in CONTENT:
        path = REPO / entry
        files.extend([path] if path.is_file() else (p for p in path.rglob("*") if p.suffix in SUFFIXES))
    return sorted(files)


def used_collections() -> dict[str, list[str]]:
    """Each collection the content uses (not ansible.builtin, not ours), with the files using it."""
    known = set(installed_versions()) - {OURS}
    used: dict[str, list[str]] = {}
    for path in content_files():
        for name in collections_named(path.read_text(), known):
            used.setdefault(name, []).append(str(path.relative_to(REPO)))
    return used


def galaxy_dependencies() -> dict[str, str]:
    return yaml.safe_load((REPO / "galaxy.yml").read_text())["dependencies"] or {}


def requirements_pins() -> dict[str, str]:
    doc = yaml.safe_load((REPO / "collections" / "requirements.yml").read_text())
    return {c["name"]: str(c["version"]) for c in doc["collections"]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- name: Create\n  azure.azcollection.azure_rm_resourcegroup:\n", {"azure.azcollection"}),
        ('msg: "{{ x | ansible.windows.quote }}"', {"ansible.windows"}),
        ("x: \"{{ lookup('community.general.random_string') }}\"", {"community.general"}),
        ("roles:\n  - role: ansible.windows.win_something\n", {"ansible.windows"}),
        ("from ansible_collections.azure.azcollection.plugins.module_utils import x", {"azure.azcollection"}),
        (
            "#AnsibleRequires -CSharpUtil ansible_collections.ansible.windows.plugins.module_utils.X",
            {"ansible.windows"},
        ),
        # Dotted names that are not FQCNs of an installed collection.
        ("os.path.join(a, b); avd_image['gallery']; gallery.image_definition.name", set()),
        ("ansible.builtin.copy: {}", set()),
    ],
    ids=["module", "filter", "lookup", "role", "python", "powershell", "not-fqcn", "builtin"],
)
def test_scanner_finds_fqcns(text: str, expected: set[str]) -> None:
    assert collections_named(text, installed_versions()) == expected


def test_galaxy_declares_every_collection_the_content_uses() -> None:
    used, declared = used_collections(), galaxy_dependencies()
    missing = {name: files[:3] for name, files in used.items() if name not in declared}
    assert not missing, f"used but not in galaxy.yml dependencies: {missing}"
    unused = sorted(set(declared) - set(used))
    assert not unused, f"galaxy.yml declares collections the content never uses: {unused}"


def test_requirements_pin_what_the_ansible_package_ships() -> None:
    """requirements.yml pins the same collections exactly, at versions galaxy.yml's ranges admit."""
    declared, pins, shipped = galaxy_dependencies(), requirements_pins(), installed_versions()
    assert set(pins) == set(declared)
    for name, pin in pins.items():
        assert pin == shipped[name], (
            f"{name}: requirements.yml pins {pin}, the ansible package ships {shipped[name]}"
        )
        assert pin in SpecifierSet(declared[name]), f"{name} {pin} is outside galaxy.yml's {declared[name]!r}"
