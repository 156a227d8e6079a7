"""Azure role-based access control as ARM enforces it: every request under /subscriptions is an
action (``Microsoft.Compute/virtualMachines/write``) on a scope, allowed only when a role
assignment of the calling principal at that scope or above grants it (actions minus notActions,
``*`` wildcards, case-insensitive); a PUT that references a subnet, public IP address, network
security group or network interface also needs that resource's ``join/action`` (ARM's linked
access check). Refusals are ARM's 403 ``AuthorizationFailed`` / ``LinkedAuthorizationFailed``.

The routes of Microsoft.Authorization's ``roleDefinitions`` and ``roleAssignments`` (at any scope)
live here too. The sandbox's own service principal holds Owner on the subscription; more service
principals are made through the control endpoint (``POST /_sandbox/principals``), as an Entra
app registration would be. Only digests of their secrets are kept.

Not modelled: deny assignments, conditions (ABAC), data actions on ARM requests (they apply to
data planes), management groups, and the minutes Azure takes to propagate a new assignment.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from sandbox.arm.errors import (
    ArmError,
    BadRequest,
    Conflict,
    NotFound,
    Unmodelled,
    resource_group_not_found,
    resource_not_found,
)
from sandbox.arm.values import Request, Response, utcnow

if TYPE_CHECKING:
    from sandbox.arm.core import Arm

AUTH_NS = "microsoft.authorization"
API_VERSIONS = ("2015-07-01", "2018-01-01-preview", "2020-04-01-preview", "2022-04-01", "2022-05-01-preview")
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
# The built-in roles a build may be given, with their permissions as Azure publishes them
# (learn.microsoft.com azure/role-based-access-control/built-in-roles).
BUILT_IN: dict[str, dict[str, Any]] = {
    OWNER: {"roleName": "Owner", "actions": ["*"], "notActions": []},
    "b24988ac-6180-42a0-ab88-20f7382dd24c": {
        "roleName": "Contributor",
        "actions": ["*"],
        "notActions": [
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete",
            "Microsoft.Compute/galleries/share/action",
            "Microsoft.Purview/consents/write",
            "Microsoft.Purview/consents/delete",
        ],
    },
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": {"roleName": "Reader", "actions": ["*/read"], "notActions": []},
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": {
        "roleName": "Storage Blob Data Reader",
        "actions": [
            "Microsoft.Storage/storageAccounts/blobServices/containers/read",
            "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
        ],
        "notActions": [],
        "dataActions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"],
    },
}
# The resource types a PUT may link to, and the action the link needs on the linked resource.
JOIN_ACTIONS = (
    (re.compile(r"/providers/microsoft\.network/virtualnetworks/[^/]+/subnets/[^/]+$"), "subnets"),
    (re.compile(r"/providers/microsoft\.network/publicipaddresses/[^/]+$"), "publicIPAddresses"),
    (re.compile(r"/providers/microsoft\.network/networksecuritygroups/[^/]+$"), "networkSecurityGroups"),
    (re.compile(r"/providers/microsoft\.network/networkinterfaces/[^/]+$"), "networkInterfaces"),
)
JOIN_ACTION_NAMES = {
    "subnets": "Microsoft.Network/virtualNetworks/subnets/join/action",
    "publicIPAddresses": "Microsoft.Network/publicIPAddresses/join/action",
    "networkSecurityGroups": "Microsoft.Network/networkSecurityGroups/join/action",
    "networkInterfaces": "Microsoft.Network/networkInterfaces/join/action",
}
_ACTION_RE = re.compile(r"^(\*|[A-Za-z][A-Za-z0-9.]*)(/(\*|[A-Za-z0-9.]+))*(/\*)?$")
_VERBS = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}


def object_id(client_id: str) -> str:
    """The service principal's object id (stable for a client id, and not equal to it, as in Entra)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-sp:{client_id}"))


# --- actions --------------------------------------------------------------------------------------
def action_of(req: Request) -> tuple[str, str]:
    """(action, scope) of a request under /subscriptions/{sub}: the operation ARM checks."""
    segs = req.segments
    verb = _VERBS.get(req.method)
    if len(segs) <= 2:
        return "Microsoft.Resources/subscriptions/read", "/" + "/".join(segs)
    rest = segs[2:]
    if "providers" not in [s.lower() for s in rest]:
        return _resources_action(req, segs, rest, verb)
    at = [s.lower() for s in segs].index("providers")
    ns, tail = segs[at + 1], segs[at + 2 :]
    if not tail:
        return "Microsoft.Resources/subscriptions/providers/read", "/" + "/".join(segs)
    types, extra = tail[0::2], tail[1::2]
    if len(tail) % 2 == 0:  # .../{type}/{name}: the resource itself
        return f"{ns}/{'/'.join(types)}/{verb or _unknown(req)}", "/" + "/".join(segs)
    if req.method == "POST":  # .../{name}/{action}
        return f"{ns}/{'/'.join(types[:-1])}/{types[-1]}/action", "/" + "/".join(segs[:-1])
    del extra
    return f"{ns}/{'/'.join(types)}/{verb or _unknown(req)}", "/" + "/".join(segs)


def _resources_action(req: Request, segs: list[str], rest: list[str], verb: str | None) -> tuple[str, str]:
    low = [s.lower() for s in rest]
    scope = "/" + "/".join(segs)
    if low == ["resourcegroups"]:
        return "Microsoft.Resources/subscriptions/resourceGroups/read", scope
    if low[:1] == ["resourcegroups"] and len(low) == 2:
        return f"Microsoft.Resources/subscriptions/resourceGroups/{verb or _unknown(req)}", scope
    if low[:1] == ["resourcegroups"] and low[2:] == ["resources"]:
        return "Microsoft.Resources/subscriptions/resourceGroups/resources/read", scope
    if low[:1] == ["operationresults"]:
        return "Microsoft.Resources/subscriptions/operationresults/read", scope
    raise _unknown(req)


def _unknown(req: Request) -> Unmodelled:
    return Unmodelled(f"the RBAC action of {req.method} {req.path} is not modelled")


def _matches(pattern: str, action: str) -> bool:
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, action, re.IGNORECASE) is not None


def _granted(perms: list[dict[str, Any]], action: str) -> bool:
    return any(
        any(_matches(a, action) for a in p.get("actions") or [])
        and not any(_matches(n, action) for n in p.get("notActions") or [])
        for p in perms
    )


def _within(scope: str, target: str) -> bool:
    s, t = scope.lower().rstrip("/"), target.lower().rstrip("/")
    return t == s or t.startswith(s + "/")


# --- the store ------------------------------------------------------------------------------------
class Rbac:
    """Role definitions, role assignments and the extra service principals of one sandbox."""

    def __init__(self, arm: Arm) -> None:
        self.arm = arm
        self.definitions: dict[str, dict[str, Any]] = {}  # lower guid -> roleDefinition
        self.assignments: dict[str, dict[str, Any]] = {}  # lower id -> roleAssignment
        self.principals: dict[str, dict[str, str]] = {}  # client id -> {object_id, display_name}

    def load(self, doc: dict[str, Any]) -> None:
        self.definitions = doc.get("definitions", {})
        self.assignments = doc.get("assignments", {})
        self.principals = doc.get("principals", {})

    def dump(self) -> dict[str, Any]:
        return {
            "definitions": self.definitions,
            "assignments": self.assignments,
            "principals": self.principals,
        }

    def clear(self) -> None:
        """Back to the sandbox principal as Owner of the subscription, nothing else."""
        self.definitions.clear()
        self.assignments.clear()
        self.principals.clear()

    # ----------------------------------------------------------------------------------------------
    def principal_object_ids(self) -> dict[str, str]:
        ids = {self.arm.creds.client_id: object_id(self.arm.creds.client_id)}
        ids.update({cid: p["object_id"] for cid, p in self.principals.items()})
        return ids

    def add_principal(self, display_name: str) -> dict[str, str]:
        """A new service principal (client id, secret, object id); the secret is returned once."""
        creds = self.arm.authority.add_client()
        oid = object_id(creds["client_id"])
        self.principals[creds["client_id"]] = {"object_id": oid, "display_name": display_name}
        return {**creds, "object_id": oid, "tenant_id": self.arm.creds.tenant_id}

    def _owner_assignment(self) -> dict[str, Any]:
        scope = f"/subscriptions/{self.arm.sub}"
        return _assignment_doc(
            scope,
            str(uuid.uuid5(uuid.NAMESPACE_URL, f"owner:{self.arm.sub}")),
            self._def_id(OWNER),
            object_id(self.arm.creds.client_id),
            "",
        )

    def all_assignments(self) -> list[dict[str, Any]]:
        return [self._owner_assignment(), *self.assignments.values()]

    def _def_id(self, guid: str) -> str:
        return f"/subscriptions/{self.arm.sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"

    def definition(self, guid: str) -> dict[str, Any] | None:
        guid = guid.lower()
        if guid in BUILT_IN:
            return _definition_doc(self._def_id(guid), guid, BUILT_IN[guid], "BuiltInRole", ["/"])
        return self.definitions.get(guid)

    def permissions_of(self, oid: str, target: str) -> list[dict[str, Any]]:
        perms: list[dict[str, Any]] = []
        for a in self.all_assignments():
            props = a["properties"]
            if props["principalId"] == oid and _within(props["scope"], target):
                role = self.definition(props["roleDefinitionId"].rsplit("/", 1)[-1])
                perms.extend(role["properties"]["permissions"] if role else [])
        return perms

    # ----------------------------------------------------------------------------------------------
    def authorize(self, req: Request, client_id: str) -> str | None:
        """Raise ARM's 403 unless ``client_id`` may do what ``req`` asks; return the action."""
        if len(req.segments) == 1:
            return None  # GET /subscriptions lists what the caller may see: no check
        action, scope = action_of(req)
        oid = self.principal_object_ids().get(client_id, object_id(client_id))
        if not _granted(self.permissions_of(oid, scope), action):
            raise ArmError(
                403,
                "AuthorizationFailed",
                f"The client '{client_id}' with object id '{oid}' does not have authorization to perform "
                f"action '{action}' over scope '{scope}' or the scope is invalid. If access was recently "
                "granted, please refresh your credentials.",
            )
        if req.method in ("PUT", "PATCH") and req.body is not None:
            self._check_links(req.body, client_id, oid, action, scope)
        return action

    def _check_links(self, body: Any, client_id: str, oid: str, action: str, scope: str) -> None:
        missing = [
            (JOIN_ACTION_NAMES[kind], rid)
            for rid, kind in _linked_ids(body)
            if not _granted(self.permissions_of(oid, rid), JOIN_ACTION_NAMES[kind])
        ]
        if missing:
            raise ArmError(
                403,
                "LinkedAuthorizationFailed",
                f"The client '{client_id}' with object id '{oid}' has permission to perform action "
                f"'{action}' on scope '{scope}'; however, it does not have permission to perform "
                f"action(s) '{','.join(a for a, _ in missing)}' on the linked scope(s) "
                f"'{','.join(r for _, r in missing)}' (respectively) or the linked scope(s) are invalid.",
            )


def _linked_ids(body: Any) -> list[tuple[str, str]]:
    """Every ``id`` in a request body that names a resource a PUT must have join rights on."""
    found: list[tuple[str, str]] = []
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "id" and isinstance(value, str):
                found.extend((value, kind) for rx, kind in JOIN_ACTIONS if rx.search(value.lower()))
            else:
                found.extend(_linked_ids(value))
    elif isinstance(body, list):
        for item in body:
            found.extend(_linked_ids(item))
    return found


# --- documents ------------------------------------------------------------------------------------
def _definition_doc(
    rid: str, guid: str, role: dict[str, Any], kind: str, scopes: list[str]
) -> dict[str, Any]:
    return {
        "id": rid,
        "name": guid,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": role["roleName"],
            "type": kind,
            "description": role.get("description", ""),
            "assignableScopes": scopes,
            "permissions": [
                {
                    "actions": list(role.get("actions") or []),
                    "notActions": list(role.get("notActions") or []),
                    "dataActions": list(role.get("dataActions") or []),
                    "notDataActions": list(role.get("notDataActions") or []),
                }
            ],
        },
    }


def _assignment_doc(scope: str, name: str, role_id: str, principal: str, ptype: str) -> dict[str, Any]:
    now = utcnow()
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        "name": name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "roleDefinitionId": role_id,
            "principalId": principal,
            "principalType": ptype or "ServicePrincipal",
            "scope": scope,
            "condition": None,
            "conditionVersion": None,
            "createdOn": now,
            "updatedOn": now,
            "createdBy": None,
            "updatedBy": None,
            "delegatedManagedIdentityResourceId": None,
            "description": None,
        },
    }


# --- routes ---------------------------------------------------------------------------------------
def route_of(req: Request) -> tuple[str, str, str | None] | None:
    """(scope, collection, name) when the request addresses Microsoft.Authorization's role
    definitions or assignments, else None."""
    low = [s.lower() for s in req.segments]
    for i in range(len(low) - 2):
        if (
            low[i] == "providers"
            and low[i + 1] == AUTH_NS
            and low[i + 2] in ("roledefinitions", "roleassignments")
        ):
            if len(low) > i + 4:
                raise Unmodelled(f"route {req.method} {req.path} is not modelled")
            name = req.segments[i + 3] if len(low) == i + 4 else None
            return "/" + "/".join(req.segments[:i]), low[i + 2], name
    return None


def handle(arm: Arm, req: Request, scope: str, collection: str, name: str | None) -> Response:
    if req.api_version not in API_VERSIONS:
        raise BadRequest(
            "InvalidApiVersionParameter",
            f"The api-version '{req.api_version}' is invalid. The supported versions are "
            f"'{','.join(API_VERSIONS)}'.",
        )
    _check_scope_exists(arm, scope)
    if collection == "roledefinitions":
        return _definitions(arm, req, scope, name)
    return _assignments(arm, req, scope, name)


def _check_scope_exists(arm: Arm, scope: str) -> None:
    segs = [s for s in scope.split("/") if s]
    if len(segs) >= 4 and segs[2].lower() == "resourcegroups" and arm.get(arm.rg_id(segs[3])) is None:
        raise resource_group_not_found(segs[3])
    if len(segs) > 4 and arm.get(scope) is None:
        raise resource_not_found(scope)


def _guid(value: str | None, what: str) -> str:
    if value is None or not re.fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", value):
        raise BadRequest(
            f"InvalidRole{what}Id",
            f"The role {what.lower()} ID '{value}' is not valid. The role {what.lower()} ID must be a GUID.",
        )
    return value.lower()


def _definitions(arm: Arm, req: Request, scope: str, name: str | None) -> Response:
    rbac = arm.rbac
    if name is None and req.method == "GET":
        docs = [rbac.definition(g) for g in BUILT_IN] + list(rbac.definitions.values())
        return Response(200, {"value": _filter_definitions(req, docs)})
    guid = _guid(name, "Definition")
    existing = rbac.definition(guid)
    if req.method == "GET":
        if existing is None:
            raise NotFound(
                "RoleDefinitionDoesNotExist",
                f"The specified role definition with ID '{guid}' does not exist.",
            )
        return Response(200, existing)
    if req.method == "DELETE":
        if guid in BUILT_IN:
            raise BadRequest("CannotModifyBuiltInRole", "Built-in roles cannot be modified.")
        gone = rbac.definitions.pop(guid, None)
        return Response(200 if gone else 204, gone)
    if req.method == "PUT":
        return _put_definition(arm, req, guid, existing)
    raise Unmodelled(f"route {req.method} {req.path} is not modelled")


def _filter_definitions(req: Request, docs: list[Any]) -> list[Any]:
    flt = req.query.get("$filter")
    if not flt:
        return docs
    m = re.fullmatch(r"\s*roleName\s+eq\s+'([^']*)'\s*", flt)
    if m is None:
        m2 = re.fullmatch(r"\s*type\s+eq\s+'(CustomRole|BuiltInRole)'\s*", flt)
        if m2 is None:
            raise Unmodelled(f"role definition $filter '{flt}' is not modelled")
        return [d for d in docs if d["properties"]["type"] == m2.group(1)]
    return [d for d in docs if d["properties"]["roleName"].lower() == m.group(1).lower()]


def _put_definition(arm: Arm, req: Request, guid: str, existing: dict[str, Any] | None) -> Response:
    if guid in BUILT_IN:
        raise BadRequest("CannotModifyBuiltInRole", "Built-in roles cannot be modified.")
    props = (req.body or {}).get("properties") if isinstance(req.body, dict) else None
    if not isinstance(props, dict) or not props.get("roleName"):
        raise BadRequest("InvalidRoleDefinitionName", "Role definition name cannot be null or empty.")
    perms = props.get("permissions")
    if not isinstance(perms, list) or not perms:
        raise BadRequest(
            "RoleDefinitionHasNoPermissions", "The role definition must have at least one permission."
        )
    for p in perms:
        for key in ("actions", "notActions", "dataActions", "notDataActions"):
            for a in p.get(key) or []:
                if not isinstance(a, str) or not _ACTION_RE.match(a):
                    raise BadRequest(
                        "InvalidActionOrNotAction",
                        f"'{a}' does not match any of the actions supported by the providers.",
                    )
    scopes = props.get("assignableScopes")
    if not isinstance(scopes, list) or not scopes:
        raise BadRequest(
            "RoleDefinitionHasNoAssignableScopes",
            "The role definition must have at least one assignable scope.",
        )
    for s in scopes:
        if not _within(f"/subscriptions/{arm.sub}", str(s)):
            raise ArmError(
                403,
                "AuthorizationFailed",
                "The client does not have authorization to create a role definition assignable at "
                f"scope '{s}'.",
            )
    taken = [
        d
        for g, d in arm.rbac.definitions.items()
        if g != guid and d["properties"]["roleName"].lower() == props["roleName"].lower()
    ]
    if taken:
        raise Conflict(
            "RoleDefinitionWithSameNameExists",
            "A custom role with the same name already exists in this directory. Use a different name.",
        )
    doc = _definition_doc(
        arm.rbac._def_id(guid), guid, {**props, **perms[0]}, "CustomRole", [str(s) for s in scopes]
    )
    doc["properties"]["permissions"] = [
        {k: list(p.get(k) or []) for k in ("actions", "notActions", "dataActions", "notDataActions")}
        for p in perms
    ]
    arm.rbac.definitions[guid] = doc
    return Response(200 if existing else 201, doc)


def _assignments(arm: Arm, req: Request, scope: str, name: str | None) -> Response:
    rbac = arm.rbac
    if name is None and req.method == "GET":
        return Response(200, {"value": _filter_assignments(req, rbac.all_assignments(), scope)})
    guid = _guid(name, "Assignment")
    rid = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}".lower()
    existing = rbac.assignments.get(rid)
    if req.method == "GET":
        if existing is None:
            raise NotFound("RoleAssignmentNotFound", f"The role assignment '{guid}' is not found.")
        return Response(200, existing)
    if req.method == "DELETE":
        gone = rbac.assignments.pop(rid, None)
        return Response(200 if gone else 204, gone)
    if req.method == "PUT":
        return _put_assignment(arm, req, scope, guid, rid, existing)
    raise Unmodelled(f"route {req.method} {req.path} is not modelled")


def _filter_assignments(req: Request, docs: list[dict[str, Any]], scope: str) -> list[dict[str, Any]]:
    flt = (req.query.get("$filter") or "").strip()
    at_or_above = [d for d in docs if _within(d["properties"]["scope"], scope)]
    if not flt:
        return at_or_above + [
            d for d in docs if d not in at_or_above and _within(scope, d["properties"]["scope"])
        ]
    if flt == "atScope()":
        return at_or_above
    m = re.fullmatch(r"principalId\s+eq\s+'([0-9a-fA-F-]+)'", flt)
    if m is None:
        raise Unmodelled(f"role assignment $filter '{flt}' is not modelled")
    return [d for d in at_or_above if d["properties"]["principalId"].lower() == m.group(1).lower()]


def _put_assignment(
    arm: Arm, req: Request, scope: str, guid: str, rid: str, existing: dict[str, Any] | None
) -> Response:
    props = (req.body or {}).get("properties") if isinstance(req.body, dict) else None
    if not isinstance(props, dict):
        raise BadRequest(
            "InvalidRequestContent", "The request content was invalid and could not be deserialized."
        )
    role_id = str(props.get("roleDefinitionId") or "")
    if arm.rbac.definition(role_id.rsplit("/", 1)[-1]) is None:
        raise BadRequest(
            "RoleDefinitionDoesNotExist",
            f"The specified role definition with ID '{role_id.rsplit('/', 1)[-1]}' does not exist.",
        )
    principal = str(props.get("principalId") or "")
    if principal not in arm.rbac.principal_object_ids().values():
        raise BadRequest(
            "PrincipalNotFound",
            f"Principal {principal.replace('-', '')} does not exist in the directory "
            f"{arm.creds.tenant_id}. Check that you have the correct principal ID.",
        )
    for a in arm.rbac.all_assignments():
        p = a["properties"]
        same = (
            p["principalId"] == principal
            and p["roleDefinitionId"].rsplit("/", 1)[-1].lower() == role_id.rsplit("/", 1)[-1].lower()
        )
        if same and p["scope"].lower() == scope.lower() and a["id"].lower() != rid:
            raise Conflict("RoleAssignmentExists", "The role assignment already exists.")
    if existing is not None:
        raise Conflict(
            "RoleAssignmentUpdateNotPermitted",
            "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
        )
    doc = _assignment_doc(scope, guid, role_id, principal, str(props.get("principalType") or ""))
    arm.rbac.assignments[rid] = doc
    return Response(201, doc)
