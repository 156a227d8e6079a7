"""The sandbox's imports run one way (sandbox/README.md, the layered layout: base modules, then
providers, then one module that wires them).

Walks every module under sandbox/ with ast, function-local imports included (imports under
``if TYPE_CHECKING:`` only name types and are left out of the cycle check), and fails on:
- an import cycle;
- a base module importing a provider (sandbox.arm.types_*), even for types only;
- a provider importing another provider;
- any module but the application module importing a provider;
- the Windows side importing the ARM side (their contract is sandbox.guest_api).
"""

from __future__ import annotations

import ast
from pathlib import Path

# The checkout's sandbox package (found upwards, so the test may move between test folders).
SANDBOX = next(
    d / "sandbox" for d in Path(__file__).resolve().parents if (d / "sandbox" / "arm" / "core.py").is_file()
)
APP = "sandbox.arm.app"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SANDBOX.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, modules: set[str]) -> tuple[set[str], set[str]]:
    """(runtime imports, type-only imports) of one file, as sandbox module names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    type_only_nodes: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            type_only_nodes.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    runtime: set[str] = set()
    type_only: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        found = {t for t in targets if t in modules or t.split(".")[0] == "sandbox"}
        found = {_known(t, modules) for t in found} - {None, name}
        (type_only if id(node) in type_only_nodes else runtime).update(found)  # type: ignore[arg-type]
    return runtime, type_only - runtime


def _known(target: str, modules: set[str]) -> str | None:
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target or None


def _graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    files = {_module_name(p): p for p in SANDBOX.rglob("*.py")}
    runtime, type_only = {}, {}
    for name, path in files.items():
        runtime[name], type_only[name] = _imports(path, set(files))
    return runtime, type_only


def _is_provider(name: str) -> bool:
    return name.startswith("sandbox.arm.types_")


def test_the_graph_sees_the_modules() -> None:
    runtime, _ = _graph()
    assert "sandbox.arm.core" in runtime[APP]
    assert {m for m in runtime[APP] if _is_provider(m)}, "the application module wires no provider"


def test_no_import_cycle() -> None:
    runtime, _ = _graph()
    done: set[str] = set()

    def visit(name: str, stack: list[str]) -> None:
        if name in stack:
            raise AssertionError("import cycle: " + " -> ".join([*stack[stack.index(name) :], name]))
        if name in done:
            return
        for dep in sorted(runtime.get(name, ())):
            visit(dep, [*stack, name])
        done.add(name)

    for module in sorted(runtime):
        visit(module, [])


def test_only_the_application_module_imports_providers() -> None:
    runtime, type_only = _graph()
    wrong = sorted(
        f"{module} imports {dep}"
        for module in runtime
        for dep in runtime[module] | type_only[module]
        if _is_provider(dep) and module != APP
    )
    assert wrong == []


def test_windows_side_does_not_import_arm() -> None:
    runtime, type_only = _graph()
    wrong = sorted(
        f"{module} imports {dep}"
        for module in runtime
        if module.startswith("sandbox.windows")
        for dep in runtime[module] | type_only[module]
        if dep.startswith("sandbox.arm")
    )
    assert wrong == []


def test_no_function_local_imports_of_sandbox_modules() -> None:
    """A module imports what it needs at the top; a local import would only hide a cycle."""
    wrong = []
    for path in sorted(SANDBOX.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and (
                    node.level or (node.module or "").startswith("sandbox")
                ):
                    wrong.append(f"{_module_name(path)}.{fn.name} imports {node.module}")
                elif isinstance(node, ast.Import) and any(a.name.startswith("sandbox") for a in node.names):
                    wrong.append(f"{_module_name(path)}.{fn.name} imports {node.names[0].name}")
    assert wrong == []
