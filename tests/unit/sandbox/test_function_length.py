"""No function of the ARM emulator is longer than a screen or two: a long handler is split into
named validation and creation steps (see VmHandler.build)."""

from __future__ import annotations

import ast
from pathlib import Path

ARM = Path(__file__).resolve().parents[3] / "sandbox" / "arm"
MAX_LINES = 80


def test_no_long_function_in_the_arm_emulator() -> None:
    long = []
    for path in sorted(ARM.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_LINES:
                    long.append(f"{path.name}:{node.lineno} {node.name} ({lines} lines)")
    assert long == [], f"functions over {MAX_LINES} lines"
