"""The test tree shows its layers: helpers live in tests/support (and hold no tests), and no test
imports another test's conftest.py or reaches into a sibling test module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.paths import REPO

TESTS = REPO / "tests"
LAYERS = {"unit", "sandbox", "integration", "support"}


def _python_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def _imported_modules(path: Path) -> list[tuple[int, str, int]]:
    """(line, module, relative level) of every import in the file, nested ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, node.module or "", node.level))
    return found


def test_every_test_lives_in_a_layer() -> None:
    stray = [
        str(p.relative_to(TESTS))
        for p in TESTS.rglob("test_*.py")
        if p.relative_to(TESTS).parts[0] not in LAYERS - {"support"}
    ]
    assert stray == [], "tests belong in tests/unit, tests/sandbox or tests/integration"


@pytest.mark.parametrize("path", _python_files(), ids=lambda p: str(p.relative_to(TESTS)))
def test_imports_go_through_the_support_package(path: Path) -> None:
    bad = []
    for line, module, level in _imported_modules(path):
        if level:
            bad.append(f"line {line}: relative import (use tests.support)")
        elif "conftest" in module.split("."):
            bad.append(f"line {line}: imports a conftest ({module})")
        elif module.startswith("tests.") and not module.startswith("tests.support"):
            bad.append(f"line {line}: imports another test module ({module})")
    assert bad == []


def test_the_support_package_holds_no_tests() -> None:
    tests = [
        f"{p.relative_to(TESTS)}: {node.name}"
        for p in (TESTS / "support").rglob("*.py")
        for node in ast.walk(ast.parse(p.read_text()))
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name.lower().startswith("test")
    ]
    assert tests == []
