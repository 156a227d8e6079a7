"""Role-based access control in the ARM emulator: the action each request is, role definitions and
assignments through Microsoft.Authorization's API, and ARM's 403s for a principal without the
permission (sandbox/arm/rbac.py)."""

from __future__ import annotations

import urllib.parse
import uuid
from typing import Any

import pytest

from sandbox.arm.rbac import action_of
from sandbox.arm.values import Request
from tests.support.arm_emulator import BASE, Emu

AUTH_API = "2022-04-01"
RG_API = "2022-09-01"
NET = "2024-03-01"
SUB = "00000000-0000-0000-0000-000000000001"


def _token(emu: Emu, client_id: str, secret: str) -> str:
    form = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": f"{BASE}/.default",
        }
    ).encode()
    req = Request(
        "POST",
        f"/{emu.arm.creds.tenant_id}/oauth2/v2.0/token",
        {},
        {"content-type": "application/x-www-form-urlencoded"},
        form,
        BASE,
    )
    with emu.arm.lock:
        resp = emu.arm.handle(req)
    assert resp.status == 200, resp.body
    return "Bearer " + resp.body["access_token"]


def _principal(emu: Emu) -> dict[str, Any]:
    r = emu.call("POST", "/_sandbox/principals", {"display_name": "builder"}, token=None)
    assert r.status == 201
    return r.body


def _role(emu: Emu, actions: list[str], not_actions: list[str] | None = None, name: str = "Builder") -> str:
    guid = str(uuid.uuid4())
    body = {
        "properties": {
            "roleName": name,
            "type": "CustomRole",
            "permissions": [{"actions": actions, "notActions": not_actions or []}],
            "assignableScopes": [f"/subscriptions/{emu.sub}"],
        }
    }
    path = f"/subscriptions/{emu.sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
    r = emu.call("PUT", path, body, api=AUTH_API)
    assert r.status == 201, r.body
    return r.body["id"]


def _assign(emu: Emu, scope: str, role_id: str, principal_id: str) -> Any:
    path = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
    body = {"properties": {"roleDefinitionId": role_id, "principalId": principal_id}}
    return emu.call("PUT", path, body, api=AUTH_API)


@pytest.mark.parametrize(
    ("method", "path", "action"),
    [
        ("GET", f"/subscriptions/{SUB}", "Microsoft.Resources/subscriptions/read"),
        (
            "PUT",
            f"/subscriptions/{SUB}/resourcegroups/rg",
            "Microsoft.Resources/subscriptions/resourceGroups/write",
        ),
        (
            "GET",
            f"/subscriptions/{SUB}/resourceGroups/rg/resources",
            "Microsoft.Resources/subscriptions/resourceGroups/resources/read",
        ),
        (
            "DELETE",
            f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm",
            "Microsoft.Compute/virtualMachines/delete",
        ),
        (
            "POST",
            f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/generalize",
            "Microsoft.Compute/virtualMachines/generalize/action",
        ),
        (
            "PUT",
            f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0",
            "Microsoft.Compute/galleries/images/versions/write",
        ),
        (
            "GET",
            f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/instanceView",
            "Microsoft.Compute/virtualMachines/instanceView/read",
        ),
        (
            "GET",
            f"/subscriptions/{SUB}/providers/Microsoft.Compute/locations/westeurope/vmSizes",
            "Microsoft.Compute/locations/vmSizes/read",
        ),
    ],
)
def test_each_request_is_the_action_azure_checks(method: str, path: str, action: str) -> None:
    req = Request(method, path, {}, {}, b"", BASE)
    req.segments = [s for s in path.split("/") if s]
    assert action_of(req)[0] == action


def test_the_sandbox_principal_is_owner_and_a_new_one_can_do_nothing(emu: Emu) -> None:
    assert emu.put_rg().status in (200, 201)
    sp = _principal(emu)
    token = _token(emu, sp["client_id"], sp["client_secret"])
    r = emu.call("GET", emu.rg(), api=RG_API, token=token)
    assert r.status == 403
    assert r.body["error"]["code"] == "AuthorizationFailed"
    msg = r.body["error"]["message"]
    assert sp["client_id"] in msg and sp["object_id"] in msg
    assert "'Microsoft.Resources/subscriptions/resourceGroups/read'" in msg and f"'{emu.rg()}'" in msg
    assert emu.arm.request_log[-1]["error"] == "AuthorizationFailed"
    assert sp["client_secret"] not in str(emu.arm.request_log) and sp["client_secret"] not in str(
        emu.arm.rbac.dump()
    )


def test_a_custom_role_grants_its_actions_at_its_scope_only(emu: Emu) -> None:
    emu.put_rg("rg1")
    emu.put_rg("rg2")
    sp = _principal(emu)
    role = _role(emu, ["Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Network/*"])
    assert _assign(emu, emu.rg("rg1"), role, sp["object_id"]).status == 201
    token = _token(emu, sp["client_id"], sp["client_secret"])
    assert emu.call("GET", emu.rg("rg1"), api=RG_API, token=token).status == 200
    vnet = f"{emu.rg('rg1')}/providers/Microsoft.Network/virtualNetworks/vnet-rbac"
    body = {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}
    assert emu.call("PUT", vnet, body, api=NET, token=token).status in (200, 201)
    # The other group is outside the assignment's scope; deleting a group is not in the role.
    assert emu.call("GET", emu.rg("rg2"), api=RG_API, token=token).status == 403
    r = emu.call("DELETE", emu.rg("rg1"), api=RG_API, token=token)
    assert r.status == 403 and "resourceGroups/delete" in r.body["error"]["message"]


def test_not_actions_subtract_and_contributor_cannot_assign_roles(emu: Emu) -> None:
    emu.put_rg()
    sp = _principal(emu)
    contributor = (
        f"/subscriptions/{emu.sub}/providers/Microsoft.Authorization/roleDefinitions/"
        "b24988ac-6180-42a0-ab88-20f7382dd24c"
    )
    assert _assign(emu, f"/subscriptions/{emu.sub}", contributor, sp["object_id"]).status == 201
    token = _token(emu, sp["client_id"], sp["client_secret"])
    assert emu.call("GET", emu.rg(), api=RG_API, token=token).status == 200
    other = _principal(emu)
    path = f"{emu.rg()}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
    body = {"properties": {"roleDefinitionId": contributor, "principalId": other["object_id"]}}
    r = emu.call("PUT", path, body, api=AUTH_API, token=token)
    assert r.status == 403
    assert "Microsoft.Authorization/roleAssignments/write" in r.body["error"]["message"]


def test_a_nic_needs_join_rights_on_the_subnet_it_names(emu: Emu) -> None:
    ids = emu.network()
    sp = _principal(emu)
    role = _role(
        emu, ["Microsoft.Network/networkInterfaces/*", "Microsoft.Network/publicIPAddresses/join/action"]
    )
    assert _assign(emu, emu.rg(), role, sp["object_id"]).status == 201
    token = _token(emu, sp["client_id"], sp["client_secret"])
    nic = f"{emu.rg()}/providers/Microsoft.Network/networkInterfaces/nic2"
    body = {
        "location": "westeurope",
        "properties": {"ipConfigurations": [{"name": "ip", "properties": {"subnet": {"id": ids["subnet"]}}}]},
    }
    r = emu.call("PUT", nic, body, api=NET, token=token)
    assert r.status == 403
    assert r.body["error"]["code"] == "LinkedAuthorizationFailed"
    assert "Microsoft.Network/virtualNetworks/subnets/join/action" in r.body["error"]["message"]
    assert ids["subnet"] in r.body["error"]["message"]
    assert emu.arm.get(nic.lower()) is None


def test_role_api_refusals(emu: Emu) -> None:
    emu.put_rg()
    role = _role(emu, ["*/read"])
    # A second custom role with the same name; an assignment to nobody; a non-GUID assignment name.
    dup = f"/subscriptions/{emu.sub}/providers/Microsoft.Authorization/roleDefinitions/{uuid.uuid4()}"
    body = {
        "properties": {
            "roleName": "builder",
            "permissions": [{"actions": ["*/read"]}],
            "assignableScopes": [f"/subscriptions/{emu.sub}"],
        }
    }
    assert (
        emu.call("PUT", dup, body, api=AUTH_API).body["error"]["code"] == "RoleDefinitionWithSameNameExists"
    )
    r = _assign(emu, emu.rg(), role, str(uuid.uuid4()))
    assert (r.status, r.body["error"]["code"]) == (400, "PrincipalNotFound")
    bad = f"{emu.rg()}/providers/Microsoft.Authorization/roleAssignments/not-a-guid"
    r = emu.call("PUT", bad, {"properties": {"roleDefinitionId": role, "principalId": "x"}}, api=AUTH_API)
    assert (r.status, r.body["error"]["code"]) == (400, "InvalidRoleAssignmentId")
    sp = _principal(emu)
    assert _assign(emu, emu.rg(), role, sp["object_id"]).status == 201
    r = _assign(emu, emu.rg(), role, sp["object_id"])
    assert (r.status, r.body["error"]["code"]) == (409, "RoleAssignmentExists")
    listed = emu.call(
        "GET",
        f"{emu.rg()}/providers/Microsoft.Authorization/roleAssignments",
        api=AUTH_API,
        query={"$filter": f"principalId eq '{sp['object_id']}'"},
    )
    assert [a["properties"]["principalId"] for a in listed.body["value"]] == [sp["object_id"]]
