"""Microsoft.Storage storage accounts, as far as the product reads them: GET (its blob endpoint)
and POST listKeys (2025-08-01, what azure-mgmt-storage 25 sends). The blob service behind them is
Azurite (sandbox/blobstore.py): ``properties.primaryEndpoints.blob`` is its URL for the account,
and listKeys answers the keys Azurite was started with.

Accounts are the world's, made by the control endpoint (``POST /_sandbox/storage-accounts``, the
handler's ``seed``): a storage account PUT, PATCH or DELETE answers 501, so no test believes the
product created one.
Keys are kept by the blob service (mode 600), never in ``arm-state.json``; the request log records
requests, never answers, so a listKeys answer reaches no log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.arm.errors import Unmodelled
from sandbox.arm.handlers import Registry, ResourceHandler, TypeSpec
from sandbox.arm.values import Response, utcnow

if TYPE_CHECKING:
    from sandbox.arm.core import Arm
    from sandbox.arm.values import Request

ACCOUNT = "Microsoft.Storage/storageAccounts"
API_VERSION = "2025-08-01"


def _blob(arm: Arm) -> Any:
    blob = arm.world.blob
    if blob is None:
        raise Unmodelled("storage accounts need the blob service: start the sandbox with --azurite")
    return blob


class StorageAccountHandler(ResourceHandler):
    def render(self, arm: Arm, res: dict[str, Any]) -> dict[str, Any]:
        blob = arm.world.blob
        props = res.setdefault("properties", {})
        # The endpoint is the blob service's current one (its port can change across restarts).
        if blob is not None and blob.port is not None:
            props["primaryEndpoints"] = {"blob": blob.endpoint(res["name"])}
        return res

    @property
    def actions(self) -> dict[str, Any]:
        return {"listkeys": list_keys}

    def seed(self, arm: Arm, rid: str, body: dict[str, Any]) -> dict[str, Any]:
        """An existing account as a user would have made it (Standard LRS, StorageV2, HTTPS only,
        no anonymous blob access); the blob service starts serving it."""
        location = arm.check_location(body.get("location", "westeurope"))
        _blob(arm).ensure_account(rid.rsplit("/", 1)[-1])
        return {
            "id": rid,
            "name": rid.rsplit("/", 1)[-1],
            "type": ACCOUNT,
            "location": location,
            "kind": "StorageV2",
            "sku": {"name": "Standard_LRS", "tier": "Standard"},
            "tags": {},
            "properties": {
                "provisioningState": "Succeeded",
                "creationTime": utcnow(),
                "primaryLocation": location,
                "statusOfPrimary": "available",
                "supportsHttpsTrafficOnly": True,
                "allowBlobPublicAccess": False,
                "allowSharedKeyAccess": True,
                "minimumTlsVersion": "TLS1_2",
                "accessTier": "Hot",
            },
        }


def list_keys(arm: Arm, req: Request, res: dict[str, Any]) -> Response:
    keys = _blob(arm).keys(res["name"])
    created = res["properties"].get("creationTime")
    return Response(
        200,
        {
            "keys": [
                {"creationTime": created, "keyName": f"key{i}", "permissions": "FULL", "value": key}
                for i, key in enumerate(keys, start=1)
            ]
        },
    )


def register(registry: Registry) -> None:
    registry.add(
        TypeSpec(
            ACCOUNT,
            {API_VERSION: {"GET": None, "LIST": None, "POST:listkeys": None}},
            StorageAccountHandler(),
        )
    )
