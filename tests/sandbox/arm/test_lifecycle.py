"""LRO semantics, server-filled fields, back-references, VM power/generalize/capture, run command,
public IP pool, NSG evaluation, faults, persistence and redaction (in-process emulator)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sandbox.arm.core import Arm
from sandbox.guest_api import RunCommandResult
from tests.support.arm_emulator import PASSWORD, Emu, make_emu, vm_body, winrm_rule

NET = "2024-03-01"
COMPUTE = "2024-07-01"
GALLERY_VERSION_API = "2023-07-03"
READY = "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"


def _post(emu: Emu, vm_id: str, action: str, body: Any = None) -> Any:
    return emu.call("POST", f"{vm_id}/{action}", body, api=COMPUTE)


def _power(emu: Emu, vm_id: str) -> str:
    view = emu.call("GET", f"{vm_id}/instanceView", api=COMPUTE).body
    return next(s["code"] for s in view["statuses"] if s["code"].startswith("PowerState/"))


# ------------------------------------------------------------------------------------------------
# LRO
def test_put_lro_polls_in_progress_then_succeeded(emu_factory: Any) -> None:
    emu = emu_factory(lro_polls=2)
    emu.put_rg()
    rid = f"{emu.rg()}/providers/Microsoft.Network/publicIPAddresses/p1"
    r = emu.call(
        "PUT",
        rid,
        {
            "location": "westeurope",
            "sku": {"name": "Standard"},
            "properties": {"publicIPAllocationMethod": "Static"},
        },
        api=NET,
    )
    assert r.status == 201
    assert r.body["properties"]["provisioningState"] == "Updating"
    assert "Azure-AsyncOperation" in r.headers
    assert int(r.headers["Retry-After-Ms"]) > 0
    assert "Retry-After" not in r.headers  # never Retry-After: 0 (azure-core would wait 30 s)
    url = r.headers["Azure-AsyncOperation"]
    statuses = [emu.call("GET", url).body["status"] for _ in range(3)]
    assert statuses == ["InProgress", "InProgress", "Succeeded"]
    assert emu.call("GET", rid, api=NET).body["properties"]["provisioningState"] == "Succeeded"


def test_delete_lro_location_202_then_204(emu: Emu) -> None:
    emu.put_rg()
    rid = f"{emu.rg()}/providers/Microsoft.Network/publicIPAddresses/p1"
    emu.done(emu.call("PUT", rid, {"location": "westeurope"}, api=NET))
    r = emu.call("DELETE", rid, api=NET)
    assert r.status == 202
    loc = r.headers["Location"]
    assert [emu.call("GET", loc).status for _ in range(2)] == [202, 204]
    assert emu.call("GET", rid, api=NET).status == 404


def test_resource_shows_deleting_while_the_delete_runs(emu_factory: Any) -> None:
    emu = emu_factory(lro_polls=3)
    emu.put_rg()
    rid = f"{emu.rg()}/providers/Microsoft.Network/publicIPAddresses/p1"
    emu.done(emu.call("PUT", rid, {"location": "westeurope"}, api=NET))
    r = emu.call("DELETE", rid, api=NET)
    assert emu.call("GET", rid, api=NET).body["properties"]["provisioningState"] == "Deleting"
    assert emu.done(r).body["status"] == "Succeeded"
    assert emu.call("GET", rid, api=NET).status == 404


def test_resource_group_delete_cascades(emu: Emu) -> None:
    ids = emu.network()
    emu.vm(ids)
    address = emu.guest.addresses[ids["vm"].lower()]
    r = emu.call("DELETE", emu.rg(), api="2022-09-01")
    assert r.status == 202
    assert "Location" in r.headers
    assert emu.call("GET", r.headers["Location"]).status == 202
    assert emu.call("GET", r.headers["Location"]).status == 200
    assert emu.arm.resources == {}
    assert ("vm_deleted", ids["vm"].lower()) in emu.guest.calls
    assert address is not None
    assert all(not m.get("address") for m in emu.arm.internal.values())


def test_another_operation_in_progress(emu: Emu) -> None:
    emu.put_rg()
    rid = f"{emu.rg()}/providers/Microsoft.Network/publicIPAddresses/p1"
    emu.call("PUT", rid, {"location": "westeurope"}, api=NET)
    r = emu.call("DELETE", rid, api=NET)
    assert r.status == 409
    assert r.body["error"]["code"] == "AnotherOperationInProgress"


# ------------------------------------------------------------------------------------------------
# server-filled fields and back-references
def test_fields_azure_fills_in_and_back_references(emu: Emu) -> None:
    ids = emu.network()
    assert emu.vm(ids).status == 201
    vm = emu.call("GET", ids["vm"], api=COMPUTE, query={"$expand": "instanceView"}).body
    p = vm["properties"]
    assert p["provisioningState"] == "Succeeded"
    assert p["vmId"] and p["timeCreated"]
    assert "adminPassword" not in p["osProfile"]
    assert p["storageProfile"]["imageReference"]["exactVersion"] == "26100.4066.250524"
    assert p["storageProfile"]["dataDisks"] == []
    disk_id = p["storageProfile"]["osDisk"]["managedDisk"]["id"]
    codes = [s["code"] for s in p["instanceView"]["statuses"]]
    assert codes == ["ProvisioningState/succeeded", "PowerState/running"]
    disk = emu.call("GET", disk_id, api="2023-04-02").body
    assert disk["managedBy"] == vm["id"]
    assert disk["properties"]["diskSizeGB"] == 128
    assert disk["properties"]["securityProfile"]["securityType"] == "TrustedLaunch"
    nic = emu.call("GET", ids["nic"], api=NET).body
    assert nic["properties"]["virtualMachine"]["id"] == vm["id"]
    assert nic["properties"]["dnsSettings"]["dnsServers"] == []
    assert nic["properties"]["macAddress"].startswith("00-0D-3A-")
    ipc = nic["properties"]["ipConfigurations"][0]
    assert ipc["properties"]["privateIPAddress"] == "10.250.0.4"
    pip = emu.call("GET", ids["pip"], api=NET).body
    assert pip["properties"]["ipConfiguration"]["id"] == ipc["id"]
    subnet = emu.call("GET", ids["subnet"], api=NET).body
    assert subnet["properties"]["ipConfigurations"] == [{"id": ipc["id"]}]
    nsg = emu.call("GET", ids["nsg"], api=NET).body
    assert nsg["properties"]["networkInterfaces"] == [{"id": ids["nic"]}]
    assert nsg["properties"]["subnets"] == [{"id": ids["subnet"]}]
    assert [r["name"] for r in nsg["properties"]["defaultSecurityRules"]][2] == "DenyAllInBound"
    vnet = emu.call("GET", ids["vnet"], api=NET).body
    assert [s["name"] for s in vnet["properties"]["subnets"]] == ["snet1"]
    listed = emu.call("GET", emu.rg() + "/resources", api="2022-09-01").body["value"]
    assert sorted(r["type"] for r in listed) == sorted(
        [
            "Microsoft.Compute/disks",
            "Microsoft.Compute/virtualMachines",
            "Microsoft.Network/networkInterfaces",
            "Microsoft.Network/networkSecurityGroups",
            "Microsoft.Network/publicIPAddresses",
            "Microsoft.Network/virtualNetworks",
        ]
    )


def test_guest_receives_the_vm_spec(emu: Emu) -> None:
    ids = emu.network()
    emu.vm(ids)
    spec = emu.guest.specs[ids["vm"].lower()]
    assert spec.admin_password == PASSWORD
    assert spec.computer_name == "avdbuild01"
    assert (spec.image.sku, spec.image.exact_version) == ("win11-24h2-avd", "26100.4066.250524")
    assert (spec.security_type, spec.secure_boot, spec.vtpm) == ("TrustedLaunch", True, True)
    assert emu.guest.power[ids["vm"].lower()] == "running"


def test_exact_marketplace_version_and_version_list(emu: Emu) -> None:
    ids = emu.network()
    assert emu.vm(ids, properties__storageProfile__imageReference__version="26100.2894.250113").status == 201
    vm = emu.call("GET", ids["vm"], api=COMPUTE).body
    assert vm["properties"]["storageProfile"]["imageReference"]["exactVersion"] == "26100.2894.250113"
    base = (
        f"/subscriptions/{emu.sub}/providers/Microsoft.Compute/locations/westeurope/publishers/"
        "MicrosoftWindowsDesktop/artifacttypes/vmimage/offers/office-365/skus/win11-24h2-avd-m365/versions"
    )
    versions = emu.call("GET", base, api=COMPUTE).body
    assert "26100.4066.250524" in [v["name"] for v in versions]
    one = emu.call("GET", base + "/26100.4066.250524", api=COMPUTE).body
    assert one["properties"]["hyperVGeneration"] == "V2"


# ------------------------------------------------------------------------------------------------
# public IP pool
def test_each_public_ip_gets_its_own_loopback_address(emu_factory: Any) -> None:
    emu = emu_factory(vm_address_pool="127.77.5.0/24")
    emu.put_rg()
    addrs = []
    for i in range(3):
        rid = f"{emu.rg()}/providers/Microsoft.Network/publicIPAddresses/p{i}"
        r = emu.call(
            "PUT",
            rid,
            {
                "location": "westeurope",
                "sku": {"name": "Standard"},
                "properties": {"publicIPAllocationMethod": "Static"},
            },
            api=NET,
        )
        emu.done(r)
        addrs.append(r.body["properties"]["ipAddress"])
    assert addrs == ["127.77.5.2", "127.77.5.3", "127.77.5.4"]
    emu.done(emu.call("DELETE", f"{emu.rg()}/providers/Microsoft.Network/publicIPAddresses/p1", api=NET))
    r = emu.call(
        "PUT",
        f"{emu.rg()}/providers/Microsoft.Network/publicIPAddresses/p9",
        {"location": "westeurope", "sku": {"name": "Standard"}},
        api=NET,
    )
    assert r.body["properties"]["ipAddress"] == "127.77.5.3"  # released, then reused


# ------------------------------------------------------------------------------------------------
# power, generalize, capture
def test_power_transitions_reach_the_guest(emu: Emu) -> None:
    ids = emu.network()
    emu.vm(ids)
    vm = ids["vm"]
    for action, state in [("powerOff", "stopped"), ("start", "running"), ("deallocate", "deallocated")]:
        r = _post(emu, vm, action)
        assert r.status == 202
        assert emu.done(r).body["status"] == "Succeeded"
        assert _power(emu, vm) == f"PowerState/{state}"
        assert emu.guest.power[vm.lower()] == state


@pytest.mark.parametrize("stop", ["powerOff", "deallocate"])
def test_generalize_needs_a_stopped_vm_and_a_sysprepped_guest(emu: Emu, stop: str) -> None:
    ids = emu.network()
    emu.vm(ids)
    vm = ids["vm"]
    r = _post(emu, vm, "generalize")
    assert (r.status, r.body["error"]["code"]) == (409, "OperationNotAllowed")
    assert "running" in r.body["error"]["message"]
    emu.done(_post(emu, vm, stop))
    r = _post(emu, vm, "generalize")
    assert (r.status, r.body["error"]["code"]) == (409, "OperationNotAllowed")
    assert "IMAGE_STATE_COMPLETE" in r.body["error"]["message"]
    emu.guest.image_states[vm.lower()] = READY
    assert _post(emu, vm, "generalize").status == 200
    view = emu.call("GET", f"{vm}/instanceView", api=COMPUTE).body
    assert "OSState/generalized" in [s["code"] for s in view["statuses"]]
    r = _post(emu, vm, "start")
    assert r.body["error"]["code"] == "OperationNotAllowed"


def test_image_state_shortcut_from_the_control_endpoint(emu: Emu) -> None:
    ids = emu.network()
    emu.vm(ids)
    emu.done(_post(emu, ids["vm"], "deallocate"))
    r = emu.call("POST", "/_sandbox/guests/vm1/image-state", {"state": READY}, token=None)
    assert r.status == 200
    assert _post(emu, ids["vm"], "generalize").status == 200


def _gallery(emu: Emu, security: str | None = "TrustedLaunch", gen: str = "V2") -> str:
    g = emu.put_gallery()
    props: dict[str, Any] = {
        "osType": "Windows",
        "osState": "Generalized",
        "hyperVGeneration": gen,
        "identifier": {"publisher": "Contoso", "offer": "avd", "sku": "base"},
    }
    if security:
        props["features"] = [{"name": "SecurityType", "value": security}]
    r = emu.call("PUT", g + "/images/img1", {"location": "westeurope", "properties": props}, api="2022-03-03")
    assert r.status == 201, r.body
    emu.done(r)
    return g + "/images/img1"


def _version_body(vm_id: str, regions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "location": "westeurope",
        "properties": {
            "storageProfile": {"source": {"virtualMachineId": vm_id}},
            "publishingProfile": {
                "excludeFromLatest": True,
                "targetRegions": regions
                or [
                    {"name": "westeurope", "regionalReplicaCount": 1, "storageAccountType": "Standard_LRS"},
                    {"name": "northeurope", "regionalReplicaCount": 2, "storageAccountType": "Standard_ZRS"},
                ],
            },
        },
    }


def test_capture_only_from_a_generalized_vm(emu: Emu) -> None:
    ids = emu.network()
    emu.vm(ids)
    image = _gallery(emu)
    r = emu.call("PUT", image + "/versions/1.0.0", _version_body(ids["vm"]), api=GALLERY_VERSION_API)
    assert (r.status, r.body["error"]["code"]) == (409, "OperationNotAllowed")
    assert "must be generalized" in r.body["error"]["message"]
    emu.done(_post(emu, ids["vm"], "deallocate"))
    emu.guest.image_states[ids["vm"].lower()] = READY
    assert _post(emu, ids["vm"], "generalize").status == 200
    r = emu.call("PUT", image + "/versions/1.0.0", _version_body(ids["vm"]), api=GALLERY_VERSION_API)
    assert r.status == 201, r.body
    emu.done(r)
    v = emu.call(
        "GET", image + "/versions/1.0.0", api=GALLERY_VERSION_API, query={"$expand": "ReplicationStatus"}
    ).body
    pp = v["properties"]["publishingProfile"]
    assert v["properties"]["provisioningState"] == "Succeeded"
    assert pp["excludeFromLatest"] is True
    assert pp["publishedDate"]
    assert [(t["name"], t["regionalReplicaCount"], t["storageAccountType"]) for t in pp["targetRegions"]] == [
        ("West Europe", 1, "Standard_LRS"),
        ("North Europe", 2, "Standard_ZRS"),
    ]
    assert v["properties"]["replicationStatus"]["aggregatedState"] == "Completed"
    assert v["properties"]["storageProfile"]["source"]["virtualMachineId"] == ids["vm"]
    # An image definition with versions cannot be deleted.
    r = emu.call("DELETE", image, api="2022-03-03")
    assert (r.status, r.body["error"]["code"]) == (409, "CannotDeleteResource")


@pytest.mark.parametrize(
    ("security", "gen", "regions", "fragment"),
    [
        (None, "V2", None, "security type 'TrustedLaunch'"),
        ("TrustedLaunch", "V1", None, None),  # the definition itself is refused (TL needs V2)
        ("TrustedLaunchSupported", "V2", [{"name": "northeurope"}], "must include its location"),
        ("TrustedLaunch", "V2", [{"name": "westeurope", "regionalReplicaCount": 0}], "from 1 to 100"),
    ],
)
def test_capture_compatibility_checks(
    emu: Emu, security: str | None, gen: str, regions: Any, fragment: str | None
) -> None:
    ids = emu.network()
    emu.vm(ids)
    emu.done(_post(emu, ids["vm"], "deallocate"))
    emu.guest.image_states[ids["vm"].lower()] = READY
    _post(emu, ids["vm"], "generalize")
    if fragment is None:
        g = emu.put_gallery()
        r = emu.call(
            "PUT",
            g + "/images/img1",
            {
                "location": "westeurope",
                "properties": {
                    "osType": "Windows",
                    "osState": "Generalized",
                    "hyperVGeneration": gen,
                    "identifier": {"publisher": "a", "offer": "b", "sku": "c"},
                    "features": [{"name": "SecurityType", "value": security}],
                },
            },
            api="2022-03-03",
        )
        assert (r.status, r.body["error"]["code"]) == (400, "InvalidParameter")
        return
    image = _gallery(emu, security, gen)
    r = emu.call("PUT", image + "/versions/1.0.0", _version_body(ids["vm"], regions), api=GALLERY_VERSION_API)
    assert (r.status, r.body["error"]["code"]) == (400, "InvalidParameter")
    assert fragment in r.body["error"]["message"]


# ------------------------------------------------------------------------------------------------
# run command
def test_run_command_goes_to_the_guest_and_answers_the_contract_shape(emu: Emu) -> None:
    ids = emu.network()
    emu.vm(ids)
    emu.guest.scripts["Write-Output 'x'\nexit 0"] = RunCommandResult(stdout="x\n", stderr="warn")
    body = {
        "commandId": "RunPowerShellScript",
        "script": ["Write-Output 'x'", "exit 0"],
        "parameters": [{"name": "A", "value": "1"}],
    }
    r = _post(emu, ids["vm"], "runCommand", body)
    assert r.status == 202
    status = emu.done(r)
    out = status.body["properties"]["output"]["value"]
    assert out[0] == {
        "code": "ComponentStatus/StdOut/succeeded",
        "level": "Info",
        "displayStatus": "Provisioning succeeded",
        "message": "x\n",
    }
    assert out[1]["code"] == "ComponentStatus/StdErr/succeeded"
    assert out[1]["message"] == "warn"
    assert emu.call("GET", r.headers["Location"]).body == {"value": out}


def test_run_command_refusals(emu: Emu) -> None:
    ids = emu.network()
    emu.vm(ids)
    body = {"commandId": "RunPowerShellScript", "script": ["Get-Unknown"]}
    r = _post(emu, ids["vm"], "runCommand", body)
    assert r.status == 501  # the guest does not know the script: loud, recorded
    assert emu.arm.unmodelled[-1]["path"].endswith("/runCommand")
    r = _post(emu, ids["vm"], "runCommand", {"commandId": "Bogus", "script": ["x"]})
    assert (r.status, r.body["error"]["code"]) == (400, "InvalidParameter")
    emu.done(_post(emu, ids["vm"], "deallocate"))
    r = _post(emu, ids["vm"], "runCommand", body)
    assert (r.status, r.body["error"]["code"]) == (409, "OperationNotAllowed")


def _vmaccess(emu: Emu, vm_id: str, **props: Any) -> Any:
    body = {
        "location": "westeurope",
        "properties": {
            "publisher": "Microsoft.Compute",
            "type": "VMAccessAgent",
            "typeHandlerVersion": "2.4",
            "settings": {"UserName": "azureuser"},
            "protectedSettings": {"Password": "N3w-Pa55word-for-resume!"},
            **props,
        },
    }
    return emu.call("PUT", vm_id + "/extensions/vmaccess", body, api=COMPUTE)


def test_vmaccess_sets_the_guest_password_and_never_returns_it(emu: Emu) -> None:
    ids = emu.network()
    emu.vm(ids)
    user = emu.guest.specs[next(iter(emu.guest.specs))].admin_username
    r = _vmaccess(emu, ids["vm"], settings={"UserName": user})
    assert r.status == 201, r
    assert emu.done(r).body["status"] == "Succeeded"
    got = emu.call("GET", ids["vm"] + "/extensions/vmaccess", api=COMPUTE).body
    assert got["properties"]["provisioningState"] == "Succeeded"
    assert "protectedSettings" not in got["properties"]
    assert "N3w-Pa55word" not in json.dumps(got) + json.dumps(emu.arm.request_log)
    assert ("set_admin_password", (ids["vm"].lower(), user, 24)) in emu.guest.calls


def test_vmaccess_refusals(emu: Emu) -> None:
    ids = emu.network()
    emu.vm(ids)
    r = _vmaccess(emu, ids["vm"], publisher="Contoso", type="Other")
    assert r.status == 501  # any other extension is not modelled: loud
    r = _vmaccess(emu, ids["vm"], protectedSettings={})
    assert (r.status, r.body["error"]["code"]) == (400, "InvalidParameter")
    r = _vmaccess(emu, ids["vm"], protectedSettings={"Password": "short"})
    assert (r.status, r.body["error"]["code"]) == (400, "InvalidParameter")
    emu.done(_post(emu, ids["vm"], "deallocate"))
    r = _vmaccess(emu, ids["vm"])
    assert (r.status, r.body["error"]["code"]) == (409, "OperationNotAllowed")


def test_run_command_without_a_windows_side_is_501(tmp_path: Path) -> None:
    emu = make_emu(tmp_path)
    emu.arm.guests = None
    ids = emu.network()
    emu.vm(ids)
    r = _post(emu, ids["vm"], "runCommand", {"commandId": "RunPowerShellScript", "script": ["x"]})
    assert r.status == 501
    assert "Windows side" in r.body["error"]["message"]


# ------------------------------------------------------------------------------------------------
# NSG evaluation
@pytest.mark.parametrize(
    ("rules", "source", "port", "allowed"),
    [
        ([winrm_rule()], "127.0.0.1", 5986, True),
        ([winrm_rule()], "127.0.0.5", 5986, False),
        ([winrm_rule()], "127.0.0.1", 5985, False),
        (
            [winrm_rule(priority=200), winrm_rule(source="*", priority=100, access="Deny")],
            "127.0.0.1",
            5986,
            False,
        ),
        (
            [winrm_rule(priority=100), winrm_rule(source="*", priority=200, access="Deny")],
            "127.0.0.1",
            5986,
            True,
        ),
        ([winrm_rule(source="Internet")], "127.3.4.5", 5986, True),
        ([winrm_rule(source="127.0.0.0/30")], "127.0.0.2", 5986, True),
        ([], "127.0.0.1", 5986, False),  # DenyAllInBound
    ],
)
def test_winrm_allowed_evaluates_nsgs_like_azure(
    emu: Emu, rules: list[dict[str, Any]], source: str, port: int, allowed: bool
) -> None:
    ids = emu.network(nsg_rules=rules)
    emu.vm(ids)
    with emu.arm.lock:
        assert emu.arm.winrm_allowed(ids["vm"].lower(), source, port) is allowed


def test_no_nsg_allows_everything(emu: Emu) -> None:
    ids = emu.network()
    nic = emu.call("GET", ids["nic"], api=NET).body
    del nic["properties"]["networkSecurityGroup"]
    emu.done(emu.call("PUT", ids["nic"], nic, api=NET))
    sub = emu.call("GET", ids["subnet"], api=NET).body
    del sub["properties"]["networkSecurityGroup"]
    emu.done(emu.call("PUT", ids["subnet"], sub, api=NET))
    emu.vm(ids)
    with emu.arm.lock:
        assert emu.arm.winrm_allowed(ids["vm"].lower(), "127.9.9.9", 5986) is True


# ------------------------------------------------------------------------------------------------
# faults
def test_throttle_fault_for_n_calls(emu: Emu) -> None:
    emu.put_rg()
    r = emu.call(
        "POST",
        "/_sandbox/faults",
        {
            "target": "arm",
            "method": "GET",
            "path": "resourcegroups/rg1$",
            "kind": "throttle",
            "count": 2,
            "retry_after": 3,
        },
        token=None,
    )
    assert r.status == 201
    for _ in range(2):
        r = emu.call("GET", emu.rg(), api="2022-09-01")
        assert r.status == 429
        assert r.headers["Retry-After"] == "3"
    assert emu.call("GET", emu.rg(), api="2022-09-01").status == 200


def test_server_error_and_delay_faults(emu: Emu) -> None:
    emu.put_rg()
    emu.call(
        "POST",
        "/_sandbox/faults",
        {"path": "rg1", "kind": "server_error", "status": 503, "count": 1},
        token=None,
    )
    r = emu.call("GET", emu.rg(), api="2022-09-01")
    assert (r.status, r.body["error"]["code"]) == (503, "InternalServerError")
    emu.call(
        "POST", "/_sandbox/faults", {"path": "rg1", "kind": "delay", "delay_ms": 150, "count": 1}, token=None
    )
    import time

    t0 = time.monotonic()
    assert emu.call("GET", emu.rg(), api="2022-09-01").status == 200
    assert time.monotonic() - t0 >= 0.15


def test_failed_lro_fault(emu: Emu) -> None:
    emu.put_rg()
    emu.call(
        "POST",
        "/_sandbox/faults",
        {
            "method": "PUT",
            "path": "publicIPAddresses",
            "kind": "lro_failed",
            "code": "AllocationFailed",
            "count": 1,
        },
        token=None,
    )
    rid = f"{emu.rg()}/providers/Microsoft.Network/publicIPAddresses/p1"
    r = emu.call("PUT", rid, {"location": "westeurope"}, api=NET)
    assert r.status == 201
    status = emu.done(r)
    assert status.body["status"] == "Failed"
    assert status.body["error"]["code"] == "AllocationFailed"
    assert emu.call("GET", rid, api=NET).body["properties"]["provisioningState"] == "Failed"
    # The fault was used up: the retry succeeds.
    assert emu.done(emu.call("PUT", rid, {"location": "westeurope"}, api=NET)).body["status"] == "Succeeded"


def test_bad_fault_specs_are_refused(emu: Emu) -> None:
    assert emu.call("POST", "/_sandbox/faults", {"kind": "meteor"}, token=None).status == 400
    assert emu.call("POST", "/_sandbox/faults", {"kind": "throttle", "path": "("}, token=None).status == 400
    r = emu.call("POST", "/_sandbox/faults", {"target": "winrm", "vm": "x", "kind": "meteor"}, token=None)
    assert r.status == 400


def _arm(emu: Emu, **spec: Any) -> Any:
    return emu.call("POST", "/_sandbox/faults", {"target": "arm", **spec}, token=None)


def test_throttle_sends_retry_after_and_the_ratelimit_headers(emu: Emu) -> None:
    emu.put_rg()
    r = _arm(emu, method="GET", path="resourcegroups/rg1$", kind="throttle", retry_after=7)
    assert r.status == 201
    r = emu.call("GET", emu.rg(), api="2022-09-01")
    assert (r.status, r.body["error"]["code"]) == (429, "TooManyRequests")
    assert r.headers["Retry-After"] == "7"
    assert r.headers["x-ms-ratelimit-remaining-subscription-reads"] == "0"
    rid = f"{emu.rg()}/providers/Microsoft.Network/publicIPAddresses/p1"
    _arm(emu, method="PUT", path="publicIPAddresses", kind="throttle", policy="Microsoft.Network/PutPip3Min")
    r = emu.call("PUT", rid, {"location": "westeurope"}, api=NET)
    assert r.status == 429
    assert r.headers["x-ms-ratelimit-remaining-subscription-writes"] == "0"
    assert r.headers["x-ms-ratelimit-remaining-resource"] == "Microsoft.Network/PutPip3Min;0"
    assert emu.call("GET", emu.rg(), api="2022-09-01").status == 200  # used up


def test_a_burst_of_n_server_errors_then_success(emu: Emu) -> None:
    emu.put_rg()
    _arm(emu, method="GET", path="resourcegroups/rg1$", kind="server_error", status=503, count=3)
    codes = [emu.call("GET", emu.rg(), api="2022-09-01").status for _ in range(4)]
    assert codes == [503, 503, 503, 200]


def test_allocation_failed_on_the_vm_create(emu: Emu) -> None:
    ids = emu.network()
    assert _arm(emu, kind="allocation_failed").status == 201
    vid = f"{emu.rg()}/providers/Microsoft.Compute/virtualMachines/vm1"
    r = emu.call("PUT", vid, vm_body(ids), api="2024-07-01")
    assert r.status == 201, r.body
    status = emu.done(r)
    assert status.body["status"] == "Failed"
    assert status.body["error"]["code"] == "AllocationFailed"
    assert "sufficient capacity" in status.body["error"]["message"]
    vm = emu.call("GET", vid, api="2024-07-01").body
    assert vm["properties"]["provisioningState"] == "Failed"


def test_replication_failure_in_one_region(emu: Emu) -> None:
    ids = emu.network()
    emu.vm(ids)
    image = _gallery(emu)
    emu.done(_post(emu, ids["vm"], "deallocate"))
    emu.guest.image_states[ids["vm"].lower()] = READY
    assert _post(emu, ids["vm"], "generalize").status == 200
    # A region the version does not target never fires.
    _arm(emu, kind="replication_failed", region="eastus")
    _arm(emu, kind="replication_failed", region="northeurope")
    r = emu.call("PUT", image + "/versions/1.0.0", _version_body(ids["vm"]), api=GALLERY_VERSION_API)
    status = emu.done(r)
    assert status.body["status"] == "Failed"
    assert "Gallery replication jobs failed in one or more regions" in status.body["error"]["message"]
    assert "region:northeurope" in status.body["error"]["message"]
    v = emu.call(
        "GET", image + "/versions/1.0.0", api=GALLERY_VERSION_API, query={"$expand": "ReplicationStatus"}
    ).body
    assert v["properties"]["provisioningState"] == "Failed"
    summary = {s["region"]: s["state"] for s in v["properties"]["replicationStatus"]["summary"]}
    assert summary == {"West Europe": "Completed", "North Europe": "Failed"}
    assert v["properties"]["replicationStatus"]["aggregatedState"] == "Failed"
    faults = emu.call("GET", "/_sandbox/faults", token=None).body["faults"]
    assert [(f["region"], f["hits"]) for f in faults] == [("eastus", 0), ("northeurope", 1)]
    # A failed version can be deleted (teardown does), and the name used again.
    r = emu.call("DELETE", image + "/versions/1.0.0", api=GALLERY_VERSION_API)
    emu.done(r)
    assert emu.call("GET", image + "/versions/1.0.0", api=GALLERY_VERSION_API).status == 404


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"kind": "throttle", "status": 503}, "status: must be an integer from 429 to 429"),
        ({"kind": "server_error", "status": 429}, "status: must be an integer from 500 to 599"),
        ({"kind": "server_error", "count": 0}, "count: must be an integer"),
        ({"kind": "throttle", "retry_after": "soon"}, "retry_after"),
        ({"kind": "lro_failed", "status": 500}, "Fields not known"),
        ({"kind": "lro_failed", "code": "not a code"}, "code: not a valid value"),
        ({"kind": "allocation_failed", "path": "x"}, "VM PUTs only"),
        ({"kind": "replication_failed"}, "region: the target region"),
        ({"kind": "replication_failed", "region": "northeurope", "method": "GET"}, "image version PUTs only"),
        ({"kind": "throttle", "method": "FETCH"}, "method: one of"),
        ({"kind": "throttle", "policy": "PutVM3Min"}, "policy: not a valid value"),
    ],
)
def test_faults_that_could_not_happen_are_refused(emu: Emu, spec: dict[str, Any], fragment: str) -> None:
    r = _arm(emu, **spec)
    assert (r.status, r.body["error"]["code"]) == (400, "InvalidFault")
    assert fragment in r.body["error"]["message"]


# ------------------------------------------------------------------------------------------------
# persistence and redaction
def test_state_survives_a_new_emulator_on_the_same_dir(tmp_path: Path) -> None:
    emu = make_emu(tmp_path)
    ids = emu.network()
    emu.vm(ids)
    emu.done(_post(emu, ids["vm"], "powerOff"))
    emu2 = make_emu(tmp_path)  # same state dir, a new process would do exactly this
    assert emu2.arm.creds == emu.arm.creds
    assert set(emu2.arm.resources) == set(emu.arm.resources)
    with emu2.arm.lock:
        emu2.arm.reannounce()
    vm = ids["vm"].lower()
    assert ("vm_power", (vm, "stopped")) in emu2.guest.calls
    assert emu2.guest.addresses[vm] == emu.guest.addresses[vm]
    assert _power(emu2, ids["vm"]) == "PowerState/stopped"


def test_secrets_never_reach_the_log_or_the_disk(emu: Emu) -> None:
    ids = emu.network()
    emu.vm(ids)
    entry = next(e for e in emu.arm.request_log if e["method"] == "PUT" and e["path"].endswith("/vm1"))
    assert entry["body"]["properties"]["osProfile"]["adminPassword"] == "***REDACTED***"
    token_entry = next(e for e in emu.arm.request_log if e["path"].endswith("/token"))
    assert token_entry["body"]["client_secret"] == "***REDACTED***"
    emu.guest.scripts["x"] = RunCommandResult(stdout="ok")
    emu.done(
        _post(
            emu,
            ids["vm"],
            "runCommand",
            {
                "commandId": "RunPowerShellScript",
                "script": ["x"],
                "parameters": [
                    {"name": "p", "value": "visible"},
                    {"name": "AdminPassword", "value": PASSWORD},
                ],
            },
        )
    )
    with emu.arm.lock:
        emu.arm.save()
    log = json.dumps(emu.arm.request_log)
    assert PASSWORD not in log
    assert emu.arm.creds.client_secret not in log
    assert emu.token not in log
    for path in emu.world.state_dir.rglob("*"):
        if path.is_file() and path.name != "credentials.json":
            text = path.read_text(errors="replace")
            assert PASSWORD not in text, path
            assert emu.token not in text, path


def test_credentials_file_is_private(emu: Emu) -> None:
    path = emu.world.state_dir / "credentials.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert isinstance(emu.arm, Arm)


def test_reset_empties_everything(emu: Emu) -> None:
    ids = emu.network()
    emu.vm(ids)
    assert emu.call("POST", "/_sandbox/reset", token=None).status == 200
    assert emu.arm.resources == {}
    assert ("vm_deleted", ids["vm"].lower()) in emu.guest.calls
    state = emu.call("GET", "/_sandbox/state", token=None).body
    assert state["resources"] == {}


# ------------------------------------------------------------------------------------------------
# latency model and nested security rules
def test_latency_model_holds_an_operation_until_its_time(emu_factory: Any) -> None:
    import time

    emu = emu_factory(latency=lambda key: 0.3 if "publicIPAddresses" in key else 0.0)
    emu.put_rg()
    rid = f"{emu.rg()}/providers/Microsoft.Network/publicIPAddresses/p1"
    r = emu.call("PUT", rid, {"location": "westeurope"}, api=NET)
    url = r.headers["Azure-AsyncOperation"]
    assert [emu.call("GET", url).body["status"] for _ in range(3)] == ["InProgress"] * 3
    assert int(emu.call("GET", url).headers["Retry-After-Ms"]) > 20  # poll less often meanwhile
    time.sleep(0.35)
    assert emu.call("GET", url).body["status"] == "Succeeded"


def test_realistic_latency_draws_follow_the_model() -> None:
    from sandbox.arm.latency import realistic

    f = realistic(seed=7)
    vm = sorted(f("put::virtualMachines") for _ in range(200))
    subnet = sorted(f("put::subnets") for _ in range(200))
    assert 60 < vm[100] < 300  # median 150 s
    assert 1 < subnet[100] < 6  # median 3 s


def test_security_rule_child_route(emu: Emu) -> None:
    ids = emu.network()
    rule = winrm_rule(source="127.0.0.9", priority=110)
    r = emu.call("PUT", ids["nsg"] + "/securityRules/extra", rule, api=NET)
    assert r.status == 201, r.body
    emu.done(r)
    nsg = emu.call("GET", ids["nsg"], api=NET).body
    assert sorted(x["name"] for x in nsg["properties"]["securityRules"]) == ["extra", "winrm-100"]
    clash = winrm_rule(priority=100)
    r = emu.call("PUT", ids["nsg"] + "/securityRules/clash", clash, api=NET)
    assert r.body["error"]["code"] == "SecurityRuleConflict"
    emu.done(emu.call("DELETE", ids["nsg"] + "/securityRules/extra", api=NET))
    assert emu.call("GET", ids["nsg"] + "/securityRules/extra", api=NET).status == 404


def test_pool_skips_addresses_that_cannot_be_bound(emu_factory: Any) -> None:
    import socket

    emu = emu_factory(vm_address_pool="127.88.9.0/24")
    emu.arm.probe_bind = True
    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        busy.bind(("127.88.9.2", 5986))
        busy.listen(1)
        emu.put_rg()
        rid = f"{emu.rg()}/providers/Microsoft.Network/publicIPAddresses/p1"
        r = emu.call("PUT", rid, {"location": "westeurope", "sku": {"name": "Standard"}}, api=NET)
        assert r.body["properties"]["ipAddress"] == "127.88.9.3"
    finally:
        busy.close()


def test_dynamic_public_ip_has_an_address_only_while_allocated(emu: Emu) -> None:
    ids = emu.network()
    emu.done(
        emu.call(
            "PUT",
            ids["pip"] + "dyn",
            {
                "location": "westeurope",
                "sku": {"name": "Basic"},
                "properties": {"publicIPAllocationMethod": "Dynamic"},
            },
            api=NET,
        )
    )
    assert "ipAddress" not in emu.call("GET", ids["pip"] + "dyn", api=NET).body["properties"]
    nic = emu.call("GET", ids["nic"], api=NET).body
    nic["properties"]["ipConfigurations"][0]["properties"]["publicIPAddress"] = {"id": ids["pip"] + "dyn"}
    emu.done(emu.call("PUT", ids["nic"], nic, api=NET))
    emu.vm(ids)
    address = emu.call("GET", ids["pip"] + "dyn", api=NET).body["properties"]["ipAddress"]
    assert emu.guest.addresses[ids["vm"].lower()] == address
    emu.done(_post(emu, ids["vm"], "deallocate"))
    assert "ipAddress" not in emu.call("GET", ids["pip"] + "dyn", api=NET).body["properties"]
    assert emu.guest.addresses[ids["vm"].lower()] is None
