"""The Windows Update rounds' decisions: plan, loop detection, the cap, failures, the manifest."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import pytest
import yaml

from tests.support.paths import REPO

# The plugins import their logic as ansible_collections.avd.golden...; collections/ holds that path.
sys.path.insert(0, str(REPO / "collections"))

from ansible_collections.avd.golden.plugins.module_utils import _manifest
from ansible_collections.avd.golden.plugins.plugin_utils import _windows_update as wu

SHIPPED = yaml.safe_load((REPO / "roles" / "windows_update" / "vars" / "deny_list.yml").read_text())
ON = {"enabled": True, "categories": ["SecurityUpdates"], "include": [], "exclude": [], "use_deny_list": True}
LCU = {
    "id": "g-lcu",
    "title": "2026-06 Cumulative Update (KB5089573)",
    "kb": ["5089573"],
    "categories": ["Security Updates"],
}
MSRT = {"id": "g-msrt", "title": "MSRT (KB890830)", "kb": ["890830"], "categories": ["Update Rollups"]}


def _search(*updates: dict[str, Any]) -> dict[str, Any]:
    return {"changed": False, "updates": {u["id"]: dict(u, installed=False) for u in updates}}


def _install(*updates: dict[str, Any], reboot: bool = True, **fields: Any) -> dict[str, Any]:
    return {
        "changed": True,
        "reboot_required": reboot,
        "updates": {u["id"]: dict(u, **fields) for u in updates},
    }


def test_the_shipped_deny_list_is_valid_and_names_its_sources() -> None:
    entries = wu.deny_list(SHIPPED)
    assert {e["kb"] for e in entries} >= {"KB5007651"}
    assert all(e["reference"] and e["reason"] for e in entries)


@pytest.mark.parametrize(
    ("version", "rejected"),
    [
        ("26100.4061.250510", {"^KB5007651$"}),  # 24H2: the Security platform loop
        ("19045.5854.250509", {"^KB5034441$"}),  # Windows 10: the WinRE update
        ("", {"^KB5007651$", "^KB5034441$"}),  # unknown build: every entry
    ],
)
def test_the_deny_list_applies_to_the_source_build(version: str, rejected: set[str]) -> None:
    assert set(wu.plan(ON, SHIPPED, version)["reject"]) == rejected


def test_include_passes_the_deny_list_with_a_warning_and_exclude_extends_it() -> None:
    settings = {**ON, "include": ["kb5007651"], "exclude": [{"kb": "KB5034441", "reason": None}, "KB5000001"]}
    state = wu.plan(settings, SHIPPED, "26100.4061.250510")
    assert state["accept"] == ["^KB5007651$"]
    assert state["reject"] == ["^KB5000001$", "^KB5034441$"]
    assert any("KB5007651" in w and "windows_update.include" in w for w in state["warnings"])
    assert wu.plan({**ON, "use_deny_list": False}, SHIPPED, "26100.4061.250510")["reject"] == []


@pytest.mark.parametrize(
    ("days", "version", "runs", "warned"),
    [
        (30, "26100.4061.250510", False, False),  # 2025-05-10 is 20 days before today
        (10, "26100.4061.250510", True, False),
        (30, "latest", True, True),  # no date to judge by: runs, with a warning
        (None, "26100.4061.250510", True, False),
    ],
)
def test_the_already_current_shortcut(days: Any, version: str, runs: bool, warned: bool) -> None:
    state = wu.plan({**ON, "already_current_days": days}, SHIPPED, version, today=dt.date(2025, 5, 30))
    assert state["run"] is runs
    assert ("days old" in state["skip_reason"]) is (not runs)
    assert any("carries no date" in w for w in state["warnings"]) is warned


def test_disabled_does_not_run() -> None:
    assert wu.plan({**ON, "enabled": False}, SHIPPED)["skip_reason"] == "windows_update.enabled is false"


@pytest.mark.parametrize("bad", ["KB12", "5089573", "KB5089573x", None, 7])
def test_a_bad_kb_names_the_field(bad: Any) -> None:
    with pytest.raises(wu.UpdatePlanError, match=r"windows_update_include\[0\]"):
        wu.plan({**ON, "include": [bad]}, SHIPPED)


def test_rounds_install_then_a_reinstalling_update_is_excluded_with_a_warning() -> None:
    state = wu.plan(ON, SHIPPED, "26100.4061.250510")
    state = wu.step(state, _search(LCU, MSRT), "search", 1, 5)
    assert [u["pattern"] for u in state["to_install"]] == ["^KB5089573$", "^KB890830$"]
    assert not state["done"]
    state = wu.step(state, _install(LCU, MSRT, installed=True), "install", 1)
    assert [(i["kb"], i["round"]) for i in state["installed"]] == [("KB5089573", 1), ("KB890830", 1)]
    assert state["reboot_required"] and not state["failure"]
    # Round 2: the same MSRT update (same id) is offered again; a new definitions revision is not a loop.
    defs = {
        "id": "g-defs-2",
        "title": "Defender (KB2267602)",
        "kb": ["2267602"],
        "categories": ["Definition Updates"],
    }
    state = wu.step(state, _search(MSRT, defs), "search", 2, 5)
    assert [x["kb"] for x in state["looping"]] == ["KB890830"]
    assert "^KB890830$" in state["reject"]
    assert any(
        w.startswith("KB890830 is excluded: offered again after it installed in round 1")
        for w in state["warnings"]
    )
    assert [u["kb"] for u in state["to_install"]] == ["KB2267602"]
    part = _manifest.build_part("updates", wu.manifest(state)["results"])
    assert [f["id"] for f in part["failed"]] == ["KB890830"]
    assert {e["id"]: e["after"]["round"] for e in part["entries"]} == {"KB5089573": 1, "KB890830": 1}


def test_a_rerun_carries_the_earlier_run_and_changes_nothing() -> None:
    state = wu.plan(ON, SHIPPED, "26100.4061.250510")
    state = wu.step(state, _install(MSRT, installed=True), "install", 1)
    state = wu.step(state, _search(MSRT), "search", 2, 5)
    first = _manifest.build_part("updates", **wu.manifest(state))
    again = wu.plan(ON, SHIPPED, "26100.4061.250510", previous=first)
    assert "^KB890830$" in again["reject"] and [x["kb"] for x in again["looping"]] == ["KB890830"]
    again = wu.step(again, _search(), "search", 1, 5)
    assert again["done"]
    second = _manifest.merge(first, _manifest.build_part("updates", **wu.manifest(again)))
    assert second == first


def test_the_cap_leaves_what_the_last_search_still_finds() -> None:
    state = wu.step(wu.plan(ON, SHIPPED), _search(LCU), "search", 3, 2)
    assert state["done"] and state["capped"] and state["to_install"] == []
    assert "after 2 rounds (windows_update.max_rounds): KB5089573" in state["cap_message"]
    assert not wu.step(wu.plan(ON, SHIPPED), _search(), "search", 3, 2)["capped"]


def test_check_mode_ends_after_one_search_and_lists_the_what_if() -> None:
    state = wu.step(wu.plan(ON, SHIPPED), _search(LCU, MSRT), "search", 1, 5, check_mode=True)
    assert state["done"]
    entries = _manifest.build_part("updates", wu.manifest(state)["results"])["entries"]
    assert {e["id"] for e in entries} == {"KB5089573", "KB890830"}


def test_a_failed_install_names_the_kb_and_its_hresult() -> None:
    failed = _install(MSRT, installed=False, failure_hresult_code=-2147023293, failure_msg="Fatal error")
    state = wu.step(wu.plan(ON, SHIPPED), dict(failed, failed=True, msg="Failed to install"), "install", 2)
    assert (
        state["failure"]
        == "Windows Update round 2: KB890830 (MSRT (KB890830)) failed with 0x80070643: Fatal error"
    )
    with pytest.raises(wu.UpdatePlanError, match="search failed: boom"):
        wu.step(state, {"failed": True, "msg": "boom"}, "search", 3, 5)
