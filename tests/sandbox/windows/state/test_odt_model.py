"""The simulated Office Deployment Tool: what ``setup.exe /configure`` reads, refuses and installs.

The configuration files are written out by hand from Microsoft's documentation (the AVD sample of
"Install Office on a custom VHD image", the options article), not by the product's generator.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sandbox.guest_api import NotModelled
from sandbox.windows.installers import odt
from sandbox.windows.state import WindowsState
from tests.support.windows_state import M365

AVD_SAMPLE = """<Configuration>
  <Add OfficeClientEdition="64" Channel="MonthlyEnterprise" Version="16.0.12345.20000">
    <Product ID="O365ProPlusRetail">
      <Language ID="en-US" />
      <Language ID="MatchOS" />
      <ExcludeApp ID="Groove" />
      <ExcludeApp ID="Lync" />
      <ExcludeApp ID="OneDrive" />
      <ExcludeApp ID="Teams" />
      <ExcludeApp ID="Publisher" />
    </Product>
  </Add>
  <RemoveMSI/>
  <Updates Enabled="FALSE"/>
  <Display Level="None" AcceptEULA="TRUE" />
  <Logging Level="Standard" Path="%temp%\\WVDOfficeInstall" />
  <Property Name="FORCEAPPSHUTDOWN" Value="TRUE"/>
  <Property Name="SharedComputerLicensing" Value="1"/>
</Configuration>"""


def value(guest: WindowsState, name: str) -> str | None:
    found = guest.registry.get_value(odt.C2R_CONFIG, name)
    return None if found is None else found.data


def test_the_avd_sample_installs_click_to_run(guest: WindowsState) -> None:
    assert value(guest, "Platform") is None
    odt.configure(guest, odt.parse(AVD_SAMPLE))
    assert value(guest, "VersionToReport") == "16.0.12345.20000"
    assert value(guest, "Platform") == "x64"
    assert value(guest, "ProductReleaseIds") == "O365ProPlusRetail"
    assert value(guest, "SharedComputerLicensing") == "1"
    assert value(guest, "UpdatesEnabled") == "False"
    assert value(guest, "O365ProPlusRetail.ExcludedApps") == "groove,lync,onedrive,teams,publisher"
    entry = guest.registry.get_value(odt.UNINSTALL + r"\O365ProPlusRetail - en-us", "DisplayVersion")
    assert entry is not None and entry.data == "16.0.12345.20000"
    assert guest.fs.is_file(odt.OFFICE_ROOT + r"\WINWORD.EXE")
    assert not guest.fs.exists(odt.OFFICE_ROOT + r"\MSPUB.EXE")


def test_visio_is_added_to_an_installed_office(make_guest: Callable[..., WindowsState]) -> None:
    guest = make_guest(M365)
    add_visio = AVD_SAMPLE.replace(
        '<Product ID="O365ProPlusRetail">',
        '<Product ID="VisioProRetail"><Language ID="de-de" /></Product><Product ID="O365ProPlusRetail">',
    )
    odt.configure(guest, odt.parse(add_visio))
    assert value(guest, "ProductReleaseIds") == "O365ProPlusRetail,VisioProRetail"
    assert guest.fs.is_file(odt.OFFICE_ROOT + r"\VISIO.EXE")


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        (
            ("O365ProPlusRetail", "O365ProPlusRetial"),
            odt.UNKNOWN_SKU,
            "unknown product ID 'O365ProPlusRetial'",
        ),
        (('Language ID="en-US"', 'Language ID="en-XX"'), odt.SCENARIO_FAILED, "unknown language ID 'en-XX'"),
        (
            ('ExcludeApp ID="Lync"', 'ExcludeApp ID="Skype"'),
            odt.SCENARIO_FAILED,
            "unknown ExcludeApp ID 'Skype'",
        ),
        (
            ('Channel="MonthlyEnterprise"', 'Channel="Monthly Enterprise"'),
            odt.SCENARIO_FAILED,
            "unknown channel",
        ),
        (
            ('OfficeClientEdition="64"', 'OfficeClientEdition="86"'),
            odt.SCENARIO_FAILED,
            "OfficeClientEdition must be",
        ),
        (('Enabled="FALSE"', 'Enabled="no"'), odt.SCENARIO_FAILED, "Updates Enabled must be TRUE or FALSE"),
        (("</Configuration>", "</Configuratio>"), odt.SCENARIO_FAILED, "not valid XML"),
        (
            ('Name="SharedComputerLicensing" Value="1"', 'Name="SharedComputerLicensing" Value="yes"'),
            odt.SCENARIO_FAILED,
            "SharedComputerLicensing",
        ),
        (('Version="16.0.12345.20000"', 'Version="latest"'), odt.SCENARIO_FAILED, "is not a build"),
    ],
)
def test_refuses_what_odt_refuses(change: tuple[str, str], code: int, message: str) -> None:
    with pytest.raises(odt.OdtRefused, match=message) as refused:
        odt.parse(AVD_SAMPLE.replace(*change))
    assert refused.value.code == code


def test_visio_in_a_language_it_lacks_is_refused() -> None:
    visio = AVD_SAMPLE.replace('<Language ID="MatchOS" />', "").replace("O365ProPlusRetail", "VisioProRetail")
    with pytest.raises(odt.OdtRefused, match="en-GB is not available for VisioProRetail"):
        odt.parse(visio.replace('Language ID="en-US"', 'Language ID="en-GB"'))


def test_a_32_bit_install_over_64_bit_office_fails_the_prerequisites(
    make_guest: Callable[..., WindowsState],
) -> None:
    guest = make_guest(M365)
    with pytest.raises(odt.OdtRefused, match="mixed architectures") as refused:
        odt.configure(
            guest, odt.parse(AVD_SAMPLE.replace('OfficeClientEdition="64"', 'OfficeClientEdition="32"'))
        )
    assert refused.value.code == odt.PREREQ_FAILED
    assert value(guest, "VersionToReport") is None


def test_old_channel_names_are_still_read() -> None:
    assert odt.parse(AVD_SAMPLE.replace("MonthlyEnterprise", "Broad")).channel == "Broad"


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (('Version="16.0.12345.20000"', ""), "without Version"),
        (("O365ProPlusRetail", "ProPlus2021Volume"), "product ProPlus2021Volume"),
        (("<RemoveMSI/>", "<AppSettings/>"), "element <AppSettings>"),
        (('Language ID="en-US"', 'Language ID="MatchInstalled"'), "Language MatchInstalled"),
    ],
)
def test_what_is_not_modelled_fails_loudly(change: tuple[str, str], what: str) -> None:
    with pytest.raises(NotModelled, match=what):
        odt.parse(AVD_SAMPLE.replace(*change))


def test_exclusions_combine_when_the_file_does_not_list_every_installed_language(guest: WindowsState) -> None:
    odt.configure(
        guest, odt.parse(AVD_SAMPLE.replace('<Language ID="MatchOS" />', '<Language ID="de-de" />'))
    )
    only_english = AVD_SAMPLE.replace('<Language ID="MatchOS" />', "").replace(
        '<ExcludeApp ID="Publisher" />', ""
    )
    odt.configure(
        guest, odt.parse(only_english.replace('<ExcludeApp ID="Lync" />', '<ExcludeApp ID="Access" />'))
    )
    assert set(value(guest, "O365ProPlusRetail.ExcludedApps").split(",")) == {
        "groove",
        "lync",
        "onedrive",
        "teams",
        "publisher",
        "access",
    }
