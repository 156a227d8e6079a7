"""Unit tests for the sysprep log diagnosis (avd.golden.sysprep_log_diagnosis)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.filter.sysprep import (  # noqa: E402
    FilterModule,
    sysprep_log_diagnosis,
)
from ansible_collections.avd.golden.plugins.plugin_utils._sysprep import diagnose_logs  # noqa: E402

COPILOT = "Microsoft.Copilot_1.25.0.0_x64__8wekyb3d8bbwe"
FIXTURES = Path(__file__).parent / "fixtures" / "sysprep"


def _read(name: str | None) -> str | None:
    return None if name is None else (FIXTURES / name).read_text()


@pytest.mark.parametrize(
    ("setupact", "setuperr", "cause", "needle"),
    [
        (
            "setupact_appx.log",
            "setuperr_appx.log",
            "appx_user_only",
            "Microsoft.Copilot_1.25.0.0_x64__8wekyb3d8bbwe",
        ),
        ("setupact_appx.log", None, "appx_user_only", "0x80073cf2"),
        (None, "setuperr_bitlocker.log", "bitlocker", "0x80310039"),
        (None, "setuperr_pending_reboot.log", "pending_reboot", "reboot before sysprep"),
        (None, "setuperr_servicing.log", "servicing_in_progress", "0x800F0975"),
        ("setupact_unknown.log", None, "unknown", "Could not load DLL C:\\Windows\\System32\\Example.dll"),
    ],
)
def test_cause_is_named(setupact: str | None, setuperr: str | None, cause: str, needle: str) -> None:
    diagnosis = diagnose_logs(_read(setupact), _read(setuperr))
    assert diagnosis["cause"] == cause
    assert needle in diagnosis["message"]
    assert diagnosis["lines"], "the lines that show the cause are quoted"


def test_appx_packages_listed_once_with_their_lines() -> None:
    diagnosis = diagnose_logs(_read("setupact_appx.log"), _read("setuperr_appx.log"))
    assert diagnosis["packages"] == [COPILOT]
    assert len(diagnosis["lines"]) == 1
    assert "was installed for a user, but not provisioned" in diagnosis["lines"][0]


def test_several_packages() -> None:
    text = "\n".join(
        f"2026-11-27 21:30:01, Error                 SYSPRP Package {name} was installed for a user, "
        "but not provisioned for all users. This package will not function properly in the sysprep image."
        for name in ("A.One_1.0.0.0_x64__abc", "B.Two_2.0.0.0_neutral__abc", "A.One_1.0.0.0_x64__abc")
    )
    diagnosis = diagnose_logs(text, None)
    assert diagnosis["packages"] == ["A.One_1.0.0.0_x64__abc", "B.Two_2.0.0.0_neutral__abc"]
    assert "A.One_1.0.0.0_x64__abc, B.Two_2.0.0.0_neutral__abc" in diagnosis["message"]


def test_upgraded_os() -> None:
    line = "2026-11-27 21:35:00, Error [0x0f0036] SYSPRP spopk.dll:: Sysprep will not run on an upgraded OS."
    assert diagnose_logs(line, "")["cause"] == "upgraded_os"


@pytest.mark.parametrize(("setupact", "setuperr"), [(None, None), ("", ""), ("", None)])
def test_no_logs(setupact: str | None, setuperr: str | None) -> None:
    diagnosis = diagnose_logs(setupact, setuperr)
    assert diagnosis["cause"] == "no_logs"
    assert diagnosis["lines"] == []


def test_info_only_log_is_unknown_without_quotes() -> None:
    diagnosis = diagnose_logs("2026-11-27 21:34:00, Info SYSPRP Beginning of a new sysprep run\n", None)
    assert diagnosis["cause"] == "unknown"
    assert diagnosis["lines"] == []


def test_filter_validates_types_and_is_registered() -> None:
    assert FilterModule().filters()["sysprep_log_diagnosis"] is sysprep_log_diagnosis
    with pytest.raises(AnsibleFilterError, match="setupact must be the log text"):
        sysprep_log_diagnosis(["not", "text"])
    assert sysprep_log_diagnosis(_read("setupact_appx.log"))["cause"] == "appx_user_only"
