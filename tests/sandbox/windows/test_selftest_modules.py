"""Self-tests of the WinRM double with real ansible-playbook: modules, facts, check mode, async."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.build_vm import BuildVm

REPO = Path(__file__).resolve().parents[3]


def test_ping_raw_and_fact_gathering(build_vm: BuildVm):
    result = build_vm.play("ping_facts.yml")
    assert result.rc == 0, result.explain()
    assert result.task("Ping")["ping"] == "pong"
    facts = result.task("Show facts")["msg"]
    assert facts["hostname"].lower() == build_vm.computer_name
    assert facts["os_family"] == "Windows"
    assert "multi-session" in facts["distribution"]  # seeded from win11-24h2-avd
    assert facts["raw"].lower() == build_vm.computer_name
    assert build_vm.unmodelled() == []
    counts = build_vm.host.vms[build_vm.vm_id].modules
    assert counts.get("ansible.windows.win_ping") == 1
    assert counts.get("ansible.windows.setup") == 1


def test_regedit_check_mode_diff_then_change_then_idempotent(build_vm: BuildVm):
    key = r"HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services"
    result = build_vm.play("regedit.yml")
    assert result.rc == 0, result.explain()
    check = result.task("Set fSelftest in check mode with diff")
    assert check["changed"] is True
    assert "diff" in check and check["diff"]["before"] != check["diff"]["after"]
    assert result.task("Set fSelftest")["changed"] is True
    assert result.task("Set fSelftest again")["changed"] is False
    with build_vm.host.lock:
        value = build_vm.guest.registry.get_value(key, "fSelftest")
    assert value is not None and value.data == 1 and value.type == "REG_DWORD"
    assert build_vm.unmodelled() == []


def test_check_mode_leaves_the_guest_unchanged(build_vm: BuildVm):
    result = build_vm.play("one_task.yml", "--check", "--diff")
    assert result.rc == 0, result.explain()
    assert result.task("Set fSelftestFault")["changed"] is True
    with build_vm.host.lock:
        assert build_vm.guest.registry.get_value(r"HKLM\SOFTWARE\AvdSelftest", "fSelftestFault") is None


def test_async_poll_and_async_status(build_vm: BuildVm):
    result = build_vm.play("async.yml")
    assert result.rc == 0, result.explain()
    polled = result.task("Ping asynchronously and poll")
    assert polled["finished"] in (True, 1) and polled["ping"] == "polled"
    started = result.task("Ping asynchronously without polling")
    assert started["started"] in (True, 1) and started["finished"] in (False, 0)
    status = result.task("Wait for the job")
    assert status["ansible_job_id"] == started["ansible_job_id"]
    assert status["finished"] in (True, 1) and status["ping"] == "fire-and-forget"
    assert build_vm.unmodelled() == []


def test_win_copy_transfer_is_idempotent_and_fetch_returns_it(build_vm: BuildVm, tmp_path: Path):
    payload = bytes(range(256)) * 1500  # 384000 bytes: more than one 250000-byte put_file chunk
    src = tmp_path / "payload.bin"
    src.write_bytes(payload)
    fetched = tmp_path / "fetched.bin"
    result = build_vm.play("copy.yml", "-e", f"selftest_src={src}", "-e", f"selftest_fetch_dest={fetched}")
    assert result.rc == 0, result.explain()
    assert result.task("Copy the payload")["changed"] is True
    assert result.task("Copy the payload again")["changed"] is False
    with build_vm.host.lock:
        assert build_vm.guest.read_file(r"C:\Temp\selftest\payload.bin") == payload
    assert fetched.read_bytes() == payload
    assert build_vm.unmodelled() == []


def test_become_runas_system_runs_the_module(build_vm: BuildVm):
    # become_wrapper.ps1 precedes module_wrapper.ps1 in the exec manifest; the guest does not
    # model user contexts, so the module runs as usual (and nothing is reported as unmodelled).
    result = build_vm.play("become.yml")
    assert result.rc == 0, result.explain()
    assert result.task("Ping as SYSTEM")["ping"] == "pong"
    assert build_vm.unmodelled() == []


def test_batch_registry_module_and_firewall_rule(build_vm: BuildVm, monkeypatch: pytest.MonkeyPatch):
    # avd.golden is found through the repository's collections/ folder, as the Makefile sets it.
    monkeypatch.setenv("ANSIBLE_COLLECTIONS_PATH", str(REPO / "collections"))
    result = build_vm.play("batch_modules.yml")
    assert result.rc == 0, result.explain()
    check, apply = result.task("Registry values in check mode with diff"), result.task("Registry values")
    assert check["changed"] is True and [c["name"] for c in check["changes"]] == [
        "fEnableTimeZoneRedirection",
        "PreInstalledAppsEnabled",
        "ExtensionSettings",
    ]
    assert check["changes"] == apply["changes"] and check["diff"]["after"] != check["diff"]["before"]
    assert apply["changes"][1]["before"] == {"type": "dword", "data": 1}
    assert apply["default_user_hive_loaded"] is True
    again = result.task("Registry values again")
    assert again["changed"] is False and again["unchanged"] == 3
    failed = result.task("A value that cannot be merged")
    assert failed["changed"] is True and failed["msg"].startswith(
        r"values[2]: default_user\Control Panel\Desktop\UserPreferencesMask is not a JSON object"
    )
    assert [c["name"] for c in failed["changes"]] == ["DragFullWindows", "ExtensionSettings"]
    assert result.task("Firewall rule in check mode with diff")["changed"] is True
    assert result.task("Firewall rule")["changed"] is True
    assert result.task("Firewall rule again")["changed"] is False
    with build_vm.host.lock:
        guest = build_vm.guest
        ts = r"HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services"
        assert guest.registry.get_value(ts, "fEnableTimeZoneRedirection").data == 1
        assert guest.registry.open(r"HKLM\AVD_DEFAULT_USER") is None  # unloaded, also after the failure
        desktop = guest.registry.hive_files[r"c:\users\default\ntuser.dat"].walk(["Control Panel", "Desktop"])
        assert desktop.get("DragFullWindows").data == "0"
        rules = [r for r in guest.firewall_rules.values() if r["display_name"].startswith("RemoteDesktop-")]
        assert len(rules) == 1 and rules[0]["local_port"] == "3390" and rules[0]["protocol"] == "UDP"
    counts = build_vm.host.vms[build_vm.vm_id].modules
    assert counts.get("avd.golden.win_registry_set") == 4
    assert build_vm.unmodelled() == []
