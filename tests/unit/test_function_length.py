"""No function of the product's Python (modules, filters, their utils) or of the shared test
helpers is longer than a screen or two; the sandbox has its own such test."""

from __future__ import annotations

import ast

from tests.support.paths import REPO

ROOTS = ["plugins", "tests/support", "bench"]
MAX_LINES = 80


def test_no_long_function() -> None:
    long = []
    for root in ROOTS:
        for path in sorted((REPO / root).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = (node.end_lineno or node.lineno) - node.lineno + 1
                    if lines > MAX_LINES:
                        long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({lines} lines)")
    assert long == [], f"functions over {MAX_LINES} lines"
