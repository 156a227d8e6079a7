"""Fixture that runs an Ansible module's main() in-process and captures its result."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

REPO_ROOT = Path(__file__).resolve().parents[4]
# Modules import module_utils as ansible_collections.avd.golden...; collections/ holds that path.
sys.path.insert(0, str(REPO_ROOT / "collections"))


class ModuleExit(Exception):
    """Raised instead of exit_json / fail_json so a test can inspect the result."""

    def __init__(self, result: dict[str, Any], failed: bool) -> None:
        super().__init__(result.get("msg", ""))
        self.result = result
        self.failed = failed


def _exit(self: basic.AnsibleModule, **kwargs: Any) -> None:
    kwargs.setdefault("changed", False)
    raise ModuleExit(kwargs, failed=False)


def _fail(self: basic.AnsibleModule, msg: str, **kwargs: Any) -> None:
    raise ModuleExit({"msg": msg, **kwargs}, failed=True)


def _run_module(
    main: Callable[[], None], args: dict[str, Any], check_mode: bool = False, diff: bool = False
) -> tuple[dict[str, Any], bool, list[str]]:
    """Return (result, failed, warnings) of one module run."""
    full = dict(args)
    full["_ansible_check_mode"] = check_mode
    full["_ansible_diff"] = diff
    warnings: list[str] = []
    with (
        patch_module_args(full),
        mock.patch.object(basic.AnsibleModule, "exit_json", _exit),
        mock.patch.object(basic.AnsibleModule, "fail_json", _fail),
        mock.patch.object(basic.AnsibleModule, "warn", lambda self, w: warnings.append(w)),
    ):
        try:
            main()
        except ModuleExit as done:
            return done.result, done.failed, warnings
    raise AssertionError("the module returned without exit_json or fail_json")


@pytest.fixture
def run_module() -> Callable[..., tuple[dict[str, Any], bool, list[str]]]:
    """``run_module(main, args, check_mode=False, diff=False)`` -> (result, failed, warnings)."""
    return _run_module


@pytest.fixture
def documented_fields() -> Callable[[str], set[str]]:
    """``documented_fields(heading)``: the backticked names in the first column of the table under
    ``heading`` in docs/contracts.md, so a test can hold a file format and its documentation together."""

    def _fields(heading: str) -> set[str]:
        text = (REPO_ROOT / "docs" / "contracts.md").read_text()
        section = text.split(heading, 1)[1].split("\n#", 1)[0]
        rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
        return {name for row in rows for name in re.findall(r"`([^`]+)`", row)}

    return _fields
