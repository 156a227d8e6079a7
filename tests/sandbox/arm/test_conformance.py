"""Requests Azure refuses get Azure's status, code and message shape, whoever sends them (the
facts come from Azure's REST specs and docs, not from what our roles send)."""

from __future__ import annotations

import re

import pytest

from sandbox.arm import apiversions
from tests.support.arm_emulator import Emu, nic_body

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


# --- subscriptions and tenants -----------------------------------------------------------------
@pytest.mark.parametrize("sub", ["not-a-guid", "1234", "00000000-0000-0000-0000-00000000000g"])
def test_malformed_subscription_id_is_400(emu: Emu, sub: str) -> None:
    r = emu.call("GET", f"/subscriptions/{sub}/resourcegroups/x", api="2022-09-01")
    _refused(
        r,
        400,
        "InvalidSubscriptionId",
        f"^The provided subscription identifier '{re.escape(sub)}' is malformed or invalid\\.$",
    )


def test_subscription_and_tenant_documents(emu: Emu) -> None:
    c = emu.arm.creds
    subs = emu.call("GET", "/subscriptions", api="2022-12-01")
    assert subs.status == 200
    assert [(s["subscriptionId"], s["tenantId"], s["state"]) for s in subs.body["value"]] == [
        (c.subscription_id, c.tenant_id, "Enabled")
    ]
    one = emu.call("GET", f"/subscriptions/{c.subscription_id}", api="2022-12-01")
    assert one.body["id"] == f"/subscriptions/{c.subscription_id}"
    tenants = emu.call("GET", "/tenants", api="2022-12-01")
    assert [t["tenantId"] for t in tenants.body["value"]] == [c.tenant_id]
    r = emu.call("GET", "/subscriptions", api="2022-12-02")
    _refused(r, 400, "InvalidApiVersionParameter", INVALID_API)
    r = emu.call("GET", "/tenants")
    _refused(r, 400, "MissingApiVersionParameter")
    r = emu.call("GET", "/subscriptions", token=None)
    assert r.status == 401


# --- names ---------------------------------------------------------------------------------------
NET = "2024-03-01"
NETWORK_NAME = re.compile(r"^Resource name .* is invalid\. The name can be up to 80 characters long\.")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("rg!1", r"has these invalid characters: '!'"),
        ("rg 1", r"has these invalid characters: ' '"),
        ("rg.", r"cannot end with a period"),
        ("r" * 91, r"1 to 90 characters"),
    ],
)
def test_resource_group_name_rules(emu: Emu, name: str, message: str) -> None:
    r = emu.put_rg(name)
    _refused(r, 400, "InvalidResourceGroup", message)


@pytest.mark.parametrize("name", ["rg(1)_a-b.c", "r" * 90, "rgä"])
def test_resource_group_names_azure_accepts(emu: Emu, name: str) -> None:
    assert emu.put_rg(name).status == 201


@pytest.mark.parametrize(
    ("kind", "name", "code"),
    [
        ("virtualNetworks", "v", "NetcfgInvalidVirtualNetworkSite"),
        ("virtualNetworks", "v" * 65, "NetcfgInvalidVirtualNetworkSite"),
        ("virtualNetworks", "-vnet", "InvalidResourceName"),
        ("virtualNetworks", "vnet-", "InvalidResourceName"),
        ("virtualNetworks", "vnet.", "InvalidResourceName"),
        ("networkSecurityGroups", "nsg!", "InvalidResourceName"),
        ("networkSecurityGroups", "_nsg", "InvalidResourceName"),
        ("publicIPAddresses", ".pip", "InvalidResourceName"),
        ("publicIPAddresses", "p" * 81, "InvalidResourceName"),
        ("networkInterfaces", "nic 1", "InvalidResourceName"),
    ],
)
def test_network_name_rules(emu: Emu, kind: str, name: str, code: str) -> None:
    emu.put_rg()
    body: dict = {"location": "westeurope", "properties": {}}
    if kind == "virtualNetworks":
        body["properties"] = {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]}}
    r = emu.call("PUT", f"{emu.rg()}/providers/Microsoft.Network/{kind}/{name}", body, api=NET)
    _refused(r, 400, code, NETWORK_NAME if code == "InvalidResourceName" else r"^Virtual network site")


@pytest.mark.parametrize("name", ["vn", "vnet_", "v" * 64, "vnet.1-a_b"])
def test_network_names_azure_accepts(emu: Emu, name: str) -> None:
    emu.put_rg()
    body = {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]}}}
    r = emu.call("PUT", f"{emu.rg()}/providers/Microsoft.Network/virtualNetworks/{name}", body, api=NET)
    assert r.status == 201, r.body


def test_subnet_and_security_rule_name_rules(emu: Emu) -> None:
    ids = emu.network()
    r = emu.call(
        "PUT", ids["vnet"] + "/subnets/snet.", {"properties": {"addressPrefix": "10.250.0.64/27"}}, api=NET
    )
    _refused(r, 400, "InvalidResourceName", NETWORK_NAME)
    rule = {
        "name": "rule-",
        "properties": {
            "protocol": "Tcp",
            "sourceAddressPrefix": "*",
            "sourcePortRange": "*",
            "destinationAddressPrefix": "*",
            "destinationPortRange": "443",
            "access": "Allow",
            "priority": 200,
            "direction": "Inbound",
        },
    }
    r = emu.call(
        "PUT", ids["nsg"], {"location": "westeurope", "properties": {"securityRules": [rule]}}, api=NET
    )
    _refused(r, 400, "InvalidResourceName", NETWORK_NAME)


def test_vm_resource_name_may_be_64_but_the_windows_computer_name_15(emu: Emu) -> None:
    ids = emu.network()
    long_name = "v" * 40
    assert emu.vm(ids, name=long_name).status == 201  # computerName (avdbuild01) is separate
    ids2 = emu.network(rg="rg2")
    r = emu.vm(ids2, name="v" * 65)
    _refused(r, 400, "InvalidParameter", r"^Virtual machine name 'v{65}' is invalid\.$")
    r = emu.vm(ids2, name="vm2", properties__osProfile__computerName="c" * 16)
    _refused(r, 400, "InvalidParameter", r"^Windows computer name cannot be more than 15 characters long")
    assert r.body["error"]["target"] == "computerName"


GALLERY_NAME = r"^Gallery name is invalid\. Allowed characters are English alphanumeric characters, with "


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("gal-1", GALLERY_NAME),  # no hyphens in gallery names
        ("_gal", GALLERY_NAME),
        ("g" * 81, GALLERY_NAME),
        ("gal.", r"^The provided resource name gal\. has these invalid trailing characters: \.\. "),
        ("gal_", r"^The provided resource name gal_ has these invalid trailing characters: _\. "),
    ],
)
def test_gallery_name_rules(emu: Emu, name: str, message: str) -> None:
    emu.put_rg()
    r = emu.call(
        "PUT",
        f"{emu.rg()}/providers/Microsoft.Compute/galleries/{name}",
        {"location": "westeurope"},
        api="2019-07-01",
    )
    _refused(r, 400, "InvalidParameter", message)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("img-", r"^The entity name 'img-' is invalid according to its validation rule: "),
        ("-img", r"^The entity name '-img' is invalid according to its validation rule: "),
        ("img.", r"^The provided resource name gal1/img\. has these invalid trailing characters: \.\. "),
    ],
)
def test_image_definition_name_rules(emu: Emu, name: str, message: str) -> None:
    emu.put_rg()
    g = emu.put_gallery()
    props = {
        "osType": "Windows",
        "osState": "Generalized",
        "identifier": {"publisher": "Contoso", "offer": "avd", "sku": "base"},
    }
    r = emu.call(
        "PUT", f"{g}/images/{name}", {"location": "westeurope", "properties": props}, api="2022-03-03"
    )
    _refused(r, 400, "InvalidParameter", message)


@pytest.mark.parametrize("version", ["1.0", "1.0.0.0", "a.b.c", "1.0.2147483648", "-1.0.0"])
def test_gallery_image_version_name_rules(emu: Emu, version: str) -> None:
    emu.put_rg()
    g = emu.put_gallery()
    props = {
        "osType": "Windows",
        "osState": "Generalized",
        "hyperVGeneration": "V2",
        "identifier": {"publisher": "Contoso", "offer": "avd", "sku": "base"},
    }
    r = emu.call(
        "PUT", g + "/images/img-1.a_b", {"location": "westeurope", "properties": props}, api="2022-03-03"
    )
    assert r.status == 201, r.body  # image definitions may have hyphens, periods, underscores
    body = {"location": "westeurope", "properties": {"storageProfile": {"source": {"virtualMachineId": "x"}}}}
    r = emu.call("PUT", g + f"/images/img-1.a_b/versions/{version}", body, api="2023-07-03")
    _refused(
        r,
        400,
        "InvalidParameter",
        r"^The image version name is invalid\. The image version name should follow "
        r"Major\(int\)\.Minor\(int\)\.Patch\(int\) format, for e\.g: 1\.0\.0, 2018\.12\.1 etc\.$",
    )


# --- subnets and private addresses -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("prefix", "code", "message"),
    [
        (
            "10.250.0.64/30",
            "NetcfgInvalidSubnet",
            r"^Subnet 'snet2' is not valid in virtual network 'vnet1'\.$",
        ),
        ("10.251.0.0/26", "NetcfgSubnetRangeOutsideVnet", r"outside the IP address range of virtual network"),
        (
            "10.250.0.32/27",
            "NetcfgSubnetRangesOverlap",
            r"overlaps with that of an existing subnet in virtual network 'vnet1'\.$",
        ),
    ],
)
def test_subnet_prefix_rules(emu: Emu, prefix: str, code: str, message: str) -> None:
    ids = emu.network()
    r = emu.call("PUT", ids["vnet"] + "/subnets/snet2", {"properties": {"addressPrefix": prefix}}, api=NET)
    _refused(r, 400, code, message)


def _static_nic(emu: Emu, ids: dict[str, str], addr: str):
    body = nic_body(ids, pip=False)
    ipc = body["properties"]["ipConfigurations"][0]["properties"]
    ipc["privateIPAllocationMethod"] = "Static"
    ipc["privateIPAddress"] = addr
    return emu.call("PUT", f"{emu.rg()}/providers/Microsoft.Network/networkInterfaces/nic2", body, api=NET)


# snet1 is 10.250.0.0/26: .0 network, .1 gateway, .2-.3 DNS, .63 broadcast.
@pytest.mark.parametrize("addr", ["10.250.0.0", "10.250.0.1", "10.250.0.3", "10.250.0.63"])
def test_reserved_subnet_addresses_are_refused(emu: Emu, addr: str) -> None:
    ids = emu.network()
    r = _static_nic(emu, ids, addr)
    _refused(
        r,
        400,
        "PrivateIPAddressInReservedRange",
        f"^Private static IP address {re.escape(addr)} falls within reserved IP range of subnet prefix "
        r"10\.250\.0\.0/26\.$",
    )


@pytest.mark.parametrize("addr", ["10.250.0.62", "10.250.0.10"])
def test_usable_static_addresses(emu: Emu, addr: str) -> None:
    ids = emu.network()
    r = _static_nic(emu, ids, addr)
    assert r.status == 201, r.body


def test_static_address_outside_the_subnet(emu: Emu) -> None:
    ids = emu.network()
    _refused(_static_nic(emu, ids, "10.250.0.64"), 400, "PrivateIPAddressNotInSubnet")


# --- OS disk size ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("size", "status", "code", "message"),
    [
        (64, 409, "OperationNotAllowed", r"^The specified disk size 64 GB is smaller than the size of the "),
        (4096, 400, "InvalidParameter", r"4095 GB"),
        (0, 400, "InvalidParameter", None),
    ],
)
def test_os_disk_size_on_create(emu: Emu, size: int, status: int, code: str, message: str | None) -> None:
    ids = emu.network()
    r = emu.vm(ids, properties__storageProfile__osDisk__diskSizeGB=size)
    _refused(r, status, code, message)
    assert r.body["error"]["target"] == "osDisk.diskSizeGB"


def test_os_disk_resize_rules(emu: Emu) -> None:
    ids = emu.network()
    assert emu.vm(ids).status == 201
    vm_api = "2024-07-01"
    # Growing the OS disk of a running VM: it must be deallocated first.
    r = emu.vm(ids, properties__storageProfile__osDisk__diskSizeGB=256)
    _refused(r, 409, "OperationNotAllowed", r"requires the virtual machine to be deallocated")
    emu.done(emu.call("POST", f"{ids['vm']}/deallocate", api=vm_api))
    r = emu.vm(ids, properties__storageProfile__osDisk__diskSizeGB=256)
    assert r.status == 200, r.body
    # Shrinking is never allowed.
    r = emu.vm(ids, properties__storageProfile__osDisk__diskSizeGB=128)
    _refused(r, 400, "BadRequest", r"cannot be resized down")


def test_resource_group_in_a_region_azure_does_not_have(emu: Emu) -> None:
    r = emu.put_rg(location="moon")
    _refused(
        r,
        400,
        "LocationNotAvailableForResourceGroup",
        r"^The provided location 'moon' is not available for resource group\. List of available regions is '",
    )
    _refused(emu.call("PUT", RG.format(sub=emu.sub), {}, api="2022-09-01"), 400, "LocationRequired")


def test_an_existing_resource_cannot_move_to_another_region(emu: Emu) -> None:
    ids = emu.network()
    assert emu.vm(ids).status == 201
    moved = re.compile(
        r"^The resource '(vm1|gal1|nsg1)' already exists in location 'westeurope' in resource group 'rg1'\. "
        r"A resource with the same name cannot be created in location 'northeurope'\. "
        r"Please select a new resource name\.$"
    )
    _refused(emu.vm(ids, location="northeurope"), 400, "InvalidResourceLocation", moved)
    g = emu.put_gallery()
    _refused(
        emu.call("PUT", g, {"location": "northeurope"}, api="2019-07-01"),
        400,
        "InvalidResourceLocation",
        moved,
    )
    r = emu.call("PUT", ids["nsg"], {"location": "northeurope", "properties": {}}, api=NET)
    _refused(r, 400, "InvalidResourceLocation", moved)
    # The same region spelt differently is the same region.
    assert emu.call("PUT", g, {"location": "West Europe"}, api="2019-07-01").status == 200


@pytest.mark.parametrize("disk", ["_osdisk", "osdisk-", "osdisk.", "d" * 81, "os disk"])
def test_os_disk_name_rule(emu: Emu, disk: str) -> None:
    ids = emu.network()
    r = emu.vm(ids, properties__storageProfile__osDisk__name=disk)
    _refused(
        r,
        400,
        "InvalidParameter",
        r"^The entity name 'osDisk\.name' is invalid according to its validation rule: "
        + re.escape(r"^[^_\W][\w-._]{0,79}(?<![-.])$")
        + r"\.$",
    )
    assert r.body["error"]["target"] == "osDisk.name"


@pytest.mark.parametrize("disk", ["osdisk_", "os-disk.1_a", "d" * 80])
def test_os_disk_names_azure_accepts(emu: Emu, disk: str) -> None:
    ids = emu.network()
    assert emu.vm(ids, properties__storageProfile__osDisk__name=disk).status == 201


def test_disk_name_rule_before_anything_else(emu: Emu) -> None:
    emu.put_rg()
    r = emu.call(
        "PUT",
        f"{emu.rg()}/providers/Microsoft.Compute/disks/-d",
        {"location": "westeurope"},
        api="2023-04-02",
    )
    _refused(r, 400, "InvalidParameter", r"^The value of parameter disk\.name is invalid\.$")


# --- resource types ------------------------------------------------------------------------------
TYPE_NOT_FOUND = r"^The resource type '{}' could not be found in the namespace '{}' for api version '{}'\.$"


@pytest.mark.parametrize(
    ("path", "type_path", "ns"),
    [
        (RG + "/providers/Microsoft.Compute/virtualMachine/v", "virtualMachine", "Microsoft.Compute"),
        (
            RG + "/providers/Microsoft.Network/virtualNetwork/v/subnets/s",
            "virtualNetwork/subnets",
            "Microsoft.Network",
        ),
        (RG + "/providers/Microsoft.Network/publicIPAddress", "publicIPAddress", "Microsoft.Network"),
        (
            "/subscriptions/{sub}/providers/Microsoft.Compute/virtualMachine",
            "virtualMachine",
            "Microsoft.Compute",
        ),
    ],
)
def test_resource_type_the_namespace_does_not_have_is_400(
    emu: Emu, path: str, type_path: str, ns: str
) -> None:
    emu.put_rg()
    r = emu.call("GET", path.format(sub=emu.sub), api="2024-07-01")
    _refused(
        r,
        400,
        "InvalidResourceType",
        TYPE_NOT_FOUND.format(re.escape(type_path), re.escape(ns), "2024-07-01"),
    )
    assert emu.arm.unmodelled == []


def test_a_real_type_the_sandbox_does_not_model_stays_501(emu: Emu) -> None:
    emu.put_rg()
    r = emu.call(
        "GET", RG.format(sub=emu.sub) + "/providers/Microsoft.Compute/availabilitySets/a", api="2024-07-01"
    )
    assert r.status == 501
    r = emu.call("GET", RG.format(sub=emu.sub) + "/providers/Microsoft.Sql/servers/s", api="2023-08-01")
    assert r.status == 501  # namespaces whose types are not derived are never refused
