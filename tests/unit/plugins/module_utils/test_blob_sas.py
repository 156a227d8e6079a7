"""Unit tests for plugins/module_utils/_blob_sas.py: the ARM answers it reads and the SAS it signs.

The signature is checked against the service SAS string-to-sign as Microsoft's "Create a service
SAS" documents it (version 2020-12-06 and later), computed here, not taken from the SDK.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import sys
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "collections"))

from ansible_collections.avd.golden.plugins.module_utils import _blob_sas as s

SUB = "00000000-0000-0000-0000-000000000001"
KEY = base64.b64encode(b"k" * 64).decode()
NOW = dt.datetime(2026, 12, 2, 6, 0, 0, tzinfo=dt.UTC)
ACCOUNT_ID = (
    f"/subscriptions/{SUB}/resourceGroups/rg-software/providers/Microsoft.Storage/storageAccounts/stavd"
)
DOWNLOAD = {
    "id": "blob://stavd/installers/fslogix/FSLogix Setup.exe",
    "storage_account": "stavd",
    "resource_group": "rg-software",
    "container": "installers",
    "name": "fslogix/FSLogix Setup.exe",
    "fields": ["applications[0].download"],
}


def account(**props: Any) -> s.Reply:
    return s.Reply(
        200, {"properties": {"primaryEndpoints": {"blob": "https://stavd.blob.core.windows.net/"}, **props}}
    )


KEYS = s.Reply(200, {"keys": [{"keyName": "key1", "permissions": "FULL", "value": KEY}]})


class FakeArm:
    def __init__(self, replies: dict[tuple[str, str], s.Reply]):
        self.replies = replies
        self.calls: list[tuple[str, str, dict[str, str]]] = []

    def __call__(self, method: str, url: str, params: Mapping[str, str]) -> s.Reply:
        self.calls.append((method, url, dict(params)))
        return self.replies[(method, url)]


def arm(get: s.Reply | None = None, keys: s.Reply = KEYS) -> FakeArm:
    return FakeArm({("GET", ACCOUNT_ID): get or account(), ("POST", f"{ACCOUNT_ID}/listKeys"): keys})


def expected_signature(q: dict[str, str], resource: str) -> str:
    fields = [
        q["sp"],
        q.get("st", ""),
        q["se"],
        resource,
        q.get("si", ""),
        q.get("sip", ""),
        q["spr"],
        q["sv"],
    ]
    fields += [q["sr"], q.get("snapshot", ""), q.get("ses", ""), "", "", "", "", ""]
    digest = hmac.new(base64.b64decode(KEY), "\n".join(fields).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_a_blob_download_becomes_a_read_only_https_sas_url_that_expires() -> None:
    fake = arm()
    urls, expires, problems = s.mint_urls(fake, SUB, [DOWNLOAD], 3, now=NOW)
    assert problems == []
    assert expires == "2026-12-02T09:00:00Z"
    url = urls[DOWNLOAD["id"]]
    base, query = url.split("?", 1)
    assert base == "https://stavd.blob.core.windows.net/installers/fslogix/FSLogix%20Setup.exe"
    q = dict(urllib.parse.parse_qsl(query))
    assert (q["sp"], q["sr"], q["spr"]) == ("r", "b", "https")
    assert q["st"] == "2026-12-02T05:45:00Z" and q["se"] == "2026-12-02T09:00:00Z"
    assert q["sig"] == expected_signature(q, "/blob/stavd/installers/fslogix/FSLogix Setup.exe")
    assert KEY not in url
    assert [(m, u) for m, u, _ in fake.calls] == [("GET", ACCOUNT_ID), ("POST", f"{ACCOUNT_ID}/listKeys")]
    assert {p["api-version"] for _, _, p in fake.calls} == {"2025-08-01"}


def test_one_account_lookup_serves_every_blob_of_the_account() -> None:
    other = {**DOWNLOAD, "id": "blob://stavd/installers/b.msi", "name": "b.msi"}
    fake = arm()
    urls, _, _ = s.mint_urls(fake, SUB, [DOWNLOAD, other], 1, now=NOW)
    assert set(urls) == {DOWNLOAD["id"], other["id"]}
    assert len(fake.calls) == 2


def test_the_endpoint_is_the_one_arm_returns() -> None:
    get = account(primaryEndpoints={"blob": "https://127.0.0.1:10000/stavd"})
    urls, _, _ = s.mint_urls(arm(get), SUB, [DOWNLOAD], 1, now=NOW)
    assert urls[DOWNLOAD["id"]].startswith(
        "https://127.0.0.1:10000/stavd/installers/fslogix/FSLogix%20Setup.exe?"
    )


@pytest.mark.parametrize(
    ("get", "keys", "reason"),
    [
        (
            s.Reply(
                404, {"error": {"code": "ResourceNotFound", "message": "The Resource ... was not found."}}
            ),
            KEYS,
            "storage account 'stavd' in resource group 'rg-software' was not found (ResourceNotFound",
        ),
        (
            s.Reply(403, {"error": {"code": "AuthorizationFailed", "message": "no read"}}),
            KEYS,
            "could not be read (AuthorizationFailed: no read)",
        ),
        (account(allowSharedKeyAccess=False), KEYS, "does not allow shared key access"),
        (
            account(primaryEndpoints={"blob": "http://stavd.blob.core.windows.net/"}),
            KEYS,
            "no HTTPS blob endpoint",
        ),
        (account(primaryEndpoints={}), KEYS, "no HTTPS blob endpoint"),
        (
            account(),
            s.Reply(403, {"error": {"code": "AuthorizationFailed", "message": "no listKeys"}}),
            "listKeys/action",
        ),
        (
            account(),
            s.Reply(200, {"keys": [{"keyName": "key1", "permissions": "READ", "value": KEY}]}),
            "FULL",
        ),
    ],
    ids=[
        "missing",
        "forbidden",
        "no-shared-key",
        "http-endpoint",
        "no-endpoint",
        "no-listkeys",
        "no-full-key",
    ],
)
def test_an_unreachable_download_names_its_field_and_the_cause(
    get: s.Reply, keys: s.Reply, reason: str
) -> None:
    urls, _, problems = s.mint_urls(arm(get, keys), SUB, [DOWNLOAD], 3, now=NOW)
    assert urls == {} and len(problems) == 1
    assert problems[0].startswith("applications[0].download.blob.storage_account: storage account 'stavd'")
    assert reason in problems[0] and KEY not in problems[0]


def test_every_account_is_looked_at_and_no_url_is_given_when_one_fails() -> None:
    other_id = ACCOUNT_ID.replace("stavd", "stother")
    fake = arm()
    fake.replies[("GET", other_id)] = s.Reply(404, {"error": {"code": "ResourceNotFound", "message": "gone"}})
    other = {**DOWNLOAD, "id": "blob://stother/installers/a.msi", "storage_account": "stother", "fields": []}
    urls, _, problems = s.mint_urls(fake, SUB, [DOWNLOAD, other], 3, now=NOW)
    assert urls == {}
    assert problems == [
        "blob://stother/installers/a.msi: storage account 'stother' in resource group 'rg-software' "
        "was not found (ResourceNotFound: gone)"
    ]


def test_the_preflight_look_up_only_reads() -> None:
    fake = arm()
    assert s.mint_urls(fake, SUB, [DOWNLOAD], 3, now=NOW, mint=False)[::2] == ({}, [])
    assert [m for m, _, _ in fake.calls] == ["GET"]


@pytest.mark.parametrize("hours", [0, 25, True, "3"])
def test_the_lifetime_is_bounded(hours: Any) -> None:
    with pytest.raises(s.SourceError, match="sas_lifetime_hours"):
        s.mint_urls(arm(), SUB, [DOWNLOAD], hours, now=NOW)


def test_no_blob_download_needs_no_azure_call() -> None:
    fake = arm()
    assert s.mint_urls(fake, SUB, [], 3, now=NOW) == ({}, "2026-12-02T09:00:00Z", [])
    assert fake.calls == []
