"""The AVD software stack's installers in the simulated guest (sandbox/windows/installers/avd_stack.py).

Real files built by the tests (PE files with the version resources the behaviours are keyed by, an
MSIX package) run through the installer hook the install modules use.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sandbox import pki
from sandbox.guest_api import NotModelled
from sandbox.windows import installers
from sandbox.windows.installers import odt, pe
from sandbox.windows.state import WindowsState
from tests.support import installers as ti
from tests.support.windows_state import M365, SINGLE

if ti.missing_tools():
    pytest.fail(f"test installers need {', '.join(ti.missing_tools())}: run make setup", pytrace=False)

MS = "Microsoft Corporation"
UNINSTALL = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"
DIR = r"C:\ProgramData\avd-golden\avd-stack"
TEAMS_PUBLISHER = "CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("stack")
    cert = ti.code_signing_cert(pki.ensure_ca(root / "pki"), root / "pki")

    def exe(name: str, version: str, **strings: Any) -> Path:
        return ti.build_exe(root / name, version, company=MS, **strings).path

    return {
        "fslogix": exe("FSLogixAppsSetup.exe", "3.26.826.17182", product="Microsoft FSLogix Apps"),
        "fslogix_old": exe("FSLogixOld.exe", "3.25.401.15305", product="Microsoft FSLogix Apps"),
        "vc": exe("vc.exe", "14.44.35211.0", product="Visual C++", original_filename="VC_redist.x64.exe"),
        "vc_old": exe("vc-old.exe", "14.30.1.0", product="Visual C++", original_filename="VC_redist.x64.exe"),
        "webview2": exe("wv2.exe", "131.0.2903.99", product="Microsoft Edge WebView2 Runtime"),
        "bootstrapper": exe(
            "tb.exe", "1.0.2414501", product="Teams", original_filename="teamsbootstrapper.exe"
        ),
        "onedrive": exe("OneDriveSetup.exe", "25.20.202.1", product="Microsoft OneDrive"),
        "odt": exe("setup.exe", "16.0.18129.20100", product="Office Deployment Tool"),
        "unknown": exe("other.exe", "1.0.0", product="Microsoft Something Else"),
        "msix": ti.build_msix(
            root / "MSTeams-x64.msix", cert, "MSTeams", "25044.2208.3471.2155", TEAMS_PUBLISHER
        ).path,
        "other_msix": ti.build_msix(root / "Other.msix", cert, "Contoso.Notes", "1.0.0.0", "CN=Contoso").path,
    }


def put(guest: WindowsState, source: Path, name: str | None = None) -> str:
    path = f"{DIR}\\{name or source.name}"
    guest.fs.write(path, source.read_bytes(), make_parents=True)
    return path


def run(guest: WindowsState, files: dict[str, Path], key: str, arguments: str) -> installers.InstallResult:
    return installers.run(guest, put(guest, files[key]), arguments)[1]


def fslogix_entries(guest: WindowsState) -> list[str]:
    root = guest.registry.open(UNINSTALL)
    out = []
    for sub in root.subkey_names():
        name = guest.registry.get_value(f"{UNINSTALL}\\{sub}", "DisplayName")
        if name is not None and name.data == "Microsoft FSLogix Apps":
            out.append(guest.registry.get_value(f"{UNINSTALL}\\{sub}", "DisplayVersion").data)
    return out


def file_version(guest: WindowsState, path: str) -> str | None:
    return pe.fixed_file_version(guest.fs.read(path))


# --- FSLogix ---------------------------------------------------------------------------------------
def test_fslogix_upgrades_the_images_fslogix_in_place(guest: WindowsState, files: dict[str, Path]) -> None:
    assert fslogix_entries(guest) == ["3.25.626.21064"]  # the multi-session image's own
    result = run(guest, files, "fslogix", "/install /quiet /norestart")
    # Replacing FSLogix's loaded drivers asks for a restart.
    assert (result.rc, result.reboot_required) == (3010, True)
    assert fslogix_entries(guest) == ["3.26.826.17182"]
    assert file_version(guest, r"C:\Program Files\FSLogix\Apps\frxsvc.exe") == "3.26.826.17182"
    assert guest.services["frxsvc"].state == "started"
    assert guest.services["frxdrv"].service_type == "file_system_driver"
    assert guest.registry.get_value(r"HKLM\SYSTEM\CurrentControlSet\Services\frxdrv", "ImagePath") is not None


def test_fslogix_fresh_install_creates_its_groups(make_guest: Callable[..., WindowsState], files) -> None:
    guest = make_guest(SINGLE)
    assert fslogix_entries(guest) == [] and "FSLogix Profile Include List" not in guest.local_groups
    assert run(guest, files, "fslogix", "/install /quiet /norestart").rc == 0
    assert guest.local_groups["FSLogix Profile Include List"]["members"] == ["S-1-1-0"]
    assert guest.local_groups["FSLogix Profile Exclude List"]["members"] == []
    assert {"frxsvc", "frxccds", "frxdrv", "frxdrvvt", "frxccd"} <= set(guest.services)


def test_fslogix_never_downgrades(guest: WindowsState, files: dict[str, Path]) -> None:
    run(guest, files, "fslogix", "/install /quiet /norestart")
    result = run(guest, files, "fslogix_old", "/install /quiet /norestart")
    assert result.rc == 1638
    assert fslogix_entries(guest) == ["3.26.826.17182"]


def test_an_unmodelled_command_line_fails_loudly(guest: WindowsState, files: dict[str, Path]) -> None:
    with pytest.raises(NotModelled, match=r"FSLogixAppsSetup\.exe: the command line '/S' is not modelled"):
        run(guest, files, "fslogix", "/S")


def test_an_exe_no_behaviour_matches_fails_naming_what_it_carries(guest: WindowsState, files) -> None:
    with pytest.raises(NotModelled, match="ProductName='Microsoft Something Else'"):
        run(guest, files, "unknown", "/quiet")


# --- VC++ and WebView2 -----------------------------------------------------------------------------
def test_vc_redist_installs_and_a_newer_runtime_stays(guest: WindowsState, files: dict[str, Path]) -> None:
    assert run(guest, files, "vc", "/install /quiet /norestart").rc == 0
    key = r"HKLM\SOFTWARE\Microsoft\VisualStudio\14.0\VC\Runtimes\x64"
    assert guest.registry.get_value(key, "Version").data == "v14.44.35211.00"
    assert file_version(guest, r"C:\Windows\System32\vcruntime140.dll") == "14.44.35211.0"
    assert run(guest, files, "vc_old", "/install /quiet /norestart").rc == 1638
    assert guest.registry.get_value(key, "Version").data == "v14.44.35211.00"


def test_webview2_sets_the_runtimes_version(guest: WindowsState, files: dict[str, Path]) -> None:
    client = r"HKLM\SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
    assert run(guest, files, "webview2", "/silent /install").rc == 0
    assert guest.registry.get_value(client, "pv").data == "131.0.2903.99"
    assert run(guest, files, "webview2", "/silent /install").changes == []


# --- Teams -----------------------------------------------------------------------------------------
def test_bootstrapper_provisions_the_offline_msix(make_guest: Callable[..., WindowsState], files) -> None:
    guest = make_guest(M365)  # new Teams 24335.208.3315.1951 preinstalled
    msix = put(guest, files["msix"])
    result = run(guest, files, "bootstrapper", f'-p -o "{msix}"')
    assert result.rc == 0 and '"success": true' in result.stdout
    teams = [p for p in guest.appx_provisioned if p["name"] == "MSTeams"]
    assert [p["version"] for p in teams] == ["25044.2208.3471.2155"]
    folder = r"C:\Program Files\WindowsApps\MSTeams_25044.2208.3471.2155_x64__8wekyb3d8bbwe"
    assert guest.fs.is_file(folder + r"\ms-teams.exe")


@pytest.mark.parametrize(
    ("arrange", "code"),
    [
        ("missing", "0x80070002"),
        ("other", "0x80070057"),
    ],
)
def test_bootstrapper_reports_failure_as_json(guest: WindowsState, files, arrange: str, code: str) -> None:
    path = put(guest, files["other_msix"], "MSTeams-x64.msix") if arrange == "other" else f"{DIR}\\none.msix"
    result = run(guest, files, "bootstrapper", f'-p -o "{path}"')
    assert result.rc != 0
    assert f'"errorCode": "{code}"' in result.stdout and '"success": false' in result.stdout
    assert not [p for p in guest.appx_provisioned if p["name"] == "MSTeams"]


def test_bootstrapper_without_an_offline_package_is_not_modelled(guest: WindowsState, files) -> None:
    with pytest.raises(NotModelled, match="-p -o <MSIX>"):
        run(guest, files, "bootstrapper", "-p")


# --- OneDrive --------------------------------------------------------------------------------------
def test_onedrive_goes_per_machine_only_after_allusersinstall(guest: WindowsState, files) -> None:
    per_machine = r"C:\Program Files\Microsoft OneDrive\OneDrive.exe"
    assert run(guest, files, "onedrive", "/allusers").rc == 0
    assert not guest.fs.exists(per_machine)
    assert guest.fs.is_file(rf"{guest.user_profile}\AppData\Local\Microsoft\OneDrive\OneDrive.exe")
    guest.registry.set_value(r"HKLM\SOFTWARE\Microsoft\OneDrive", "AllUsersInstall", "REG_DWORD", 1)
    assert run(guest, files, "onedrive", "/allusers").rc == 0
    assert file_version(guest, per_machine) == "25.20.202.1"


# --- Office Deployment Tool ------------------------------------------------------------------------
CONFIG = """<Configuration>
  <Add OfficeClientEdition="64" Channel="MonthlyEnterprise" Version="16.0.12345.20000">
    <Product ID="{product}"><Language ID="en-us" /><ExcludeApp ID="Teams" /></Product>
  </Add>
  <Property Name="SharedComputerLicensing" Value="1" />
  <Updates Enabled="FALSE" />
  <Display Level="None" AcceptEULA="TRUE" />
  <Logging Level="Standard" Path="{logs}" />
</Configuration>
"""


def _configure(guest: WindowsState, files: dict[str, Path], product: str) -> installers.InstallResult:
    config = f"{DIR}\\m365\\configuration.xml"
    guest.fs.write(
        config, CONFIG.format(product=product, logs=f"{DIR}\\m365\\logs").encode(), make_parents=True
    )
    return run(guest, files, "odt", f'/configure "{config}"')


def _logs(guest: WindowsState) -> list[str]:
    return [e.path for e in guest.fs.children(f"{DIR}\\m365\\logs")]


def test_odt_configures_click_to_run_and_logs(guest: WindowsState, files: dict[str, Path]) -> None:
    assert _configure(guest, files, "O365ProPlusRetail").rc == 0
    assert guest.registry.get_value(odt.C2R_CONFIG, "VersionToReport").data == "16.0.12345.20000"
    assert guest.registry.get_value(odt.C2R_CONFIG, "SharedComputerLicensing").data == "1"
    assert guest.services["clicktorunsvc"].state == "started"
    [log] = _logs(guest)
    assert log.upper().endswith(".LOG") and "AVDBUILD01-" in log.upper()


def test_odt_refuses_an_unknown_product_with_its_code(guest: WindowsState, files: dict[str, Path]) -> None:
    result = _configure(guest, files, "O365ProPlusRetial")
    assert result.rc == odt.UNKNOWN_SKU == 17004
    assert guest.registry.get_value(odt.C2R_CONFIG, "VersionToReport") is None
    assert "unknown product ID 'O365ProPlusRetial'" in result.log


def test_odt_without_its_configuration_file(guest: WindowsState, files: dict[str, Path]) -> None:
    result = run(guest, files, "odt", f'/configure "{DIR}\\none.xml"')
    assert result.rc == odt.SCENARIO_FAILED and "does not exist" in result.log
