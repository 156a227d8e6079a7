"""The guest side of application installs: real downloads, hashes, signatures and installers.

Real files (an MSI from wixl, a PE from binutils, both signed by osslsigncode with a certificate of
a test CA) served over real HTTPS, through the simulated modules the windows_applications role uses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sandbox import pki
from sandbox.guest_api import NotModelled
from sandbox.windows.installers import msix, pe
from sandbox.windows.state import WindowsState
from tests.support import installers as ti
from tests.support.file_server import FileServer

if ti.missing_tools():
    pytest.fail(f"test installers need {', '.join(ti.missing_tools())}: run make setup", pytrace=False)

UNINSTALL = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"
WORK = r"C:\ProgramData\avd-golden\applications\Contoso_Tool"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("installers")
    ca = pki.ensure_ca(root / "pki")
    other_ca = pki.ensure_ca(root / "other-pki")
    cert = ti.code_signing_cert(ca, root / "pki")
    stranger = ti.code_signing_cert(other_ca, root / "other-pki", "Someone Else")
    www = root / "www"
    www.mkdir()
    signed = ti.sign(ti.build_msi(www / "contoso.msi"), cert)
    unsigned = ti.build_msi(www / "unsigned.msi", name="Unsigned Tool")
    foreign = ti.sign(ti.build_msi(www / "foreign.msi", name="Foreign Tool"), stranger)
    exe = ti.sign(ti.build_exe(www / "sample-setup.exe"), cert)
    return {
        "ca": ca,
        "cert": cert,
        "www": www,
        "msi": signed,
        "unsigned": unsigned,
        "foreign": foreign,
        "exe": exe,
    }


@pytest.fixture
def server(files: dict[str, Any]) -> Iterator[FileServer]:
    with FileServer(files["www"], files["ca"]) as srv:
        yield srv


@pytest.fixture
def trusting(guest: WindowsState, files: dict[str, Any]) -> WindowsState:
    guest.trusted_ca = str(files["ca"].cert)
    guest.fs.mkdir(WORK)
    return guest


def _get(
    run: Callable[..., dict[str, Any]], server: FileServer, name: str, sha: str, **kw: Any
) -> dict[str, Any]:
    args = {
        "url": server.url(name),
        "dest": f"{WORK}\\{name}",
        "checksum": sha,
        "checksum_algorithm": "sha256",
    }
    return run("win_get_url", {**args, **kw})


def test_download_is_real_https_and_checks_the_sha256(trusting, run, server, files):
    msi = files["msi"]
    first = _get(run, server, "contoso.msi", msi.sha256)
    assert first["changed"] and first["status_code"] == 200, first
    assert trusting.fs.read(f"{WORK}\\contoso.msi") == msi.path.read_bytes()
    assert trusting.bytes_downloaded == msi.path.stat().st_size
    again = _get(run, server, "contoso.msi", msi.sha256, force=False)
    assert not again["changed"] and server.requests == ["/contoso.msi"], "a matching file was fetched again"


def test_wrong_sha256_fails_and_writes_nothing(trusting, run, server):
    result = _get(run, server, "contoso.msi", "0" * 64)
    assert result["failed"] and "did not match '" + "0" * 64 + "'" in result["msg"], result
    assert not trusting.fs.exists(f"{WORK}\\contoso.msi")


def test_missing_file_is_a_404(trusting, run, server):
    result = _get(run, server, "nope.msi", "0" * 64)
    assert result["failed"] and result["status_code"] == 404, result
    assert "(404) Not Found" in result["msg"]


def test_a_server_the_guest_does_not_trust_fails(guest, run, server):
    guest.trusted_ca = None
    guest.fs.mkdir(WORK)
    result = _get(run, server, "contoso.msi", "0" * 64)
    assert result["failed"] and "CERTIFICATE_VERIFY_FAILED" in result["msg"], result


def _put(guest: WindowsState, installer: ti.Installer) -> str:
    path = f"{WORK}\\{installer.path.name}"
    guest.fs.write(path, installer.path.read_bytes())
    return path


def test_authenticode_reports_the_real_signer(trusting, run, files):
    path = _put(trusting, files["msi"])
    thumbprint = ti.thumbprint(files["cert"])
    ok = run("avd.golden.win_authenticode", {"path": path, "thumbprint": thumbprint.lower()})
    assert not ok.get("failed"), ok
    assert ok["status"] == "Valid" and ok["subject"] == "CN=Contoso Code Signing, O=Contoso Ltd"
    assert ok["thumbprint"] == thumbprint
    wrong = run("avd.golden.win_authenticode", {"path": path, "subject": "CN=Microsoft Corporation"})
    assert wrong["failed"] and "not by the pinned subject 'CN=Microsoft Corporation'" in wrong["msg"]


@pytest.mark.parametrize(
    ("key", "status"),
    [("unsigned", "NotSigned"), ("foreign", "UnknownError")],
    ids=["unsigned", "untrusted-root"],
)
def test_authenticode_refuses_unsigned_and_untrusted(trusting, run, files, key, status):
    result = run("avd.golden.win_authenticode", {"path": _put(trusting, files[key])})
    assert result["failed"] and result["status"] == status, result


def test_authenticode_sees_a_changed_file(trusting, run, files):
    data = bytearray(files["exe"].path.read_bytes())
    data[0x200] ^= 0xFF  # inside .text: covered by the signed digest
    trusting.fs.write(f"{WORK}\\changed.exe", bytes(data))
    result = run("avd.golden.win_authenticode", {"path": f"{WORK}\\changed.exe"})
    assert result["failed"] and result["status"] == "HashMismatch", result


def test_msi_installs_what_its_database_says(trusting, run, files):
    msi = files["msi"]
    path = _put(trusting, msi)
    detect = {
        "name": "Contoso Tool",
        "kind": "msi",
        "version": "1.2.3",
        "detection": {"product_code": msi.product_code},
    }
    assert (
        run("avd.golden.win_app_detect", {"applications": [detect]})["applications"][0]["installed"] is False
    )
    args = {
        "path": path,
        "product_id": msi.product_code,
        "log_path": f"{WORK}\\install.log",
        "state": "present",
    }
    result = run("win_package", args)
    assert result["changed"] and result["rc"] == 0 and not result["reboot_required"], result
    key = f"{UNINSTALL}\\{msi.product_code}"
    assert trusting.registry.get_value(key, "DisplayVersion").data == "1.2.3"
    assert trusting.registry.get_value(key, "DisplayName").data == "Contoso Tool"
    assert trusting.registry.get_value(key, "WindowsInstaller").data == 1
    assert trusting.fs.read(r"C:\Program Files\Contoso Tool\readme.txt") == b"Contoso Tool 1.2.3\n"
    assert trusting.registry.get_value(r"HKLM\SOFTWARE\Contoso Ltd\Contoso Tool", "Version").data == "1.2.3"
    assert "Installation success or error status: 0" in trusting.fs.read(f"{WORK}\\install.log").decode(
        "utf-16"
    )
    found = run("avd.golden.win_app_detect", {"applications": [detect]})["applications"][0]
    assert found == {"name": "Contoso Tool", "installed": True, "version": "1.2.3", "detected_by": key}
    assert not run("win_package", args)["changed"]


def test_msi_exit_code_fault_names_the_code_and_returns_the_log(trusting, run, files, guest):
    guest.inject_fault({"kind": "installer_exit", "installer": "Contoso Tool", "rc": 1603})
    path = _put(trusting, files["msi"])
    result = run(
        "win_package", {"path": path, "log_path": f"{WORK}\\install.log", "expected_return_code": [0, 3010]}
    )
    assert result["failed"] and result["rc"] == 1603, result
    assert (
        "unexpected rc from" in result["msg"]
        and "Installation success or error status: 1603" in result["log"]
    )
    assert not trusting.registry.exists(f"{UNINSTALL}\\{files['msi'].product_code}")


def test_msi_3010_installs_and_asks_for_a_reboot(trusting, run, files, guest):
    guest.inject_fault({"kind": "installer_exit", "installer": "contoso.msi", "rc": 3010})
    result = run("win_package", {"path": _put(trusting, files["msi"])})
    assert result["rc"] == 3010 and result["reboot_required"] and not result.get("failed"), result
    assert trusting.registry.exists(f"{UNINSTALL}\\{files['msi'].product_code}")
    assert "PendingFileRename" in trusting.pending_reboot_reasons()


def test_sample_exe_behaviour_is_keyed_by_its_version_resource(trusting, run, files):
    exe = files["exe"]
    assert pe.version_strings(exe.path.read_bytes())["ProductName"] == "Sample EXE installer"
    assert pe.fixed_file_version(exe.path.read_bytes()) == "2.5.0.0"
    path = _put(trusting, exe)
    creates = r"C:\Program Files\Sample EXE installer\sample-setup.exe"
    args = {
        "path": path,
        "arguments": "/quiet /norestart",
        "creates_path": creates,
        "creates_version": "2.5.0.0",
    }
    assert run("win_package", args)["changed"]
    assert run("win_package", args)["changed"] is False
    silent_missing = run("win_package", {"path": path, "product_id": "Not There"})
    assert silent_missing["failed"] and silent_missing["rc"] == 1602


def test_an_exe_nobody_modelled_fails_loudly_naming_it(trusting, run, files, tmp_path):
    other = ti.build_exe(tmp_path / "other.exe", product="Something Else")
    with pytest.raises(
        NotModelled, match=r"other.exe is not modelled by the sandbox .*ProductName='Something Else'"
    ):
        run("win_package", {"path": _put(trusting, other)})


def test_msix_identity_and_unsigned_refusal(tmp_path, guest, run):
    import zipfile

    package = tmp_path / "notes.msix"
    with zipfile.ZipFile(package, "w") as z:
        z.writestr(
            "AppxManifest.xml",
            '<Package xmlns="http://schemas.microsoft.com/appx/manifest/foundation/windows10">'
            '<Identity Name="Contoso.Notes" Version="1.4.2.0" Publisher="CN=Contoso"/></Package>',
        )
    ident = msix.identity(package.read_bytes())
    assert ident["Name"] == "Contoso.Notes" and ident["Signed"] == "false"
    guest.fs.mkdir(WORK)
    guest.fs.write(f"{WORK}\\notes.msix", package.read_bytes())
    result = run(
        "avd.golden.win_appx_provision",
        {"path": f"{WORK}\\notes.msix", "name": "Contoso.Notes", "version": "1.4.2.0"},
    )
    assert result["failed"] and "0x800B0100" in result["msg"], result
    assert not [p for p in guest.appx_provisioned if p["name"] == "Contoso.Notes"]


def test_winget_is_not_pretended(run):
    with pytest.raises(NotModelled, match="winget sources are not modelled"):
        run("avd.golden.win_winget", {"id": "Git.Git", "version": "2.47.1"})


def test_sha256_helper_matches_hashlib(files):
    data = files["msi"].path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == files["msi"].sha256
