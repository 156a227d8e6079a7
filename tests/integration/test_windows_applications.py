"""The applications role (avd.golden.windows_applications) on one simulated VM over real WinRM.

Real installers (an MSI built by wixl, a PE built by binutils, both signed by osslsigncode with a
code-signing certificate of the VM's sandbox CA) served by a local HTTPS server: check mode changes
nothing and downloads nothing, an install with two reboot exit codes reboots once, a second run
changes nothing and downloads nothing, and a failing installer names the application, its exit code
and the tail of its log, which lands in the artifacts. The harness is tests/support/build_vm.py, as
in test_windows_roles.py.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import installers as ti
from tests.support.build_vm import BuildVm, PlayResult
from tests.support.file_server import FileServer
from tests.support.paths import REPO

sys.path.insert(0, str(REPO / "collections"))
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.applications import (
    check_applications,
)
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import Checker

pytestmark = pytest.mark.integration

PLAY = Path(__file__).resolve().parent / "windows_roles" / "applications.yml"
UNINSTALL = r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"
EXE_KEY = UNINSTALL + r"\Sample EXE installer"
STATE_KEYS = ("registry", "files", "appx_provisioned")


@pytest.fixture
def vm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[BuildVm]:
    if ti.missing_tools():
        pytest.fail(f"test installers need {', '.join(ti.missing_tools())}: run make setup", pytrace=False)
    monkeypatch.setenv("ANSIBLE_COLLECTIONS_PATH", str(REPO / "collections"))
    build_vm = BuildVm(tmp_path)
    try:
        yield build_vm
    finally:
        build_vm.close()
    assert build_vm.unmodelled() == []


@pytest.fixture
def served(vm: BuildVm, tmp_path: Path) -> Iterator[tuple[FileServer, dict[str, Any]]]:
    www = tmp_path / "www"
    www.mkdir()
    cert = ti.code_signing_cert(vm.world.ca, tmp_path)
    msi = ti.sign(ti.build_msi(www / "contoso-tool.msi"), cert)
    exe = ti.sign(ti.build_exe(www / "sample-setup.exe"), cert)
    with FileServer(www, vm.world.ca) as server:
        yield server, {"msi": msi, "exe": exe, "thumbprint": ti.thumbprint(cert)}


def _entries(server: FileServer, files: dict[str, Any]) -> list[dict[str, Any]]:
    """The image spec's applications section, normalised as the validate phase does."""
    msi, exe = files["msi"], files["exe"]
    section = [
        {
            "name": "Contoso Tool",
            "kind": "msi",
            "version": msi.version,
            "download": {
                "url": server.url(msi.path.name),
                "sha256": msi.sha256,
                "signer": {"thumbprint": files["thumbprint"]},
            },
            "detection": {"product_code": msi.product_code},
        },
        {
            "name": "Sample EXE",
            "kind": "exe",
            "version": exe.version,
            "download": {
                "url": server.url(exe.path.name),
                "sha256": exe.sha256,
                "signer": {"subject": "CN=Contoso Code Signing, O=Contoso Ltd"},
            },
            "detection": {
                "registry": {
                    "key": r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\Sample EXE installer",
                    "name": "DisplayVersion",
                    "value": exe.version,
                }
            },
            "timeout_minutes": 5,
        },
    ]
    c = Checker(dt.date.today())
    entries = check_applications(c, {"applications": section})
    assert c.errors == []
    return entries


def _play(vm: BuildVm, tmp_path: Path, apps: list[dict[str, Any]], *args: str) -> PlayResult:
    extra = tmp_path / "apps.json"
    extra.write_text(json.dumps({"apps": apps, "artifacts_dir": str(tmp_path / "artifacts")}))
    return vm.play(str(PLAY), "-e", f"@{extra}", *args)


def _dump(vm: BuildVm) -> dict[str, Any]:
    with vm.host.lock:
        return vm.host.dump()[vm.name]


def _value(dump: dict[str, Any], key: str, name: str) -> Any:
    for path, values in dump["registry"]["HKLM"].items():
        if path.lower() == key.lower():
            return values.get(name)
    return None


def _task(run: PlayResult, name: str) -> dict[str, Any] | None:
    found = None
    for play in run.data["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"].split(" : ", 1)[-1] == name:
                found = task["hosts"]["buildvm"]
    return found


def test_check_mode_then_install_with_one_reboot_then_no_change(vm, served, tmp_path):
    server, files = served
    apps = _entries(server, files)
    msi_key = UNINSTALL + "\\" + files["msi"].product_code
    before = _dump(vm)

    check = _play(vm, tmp_path, apps, "--check")
    assert check.rc == 0, check.explain()
    after_check = _dump(vm)
    for key in STATE_KEYS:
        assert after_check[key] == before[key], f"check mode changed {key}"
    assert server.requests == [], "check mode downloaded"
    whatif = json.loads((tmp_path / "artifacts" / "whatif" / "applications.json").read_text())
    assert {e["id"] for e in whatif["entries"] if e["changed"]} == {"Contoso Tool", "Sample EXE"}

    # Both installers exit with a reboot code: the role reboots once, after both.
    vm.fault("installer_exit", installer="Contoso Tool", rc=3010)
    vm.fault("installer_exit", installer="Sample EXE installer", rc=1641)
    first = _play(vm, tmp_path, apps)
    assert first.rc == 0, first.explain()
    reboot = _task(first, "install | Reboot because an installer asked for it")
    assert reboot is not None and reboot["changed"], first.explain()
    dump = _dump(vm)
    assert dump["boot_time_filetime"] != before["boot_time_filetime"]
    assert dump["pending_reboot"] == []
    assert _value(dump, msi_key, "DisplayVersion") == ["REG_SZ", "1.2.3"]
    assert _value(dump, EXE_KEY, "DisplayVersion") == ["REG_SZ", "2.5.0"]
    assert r"C:\Program Files\Contoso Tool\readme.txt" in dump["files"]
    assert not [
        p
        for p in dump["files"]
        if p.startswith("C:\\ProgramData\\avd-golden\\applications\\")
        and p.lower().endswith((".msi", ".exe"))
    ], "the installers were left on the image"
    assert sorted(server.requests) == ["/contoso-tool.msi", "/sample-setup.exe"]
    part = json.loads((tmp_path / "artifacts" / "manifest" / "applications.json").read_text())
    entries = {e["id"]: e for e in part["entries"]}
    assert entries["Contoso Tool"]["after"] == {
        "kind": "msi",
        "version": "1.2.3",
        "sha256": files["msi"].sha256,
        "signer": {"subject": "CN=Contoso Code Signing, O=Contoso Ltd", "thumbprint": files["thumbprint"]},
    }
    assert entries["Sample EXE"]["changed"] and entries["Sample EXE"]["before"] is None

    boot = dump["boot_time_filetime"]
    second = _play(vm, tmp_path, apps)
    assert second.rc == 0, second.explain()
    assert second.stats["changed"] == 0, second.explain()
    assert len(server.requests) == 2, "the second run downloaded"
    assert _dump(vm)["boot_time_filetime"] == boot, "an unchanged run rebooted"
    assert json.loads((tmp_path / "artifacts" / "manifest" / "applications.json").read_text()) == part


def test_a_failing_installer_names_the_application_its_code_and_log(vm, served, tmp_path):
    server, files = served
    apps = _entries(server, files)[:1]
    vm.fault("installer_exit", installer="Contoso Tool", rc=1603)
    run = _play(vm, tmp_path, apps)
    assert run.rc != 0
    message = _task(run, "application | Fail naming the application, its exit code and the tail of its log")[
        "msg"
    ]
    assert message.startswith(
        "application 'Contoso Tool' (msi 1.2.3) failed in 'Run the MSI or EXE installer'"
    )
    assert "exit code 1603" in message
    assert "Installation success or error status: 1603" in message
    log = (tmp_path / "artifacts" / "applications" / "Contoso_Tool.log").read_bytes().decode("utf-16")
    assert "Installation success or error status: 1603" in log
    assert _value(_dump(vm), UNINSTALL + "\\" + files["msi"].product_code, "DisplayVersion") is None


def test_a_wrong_checksum_names_the_application_and_the_cause(vm, served, tmp_path):
    server, files = served
    apps = _entries(server, files)[:1]
    apps[0]["download"]["sha256"] = "0" * 64
    run = _play(vm, tmp_path, apps)
    assert run.rc != 0
    message = _task(run, "application | Fail naming the application, its exit code and the tail of its log")[
        "msg"
    ]
    assert message.startswith(
        f"application 'Contoso Tool': the download of {server.url('contoso-tool.msi')} failed"
    )
    assert "SHA-256 does not match" in message and "0" * 64 in message
    assert _value(_dump(vm), UNINSTALL + "\\" + files["msi"].product_code, "DisplayVersion") is None


def test_a_wrong_signer_names_both_subjects_and_runs_nothing(vm, served, tmp_path):
    server, files = served
    apps = _entries(server, files)[:1]
    apps[0]["download"]["signer"] = {
        "subject": "CN=Fabrikam Code Signing, O=Fabrikam Ltd",
        "thumbprint": None,
    }
    run = _play(vm, tmp_path, apps)
    assert run.rc != 0
    message = _task(run, "application | Fail naming the application, its exit code and the tail of its log")[
        "msg"
    ]
    assert message.startswith("application 'Contoso Tool'"), message
    assert "Check the installer's Authenticode signer" in message, message
    assert "signed by 'CN=Contoso Code Signing, O=Contoso Ltd'" in message, message
    assert "not by the pinned subject 'CN=Fabrikam Code Signing, O=Fabrikam Ltd'" in message, message
    assert server.requests == ["/contoso-tool.msi"]
    assert _value(_dump(vm), UNINSTALL + "\\" + files["msi"].product_code, "DisplayVersion") is None
