"""The optimization package imports one way: each module only from the modules before it.

The order is the one plugins/plugin_utils/_optimization/__init__.py documents. Nothing in the
package imports Ansible (the unit tests and the validator run it as plain Python).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[4]
PACKAGE_DIR = REPO_ROOT / "plugins" / "plugin_utils" / "_optimization"
PACKAGE = "ansible_collections.avd.golden.plugins.plugin_utils._optimization"
LAYERS = ("values", "items", "reader", "profiles", "appx", "plan")


def imports(path: Path) -> tuple[set[str], set[str]]:
    """(modules of the package, other top-level modules) that ``path`` imports."""
    own: set[str] = set()
    other: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import; the collection loader needs absolute ones"
            names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        own |= {n.removeprefix(PACKAGE + ".").split(".")[0] for n in names if n.startswith(PACKAGE + ".")}
        other |= {n.split(".")[0] for n in names if not n.startswith(PACKAGE)}
    return own, other


def test_every_module_has_a_layer_in_the_documented_order() -> None:
    assert {p.stem for p in PACKAGE_DIR.glob("*.py")} - {"__init__"} == set(LAYERS)
    doc = ast.get_docstring(ast.parse((PACKAGE_DIR / "__init__.py").read_text())) or ""
    assert sorted(LAYERS, key=lambda m: doc.index(f"``{m}``")) == list(LAYERS)
    assert imports(PACKAGE_DIR / "__init__.py") == (set(), set())


@pytest.mark.parametrize("module", LAYERS)
def test_module_imports_only_earlier_layers_and_no_ansible(module: str) -> None:
    own, other = imports(PACKAGE_DIR / f"{module}.py")
    assert own <= set(LAYERS[: LAYERS.index(module)])
    assert "ansible" not in other
