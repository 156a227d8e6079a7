"""Requests Azure refuses get Azure's status, code and message shape, whoever sends them (the
facts come from Azure's REST specs and docs, not from what our roles send)."""

from __future__ import annotations

import re

import pytest

from sandbox.arm import apiversions
from tests.unit.sandbox.arm.conftest import Emu

RG = "/subscriptions/{sub}/resourceGroups/rg1"
VNET = RG + "/providers/Microsoft.Network/virtualNetworks/v"
VM = RG + "/providers/Microsoft.Compute/virtualMachines/v"
GALLERY = RG + "/providers/Microsoft.Compute/galleries/g"
DISK = RG + "/providers/Microsoft.Compute/disks/d"
SIZES = "/subscriptions/{sub}/providers/Microsoft.Compute/locations/westeurope/vmSizes"
INVALID_API = re.compile(r"^The api-version '[^']*' is invalid\. The supported versions are '[^']+'\.$")


def _refused(r, status: int, code: str, message: re.Pattern[str] | str | None = None) -> None:
    assert r.status == status, r
    assert r.body["error"]["code"] == code, r.body
    if message is not None:
        pattern = message if isinstance(message, re.Pattern) else re.compile(message)
        assert pattern.search(r.body["error"]["message"]), r.body["error"]["message"]


# --- api-versions ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "api"),
    [
        (RG, "2099-01-01"),
        (RG, "2022-09-02"),
        (VNET, "2024-03-02"),
        (VNET, "2030-01-01"),
        (VM, "2024-07-02"),
        (VM, "2023-07-03"),  # a gallery version, not a compute one
        (GALLERY, "2024-07-01"),  # a compute version, not a gallery one
        (DISK, "2024-07-03"),
        (SIZES, "2024-07-02"),
        (RG, "latest"),  # malformed: not a date
        (VM, "2024-13-01"),
        (VNET, "20240301"),
    ],
)
def test_api_version_azure_does_not_have_is_400(emu: Emu, path: str, api: str) -> None:
    emu.put_rg()
    r = emu.call("GET", path.format(sub=emu.sub), api=api)
    _refused(r, 400, "InvalidApiVersionParameter", INVALID_API)
    assert f"'{api}'" in r.body["error"]["message"]
    assert emu.arm.unmodelled == []


@pytest.mark.parametrize(
    ("path", "api"),
    [
        (RG, "2021-04-01"),
        (VNET, "2023-09-01"),
        (VM, "2023-03-01"),
        (GALLERY, "2021-10-01"),
        (DISK, "2022-07-02"),
        (SIZES, "2024-03-01"),
    ],
)
def test_real_api_version_the_sandbox_does_not_model_is_501(emu: Emu, path: str, api: str) -> None:
    emu.put_rg()
    r = emu.call("GET", path.format(sub=emu.sub), api=api)
    assert r.status == 501, r
    assert emu.arm.unmodelled[-1]["query"]["api-version"] == api


def test_missing_api_version_is_400_missing(emu: Emu) -> None:
    r = emu.call("GET", VM.format(sub=emu.sub))
    _refused(r, 400, "MissingApiVersionParameter", r"api-version query parameter")


def test_every_modelled_api_version_is_one_azure_has(emu: Emu) -> None:
    for spec in emu.arm.types.values():
        for ver in spec.api_versions:
            assert ver in apiversions.known(spec.key), (spec.type_name, ver)


def test_api_version_list_is_fresh() -> None:
    assert apiversions.main(["--check"]) == 0
