"""Blobs in the sandbox's storage (``Sandbox(azurite=True)``), set up as a user would before a
build: a resource group and a storage account (the control endpoint's world), then blobs uploaded
with the account's key from ARM's listKeys."""

from __future__ import annotations

from collections.abc import Mapping

from tests.support.sandbox_process import Sandbox

STORAGE_API = "2025-08-01"


def account_path(sb: Sandbox, resource_group: str, name: str) -> str:
    return (
        f"/subscriptions/{sb.subscription_id}/resourceGroups/{resource_group}"
        f"/providers/Microsoft.Storage/storageAccounts/{name}"
    )


def seed_blobs(
    sb: Sandbox, resource_group: str, account: str, container: str, blobs: Mapping[str, bytes]
) -> dict[str, str]:
    """Create the group, the account, the container and the blobs; return the account's
    ``endpoint`` (as ARM gives it) and ``key``."""
    return seed_containers(sb, resource_group, account, {container: blobs})


def seed_containers(
    sb: Sandbox, resource_group: str, account: str, containers: Mapping[str, Mapping[str, bytes]]
) -> dict[str, str]:
    """``seed_blobs`` for several containers of one account."""
    from azure.storage.blob import BlobServiceClient

    rg = f"/subscriptions/{sb.subscription_id}/resourcegroups/{resource_group}?api-version=2022-09-01"
    assert sb.request("PUT", rg, {"location": "westeurope"}).status in (200, 201)
    sb.storage_account(resource_group, account)
    path = account_path(sb, resource_group, account)
    got = sb.request("GET", f"{path}?api-version={STORAGE_API}")
    assert got.status == 200, got
    keys = sb.request("POST", f"{path}/listKeys?api-version={STORAGE_API}")
    assert keys.status == 200, keys
    endpoint, key = got.body["properties"]["primaryEndpoints"]["blob"], keys.body["keys"][0]["value"]
    client = BlobServiceClient(
        endpoint, credential={"account_name": account, "account_key": key}, connection_verify=str(sb.ca)
    )
    for container, blobs in containers.items():
        box = client.create_container(container)
        for name, data in blobs.items():
            box.upload_blob(name, data)
    return {"endpoint": endpoint, "key": key}
