"""Python implementations of the Windows modules the product uses, acting on WindowsState.

Each implementation follows the real module's PowerShell (ansible.windows 3.8.0, read from the
installed collection): the same ``changed``/check mode/diff semantics, return values and failure
messages. Arguments are validated first (sandbox/windows/argspec.py). A module that is not listed
here raises NotModelled naming it; the transport turns that into a failed task.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.guest_api import NotModelled
from sandbox.windows.argspec import ArgumentError, CheckModeSkip, ModuleSpec, validate
from sandbox.windows.modules import _winpath as wp

if TYPE_CHECKING:
    from sandbox.windows.state import WindowsState


class ModuleFail(Exception):
    """FailJson: the module stops with failed=true, msg and any result keys set so far."""

    def __init__(self, msg: str, **extra: Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.extra = extra


class Unhandled(Exception):
    """An error the module does not catch (ErrorActionPreference Stop): module_wrapper.ps1 reports
    {"failed": true, "msg": "Unhandled exception while executing module: <error>", "exception": ...}
    and nothing the module had put in its result."""


@dataclass
class Ctx:
    """What a module implementation gets: the state, its validated params and the run flags."""

    state: WindowsState
    params: dict[str, Any]
    check_mode: bool
    diff_mode: bool
    module_name: str
    internal: dict[str, Any]
    result: dict[str, Any] = field(default_factory=lambda: {"changed": False})
    diff: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def fail(self, msg: str, **extra: Any) -> ModuleFail:
        return ModuleFail(msg, **extra)

    def warn(self, msg: str) -> None:
        self.warnings.append(msg)

    def path(self, raw: str) -> str:
        return self.state.path(raw)


@dataclass(frozen=True)
class Module:
    spec: ModuleSpec
    main: Callable[[Ctx], None]


_REGISTRY: dict[str, Module] = {}


def register(spec: ModuleSpec) -> Callable[[Callable[[Ctx], None]], Callable[[Ctx], None]]:
    """Decorator: the function implements ``spec.fqcn``."""

    def deco(fn: Callable[[Ctx], None]) -> Callable[[Ctx], None]:
        _REGISTRY[spec.fqcn] = Module(spec, fn)
        return fn

    return deco


def simulated() -> dict[str, Module]:
    """FQCN -> implementation, for every simulated module."""
    _load()
    return dict(_REGISTRY)


def _load() -> None:
    # Importing registers; kept lazy so state.py can import this package cheaply.
    import importlib

    for name in _MODULE_FILES:
        importlib.import_module(f"sandbox.windows.modules.{name}")


_MODULE_FILES = (
    "applications",
    "appx",
    "chocolatey",
    "command",
    "features",
    "files",
    "firewall",
    "groups",
    "languages",
    "packages",
    "ping",
    "powershell",
    "registry",
    "registry_set",
    "scheduled_tasks",
    "service_startup",
    "services",
    "setup",
    "timezone",
    "updates",
)


def run(
    state: WindowsState,
    module: str,
    args: dict[str, Any],
    *,
    check_mode: bool,
    diff: bool,
    module_path: str,
    internal: dict[str, Any],
) -> dict[str, Any]:
    """Validate and run one module; return its result as the module would print it."""
    _load()
    impl = _REGISTRY.get(module)
    if impl is None:
        raise NotModelled(f"module {module} is not simulated by the sandbox (script {module_path})")
    module_name = internal.get("_ansible_module_name") or module
    try:
        env = state.env()
        # type=path only expands %VARS% (Environment.ExpandEnvironmentVariables); modules normalise later.
        params = validate(
            impl.spec,
            args,
            module_name=module_name,
            check_mode=check_mode,
            expand=lambda v: wp.expand_env(v, env),
        )
    except CheckModeSkip as skip:
        return {"changed": False, "skipped": True, "msg": str(skip)}
    except ArgumentError as err:
        return {"changed": False, "failed": True, "msg": str(err)}
    ctx = Ctx(state, params, check_mode, diff, module_name, internal)
    try:
        impl.main(ctx)
    except Unhandled as err:
        return {
            "failed": True,
            "msg": f"Unhandled exception while executing module: {err}",
            "exception": f"{err}\r\nScriptStackTrace:\r\nat <ScriptBlock>, <No file>: line 1",
        }
    except ModuleFail as fail:
        ctx.result.update(fail.extra)
        ctx.result["failed"] = True
        ctx.result["msg"] = fail.msg
    result = ctx.result
    if ctx.warnings:
        result["warnings"] = ctx.warnings
    if impl.spec.style == "basic" and ctx.diff and diff:
        result["diff"] = ctx.diff
    if impl.spec.style == "basic" and internal.get("_ansible_inject_invocation"):
        result.setdefault("invocation", {"module_args": params})
    return result
