"""The other simulated modules: changed / check mode / diff / idempotence and return values."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile

import pytest

TEMP = r"C:\Users\avdadmin\AppData\Local\Temp"


def test_win_ping(run):
    assert run("win_ping", {}) == {"changed": False, "ping": "pong"}
    assert run("win_ping", {"data": "hi"}, check=True)["ping"] == "hi"
    crash = run("win_ping", {"data": "crash"})
    assert crash["failed"] is True and "boom" in crash["msg"]


def test_setup_facts(run, guest):
    facts = run("setup", {})["ansible_facts"]
    assert facts["ansible_os_family"] == "Windows"
    assert facts["ansible_distribution"] == "Microsoft Windows 11 Enterprise multi-session"
    assert facts["ansible_distribution_version"] == "10.0.26100.0"
    assert facts["ansible_os_product_type"] == "server"  # ProductType 3 on multi-session
    assert facts["ansible_hostname"] == "avdbuild01"
    assert facts["ansible_env"]["USERPROFILE"] == r"C:\Users\avdadmin"
    assert facts["ansible_date_time"]["tz"] == "UTC"
    assert facts["ansible_user_sid"].endswith("-500")
    assert facts["ansible_reboot_pending"] is False
    assert facts["module_setup"] is True and facts["gather_subset"] == ["all"]
    run("win_timezone", {"timezone": "W. Europe Standard Time"})
    guest.inject_fault({"kind": "pending_reboot"})
    facts = run("setup", {"gather_subset": ["!all", "!min", "date_time", "platform"]})["ansible_facts"]
    assert facts["ansible_date_time"]["tz"] == "W. Europe Standard Time"
    assert facts["ansible_date_time"]["tz_offset"] in ("+01:00", "+02:00")
    assert facts["ansible_reboot_pending"] is True
    assert "ansible_env" not in facts and "ansible_os_family" not in facts
    warned = run("setup", {"gather_subset": "bogus"})
    assert warned["warnings"] == ["invalid value bogus specified in gather_subset"]


def test_setup_single_session_is_workstation(make_guest):
    from tests.support.windows_state import SINGLE

    g = make_guest(SINGLE)
    facts = g.run_module("ansible.windows.setup", {}, check_mode=False, diff=False, module_path="setup.ps1")
    assert facts["ansible_facts"]["ansible_os_product_type"] == "workstation"
    assert facts["ansible_facts"]["ansible_distribution"] == "Microsoft Windows 11 Enterprise"


def test_win_timezone(run, guest):
    check = run("win_timezone", {"timezone": "W. Europe Standard Time"}, check=True, diff=True)
    assert check["changed"] is True and check["previous_timezone"] == "UTC"
    assert check["diff"] == {"before": "UTC\n", "after": "W. Europe Standard Time\n"}
    assert guest.time_zone() == "UTC"
    assert run("win_timezone", {"timezone": "W. Europe Standard Time"})["changed"] is True
    assert guest.time_zone() == "W. Europe Standard Time"
    assert run("win_timezone", {"timezone": "W. Europe Standard Time"})["changed"] is False
    bad = run("win_timezone", {"timezone": "Mars Standard Time"})
    assert (
        bad["failed"]
        and bad["msg"] == "The specified timezone: Mars Standard Time isn't supported on the machine."
    )


def test_win_service_start_mode_and_state(run, guest):
    args = {"name": "Spooler", "start_mode": "disabled", "state": "stopped"}
    check = run("win_service", args, check=True, diff=True)
    assert check["changed"] is True
    assert (
        check["diff"]["before"]["start_mode"] == "auto" and check["diff"]["after"]["start_mode"] == "disabled"
    )
    assert check["diff"]["after"]["state"] == "stopped" and check["diff"]["before"]["password"] == "REDACTED"
    assert guest.services["spooler"].state == "started"
    done = run("win_service", args)
    assert done["changed"] is True and done["state"] == "stopped" and done["start_mode"] == "disabled"
    assert run("win_service", args)["changed"] is False
    refused = run("win_service", {"name": "Spooler", "state": "started"})
    assert refused["failed"] and "cannot be started" in refused["msg"]


def test_win_service_lookup_by_display_name_and_info_only(run):
    info = run("win_service", {"name": "Windows Azure Guest Agent"})
    assert (
        info["changed"] is False and info["name"] == "WindowsAzureGuestAgent" and info["state"] == "running"
    )
    missing = run("win_service", {"name": "nope", "state": "started"})
    assert (
        missing["failed"]
        and missing["msg"] == "Service 'nope' is not installed, need to set 'path' to create a new service"
    )
    assert run("win_service", {"name": "nope"}) == {"changed": False, "exists": False}


def test_win_service_dependencies_and_force(run, guest):
    stop = run("win_service", {"name": "BFE", "state": "stopped"})
    assert stop["failed"] and "because it has dependent services" in stop["msg"]
    forced = run("win_service", {"name": "BFE", "state": "stopped", "force_dependent_services": True})
    assert forced["changed"] and guest.services["mpssvc"].state == "stopped"
    started = run("win_service", {"name": "mpssvc", "state": "started"})
    assert started["changed"] and guest.services["bfe"].state == "started"  # dependencies start first
    assert run("win_service", {"name": "BFE"})["depended_by"] == ["mpssvc"]


def test_win_service_unmodelled_option(run):
    from sandbox.guest_api import NotModelled

    with pytest.raises(NotModelled, match="win_service option 'failure_actions'"):
        run("win_service", {"name": "Spooler", "failure_actions": [{"type": "restart"}]})


def test_win_service_create_and_remove(run, guest):
    created = run("win_service", {"name": "avdtest", "path": r"%SystemRoot%\avd.exe", "start_mode": "manual"})
    assert created["changed"] and guest.services["avdtest"].path == r"C:\Windows\avd.exe"
    assert run("win_service", {"name": "avdtest", "path": r"C:\Windows\avd.exe"})["changed"] is False
    assert run("win_service", {"name": "avdtest", "state": "absent"}, check=True)["changed"] is True
    assert "avdtest" in guest.services
    assert run("win_service", {"name": "avdtest", "state": "absent"})["changed"] is True
    assert "avdtest" not in guest.services
    assert run("win_service", {"name": "avdtest", "state": "absent"})["changed"] is False


def test_win_service_info(run):
    one = run("win_service_info", {"name": "RdAgent"})
    assert one["exists"] is True
    (svc,) = one["services"]
    assert (svc["name"], svc["state"], svc["start_mode"]) == ("RdAgent", "started", "auto")
    wild = run("win_service_info", {"name": "Xbl*"})
    assert [s["name"] for s in wild["services"]] == ["XblAuthManager", "XblGameSave"]
    assert run("win_service_info", {"name": "nope"}) == {"changed": False, "exists": False, "services": []}
    assert len(run("win_service_info", {})["services"]) > 40


def test_win_file(run, guest):
    d = r"C:\Build\Logs"
    assert run("win_file", {"path": d, "state": "directory"}, check=True)["changed"] is True
    assert not guest.fs.exists(d)
    assert run("win_file", {"path": d, "state": "directory"})["changed"] is True
    assert guest.fs.is_dir(r"C:\Build") and guest.fs.is_dir(d)
    assert run("win_file", {"path": d, "state": "directory"})["changed"] is False
    assert run("win_file", {"path": d + r"\a.txt", "state": "touch"})["changed"] is True
    assert guest.fs.read(d + r"\A.TXT") == b""
    assert (
        run("win_file", {"path": d + r"\a.txt", "state": "directory"})["msg"]
        == rf"path {d}\a.txt is not a directory"
    )
    assert (
        run("win_file", {"path": d + r"\b.txt", "state": "file"})["msg"]
        == rf"path {d}\b.txt will not be created"
    )
    u = r"C:\Windows\Panther\unattend.xml"
    assert run("win_file", {"path": u, "state": "absent"}, check=True)["changed"] is True and guest.fs.exists(
        u
    )
    assert run("win_file", {"path": u, "state": "absent"})["changed"] is True and not guest.fs.exists(u)
    assert run("win_file", {"path": u, "state": "absent"})["changed"] is False
    assert run("win_file", {"path": r"C:\Build", "state": "absent"})["changed"] is True
    assert not guest.fs.exists(d + r"\a.txt")


def test_win_stat(run, guest):
    guest.fs.write(r"C:\Temp2\data.bin", b"hello", make_parents=True)
    st = run("win_stat", {"path": r"c:\temp2\DATA.bin", "checksum_algorithm": "sha256"})["stat"]
    assert st["exists"] and st["isreg"] and not st["isdir"] and st["size"] == 5
    assert st["checksum"] == hashlib.sha256(b"hello").hexdigest() and st["extension"] == ".bin"
    assert st["path"] == r"C:\Temp2\data.bin" and st["filename"] == "data.bin"
    dir_st = run("win_stat", {"path": r"C:\Temp2"})["stat"]
    assert dir_st["isdir"] and dir_st["size"] == 5 and dir_st["attributes"] == "Directory"
    assert run("win_stat", {"path": r"C:\nope"})["stat"] == {"exists": False}


def test_slurp(run, guest):
    data = run("slurp", {"src": r"%WINDIR%\Panther\unattend.xml"})
    assert data["encoding"] == "base64" and b"<unattend" in base64.b64decode(data["content"])
    assert run("slurp", {"path": r"C:\Windows"})["msg"] == r"Path C:\Windows is a directory"
    assert run("slurp", {"src": r"C:\nope.txt"})["msg"] == r"Path C:\nope.txt is not found"


def test_win_copy_query_single_and_idempotence(run, guest):
    content = b"key=value\r\n"
    checksum = hashlib.sha1(content).hexdigest()  # noqa: S324 - win_copy's checksum
    query = {
        "_copy_mode": "query",
        "dest": r"C:\Build\conf.ini",
        "files": [{"src": "/x/conf.ini", "dest": "conf.ini", "checksum": checksum}],
        "directories": [],
        "force": True,
    }
    first = run("win_copy", dict(query, dest=r"C:\Build"))
    assert [f["dest"] for f in first["files"]] == ["conf.ini"] and first["changed"] is False
    tmp = guest.mkdtemp(r"%TEMP%", "ansible-tmp-1")
    guest.put_file(tmp + r"\source", content)
    single = run(
        "win_copy",
        {
            "_copy_mode": "single",
            "src": tmp + r"\source",
            "dest": "C:\\Build\\",
            "_original_basename": "conf.ini",
        },
    )
    assert single == {"changed": True}
    assert guest.fs.read(r"C:\Build\conf.ini") == content
    again = run("win_copy", dict(query, dest=r"C:\Build"))
    assert again["files"] == []


def test_win_copy_single_missing_parent(run, guest):
    guest.put_file(TEMP + r"\src", b"x")
    result = run("win_copy", {"_copy_mode": "single", "src": TEMP + r"\src", "dest": r"C:\NoSuch\file.txt"})
    assert result["failed"] and result["msg"] == r"Destination directory 'C:\NoSuch' does not exist"


def test_win_copy_explode(run, guest):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(base64.b64encode(b"sub").decode() + "/", b"")
        zf.writestr(base64.b64encode(b"sub/a.txt").decode(), b"A")
    guest.put_file(TEMP + r"\source.zip", buf.getvalue())
    result = run("win_copy", {"_copy_mode": "explode", "src": TEMP + r"\source.zip", "dest": r"C:\Out"})
    assert result["changed"] is True and guest.fs.read(r"C:\Out\sub\a.txt") == b"A"


def test_win_copy_remote(run, guest):
    guest.fs.write(r"C:\Src\a.txt", b"A", make_parents=True)
    result = run("win_copy", {"_copy_mode": "remote", "src": r"C:\Src\a.txt", "dest": "C:\\Dst\\"}, diff=True)
    assert result["changed"] is True and result["operation"] == "file_copy"
    assert result["dest"] == r"C:\Dst\a.txt" and result["size"] == 1
    assert guest.fs.read(r"C:\Dst\a.txt") == b"A"
    assert (
        run("win_copy", {"_copy_mode": "remote", "src": r"C:\Src\a.txt", "dest": "C:\\Dst\\"})["changed"]
        is False
    )


def test_optional_feature(run, guest):
    assert run("win_optional_feature", {"name": "TelnetClient"}, check=True)["changed"] is True
    assert guest.optional_features["TelnetClient"] == "Disabled"
    result = run("win_optional_feature", {"name": ["telnetclient"]})
    assert result == {"changed": True, "reboot_required": False}
    assert run("win_optional_feature", {"name": "TelnetClient"})["changed"] is False
    hv = run("win_optional_feature", {"name": "Microsoft-Hyper-V-All"})
    assert hv["reboot_required"] is True and "ComponentBasedServicing" in guest.pending_reboot_reasons()
    guest.reboot()
    assert guest.optional_features["Microsoft-Hyper-V-All"] == "Enabled"
    assert run("win_optional_feature", {"name": "Nope"})["msg"] == "Failed to find feature 'Nope'"


def test_capability(run, guest):
    name = "Language.Basic~~~de-DE~0.0.1.0"
    assert run("win_capability", {"name": name}, check=True) == {
        "changed": True,
        "capabilities": [name],
        "reboot_required": False,
    }
    assert guest.capabilities[name] == "NotPresent"
    assert run("win_capability", {"name": name})["changed"] is True
    assert run("win_capability", {"name": name}) == {
        "changed": False,
        "capabilities": [],
        "reboot_required": False,
    }
    removed = run("win_capability", {"name": "Browser.InternetExplorer*", "state": "absent"})
    assert removed["capabilities"] == ["Browser.InternetExplorer~~~~0.0.11.0"]
    assert run("win_capability", {"name": "Nope~~~~"})["msg"] == "Failed to find capability 'Nope~~~~'"


def test_async_status(run, guest):
    path = guest.write_async_result(
        r"%USERPROFILE%\.ansible_async",
        "j1.2",
        {"started": True, "finished": True, "ansible_job_id": "j1.2", "changed": True, "rc": 0},
    )
    assert path == r"C:\Users\avdadmin\.ansible_async\j1.2"
    status = run("async_status", {"jid": "j1.2", "_async_dir": r"%USERPROFILE%\.ansible_async"})
    assert status["finished"] is True and status["changed"] is True and status["rc"] == 0
    cleaned = run(
        "async_status", {"jid": "j1.2", "mode": "cleanup", "_async_dir": r"%USERPROFILE%\.ansible_async"}
    )
    assert cleaned == {"changed": False, "ansible_job_id": "j1.2", "erased": path}
    missing = run("async_status", {"jid": "j1.2", "_async_dir": r"%USERPROFILE%\.ansible_async"})
    # _async_dir is a path option: Get-AnsibleParam expanded it before the message was built
    assert missing["failed"] and missing["msg"] == r"could not find job at 'C:\Users\avdadmin\.ansible_async'"
    assert json.loads(json.dumps(missing))["finished"] == 1


def test_win_powershell_creates_and_unknown(run):
    from sandbox.guest_api import NotModelled

    assert (
        run("win_powershell", {"script": "anything", "creates": r"C:\Windows"})["msg"]
        == r"skipped, since C:\Windows exists"
    )
    with pytest.raises(NotModelled, match="unknown script"):
        run("win_powershell", {"script": "Get-Date"})
    assert run("win_powershell", {"path": r"C:\missing.ps1", "remote_src": True})["msg"] == (
        r"Could not find or access 'C:\missing.ps1' on Windows host"
    )


def test_unhandled_errors_look_like_module_wrapper_output(run, guest):
    crash = run("win_ping", {"data": "crash"})
    assert set(crash) == {"failed", "msg", "exception"}
    assert crash["msg"] == "Unhandled exception while executing module: boom"
    touch = run("win_file", {"path": r"C:\NoSuchDir\x.txt", "state": "touch"})
    assert (
        touch["msg"] == "Unhandled exception while executing module: "
        r"Could not find a part of the path 'C:\NoSuchDir\x.txt'."
    )
    # Start-Service -WhatIf does not fail in check mode, even for a disabled service
    guest.services["spooler"].start_mode = "disabled"
    guest.services["spooler"].state = "stopped"
    assert run("win_service", {"name": "Spooler", "state": "started"}, check=True)["changed"] is True


def test_service_registry_stays_consistent(run, guest):
    key = r"HKLM:\SYSTEM\CurrentControlSet\Services\DiagTrack"
    assert run("win_reg_stat", {"path": key, "name": "Start"})["value"] == 2
    # VDOT-style: disable through the registry; the SCM view follows
    assert run("win_regedit", {"path": key, "name": "Start", "data": 4, "type": "dword"})["changed"] is True
    assert run("win_service_info", {"name": "DiagTrack"})["services"][0]["start_mode"] == "disabled"
    # and the other way round
    run("win_service", {"name": "DiagTrack", "start_mode": "delayed"})
    assert run("win_reg_stat", {"path": key, "name": "Start"})["value"] == 2
    assert run("win_reg_stat", {"path": key, "name": "DelayedAutostart"})["value"] == 1
    run("win_service", {"name": "DiagTrack", "state": "absent", "force_dependent_services": True})
    assert run("win_reg_stat", {"path": key})["exists"] is False


def test_transfer_primitives_and_raw(guest):
    from sandbox.guest_api import NotModelled

    tmp = guest.mkdtemp(r"%TEMP%", "ansible-tmp-42")
    assert tmp == TEMP + r"\ansible-tmp-42" and guest.fs.is_dir(tmp)
    guest.put_file(tmp + r"\payload", b"\x00\x01")
    assert guest.read_file(tmp.upper() + r"\PAYLOAD") == b"\x00\x01"
    with pytest.raises(FileNotFoundError):
        guest.put_file(r"C:\NoSuchDir\x", b"")
    with pytest.raises(IsADirectoryError):
        guest.read_file(tmp)
    with pytest.raises(FileNotFoundError):
        guest.read_file(tmp + r"\nope")
    guest.remove_path(tmp)
    guest.remove_path(tmp)  # missing paths are ignored
    assert not guest.fs.exists(tmp)
    assert guest.run_raw("hostname") == ("avdbuild01\r\n", "", 0)
    with pytest.raises(NotModelled, match="raw script is not simulated: Get-Process"):
        guest.run_raw("Get-Process")
