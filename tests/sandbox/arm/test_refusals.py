"""The emulator refuses what Azure refuses, with Azure's error codes, and answers 501 (recorded) for
what it does not model."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.arm_emulator import Emu, nic_body, vm_body, winrm_rule

NET = "2024-03-01"
COMPUTE = "2024-07-01"


def test_unknown_route_is_501_and_recorded(emu: Emu) -> None:
    r = emu.call(
        "GET", f"/subscriptions/{emu.sub}/providers/Microsoft.Storage/storageAccounts", api="2023-01-01"
    )
    assert r.status == 501
    assert r.body["error"]["code"] == "SandboxNotModelled"
    assert "Microsoft.Storage/storageAccounts" in r.body["error"]["message"]
    r = emu.call("GET", "/totally/unknown")
    assert r.status == 501
    paths = [u["path"] for u in emu.arm.unmodelled]
    assert paths == [
        f"/subscriptions/{emu.sub}/providers/Microsoft.Storage/storageAccounts",
        "/totally/unknown",
    ]


@pytest.mark.parametrize(
    ("path", "api"),
    [
        ("/subscriptions/{sub}/resourcegroups/rg1", "2021-04-01"),
        (
            "/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/v",
            "2023-09-01",
        ),
        (
            "/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/v",
            "2023-03-01",
        ),
        ("/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.Compute/galleries/g", "2021-10-01"),
    ],
)
def test_unknown_api_version_is_501(emu: Emu, path: str, api: str) -> None:
    emu.put_rg()
    r = emu.call("GET", path.format(sub=emu.sub), api=api)
    assert r.status == 501
    assert api in r.body["error"]["message"]
    assert emu.arm.unmodelled[-1]["query"]["api-version"] == api


def test_unknown_query_parameter_is_501(emu: Emu) -> None:
    emu.put_rg()
    r = emu.call("GET", emu.rg(), api="2022-09-01", query={"$select": "name"})
    assert r.status == 501
    assert "$select" in r.body["error"]["message"]


def test_missing_api_version(emu: Emu) -> None:
    r = emu.call("GET", emu.rg())
    assert r.status == 400
    assert r.body["error"]["code"] == "MissingApiVersionParameter"


def test_wrong_subscription(emu: Emu) -> None:
    r = emu.call(
        "GET", "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/x", api="2022-09-01"
    )
    assert r.status == 404
    assert r.body["error"]["code"] == "SubscriptionNotFound"


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (None, "AuthenticationFailed"),
        ("Bearer not-a-token", "InvalidAuthenticationToken"),
        ("Basic abc", "AuthenticationFailed"),
    ],
)
def test_arm_needs_an_issued_token(emu: Emu, token: str | None, code: str) -> None:
    r = emu.call("GET", emu.rg(), api="2022-09-01", token=token)
    assert r.status == 401
    assert r.body["error"]["code"] == code


def test_unknown_property_is_400_with_its_path(emu: Emu) -> None:
    ids = emu.network()
    body = vm_body(ids)
    body["properties"]["hardwareProfile"]["vmSizee"] = "x"
    r = emu.call("PUT", f"{emu.rg()}/providers/Microsoft.Compute/virtualMachines/vm1", body, api=COMPUTE)
    assert r.status == 400
    assert r.body["error"]["code"] == "InvalidRequestContent"
    assert r.body["error"]["target"] == "properties.hardwareProfile.vmSizee"
    r = emu.call(
        "PUT",
        f"{emu.rg()}/providers/Microsoft.Network/publicIPAddresses/p2",
        {"location": "westeurope", "properties": {"allocationMethod": "Static"}},
        api=NET,
    )
    assert r.status == 400
    assert r.body["error"]["target"] == "properties.allocationMethod"


def test_readonly_and_known_members_are_accepted(emu: Emu) -> None:
    """What modules send back from a GET (ids, etags, provisioningState) is not an unknown member."""
    ids = emu.network()
    nic = emu.call("GET", ids["nic"], api=NET).body
    r = emu.call("PUT", ids["nic"], nic, api=NET)
    assert r.status == 200, r.body


@pytest.mark.parametrize(
    ("override", "status", "code", "target"),
    [
        ({"properties__hardwareProfile": None}, 400, "InvalidParameter", "hardwareProfile.vmSize"),
        ({"properties__hardwareProfile__vmSize": "Standard_Bogus_v9"}, 400, "InvalidParameter", "vmSize"),
        ({"location": None}, 400, "LocationRequired", None),
        ({"location": "marsnorth"}, 400, "LocationNotAvailableForResourceType", "location"),
        ({"properties__storageProfile__osDisk__createOption": None}, 400, "InvalidParameter", "createOption"),
        ({"properties__storageProfile__imageReference": None}, 400, "InvalidParameter", "imageReference"),
        (
            {"properties__storageProfile__imageReference__sku": "win11-99h9-avd"},
            404,
            "PlatformImageNotFound",
            "imageReference",
        ),
        (
            {"properties__storageProfile__imageReference__version": "1.2.3"},
            404,
            "PlatformImageNotFound",
            "imageReference",
        ),
        (
            {"properties__storageProfile__osDisk__managedDisk__storageAccountType": "Fast_LRS"},
            400,
            "InvalidParameter",
            "managedDisk.storageAccountType",
        ),
        # Azure answers 409 OperationNotAllowed (this asserted 400 ResizeDiskError before).
        (
            {"properties__storageProfile__osDisk__diskSizeGB": 64},
            409,
            "OperationNotAllowed",
            "osDisk.diskSizeGB",
        ),
        ({"properties__licenseType": "Windows_Desktop"}, 400, "InvalidParameter", "licenseType"),
        (
            {"properties__securityProfile__securityType": "Secure"},
            400,
            "InvalidParameter",
            "securityProfile.securityType",
        ),
        (
            {"properties__securityProfile__uefiSettings": None},
            400,
            "InvalidParameter",
            "securityProfile.uefiSettings",
        ),
        (
            {"properties__securityProfile__securityType": None},
            400,
            "InvalidParameter",
            "securityProfile.uefiSettings",
        ),
        (
            {
                "properties__storageProfile__imageReference__offer": "windows-10",
                "properties__storageProfile__imageReference__sku": "win10-22h2-avd",
            },
            400,
            "BadRequest",
            "securityProfile.securityType",
        ),
        ({"properties__osProfile__adminPassword": None}, 400, "InvalidParameter", "adminPassword"),
        ({"properties__osProfile__adminPassword": "Short1!"}, 400, "InvalidParameter", "adminPassword"),
        (
            {"properties__osProfile__adminPassword": "alllowercaseletters"},
            400,
            "InvalidParameter",
            "adminPassword",
        ),
        ({"properties__osProfile__adminPassword": "P@ssword123"}, 400, "InvalidParameter", "adminPassword"),
        ({"properties__osProfile__adminUsername": "administrator"}, 400, "InvalidParameter", "adminUsername"),
        (
            {"properties__osProfile__computerName": "this-name-is-too-long"},
            400,
            "InvalidParameter",
            "computerName",
        ),
        (
            {"properties__networkProfile__networkInterfaces": []},
            400,
            "InvalidParameter",
            "networkProfile.networkInterfaces",
        ),
    ],
)
def test_vm_body_checks(
    emu: Emu, override: dict[str, Any], status: int, code: str, target: str | None
) -> None:
    ids = emu.network()
    r = emu.vm(ids, **override)
    assert r.status == status, r.body
    assert r.body["error"]["code"] == code
    assert r.body["error"].get("target") == target
    assert "vm" not in ids
    # Nothing was created: no VM, no OS disk.
    kinds = {res["type"] for res in emu.arm.resources.values()}
    assert "Microsoft.Compute/virtualMachines" not in kinds
    assert "Microsoft.Compute/disks" not in kinds


def test_vm_with_a_missing_nic_is_an_invalid_reference(emu: Emu) -> None:
    ids = emu.network()
    ids["nic"] = ids["nic"] + "-missing"
    r = emu.vm(ids)
    assert r.status == 400
    assert r.body["error"]["code"] == "InvalidResourceReference"


def test_nic_referencing_a_missing_subnet(emu: Emu) -> None:
    ids = emu.network()
    ids["subnet"] += "x"
    r = emu.call(
        "PUT",
        f"{emu.rg()}/providers/Microsoft.Network/networkInterfaces/nic2",
        nic_body(ids, pip=False),
        api=NET,
    )
    assert r.status == 400
    assert r.body["error"]["code"] == "InvalidResourceReference"


def test_public_ip_used_by_two_nics(emu: Emu) -> None:
    ids = emu.network()
    r = emu.call(
        "PUT", f"{emu.rg()}/providers/Microsoft.Network/networkInterfaces/nic2", nic_body(ids), api=NET
    )
    assert r.status == 400
    assert r.body["error"]["code"] == "PublicIPAddressInUse"


def test_child_of_a_missing_parent(emu: Emu) -> None:
    emu.put_rg()
    r = emu.call(
        "PUT",
        f"{emu.rg()}/providers/Microsoft.Network/virtualNetworks/nope/subnets/s",
        {"properties": {"addressPrefix": "10.0.0.0/24"}},
        api=NET,
    )
    assert r.status == 404
    assert r.body["error"]["code"] == "ParentResourceNotFound"
    r = emu.call(
        "PUT",
        f"{emu.rg()}/providers/Microsoft.Compute/galleries/nope/images/i",
        {"location": "westeurope"},
        api="2022-03-03",
    )
    assert r.body["error"]["code"] == "ParentResourceNotFound"


def test_resource_in_a_missing_group(emu: Emu) -> None:
    r = emu.call(
        "PUT",
        f"{emu.rg('nope')}/providers/Microsoft.Network/publicIPAddresses/p",
        {"location": "westeurope"},
        api=NET,
    )
    assert r.status == 404
    assert r.body["error"]["code"] == "ResourceGroupNotFound"


@pytest.mark.parametrize(
    ("prefix", "code"),
    [
        ("10.251.0.0/26", "NetcfgSubnetRangeOutsideVnet"),
        ("10.250.0.32/27", "NetcfgSubnetRangesOverlap"),
        ("10.250.0.1/26", "InvalidCIDRNotation"),
        ("banana", "InvalidAddressPrefixFormat"),
    ],
)
def test_subnet_prefix_checks(emu: Emu, prefix: str, code: str) -> None:
    ids = emu.network()
    r = emu.call("PUT", ids["vnet"] + "/subnets/snet2", {"properties": {"addressPrefix": prefix}}, api=NET)
    assert r.status == 400
    assert r.body["error"]["code"] == code


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ({"priority": 50}, "SecurityRuleInvalidPriority"),
        ({"destinationPortRange": "99999"}, "SecurityRuleInvalidPortRange"),
        ({"sourceAddressPrefix": "not an address"}, "SecurityRuleInvalidAddressPrefix"),
        ({"access": "Maybe"}, "InvalidParameter"),
        ({"protocol": None}, "SecurityRuleParameterContainsUnsupportedValue"),
    ],
)
def test_security_rule_checks(emu: Emu, rule: dict[str, Any], code: str) -> None:
    emu.put_rg()
    r1 = winrm_rule()
    for k, v in rule.items():
        if v is None:
            r1["properties"].pop(k)
        else:
            r1["properties"][k] = v
    r = emu.call(
        "PUT",
        f"{emu.rg()}/providers/Microsoft.Network/networkSecurityGroups/n",
        {"location": "westeurope", "properties": {"securityRules": [r1]}},
        api=NET,
    )
    assert r.status == 400
    assert r.body["error"]["code"] == code


def test_security_rules_with_the_same_priority_conflict(emu: Emu) -> None:
    emu.put_rg()
    rules = [winrm_rule(), winrm_rule(source="127.0.0.2")]
    rules[1]["name"] = "other"
    r = emu.call(
        "PUT",
        f"{emu.rg()}/providers/Microsoft.Network/networkSecurityGroups/n",
        {"location": "westeurope", "properties": {"securityRules": rules}},
        api=NET,
    )
    assert r.body["error"]["code"] == "SecurityRuleConflict"


def test_standard_public_ip_must_be_static(emu: Emu) -> None:
    emu.put_rg()
    r = emu.call(
        "PUT",
        f"{emu.rg()}/providers/Microsoft.Network/publicIPAddresses/p",
        {
            "location": "westeurope",
            "sku": {"name": "Standard"},
            "properties": {"publicIPAllocationMethod": "Dynamic"},
        },
        api=NET,
    )
    assert r.status == 400
    assert r.body["error"]["code"] == "StandardSkuPublicIPAddressMustBeStatic"


def test_resource_group_location_cannot_change(emu: Emu) -> None:
    emu.put_rg()
    r = emu.put_rg(location="northeurope")
    assert r.status == 409
    assert r.body["error"]["code"] == "InvalidResourceGroupLocation"


# ------------------------------------------------------------------------------------------------
# in-use deletes
def _delete(emu: Emu, rid: str, api: str) -> Any:
    return emu.call("DELETE", rid, api=api)


def test_in_use_deletes_are_refused(emu: Emu) -> None:
    ids = emu.network()
    assert emu.vm(ids).status == 201
    vm = emu.call("GET", ids["vm"], api=COMPUTE).body
    disk_id = vm["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"]
    expected = [
        (ids["pip"], NET, 400, "PublicIPAddressCannotBeDeleted"),
        (ids["nic"], NET, 400, "NicInUse"),
        (ids["subnet"], NET, 400, "InUseSubnetCannotBeDeleted"),
        (ids["vnet"], NET, 400, "InUseSubnetCannotBeDeleted"),
        (ids["nsg"], NET, 400, "InUseNetworkSecurityGroupCannotBeDeleted"),
        (disk_id, "2017-03-30", 409, "OperationNotAllowed"),
        (disk_id, "2023-04-02", 409, "OperationNotAllowed"),
    ]
    for rid, api, status, code in expected:
        r = _delete(emu, rid, api)
        assert (r.status, r.body["error"]["code"]) == (status, code), rid
    # Delete in Azure's order and each step is accepted.
    for rid, api in [(ids["vm"], COMPUTE), (ids["nic"], NET), (ids["pip"], NET), (disk_id, "2017-03-30")]:
        r = _delete(emu, rid, api)
        assert r.status == 202, r.body
        emu.done(r)
    # The subnet still carries the NSG: the NSG stays in use until the subnet is gone.
    assert _delete(emu, ids["nsg"], NET).body["error"]["code"] == "InUseNetworkSecurityGroupCannotBeDeleted"
    for rid in (ids["subnet"], ids["nsg"], ids["vnet"]):
        r = _delete(emu, rid, NET)
        assert r.status == 202
        emu.done(r)
    left = {res["type"] for res in emu.arm.resources.values()}
    assert left == {"Microsoft.Resources/resourceGroups"}


def test_deleting_what_does_not_exist_is_204(emu: Emu) -> None:
    emu.put_rg()
    r = _delete(emu, f"{emu.rg()}/providers/Microsoft.Network/publicIPAddresses/none", NET)
    assert r.status == 204


def test_gallery_with_images_cannot_be_deleted(emu: Emu) -> None:
    emu.put_rg()
    g = emu.put_gallery()
    img = {
        "location": "westeurope",
        "properties": {
            "osType": "Windows",
            "osState": "Generalized",
            "hyperVGeneration": "V2",
            "identifier": {"publisher": "p", "offer": "o", "sku": "s"},
        },
    }
    emu.done(emu.call("PUT", g + "/images/img1", img, api="2022-03-03"))
    r = _delete(emu, g, "2019-07-01")
    assert r.status == 409
    assert r.body["error"]["code"] == "CannotDeleteResource"
    emu.done(_delete(emu, g + "/images/img1", "2022-03-03"))
    emu.done(_delete(emu, g, "2019-07-01"))
    assert emu.call("GET", g, api="2019-07-01").status == 404


@pytest.mark.parametrize(
    ("props", "code"),
    [
        ({"osType": None}, "InvalidParameter"),
        ({"osState": "Frozen"}, "InvalidParameter"),
        (
            {"hyperVGeneration": "V1", "features": [{"name": "SecurityType", "value": "TrustedLaunch"}]},
            "InvalidParameter",
        ),
        ({"identifier": {"publisher": "p", "offer": "o"}}, "InvalidParameter"),
    ],
)
def test_gallery_image_checks(emu: Emu, props: dict[str, Any], code: str) -> None:
    emu.put_rg()
    g = emu.put_gallery()
    base = {
        "osType": "Windows",
        "osState": "Generalized",
        "hyperVGeneration": "V2",
        "identifier": {"publisher": "p", "offer": "o", "sku": "s"},
    }
    for k, v in props.items():
        if v is None:
            base.pop(k)
        else:
            base[k] = v
    r = emu.call("PUT", g + "/images/img1", {"location": "westeurope", "properties": base}, api="2022-03-03")
    assert r.status == 400
    assert r.body["error"]["code"] == code


@pytest.mark.parametrize("name", ["_gal", "gal.", "gal-1", "g" * 81])
def test_gallery_name_rules(emu: Emu, name: str) -> None:
    emu.put_rg()
    r = emu.call(
        "PUT",
        f"{emu.rg()}/providers/Microsoft.Compute/galleries/{name}",
        {"location": "westeurope"},
        api="2019-07-01",
    )
    assert r.status == 400
    assert r.body["error"]["code"] == "InvalidParameter"


def test_a_sandbox_bug_answers_500_and_is_recorded(emu: Emu, monkeypatch: pytest.MonkeyPatch) -> None:
    from sandbox.arm import types_resources

    def boom(*args: Any) -> None:
        raise KeyError("oops")

    monkeypatch.setattr(types_resources, "resource_group", boom)
    r = emu.call("GET", emu.rg(), api="2022-09-01")
    assert (r.status, r.body["error"]["code"]) == (500, "SandboxInternalError")
    assert "KeyError" in emu.arm.unmodelled[-1]["message"]


def test_provider_document_lists_the_modelled_api_versions(emu: Emu) -> None:
    r = emu.call("GET", f"/subscriptions/{emu.sub}/providers/Microsoft.Compute", api="2015-01-01")
    assert r.status == 200
    by_type = {t["resourceType"]: t["apiVersions"] for t in r.body["resourceTypes"]}
    assert by_type["virtualMachines"] == ["2024-07-01"]
    assert by_type["galleries/images/versions"] == ["2023-07-03", "2019-03-01"]
    r = emu.call("GET", f"/subscriptions/{emu.sub}/providers/Microsoft.Sql", api="2015-01-01")
    assert r.status == 501
