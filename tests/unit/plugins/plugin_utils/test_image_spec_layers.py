"""The image spec package imports one way: each module only from the modules before it.

The order is the one plugins/plugin_utils/_image_spec/__init__.py documents; a module that reached
back up the list (a section check importing ``spec``, say) would make a cycle waiting to happen.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[4]
PACKAGE_DIR = REPO_ROOT / "plugins" / "plugin_utils" / "_image_spec"
PACKAGE = "ansible_collections.avd.golden.plugins.plugin_utils._image_spec"

LAYERS = (
    "azure_data",
    "messages",
    "loader",
    "schema",
    "checker",
    "naming",
    "versions",
    "publish",
    "password",
    "downloads",
    "applications",
    "source",
    "network",
    "gallery",
    "tags",
    "avd",
    "optimization",
    "windows_update",
    "avd_stack",
    "languages",
    "spec",
    "build",
)


def package_imports(path: Path) -> set[str]:
    """The modules of the package that ``path`` imports (absolute imports, as Ansible needs)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import; the collection loader needs absolute ones"
            names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n.removeprefix(PACKAGE + ".").split(".")[0] for n in names if n.startswith(PACKAGE + ".")}
    return found


def test_every_module_has_a_layer() -> None:
    modules = {p.stem for p in PACKAGE_DIR.glob("*.py")} - {"__init__"}
    assert modules == set(LAYERS)
    assert package_imports(PACKAGE_DIR / "__init__.py") == set()
    # The order documented for readers is the order enforced here.
    doc = ast.get_docstring(ast.parse((PACKAGE_DIR / "__init__.py").read_text())) or ""
    assert [m for m in LAYERS if f"``{m}``" in doc] == list(LAYERS)
    assert sorted(LAYERS, key=lambda m: doc.index(f"``{m}``")) == list(LAYERS)


@pytest.mark.parametrize("module", LAYERS)
def test_module_imports_only_earlier_layers(module: str) -> None:
    earlier = set(LAYERS[: LAYERS.index(module)])
    imported = package_imports(PACKAGE_DIR / f"{module}.py")
    assert imported <= earlier, f"{module} imports {sorted(imported - earlier)} from a later layer"
