"""The Windows Update model and the win_updates twin: the start / poll / cancel protocol the
upstream action plugin drives, the catalogue per image, reboots, 0x80240016 and the faults."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from sandbox.guest_api import NotModelled, SourceImage
from sandbox.windows.guest import StillRunning
from sandbox.windows.modules import _wu_model
from sandbox.windows.state import IMAGES_DIR, WindowsState

CATEGORIES = ["SecurityUpdates", "CriticalUpdates", "UpdateRollups", "DefinitionUpdates"]


def _op(run: Any, operation: str, options: dict | None = None, *, check: bool = False, **args: Any) -> dict:
    return run(
        "win_updates", {**args, "_operation": operation, "_operation_options": options or {}}, check=check
    )


def _task(run: Any, *, check: bool = False, **args: Any) -> list[dict[str, Any]]:
    """What the action plugin sees of one update task: start, polls until exit, cancel."""
    args.setdefault("category_names", CATEGORIES)
    start = _op(run, "start", check=check, **args)
    assert not start.get("failed"), start
    lines: list[dict[str, Any]] = []
    while not lines or lines[-1]["task"] != "exit":
        poll = _op(run, "poll", start["poll_options"])
        assert poll["output"], poll
        lines += poll["output"]
    assert not _op(run, "cancel", start["cancel_options"]).get("failed")
    return lines


def _by_task(lines: list[dict[str, Any]], task: str) -> dict[str, Any]:
    return next(line["result"] for line in lines if line["task"] == task)


def _selected(lines: list[dict[str, Any]]) -> list[str]:
    search = _by_task(lines, "search_result")
    filtered = {f["id"] for f in search["filtered"]}
    return sorted(u["kb"][0] for u in search["updates"] if u["id"] not in filtered)


def test_every_marketplace_image_has_a_windows_update_model(make_guest: Any) -> None:
    skus = yaml.safe_load((IMAGES_DIR / "skus.yaml").read_text())
    for image in skus["images"]:
        guest = make_guest(
            SourceImage(image["publisher"], image["offer"], image["sku"], f"{image['build']}.1.250101")
        )
        lcus = [u for u in _wu_model.offered(guest) if u["ubr"] is not None]
        assert len(lcus) == 1, (image["sku"], [u["kb"] for u in lcus])  # only the newest: supersedence


def test_search_offers_the_newest_cumulative_update_and_what_needs_it_only_after(
    guest: WindowsState, run: Any
) -> None:
    lines = _task(run, state="searched")
    assert _selected(lines) == ["KB2267602", "KB5007651", "KB5089573", "KB890830"]
    assert _by_task(lines, "exit") == {"changed": False, "failed": False, "reboot_required": False}
    search = _by_task(lines, "search_result")
    preview = next(u for u in search["updates"] if u["kb"] == ["KB5089574"])
    assert preview["browse_only"]
    assert next(f["reasons"] for f in search["filtered"] if f["id"] == preview["id"]) == ["category_names"]
    lines = _task(run, reject_list=["^KB5007651$"], skip_optional=True)
    result = _by_task(lines, "install_result")
    assert all(i["result_code"] == 2 for i in result["info"])
    assert _by_task(lines, "exit")["reboot_required"] is True
    assert guest.pending_reboot_reasons() == ["ComponentBasedServicing", "WindowsUpdate"]
    # Before the reboot: a reboot is required first (the module's own check).
    blocked = _task(run, accept_list=["^KB5089560$"])
    assert (
        _by_task(blocked, "exit")["exception"]["message"]
        == "A reboot is required before more updates can be installed"
    )
    guest.reboot()
    assert guest.ubr == 8524 and guest.pending_reboot_reasons() == []
    assert "KB5089560" in _selected(_task(run, state="searched", reject_list=["^KB5007651$"]))


def test_a_pending_servicing_reboot_fails_the_install_with_0x80240016(guest: WindowsState, run: Any) -> None:
    guest.inject_fault({"kind": "pending_reboot", "reason": "cbs"})
    lines = _task(run, accept_list=["^KB890830$"])
    exit_ = _by_task(lines, "exit")
    assert exit_["failed"] and exit_["exception"]["hresult"] & 0xFFFFFFFF == 0x80240016
    assert "KB890830" not in {u["kb"] for u in guest.updates_installed}


def test_check_mode_lists_and_installs_nothing(guest: WindowsState, run: Any) -> None:
    before = len(guest.updates_installed)
    lines = _task(run, check=True)
    assert [line["task"] for line in lines] == ["search_result", "exit"]
    assert _by_task(lines, "exit")["changed"] is True
    assert len(guest.updates_installed) == before


def test_a_reinstalling_update_is_offered_again_after_the_reboot(guest: WindowsState, run: Any) -> None:
    guest.inject_fault({"kind": "update_reinstalls", "kb": "KB890830"})
    lines = _task(run, accept_list=["^KB890830$"])
    assert _by_task(lines, "install_result")["info"][0]["reboot_required"] is True
    first_id = _by_task(lines, "install_result")["info"][0]["id"]
    guest.reboot()
    again = _by_task(_task(run, state="searched", accept_list=["^KB890830$"]), "search_result")["updates"]
    assert first_id in {u["id"] for u in again}  # the same update, not a new revision


def test_a_failing_update_reports_its_hresult(guest: WindowsState, run: Any) -> None:
    guest.inject_fault({"kind": "update_fails", "kb": "KB890830", "hresult": 0x80070643})
    lines = _task(run, accept_list=["^KB890830$"])
    assert _by_task(lines, "install_result")["info"][0]["result_code"] == 4
    assert _by_task(lines, "install_result")["info"][0]["hresult"] & 0xFFFFFFFF == 0x80070643
    assert _by_task(lines, "exit")["exception"]["message"].startswith("Failed to install all updates")


def test_a_hanging_install_blocks_the_poll_until_the_task_is_cancelled(guest: WindowsState, run: Any) -> None:
    guest.inject_fault({"kind": "update_hangs", "kb": "KB890830"})
    start = _op(run, "start", category_names=CATEGORIES, accept_list=["^KB890830$"])
    first = _op(run, "poll", start["poll_options"])
    assert [line["task"] for line in first["output"]] == ["search_result", "download_result"]
    with pytest.raises(StillRunning) as blocked:
        _op(run, "poll", start["poll_options"])
    assert blocked.value.resume() is None
    _op(run, "cancel", start["cancel_options"])
    assert blocked.value.resume()["failed"]
    assert guest.windows_update["jobs"] == {}
    assert "KB890830" in {u["kb"] for u in guest.updates_available}


def test_unknown_and_unmodelled_options_fail_loudly(run: Any) -> None:
    result = run("win_updates", {"category_names": CATEGORIES, "reboot_delay": 5, "_operation": "start"})
    assert result["failed"] and "Unsupported parameters" in result["msg"] and "reboot_delay" in result["msg"]
    with pytest.raises(NotModelled, match="log_path"):
        _op(run, "start", category_names=CATEGORIES, log_path=r"C:\Windows\Temp\wu.log")


def test_faults_name_a_kb_of_the_catalogue(guest: WindowsState) -> None:
    with pytest.raises(ValueError, match="not in this guest's Windows Update catalogue"):
        guest.inject_fault({"kind": "update_reinstalls", "kb": "KB1234567"})
