"""Unit tests for the sysprep preflight evaluator and its filter (avd.golden.sysprep_preflight)."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

REPO_ROOT = Path(__file__).resolve().parents[4]
# The filter imports its logic as ansible_collections.avd.golden...; collections/ holds that path.
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.filter.sysprep import (  # noqa: E402
    FilterModule,
    sysprep_preflight,
)
from ansible_collections.avd.golden.plugins.plugin_utils._sysprep import (  # noqa: E402
    PreflightError,
    evaluate_preflight,
)

FIXTURES = Path(__file__).parent / "fixtures" / "sysprep"


def _fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def _clean() -> dict[str, Any]:
    return _fixture("preflight_clean.json")


def _with(path: str, value: Any) -> dict[str, Any]:
    """The clean facts with one dotted field replaced (list indexes as numbers)."""
    facts = _clean()
    target: Any = facts
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    last = keys[-1]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return facts


COPILOT = "Microsoft.Copilot_1.25.0.0_x64__8wekyb3d8bbwe"
APPX = [
    {
        "name": "Microsoft.Copilot",
        "package_full_name": "Microsoft.Copilot_1.25.0.0_x64__8wekyb3d8bbwe",
        "users": ["BUILDVM\\avdadmin"],
    }
]


def test_clean_vm_is_ready() -> None:
    plan = evaluate_preflight(_clean())
    assert plan["ready"] is True
    assert plan["blockers"] == []
    assert plan["already_generalized"] is False


def test_accepts_the_json_string_the_collector_prints() -> None:
    text = (FIXTURES / "preflight_clean.json").read_text()
    assert evaluate_preflight(text) == evaluate_preflight(_clean())


@pytest.mark.parametrize(
    ("facts", "kwargs", "field", "expected"),
    [
        (_with("user_only_appx", APPX), {}, "remove_appx", ["Microsoft.Copilot_1.25.0.0_x64__8wekyb3d8bbwe"]),
        (_with("user_only_appx", APPX), {}, "appx_names", ["Microsoft.Copilot"]),
        (_with("pending_reboot.windows_update", True), {}, "reboot", True),
        (
            _with("pending_reboot.pending_file_rename", True),
            {},
            "reboot_reasons",
            ["PendingFileRenameOperations"],
        ),
        (_with("pending_reboot.pending_computer_rename", True), {}, "reboot", True),
        (_with("bitlocker.volume_status", "FullyEncrypted"), {}, "decrypt_bitlocker", True),
        (_with("bitlocker.volume_status", "EncryptionInProgress"), {}, "decrypt_bitlocker", True),
        # Decryption already running only needs the wait, even when decrypting is not allowed.
        (
            _with("bitlocker.volume_status", "DecryptionInProgress"),
            {"decrypt_bitlocker": False},
            "decrypt_bitlocker",
            True,
        ),
        (_with("bitlocker.volume_status", "NotAvailable"), {}, "decrypt_bitlocker", False),
        (_with("services.1.status", "Stopped"), {}, "start_services", ["RdAgent"]),
        (
            _with("unattend_files", ["C:\\Windows\\Panther\\unattend.xml"]),
            {},
            "remove_files",
            ["C:\\Windows\\Panther\\unattend.xml"],
        ),
        (_with("unattend_files", None), {}, "remove_files", []),
        (_with("image_state", "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"), {}, "already_generalized", True),
    ],
)
def test_plan_fields(facts: dict[str, Any], kwargs: dict[str, bool], field: str, expected: Any) -> None:
    plan = evaluate_preflight(facts, **kwargs)
    assert plan[field] == expected
    assert plan["blockers"] == []


@pytest.mark.parametrize(
    ("facts", "kwargs", "needles"),
    [
        (
            _with("user_only_appx", APPX),
            {"remove_user_appx": False},
            [
                "Microsoft.Copilot_1.25.0.0_x64__8wekyb3d8bbwe",
                "BUILDVM\\avdadmin",
                "windows_sysprep_remove_user_appx",
            ],
        ),
        (
            _with("bitlocker.volume_status", "FullyEncrypted"),
            {"decrypt_bitlocker": False},
            ["BitLocker", "FullyEncrypted", "windows_sysprep_decrypt_bitlocker"],
        ),
        (_with("services.0.exists", False), {}, ["WindowsAzureGuestAgent", "not installed"]),
        (_with("services", [_clean()["services"][0]]), {}, ["RdAgent", "not installed"]),
        (_with("services.1.start_mode", "Disabled"), {}, ["RdAgent", "disabled"]),
        (
            _with("image_state", "IMAGE_STATE_UNDEPLOYABLE"),
            {},
            ["IMAGE_STATE_UNDEPLOYABLE", "fresh marketplace VM"],
        ),
    ],
)
def test_blockers_name_the_cause(facts: dict[str, Any], kwargs: dict[str, bool], needles: list[str]) -> None:
    plan = evaluate_preflight(facts, **kwargs)
    assert plan["ready"] is False
    assert plan["remove_appx"] == []
    assert len(plan["blockers"]) == 1
    for needle in needles:
        assert needle in plan["blockers"][0]


def test_everything_at_once() -> None:
    plan = evaluate_preflight(_fixture("preflight_everything.json"))
    assert plan["blockers"] == []
    assert plan["remove_appx"] == ["Microsoft.Copilot_1.25.0.0_x64__8wekyb3d8bbwe"]
    assert plan["reboot_reasons"] == [
        "Component Based Servicing RebootPending",
        "PendingFileRenameOperations",
    ]
    assert plan["decrypt_bitlocker"] is True
    assert plan["start_services"] == ["WindowsAzureGuestAgent"]
    assert plan["remove_files"] == ["C:\\Windows\\Panther\\unattend.xml"]
    assert plan["ready"] is False


def test_input_is_not_modified() -> None:
    facts = _fixture("preflight_everything.json")
    before = copy.deepcopy(facts)
    evaluate_preflight(facts, remove_user_appx=False)
    assert facts == before


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "must be a JSON object"),
        ({"image_state": "IMAGE_STATE_COMPLETE"}, "lacks user_only_appx"),
        (_with("services", "RdAgent"), "services must be a list"),
    ],
)
def test_malformed_facts_are_refused(facts: Any, message: str) -> None:
    with pytest.raises(PreflightError, match=message):
        evaluate_preflight(facts)


def test_filter_wraps_errors_and_is_registered() -> None:
    assert FilterModule().filters()["sysprep_preflight"] is sysprep_preflight
    with pytest.raises(AnsibleFilterError, match="sysprep_preflight: preflight output lacks"):
        sysprep_preflight({})
    plan = sysprep_preflight(_with("user_only_appx", APPX), False)
    assert "Microsoft.Copilot_1.25.0.0_x64__8wekyb3d8bbwe" in plan["blockers"][0]
