"""Self-tests of the WinRM double with real ansible-playbook: modules, facts, check mode, async."""

from __future__ import annotations

from pathlib import Path

from tests.support.build_vm import BuildVm


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
