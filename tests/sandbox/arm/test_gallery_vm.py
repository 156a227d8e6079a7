"""A VM created from a gallery image version: as strict as Azure, and the guest starts from the
captured state (in-process emulator with the recording guest)."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.arm import gallery_images
from sandbox.arm.errors import ArmError
from tests.support.arm_emulator import Emu, nic_body

COMPUTE = "2024-07-01"
VERSION_API = "2023-07-03"
READY = "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"


def _image(emu: Emu, security: str = "TrustedLaunch") -> tuple[dict[str, str], str]:
    """A build VM, generalized, and an image definition; returns (ids, definition id)."""
    ids = emu.network()
    emu.vm(ids)
    emu.done(emu.call("POST", f"{ids['vm']}/deallocate", api=COMPUTE))
    emu.guest.image_states[ids["vm"].lower()] = READY
    assert emu.call("POST", f"{ids['vm']}/generalize", api=COMPUTE).status == 200
    g = emu.put_gallery()
    props = {
        "osType": "Windows",
        "osState": "Generalized",
        "hyperVGeneration": "V2",
        "identifier": {"publisher": "Contoso", "offer": "avd", "sku": "base"},
        "features": [{"name": "SecurityType", "value": security}],
    }
    emu.done(
        emu.call("PUT", g + "/images/img1", {"location": "westeurope", "properties": props}, api="2022-03-03")
    )
    return ids, g + "/images/img1"


def _version(emu: Emu, ids: dict[str, str], image: str, name: str, exclude: bool) -> str:
    body = {
        "location": "westeurope",
        "properties": {
            "storageProfile": {"source": {"virtualMachineId": ids["vm"]}},
            "publishingProfile": {"excludeFromLatest": exclude, "targetRegions": [{"name": "westeurope"}]},
        },
    }
    r = emu.call("PUT", f"{image}/versions/{name}", body, api=VERSION_API)
    assert r.status == 201, r.body
    emu.done(r)
    return f"{image}/versions/{name}"


def _vm_from(emu: Emu, ids: dict[str, str], ref: str, name: str = "vmv", **overrides: Any) -> Any:
    nic = ids["nic"].rsplit("/", 1)[0] + f"/nic-{name}"
    emu.done(emu.call("PUT", nic, nic_body(ids, pip=False), api="2024-03-01"))
    return emu.vm(
        {**ids, "nic": nic},
        name=name,
        properties__storageProfile__imageReference={"id": ref},
        **overrides,
    )


def test_vm_from_an_excluded_version_by_explicit_id(emu: Emu) -> None:
    ids, image = _image(emu)
    version = _version(emu, ids, image, "1.0.0", exclude=True)
    assert ("image_captured", (version.lower(), ids["vm"].lower())) in emu.guest.calls
    r = _vm_from(emu, ids, version)
    assert r.status == 201, r.body
    vm = emu.call("GET", ids["vm"].rsplit("/", 1)[0] + "/vmv", api=COMPUTE).body
    assert vm["properties"]["storageProfile"]["imageReference"] == {"id": version, "exactVersion": "1.0.0"}
    spec = next(s for k, s in emu.guest.specs.items() if k.endswith("/vmv"))
    assert spec.image_version_id == version.lower()
    assert (spec.image.offer, spec.image.sku) == ("windows-11", "win11-24h2-avd")
    disk = emu.call(
        "GET", vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"], api=COMPUTE
    ).body
    assert disk["properties"]["creationData"]["galleryImageReference"] == {"id": version}
    # Deleting the version forgets the captured state.
    emu.done(emu.call("DELETE", version, api=VERSION_API))
    assert ("image_deleted", version.lower()) in emu.guest.calls


def test_latest_skips_excluded_versions(emu: Emu) -> None:
    ids, image = _image(emu)
    _version(emu, ids, image, "1.0.0", exclude=True)
    r = _vm_from(emu, ids, image)
    assert (r.status, r.body["error"]["code"]) == (404, "GalleryImageNotFound")
    _version(emu, ids, image, "0.9.0", exclude=False)
    r = _vm_from(emu, ids, image, name="vmw")
    assert r.status == 201, r.body
    vm = emu.call("GET", ids["vm"].rsplit("/", 1)[0] + "/vmw", api=COMPUTE).body
    assert vm["properties"]["storageProfile"]["imageReference"]["exactVersion"] == "0.9.0"


@pytest.mark.parametrize(
    ("security", "overrides", "code", "fragment"),
    [
        (
            "TrustedLaunch",
            {"properties__securityProfile": None},
            "InvalidParameter",
            "security type 'Standard'",
        ),
        (
            "TrustedLaunchSupported",
            {
                "properties__hardwareProfile__vmSize": "Standard_A2_v2",
                "properties__storageProfile__osDisk__managedDisk__storageAccountType": "Standard_LRS",
                "properties__securityProfile": None,
            },
            "InvalidParameter",
            "Generation '2'",
        ),
        (
            "TrustedLaunch",
            {"properties__storageProfile__osDisk__osType": "Linux"},
            "InvalidParameter",
            "osType",
        ),
        (
            "TrustedLaunch",
            {"properties__storageProfile__osDisk__diskSizeGB": 64},
            "OperationNotAllowed",
            "smaller",
        ),
        (
            "TrustedLaunch",
            {"properties__osProfile__adminPassword": None},
            "InvalidParameter",
            "adminPassword",
        ),
    ],
)
def test_vm_from_a_version_is_checked_like_azure(
    emu: Emu, security: str, overrides: dict[str, Any], code: str, fragment: str
) -> None:
    ids, image = _image(emu, security)
    version = _version(emu, ids, image, "1.0.0", exclude=True)
    r = _vm_from(emu, ids, version, **overrides)
    assert r.status in (400, 404, 409), r.body
    assert r.body["error"]["code"] == code, r.body
    assert fragment in r.body["error"]["message"]


def test_trusted_launch_supported_boots_a_standard_vm(emu: Emu) -> None:
    ids, image = _image(emu, "TrustedLaunchSupported")
    version = _version(emu, ids, image, "1.0.0", exclude=True)
    assert _vm_from(emu, ids, version, properties__securityProfile=None).status == 201


def test_a_version_not_replicated_to_the_region(emu: Emu) -> None:
    ids, image = _image(emu)
    version = _version(emu, ids, image, "1.0.0", exclude=False)
    with emu.arm.lock, pytest.raises(ArmError) as err:
        gallery_images.resolve(emu.arm, {"id": version}, "northeurope")
    assert err.value.code == "GalleryImageNotFound"
    assert "not available in northeurope" in str(err.value.message)
    with emu.arm.lock, pytest.raises(ArmError, match="cannot be used together"):
        gallery_images.resolve(emu.arm, {"id": version, "sku": "x"}, "westeurope")
