"""Syntax-check every PowerShell script in the repository with tree-sitter-powershell.

PowerShell cannot run here, so a parse is the strongest check available: a script whose tree holds
an ERROR or MISSING node would fail on Windows before doing anything. Run as ``python -m
tests.support.pscheck [paths...]``; it exits non-zero and names each bad file, line and column.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import tree_sitter
import tree_sitter_powershell

REPO_ROOT = Path(__file__).resolve().parents[2]
# Directories that hold no PowerShell of ours (third-party code, caches, build output).
SKIP_DIRS = frozenset(
    {".git", ".venv", ".venv-az", ".sandbox", "artifacts", "collections", "node_modules", "__pycache__"}
)
SUFFIXES = (".ps1", ".psm1")


@dataclass(frozen=True)
class Problem:
    """One syntax problem: an ERROR node (unparseable text) or a MISSING node (expected token)."""

    path: Path
    line: int
    column: int
    kind: str
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.kind} {self.text!r}"


def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


def find_scripts(root: Path = REPO_ROOT) -> list[Path]:
    """Every .ps1/.psm1 under root, skipping vendored and generated directories."""
    found: list[Path] = []
    for directory, subdirs, files in os.walk(root):
        # Prune in place so os.walk never descends into the virtualenv or vendored trees.
        subdirs[:] = [d for d in subdirs if d not in SKIP_DIRS]
        found.extend(Path(directory, f) for f in files if f.lower().endswith(SUFFIXES))
    return sorted(found)


def _walk(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def check_source(source: bytes, path: Path) -> list[Problem]:
    """Parse one script and return its ERROR/MISSING nodes (empty when the syntax is clean)."""
    tree = _parser().parse(source)
    problems = []
    for node in _walk(tree.root_node):
        if node.is_error or node.is_missing:
            kind = "MISSING" if node.is_missing else "ERROR"
            text = node.text.decode("utf-8", "replace")[:60] if node.text else node.type
            row, col = node.start_point
            problems.append(Problem(path, row + 1, col + 1, kind, text))
    return problems


def check_files(paths: Iterable[Path]) -> list[Problem]:
    """Check each file; a file that is not valid UTF-8 is a problem too (Windows PowerShell 5.1
    reads BOM-less files as the ANSI code page, so we keep scripts ASCII/UTF-8)."""
    problems: list[Problem] = []
    for path in paths:
        data = path.read_bytes()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(Problem(path, 1, exc.start + 1, "ENCODING", "not UTF-8"))
            continue
        problems.extend(check_source(data, path))
    return problems


def main(argv: list[str] | None = None) -> int:
    """Check the given paths (default: every script in the repository); print problems."""
    args = sys.argv[1:] if argv is None else argv
    paths = [Path(a) for a in args] if args else find_scripts()
    if not paths:
        print("pscheck: no PowerShell scripts found", file=sys.stderr)
        return 1
    problems = check_files(paths)
    for problem in problems:
        print(f"pscheck: {problem}", file=sys.stderr)
    bad = sorted({str(p.path) for p in problems})
    if bad:
        print(f"pscheck: syntax errors in {len(bad)} file(s): {', '.join(bad)}", file=sys.stderr)
        return 1
    print(f"pscheck: {len(paths)} PowerShell file(s) parse cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
