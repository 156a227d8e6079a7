"""The sandbox's storage: Azurite over HTTPS with the sandbox CA, behind the ARM storage account
(GET with its blob endpoint, POST listKeys), proven with plain HTTPS GETs as the build VM makes
them: a SAS downloads the blob; an expired SAS, a missing blob, a wrong container, a SAS for
another blob and a write are refused as Azure Storage refuses them. A real `python -m sandbox
serve --azurite` process."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.blobs import account_path, seed_blobs
from tests.support.paths import REPO
from tests.support.sandbox_process import Sandbox

sys.path.insert(0, str(REPO / "collections"))
from ansible_collections.avd.golden.plugins.module_utils._blob_sas import (
    STORAGE_API_VERSION,
    sas_url,
)

RG, ACCOUNT, CONTAINER, BLOB = "rg-software", "stavdsoftware", "installers", "fslogix/FSLogix Setup.exe"
PAYLOAD = b"MZ\x90\x00 not really an installer " * 100
# Azurite's well-known development key: the sandbox's accounts must not use it.
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"  # the built-in Reader role
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _account_path(sb: Sandbox, name: str = ACCOUNT) -> str:
    return account_path(sb, RG, name)


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path_factory.mktemp("storage") / "state", azurite=True)
    box.start()
    try:
        yield box
    finally:
        box.close()


@pytest.fixture(scope="module")
def account(sb: Sandbox) -> dict[str, str]:
    """The endpoint ARM gives and a key from listKeys; a blob uploaded as a user would."""
    return seed_blobs(sb, RG, ACCOUNT, CONTAINER, {BLOB: PAYLOAD})


def _get(sb: Sandbox, url: str, method: str = "GET", data: bytes | None = None) -> tuple[int, str, bytes]:
    """A plain HTTPS request, as the build VM makes it: (status, x-ms-error-code, body)."""
    headers = {"x-ms-blob-type": "BlockBlob"} if data is not None else {}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - https
    ctx = ssl.create_default_context(cafile=str(sb.ca))
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:  # noqa: S310
            return r.status, "", r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("x-ms-error-code", ""), e.read()


def _sas(account: dict[str, str], container: str = CONTAINER, name: str = BLOB, hours: float = 1) -> str:
    now = dt.datetime.now(dt.UTC)
    return sas_url(
        account["endpoint"],
        ACCOUNT,
        account["key"],
        container,
        name,
        now - dt.timedelta(minutes=15),
        now + dt.timedelta(hours=hours),
    )


def test_arm_gives_the_account_with_its_blob_endpoint_and_its_own_keys(
    sb: Sandbox, account: dict[str, str]
) -> None:
    got = sb.request("GET", f"{_account_path(sb)}?api-version={STORAGE_API_VERSION}").body
    assert got["type"] == "Microsoft.Storage/storageAccounts" and got["name"] == ACCOUNT
    assert (
        account["endpoint"]
        == f"https://127.0.0.1:{account['endpoint'].split(':')[2].split('/')[0]}/{ACCOUNT}/"
    )
    keys = sb.request("POST", f"{_account_path(sb)}/listKeys?api-version={STORAGE_API_VERSION}").body["keys"]
    assert [k["keyName"] for k in keys] == ["key1", "key2"]
    assert {k["permissions"] for k in keys} == {"FULL"}
    values = [k["value"] for k in keys]
    assert len(set(values)) == 2 and DEV_KEY not in values
    # The keys are secrets: not in the request log, not in ARM's state file.
    log = json.dumps(sb.requests())
    state = (sb.state_dir / "arm-state.json").read_text()
    assert all(v not in log and v not in state for v in values)
    assert sb.unmodelled() == []


def test_arm_refuses_as_azure_does(sb: Sandbox) -> None:
    missing = sb.request("GET", f"{_account_path(sb, 'stnothere')}?api-version={STORAGE_API_VERSION}")
    assert missing.status == 404 and missing.body["error"]["code"] == "ResourceNotFound"
    no_keys = sb.request(
        "POST", f"{_account_path(sb, 'stnothere')}/listKeys?api-version={STORAGE_API_VERSION}"
    )
    assert no_keys.status == 404 and no_keys.body["error"]["code"] == "ResourceNotFound"
    bad_version = sb.request("GET", f"{_account_path(sb)}?api-version=2020-13-01")
    assert bad_version.status == 400 and bad_version.body["error"]["code"] == "InvalidApiVersionParameter"
    # The product never creates or deletes a storage account: those answer 501, recorded.
    put_path = _account_path(sb)
    put = sb.request("PUT", f"{put_path}?api-version={STORAGE_API_VERSION}", {"location": "westeurope"})
    assert put.status == 501
    # The seeding shortcut keeps Azure's name rule and needs an existing group.
    seed = {"resource_group": RG, "name": "St-Bad"}
    bad_name = sb.request("POST", "/_sandbox/storage-accounts", seed, auth=False)
    assert bad_name.status == 400 and bad_name.body["error"]["code"] == "AccountNameInvalid"
    no_group = sb.request(
        "POST", "/_sandbox/storage-accounts", {**seed, "resource_group": "rg-none", "name": "stx"}, auth=False
    )
    assert no_group.status == 404 and no_group.body["error"]["code"] == "ResourceGroupNotFound"
    assert [u["path"] for u in sb.unmodelled()] == [put_path]


def test_listing_keys_needs_its_own_right(sb: Sandbox, account: dict[str, str]) -> None:
    """A Reader may read the account but not list its keys: ARM's 403 AuthorizationFailed."""
    who = sb.request("POST", "/_sandbox/principals", {"display_name": "reader"}, auth=False).body
    reader = f"/subscriptions/{sb.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/"
    grant = {"properties": {"roleDefinitionId": reader + READER, "principalId": who["object_id"]}}
    rg = f"/subscriptions/{sb.subscription_id}/resourceGroups/{RG}"
    put = sb.request(
        "PUT",
        f"{rg}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}?api-version=2022-04-01",
        grant,
    )
    assert put.status == 201, put
    token = sb.token_for(who)
    as_reader = {"Authorization": f"Bearer {token}"}
    got = sb.request("GET", f"{_account_path(sb)}?api-version={STORAGE_API_VERSION}", headers=as_reader)
    assert got.status == 200
    keys = sb.request(
        "POST", f"{_account_path(sb)}/listKeys?api-version={STORAGE_API_VERSION}", headers=as_reader
    )
    assert keys.status == 403 and keys.body["error"]["code"] == "AuthorizationFailed"
    assert "Microsoft.Storage/storageAccounts/listKeys/action" in keys.body["error"]["message"]


def test_a_read_sas_downloads_the_blob(sb: Sandbox, account: dict[str, str]) -> None:
    url = _sas(account)
    assert "sp=r" in url and "spr=https" in url and "sr=b" in url
    status, code, body = _get(sb, url)
    assert (status, code) == (200, "") and body == PAYLOAD


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        # Azure answers 403 AuthenticationFailed for an expired SAS; Azurite 403 AuthorizationFailure.
        ({"hours": -1}, 403, "AuthorizationFailure"),
        ({"name": "fslogix/missing.exe"}, 404, "BlobNotFound"),
        ({"container": "software"}, 404, "ContainerNotFound"),
    ],
    ids=["expired", "missing-blob", "wrong-container"],
)
def test_what_azure_storage_refuses_is_refused(
    sb: Sandbox, account: dict[str, str], change: dict[str, object], status: int, code: str
) -> None:
    got = _get(sb, _sas(account, **change))  # type: ignore[arg-type]
    assert got[:2] == (status, code), got[2][:300]


def test_a_sas_is_for_one_blob_and_reading_only(sb: Sandbox, account: dict[str, str]) -> None:
    # Azure: 403 AuthenticationFailed ("Signature did not match"); Azurite: AuthorizationFailure.
    other = _sas(account).replace("FSLogix%20Setup.exe", "other.exe", 1)
    assert _get(sb, other)[:2] == (403, "AuthorizationFailure")
    write = _get(sb, _sas(account), method="PUT", data=b"x")
    assert write[:2] == (403, "AuthorizationPermissionMismatch")
    # Without a SAS nothing is read (Azure's code depends on the account's public-access setting).
    anonymous = _get(sb, account["endpoint"] + f"{CONTAINER}/{BLOB.replace(' ', '%20')}")
    assert anonymous[:2] == (403, "AuthorizationFailure")


def test_no_signature_reaches_a_log(sb: Sandbox, account: dict[str, str]) -> None:
    url = _sas(account)
    _get(sb, url)
    signature = url.split("sig=", 1)[1].split("&", 1)[0]
    logs = [p for p in Path(sb.state_dir).rglob("*.log")] + [Path(sb.state_dir) / "requests.jsonl"]
    text = "".join(p.read_text(errors="replace") for p in logs if p.is_file())
    assert "sig=***REDACTED***" in text
    for needle in (signature, urllib.parse.unquote(signature)):
        assert needle not in text


def test_the_blob_service_survives_a_restart(sb: Sandbox, account: dict[str, str]) -> None:
    sb.restart()
    got = sb.request("GET", f"{_account_path(sb)}?api-version={STORAGE_API_VERSION}")
    assert got.status == 200
    again = {**account, "endpoint": got.body["properties"]["primaryEndpoints"]["blob"]}
    assert _get(sb, _sas(again))[2] == PAYLOAD


def test_a_reset_forgets_every_account_and_blob(sb: Sandbox, account: dict[str, str]) -> None:
    url = _sas(account)
    sb.reset()
    gone = sb.request("GET", f"{_account_path(sb)}?api-version={STORAGE_API_VERSION}")
    assert gone.status == 404
    assert not (sb.state_dir / "storage-accounts.json").exists()
    with pytest.raises(OSError):
        _get(sb, url)  # Azurite is stopped: nothing serves the old URL
