"""A build identity holding only the shipped least-privilege roles (rbac/*.json), made in a
sandbox the way an administrator would: a service principal (the sandbox's stand-in for an Entra
app registration), the two custom role definitions, and their assignments - the builder role on
the subscription, the publisher role on the gallery's resource group."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.support.paths import REPO
from tests.support.sandbox_process import Sandbox, SandboxError

AUTH_API = "2022-04-01"
RG_API = "2022-09-01"
BUILDER = REPO / "rbac" / "avd-golden-builder.json"
PUBLISHER = REPO / "rbac" / "avd-golden-publisher.json"


def role_definition_body(role: dict[str, Any], scope: str) -> dict[str, Any]:
    """The REST body of a role definition file in `az role definition create` format."""
    return {
        "properties": {
            "roleName": role["Name"],
            "description": role["Description"],
            "type": "CustomRole",
            "permissions": [
                {
                    "actions": role["Actions"],
                    "notActions": role["NotActions"],
                    "dataActions": role["DataActions"],
                    "notDataActions": role["NotDataActions"],
                }
            ],
            "assignableScopes": [scope],
        }
    }


def _ok(result: Any, what: str) -> Any:
    if result.status >= 300:
        raise SandboxError(f"{what}: {result.status} {result.body}")
    return result.body


def least_privilege_env(sandbox: Sandbox, gallery_rg: str, location: str = "westeurope") -> dict[str, str]:
    """The environment variables of a new principal holding only the shipped roles."""
    sub = f"/subscriptions/{sandbox.subscription_id}"
    # The gallery's group must exist to be a scope: the administrator makes it, as in Azure.
    _ok(
        sandbox.request(
            "PUT", f"{sub}/resourcegroups/{gallery_rg}?api-version={RG_API}", {"location": location}
        ),
        "group",
    )
    principal = _ok(
        sandbox.request("POST", "/_sandbox/principals", {"display_name": "avd-golden-build"}, auth=False),
        "principal",
    )
    for path, scope in ((BUILDER, sub), (PUBLISHER, f"{sub}/resourceGroups/{gallery_rg}")):
        body = role_definition_body(json.loads(path.read_text()), scope)
        role = _ok(
            sandbox.request(
                "PUT",
                f"{sub}/providers/Microsoft.Authorization/roleDefinitions/{uuid.uuid4()}?api-version={AUTH_API}",
                body,
            ),
            f"role {path.name}",
        )
        assignment = {
            "properties": {
                "roleDefinitionId": role["id"],
                "principalId": principal["object_id"],
                "principalType": "ServicePrincipal",
            }
        }
        _ok(
            sandbox.request(
                "PUT",
                f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}?api-version={AUTH_API}",
                assignment,
            ),
            f"assignment of {path.name}",
        )
    return {
        "AZURE_CLIENT_ID": principal["client_id"],
        "AZURE_SECRET": principal["client_secret"],
        "AZURE_CLIENT_SECRET": principal["client_secret"],
    }
