"""sysprep.exe and shutdown.exe through win_command / win_shell: success, each failure mode, logs."""

from __future__ import annotations

import pytest

SYSPREP = r"C:\Windows\System32\Sysprep\sysprep.exe"
QUIT = f"{SYSPREP} /generalize /oobe /mode:vm /quiet /quit"
SHUTDOWN = f"{SYSPREP} /generalize /oobe /mode:vm /quiet /shutdown"
SETUPACT = r"C:\Windows\System32\Sysprep\Panther\setupact.log"
SETUPERR = r"C:\Windows\System32\Sysprep\Panther\setuperr.log"
TAG = r"C:\Windows\System32\Sysprep\Sysprep_succeeded.tag"


def log(guest, path):
    return guest.fs.read(path).decode()


def test_success_quit(run, guest, arm):
    result = run("win_command", {"_raw_params": QUIT})
    assert result["changed"] is True and result["rc"] == 0 and "failed" not in result
    assert guest.image_state() == "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
    assert guest.fs.is_file(TAG)
    text = log(guest, SETUPACT)
    assert "SYSPRP ===          Beginning of a new sysprep run          ===" in text
    assert ", Info       [0x0f00b7] SYSPRP WinMain:Sysprep mode [vm]; was specified" in text
    assert "SYSPRP ParseCommands:Found supported command line option 'GENERALIZE'" in text
    assert (
        "Updating image state from [IMAGE_STATE_COMPLETE] --> [IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE]" in text
    )
    assert "WinMain:Quitting..." in text
    assert log(guest, SETUPERR) == ""
    assert b"IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE" in guest.fs.read(r"C:\Windows\Setup\State\State.ini")
    assert guest.take_power_request() is None and arm.shutdowns == []
    assert guest.listener_reset_at_boot is True


def test_success_shutdown_requests_power_off(run, guest):
    result = run(
        "win_command", {"argv": [SYSPREP, "/oobe", "/generalize", "/shutdown", "/quiet", "/mode:vm"]}
    )
    assert result["rc"] == 0
    assert guest.image_state() == "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
    assert guest.take_power_request() == ("shutdown", 0.0)
    assert guest.take_power_request() is None


def test_generalize_drops_the_listener_at_the_next_boot(run, guest):
    guest.configure_listener("CERT", "KEY", "AB" * 20)
    run("win_command", {"_raw_params": QUIT})
    assert guest.winrm_listener() is not None  # the running WinRM service still answers (ImageState polling)
    guest.reboot()
    assert guest.winrm_listener() is None


def test_shutdown_calls_arm(guest, arm):
    guest.shutdown()
    assert arm.shutdowns == [guest.vm_id] and guest.powered is False


@pytest.mark.parametrize(
    "cmd",
    [
        "%WINDIR%\\System32\\Sysprep\\sysprep.exe /generalize /oobe /mode:vm /quit",
        '"C:\\Windows\\System32\\Sysprep\\Sysprep.exe" /OOBE /Generalize /QUIET /QUIT /MODE:VM',
    ],
)
def test_argument_forms_windows_accepts(run, guest, cmd):
    assert run("win_command", {"cmd": cmd})["rc"] == 0
    assert guest.image_state() == "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ("/oobe /mode:vm /quit", "/mode:vm is only supported together with /generalize"),
        ("/generalize /mode:vm /quit", "one of /oobe or /audit is required"),
        ("/generalize /oobe /audit /quit", "/oobe and /audit cannot be used together"),
        ("/generalize /oobe /quit /shutdown", "only one of /quit, /shutdown or /reboot may be given"),
        ("/generalize /oobe /mode:hyperv /quit", "invalid mode '/mode:hyperv'"),
        ("/generalize /oobe /fast /quit", "unknown command-line switch '/fast'"),
        ("generalize /oobe /quit", "invalid command-line argument 'generalize'"),
    ],
)
def test_invalid_command_lines(run, guest, args, reason):
    result = run("win_command", {"_raw_params": f"{SYSPREP} {args}"})
    assert result["failed"] is True and result["rc"] == 1 and result["msg"] == "non-zero return code"
    assert reason in result["stderr"]
    assert guest.image_state() == "IMAGE_STATE_COMPLETE"
    assert "WinMain:Invalid command line" in log(guest, SETUPERR)


def test_sysprep_not_on_path(run):
    result = run("win_command", {"_raw_params": "sysprep.exe /generalize /oobe /quit"})
    assert result["failed"] and result["rc"] == 2 and "cannot find the file" in result["msg"]
    assert (
        run(
            "win_command",
            {
                "_raw_params": "sysprep.exe /generalize /oobe /quit /mode:vm",
                "chdir": r"C:\Windows\System32\Sysprep",
            },
        )["rc"]
        == 0
    )


def _failed_run(run, guest):
    result = run("win_command", {"_raw_params": SHUTDOWN})
    # sysprep's exit code does not signal validation failures; ImageState and the logs do.
    assert result["rc"] == 0
    assert guest.image_state() == "IMAGE_STATE_COMPLETE"
    assert not guest.fs.exists(TAG)
    assert guest.take_power_request() is None  # a failed sysprep does not shut down
    return log(guest, SETUPACT), log(guest, SETUPERR)


def test_user_appx_blocks_sysprep(run, guest):
    guest.inject_fault({"kind": "user_appx", "package": "Microsoft.Copilot"})
    ((user, full_name),) = guest.appx_not_provisioned()
    assert (
        user == "avdadmin"
        and full_name.startswith("Microsoft.Copilot_")
        and full_name.endswith("_x64__8wekyb3d8bbwe")
    )
    act, err = _failed_run(run, guest)
    for text in (act, err):
        assert (
            f"SYSPRP Package {full_name} was installed for a user, but not provisioned for all users. "
            "This package will not function properly in the sysprep image."
        ) in text
        assert "SYSPRP Failed to remove apps for the current user: 0x80073cf2." in text
        assert "AppxSysprep.dll; dwRet = 0x3cf2" in text
    assert "hr = 0x80073cf2" in err


def test_user_appx_for_unprovisioned_package(run, guest):
    guest.inject_fault(
        {"kind": "user_appx", "package": "Microsoft.WidgetsPlatformRuntime", "version": "1.4.0.0"}
    )
    _act, err = _failed_run(run, guest)
    assert (
        "Package Microsoft.WidgetsPlatformRuntime_1.4.0.0_x64__8wekyb3d8bbwe was installed for a user" in err
    )


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "bitlocker_on"},
        {"kind": "bitlocker_on", "protection": "Off"},
        {"kind": "bitlocker_encrypting"},
    ],
)
def test_bitlocker_blocks_sysprep(run, guest, fault):
    guest.inject_fault(fault)
    _act, err = _failed_run(run, guest)
    assert (
        "BitLocker-Sysprep: BitLocker is on for the OS volume. Turn BitLocker off to run Sysprep. (0x80310039)"  # noqa: E501 - message text
        in err
    )
    assert "'ValidateBitLockerState' from C:\\Windows\\System32\\BdeSysprep.dll" in err


@pytest.mark.parametrize("reason", ["cbs", "windows_update", "file_rename"])
def test_pending_reboot_blocks_sysprep(run, guest, reason):
    guest.inject_fault({"kind": "pending_reboot", "reason": reason})
    _act, err = _failed_run(run, guest)
    assert (
        "Sysprep_Clean_Validate_Opk: There are one or more Windows updates that require a reboot. "
        "To run Sysprep, reboot the computer and restart Sysprep."
    ) in err
    guest.reboot()
    assert run("win_command", {"_raw_params": QUIT})["rc"] == 0
    assert guest.image_state() == "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"


def test_generic_sysprep_fault_is_consumed(run, guest):
    guest.inject_fault({"kind": "sysprep_fail", "count": 1})
    _act, err = _failed_run(run, guest)
    assert "sandbox fault sysprep_fail" in err
    assert run("win_command", {"_raw_params": QUIT})["rc"] == 0
    assert guest.image_state() == "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
    # The first run's error lines stay (the logs are appended); the successful run added none.
    assert len(log(guest, SETUPERR).splitlines()) == 3


def test_logs_append_across_runs(run, guest):
    guest.inject_fault({"kind": "bitlocker_on"})
    run("win_command", {"_raw_params": QUIT})
    run("win_command", {"_raw_params": QUIT})
    assert log(guest, SETUPACT).count("Beginning of a new sysprep run") == 2


@pytest.mark.parametrize(
    "cmd",
    [
        f"& '{SYSPREP}' /generalize /oobe /mode:vm /quiet /quit",
        r"& $env:SystemRoot\System32\Sysprep\sysprep.exe /generalize /oobe /mode:vm /quiet /quit",
        f"Start-Process -FilePath '{SYSPREP}' -ArgumentList '/generalize /oobe /mode:vm /quiet /quit' -Wait",
        f"Start-Process -FilePath \"{SYSPREP}\" -ArgumentList '/generalize', '/oobe', '/mode:vm', '/quit' -Wait",  # noqa: E501 - message text
    ],
)
def test_win_shell_forms(run, guest, cmd):
    assert run("win_shell", {"cmd": cmd})["rc"] == 0
    assert guest.image_state() == "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"


@pytest.mark.parametrize(
    ("module", "args", "msg"),
    [
        (
            "win_command",
            {"_raw_params": r"C:\Windows\System32\cmd.exe /c echo hi"},
            r"not simulated: C:\Windows\System32\cmd.exe /c echo hi",
        ),
        ("win_shell", {"cmd": "Get-Service | Stop-Service"}, "not simulated: Get-Service | Stop-Service"),
        ("win_shell", {"cmd": "Write-Output hello"}, "not simulated: Write-Output hello"),
    ],
)
def test_not_simulated_commands(run, module, args, msg):
    result = run(module, args)
    assert result["failed"] is True and result["msg"] == msg


def test_unmodelled_sysprep_variants_raise(run, guest):
    from sandbox.guest_api import NotModelled

    for args in ("/generalize /oobe /reboot", "/oobe /quit", "/generalize /oobe /mode:vm"):
        with pytest.raises(NotModelled):
            run("win_command", {"_raw_params": f"{SYSPREP} {args}"})


def test_shutdown_exe(run, guest):
    assert run("win_command", {"_raw_params": 'shutdown.exe /r /t 5 /c "planned"'})["rc"] == 0
    assert guest.power_request == ("reboot", 5.0)
    assert run("win_command", {"_raw_params": "shutdown /a"})["rc"] == 0
    assert guest.take_power_request() is None
    aborted = run("win_command", {"_raw_params": "shutdown /a"})
    assert aborted["failed"] and aborted["rc"] == 1116
    run("win_command", {"_raw_params": "shutdown.exe /s /t 0 /f"})
    assert guest.take_power_request() == ("shutdown", 0.0)
    run("win_command", {"_raw_params": "shutdown.exe /s"})
    assert guest.take_power_request() == ("shutdown", 30.0)  # shutdown.exe's default timeout


def test_creates_skips(run):
    result = run("win_command", {"_raw_params": QUIT, "creates": TAG.replace("Sysprep_succeeded.tag", "")})
    assert result["skipped"] is True and result["rc"] == 0 and result["msg"].startswith("skipped, since")
