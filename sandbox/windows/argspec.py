"""Argument validation for simulated Windows modules, from the installed collections' documentation.

The documented options (DOCUMENTATION of the module's .py/.yml sidecar, read with ansible's own
plugin-doc parser) are the spec: names, aliases, types, elements, choices, defaults, required and
sub-options. Constraints that live only in the module's PowerShell ``$spec`` (mutually_exclusive,
required_one_of, required_by, supports_check_mode, undocumented internal options such as win_copy's
``_copy_mode``) are transcribed by each simulated module next to its implementation.

Two validation styles, as on Windows:
- ``basic``: Ansible.Basic.AnsibleModule (ansible/module_utils/csharp/Ansible.Basic.cs): unknown
  options, check-mode support, mutually exclusive, required, type conversion, choices, required
  together/one-of/if/by, sub-options - in that order, with the same messages.
- ``legacy``: Ansible.ModuleUtils.Legacy ``Get-AnsibleParam``: only missing required arguments
  and ValidateSet choices fail; unknown options are ignored, exactly as the real module does.

Doc fragments that document options (ansible.windows.web_request: the shared options of the modules
on Ansible.ModuleUtils.WebRequest, which win_get_url and win_package add with
Get-AnsibleWindowsWebRequestSpec) are merged under the module's own options, as ansible-doc does;
attribute-only fragments add nothing. A unit test asserts no other fragment is needed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import ansible_collections

# Every directory the ansible_collections namespace package spans (the venv's site-packages and,
# when on sys.path, the repository's collections/ folder), then that folder in any case: it holds
# this collection (avd.golden), whose own Windows modules the sandbox simulates too.
_REPO_COLLECTIONS = Path(__file__).resolve().parents[2] / "collections" / "ansible_collections"
COLLECTIONS_ROOTS = [Path(p) for p in ansible_collections.__path__]
COLLECTIONS_ROOTS += [_REPO_COLLECTIONS] if _REPO_COLLECTIONS not in COLLECTIONS_ROOTS else []

# Ansible.Basic passVars: the _ansible_* keys every module accepts.
PASS_VARS = (
    "check_mode",
    "debug",
    "diff",
    "keep_remote_files",
    "ignore_unknown_opts",
    "inject_invocation",
    "module_name",
    "no_log",
    "remote_tmp",
    "selinux_special_fs",
    "shell_executable",
    "socket",
    "syslog_facility",
    "target_log_info",
    "tracebacks_for",
    "tmpdir",
    "verbosity",
    "version",
)

BOOLEANS_TRUE = ["y", "yes", "on", "1", "true", "t", "1.0"]
BOOLEANS_FALSE = ["n", "no", "off", "0", "false", "f", "0.0"]


class ArgumentError(Exception):
    """The module fails before doing anything; str(self) is the module's ``msg``."""


class CheckModeSkip(Exception):
    """The module does not support check mode: Ansible.Basic exits with skipped."""


@dataclass(frozen=True)
class ModuleSpec:
    fqcn: str
    style: str  # "basic" | "legacy"
    options: dict[str, dict[str, Any]]
    supports_check_mode: bool = True
    mutually_exclusive: tuple[tuple[str, ...], ...] = ()
    required_one_of: tuple[tuple[str, ...], ...] = ()
    required_together: tuple[tuple[str, ...], ...] = ()
    required_if: tuple[tuple[Any, ...], ...] = ()
    required_by: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # setup.ps1 adds every unknown non-underscore key to its spec as type raw before validating.
    accept_unknown: bool = False


def doc_file(fqcn: str) -> Path:
    """The documentation sidecar of an installed module (``.py`` or ``.yml``)."""
    namespace, collection, name = fqcn.split(".")
    for root in COLLECTIONS_ROOTS:
        base = root / namespace / collection / "plugins" / "modules" / name
        for ext in (".py", ".yml", ".yaml"):
            if base.with_suffix(ext).exists():
                return base.with_suffix(ext)
    raise FileNotFoundError(f"no documentation for {fqcn} in {', '.join(map(str, COLLECTIONS_ROOTS))}")


@cache
def documented_options(fqcn: str) -> dict[str, dict[str, Any]]:
    """DOCUMENTATION.options of the installed module, parsed by ansible itself."""
    from ansible.parsing.plugin_docs import read_docstring

    data = read_docstring(str(doc_file(fqcn)))
    doc = data.get("doc") or {}
    options: dict[str, Any] = {}
    fragments = doc.get("extends_documentation_fragment") or []
    for fragment in [fragments] if isinstance(fragments, str) else fragments:
        options.update(fragment_options(fragment))
    options.update(doc.get("options") or {})
    return json.loads(json.dumps(options, default=str))


OPTION_FRAGMENTS = ("ansible.windows.web_request",)


@cache
def fragment_options(fragment: str) -> dict[str, Any]:
    """The options a doc fragment documents (only those in OPTION_FRAGMENTS; others describe
    attributes), read from its DOCUMENTATION string without importing it."""
    import ast

    import yaml

    if fragment not in OPTION_FRAGMENTS:
        return {}
    namespace, collection, name = fragment.split(".")
    for root in COLLECTIONS_ROOTS:
        path = root / namespace / collection / "plugins" / "doc_fragments" / f"{name}.py"
        if path.is_file():
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "DOCUMENTATION" for t in node.targets
                ):
                    return dict(yaml.safe_load(ast.literal_eval(node.value)).get("options") or {})
    raise FileNotFoundError(f"doc fragment {fragment} not found")


def build_spec(
    fqcn: str, style: str, *, extra_options: dict[str, dict[str, Any]] | None = None, **constraints: Any
) -> ModuleSpec:
    """A module's spec: documented options plus undocumented internal ones from its .ps1."""
    options = {k: dict(v) for k, v in documented_options(fqcn).items()}
    # Choice order in messages follows the module's own $spec (the docs sometimes sort them).
    for name, order in ps1_choice_order(fqcn).items():
        documented = {str(c).lower() for c in options.get(name, {}).get("choices") or []}
        if name in options and {c.lower() for c in order} == documented:
            options[name]["choices"] = order
    options.update(extra_options or {})
    return ModuleSpec(fqcn=fqcn, style=style, options=options, **constraints)


@cache
def ps1_choice_order(fqcn: str) -> dict[str, list[str]]:
    """Top-level ``name = @{ ... choices = 'a', 'b' ... }`` entries of the module's PowerShell spec."""
    ps1 = doc_file(fqcn).with_suffix(".ps1")
    if not ps1.exists():
        return {}
    out: dict[str, list[str]] = {}
    for m in re.finditer(r"^\s*(\w+) = @\{[^\n]*?choices = (?:@\()?([^;}\)\n]+)", ps1.read_text(), re.M):
        out[m.group(1)] = re.findall(r"[\"']([^\"']+)[\"']", m.group(2))
    for m in re.finditer(r"^\s*(\w+) = @\{\n(?:[^\n]*\n){0,4}?\s*choices = ([^\n]+)", ps1.read_text(), re.M):
        out.setdefault(m.group(1), re.findall(r"[\"']([^\"']+)[\"']", m.group(2)))
    # Legacy: Get-AnsibleParam ... "name" ... -ValidateSet "a", "b"
    legacy = r"Get-AnsibleParam\b[^\n]*?[\"'](\w+)[\"'][^\n]*?-validateset\s+([^\n]+)"
    for m in re.finditer(legacy, ps1.read_text(), re.I):
        out.setdefault(m.group(1), re.findall(r"[\"']([^\"']+)[\"']", m.group(2).split(" -")[0]))
    return out


# ----------------------------------------------------------------------------------------------
# .NET-ish type names and conversions (what Ansible.Basic reports)
# ----------------------------------------------------------------------------------------------
def dotnet_type(value: Any) -> str:
    if isinstance(value, bool):
        return "System.Boolean"
    if isinstance(value, int):
        return "System.Int32" if -(2**31) <= value < 2**31 else "System.Int64"
    if isinstance(value, float):
        return "System.Decimal"
    if isinstance(value, str):
        return "System.String"
    if isinstance(value, list):
        return "System.Collections.ArrayList"
    if isinstance(value, dict):
        return "System.Collections.Generic.Dictionary`2[System.String,System.Object]"
    return "System.Object"


def parse_str(value: Any) -> str:
    """value.ToString() as .NET prints it."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (list, dict)):
        return dotnet_type(value)
    return str(value)


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    s = parse_str(value).lower().strip()
    if s in BOOLEANS_TRUE:
        return True
    if s in BOOLEANS_FALSE:
        return False
    raise ValueError(
        f"The value '{s}' is not a valid boolean. Valid booleans include: "
        + ", ".join(BOOLEANS_TRUE + BOOLEANS_FALSE)
    )


def parse_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if not -(2**31) <= value < 2**31:
            raise ValueError("Value was either too large or too small for an Int32.")
        return value
    s = parse_str(value).strip()
    try:
        return int(s)
    except ValueError:
        raise ValueError("Input string was not in a correct format.") from None


def parse_float(value: Any) -> float:
    try:
        return float(parse_str(value))
    except ValueError:
        raise ValueError("Input string was not in a correct format.") from None


def parse_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [s.strip() for s in value.split(",")]
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    raise ValueError(f"{dotnet_type(value)} cannot be converted to a list")


def parse_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}"):
            return json.loads(value)
        if "=" in value:
            out: dict[str, Any] = {}
            for item in value.replace(",", " ").split():
                k, _, v = item.partition("=")
                out.setdefault(k, v if "=" in item else None)
            return out
        raise ValueError(
            "string cannot be converted to a dict, must either be a JSON string or in the key=value form"
        )
    raise ValueError(f"{dotnet_type(value)} cannot be converted to a dict")


def parse_json(value: Any) -> str:
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, str):
        return value
    raise ValueError(f"{dotnet_type(value)} cannot be converted to json")


def _converters(expand: Callable[[str], str]) -> dict[str, Callable[[Any], Any]]:
    return {
        "str": parse_str,
        "bool": parse_bool,
        "int": parse_int,
        "float": parse_float,
        "list": parse_list,
        "dict": parse_dict,
        "json": parse_json,
        "path": lambda v: parse_str(v) if parse_str(v).startswith("\\\\?\\") else expand(parse_str(v)),
        "raw": lambda v: v,
    }


# ----------------------------------------------------------------------------------------------
# Ansible.Basic validation
# ----------------------------------------------------------------------------------------------
class _Validator:
    def __init__(self, module_name: str, expand: Callable[[str], str]) -> None:
        self.module_name = module_name
        self.conv = _converters(expand)
        self.context: list[str] = []

    def ctx(self, msg: str) -> str:
        return f"{msg} found in {' -> '.join(self.context)}" if self.context else msg

    def check(
        self,
        options: dict[str, dict[str, Any]],
        params: dict[str, Any],
        *,
        root: bool,
        spec: ModuleSpec | None,
        check_mode: bool,
    ) -> dict[str, Any]:
        """Validate `params` the way Ansible.Basic's AnsibleModule does, in its order."""
        params = self._known_names(options, dict(params), root)
        if root and spec is not None and check_mode and not spec.supports_check_mode:
            raise CheckModeSkip(f"remote module ({self.module_name}) does not support check mode")
        for group in spec.mutually_exclusive if spec else ():
            if sum(1 for g in group if g in params) > 1:
                raise ArgumentError(self.ctx(f"parameters are mutually exclusive: {', '.join(group)}"))
        missing = []
        for name, opt in options.items():
            if opt.get("default") is not None and name not in params:
                params[name] = opt["default"]
            if opt.get("required") and name not in params:
                missing.append(name)
        if missing:
            raise ArgumentError(self.ctx(f"missing required arguments: {', '.join(missing)}"))
        for name, opt in options.items():
            if params.get(name) is not None:
                params[name] = self._typed(name, opt, params[name])
        if spec is not None:
            self._check_dependencies(spec, params)
        for name, opt in options.items():
            params.setdefault(name, None)
            sub = opt.get("suboptions")
            value = params[name]
            if not sub or value is None:
                continue
            if opt.get("type") == "dict":
                params[name] = self._sub(name, sub, value)
            elif opt.get("type") == "list" and opt.get("elements") == "dict":
                params[name] = [self._sub(name, sub, v) for v in value]
        for name, opt in options.items():
            elements = opt.get("elements")
            if opt.get("type") == "list" and elements and elements != "dict" and params[name] is not None:
                params[name] = [self._element(name, elements, el) for el in params[name]]
        return params

    def _known_names(
        self, options: dict[str, dict[str, Any]], params: dict[str, Any], root: bool
    ) -> dict[str, Any]:
        """Aliases copied to their option (GetAliases), names matched case-insensitively, pass-through
        _ansible_ variables dropped; anything else is unsupported."""
        aliases: dict[str, str] = {}
        for name, opt in options.items():
            for alias in opt.get("aliases") or []:
                aliases[alias] = name
                if alias in params:
                    params[name] = params[alias]
        legal = list(options) + list(aliases)
        legal_lower = {x.lower(): x for x in legal}
        unsupported = []
        for k in list(params):
            if root and k.startswith("_ansible_") and k[len("_ansible_") :] in PASS_VARS:
                params.pop(k)
                continue
            if k not in legal:
                if k.lower() in legal_lower:
                    # case-insensitive match: renamed to the spec's spelling (no warning today)
                    params[legal_lower[k.lower()]] = params.pop(k)
                else:
                    unsupported.append(k)
        if unsupported:
            msg = f"Unsupported parameters for ({self.module_name}) module: {', '.join(sorted(unsupported))}"
            raise ArgumentError(f"{self.ctx(msg)}. Supported parameters include: {', '.join(sorted(legal))}")
        return params

    def _typed(self, name: str, opt: dict[str, Any], raw: Any) -> Any:
        """The value converted to the option's type, and checked against its choices."""
        type_ = opt.get("type", "str")
        try:
            value = self.conv[type_](raw)
        except (ValueError, TypeError) as exc:
            raise ArgumentError(
                self.ctx(
                    f"argument for {name} is of type {dotnet_type(raw)} and we were unable to "
                    f"convert to {type_}: {exc}"
                )
            ) from None
        choices = [parse_str(c) for c in opt.get("choices") or []]
        if choices:
            values = [parse_str(v) for v in value] if type_ == "list" else [parse_str(value)]
            bad = [v for v in values if v.lower() not in {c.lower() for c in choices}]
            if bad:
                word = "one or more of" if type_ == "list" else "one of"
                raise ArgumentError(
                    self.ctx(
                        f"value of {name} must be {word}: {', '.join(choices)}. "
                        f"Got no match for: {', '.join(bad)}"
                    )
                )
        return value

    def _check_dependencies(self, spec: ModuleSpec, params: dict[str, Any]) -> None:
        """required_together, required_one_of, required_if, required_by."""
        for group in spec.required_together:
            found = [g in params for g in group]
            if any(found) and not all(found):
                raise ArgumentError(self.ctx(f"parameters are required together: {', '.join(group)}"))
        for group in spec.required_one_of:
            if not any(g in params for g in group):
                raise ArgumentError(self.ctx(f"one of the following is required: {', '.join(group)}"))
        for req in spec.required_if:
            key, val, reqs = req[0], req[1], req[2]
            any_ = len(req) > 3 and req[3]
            if params.get(key) is None or parse_str(params[key]) != parse_str(val):
                continue
            missing = [r for r in reqs if r not in params]
            if len(missing) >= (len(reqs) if any_ else 1):
                term = "any" if any_ else "all"
                raise ArgumentError(
                    self.ctx(f"{key} is {val} but {term} of the following are missing: {', '.join(missing)}")
                )
        for key, reqs in spec.required_by.items():
            if key in params:
                missing = [r for r in reqs if r not in params]
                if missing:
                    raise ArgumentError(
                        self.ctx(f"missing parameter(s) required by '{key}': {', '.join(missing)}")
                    )

    def _element(self, name: str, elements: str, el: Any) -> Any:
        try:
            return self.conv[elements](el)
        except (ValueError, TypeError) as exc:
            raise ArgumentError(
                self.ctx(
                    f"argument for list entry {name} is of type {dotnet_type(el)} and we were unable "
                    f"to convert to {elements}: {exc}"
                )
            ) from None

    def _sub(self, name: str, sub: dict[str, dict[str, Any]], value: Any) -> dict[str, Any]:
        self.context.append(name)
        try:
            return self.check(sub, parse_dict(value), root=False, spec=None, check_mode=False)
        finally:
            self.context.pop()


def validate(
    spec: ModuleSpec,
    args: dict[str, Any],
    *,
    module_name: str,
    check_mode: bool,
    expand: Callable[[str], str],
) -> dict[str, Any]:
    """Validate ``args`` (no ``_ansible_*`` keys) the way the real module would.

    Returns the parameters with defaults filled and types converted. Raises ArgumentError with the
    module's failure message, or CheckModeSkip when Ansible.Basic would skip the module."""
    if spec.accept_unknown:
        extra = {k: {"type": "raw"} for k in args if not k.startswith("_") and k not in spec.options}
        spec = replace(spec, options={**spec.options, **extra})
    if spec.style == "basic":
        return _Validator(module_name, expand).check(
            spec.options, args, root=True, spec=spec, check_mode=check_mode
        )
    return _legacy(spec, args, expand)


def _legacy(spec: ModuleSpec, args: dict[str, Any], expand: Callable[[str], str]) -> dict[str, Any]:
    """Get-AnsibleParam semantics for each documented option; other keys pass through untouched."""
    params = dict(args)
    for name, opt in spec.options.items():
        found = next((a for a in [name, *(opt.get("aliases") or [])] if a in params), None)
        if found is None:
            if opt.get("required"):
                raise ArgumentError(f"Get-AnsibleParam: Missing required argument: {name}")
            params[name] = opt.get("default")
            continue
        value = params[found]
        choices = opt.get("choices")
        if choices and value not in choices and parse_str(value).lower() not in [c.lower() for c in choices]:
            raise ArgumentError(
                f"Get-AnsibleParam: Argument {found} needs to be one of {','.join(choices)} but was {value}."
            )
        if value is None:
            params[name] = None
            continue
        type_ = opt.get("type")
        if type_ == "path":
            value = expand(parse_str(value))
        elif type_ == "str":
            value = parse_str(value)
        elif type_ == "bool":
            value = value is True or parse_str(value).lower() in ("yes", "on", "1", "true")
        elif type_ == "int":
            try:
                value = int(parse_str(value))
            except ValueError:
                value = None
        elif type_ == "list":
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",")]
            elif isinstance(value, int):
                value = [value]
            elif not isinstance(value, list):
                raise ArgumentError(f"Get-AnsibleParam: Parameter '{found}' is not a YAML list.")
        params[name] = value
    return params
