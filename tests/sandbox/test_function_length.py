"""No function of the sandbox is longer than a screen or two: a long handler is split into named
validation and creation steps (see VmHandler.build)."""

from __future__ import annotations

import ast
from pathlib import Path

# The checkout's sandbox package (found upwards, so the test may move between test folders).
SANDBOX = next(
    d / "sandbox" for d in Path(__file__).resolve().parents if (d / "sandbox" / "arm" / "core.py").is_file()
)
MAX_LINES = 80


def test_no_long_function_in_the_sandbox() -> None:
    long = []
    for path in sorted(SANDBOX.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_LINES:
                    long.append(f"{path.relative_to(SANDBOX)}:{node.lineno} {node.name} ({lines} lines)")
    assert long == [], f"functions over {MAX_LINES} lines"
