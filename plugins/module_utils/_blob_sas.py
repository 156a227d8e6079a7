"""Turn blob downloads into HTTPS URLs with a read-only SAS that expires (the sources phase).

For each storage account the image spec names: GET the account through ARM (its blob endpoint,
whatever ARM returns, and whether shared-key access is allowed), POST listKeys, then sign one
service SAS per blob with the key (read only, HTTPS only, from 15 minutes ago to the expiry). The
key never leaves this module's memory; the URLs are secrets the caller keeps out of every output.

The transport is a callable ``send(method, url, params) -> Reply`` so the logic is tested without
Azure (tests/unit/plugins/module_utils/test_blob_sas.py).
"""

from __future__ import annotations

import datetime as _dt
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# The storage accounts api-version azure-mgmt-storage 25 (azure.azcollection 3.21's) sends.
STORAGE_API_VERSION = "2025-08-01"
# Microsoft's advice: start a SAS in the past, so a clock behind Azure's does not refuse it.
START_SKEW = _dt.timedelta(minutes=15)


@dataclass
class Reply:
    status: int
    body: Any


class SourceError(RuntimeError):
    """A blob download cannot be reached; the message names it and the cause, never a secret."""


Send = Callable[[str, str, Mapping[str, str]], Reply]


def _arm_error(reply: Reply) -> str:
    err = (reply.body or {}).get("error", {}) if isinstance(reply.body, Mapping) else {}
    code, message = err.get("code", f"HTTP {reply.status}"), err.get("message", "")
    return f"{code}: {message}".rstrip(": ")


def _account(send: Send, rid: str, what: str, mint: bool) -> tuple[str, str | None]:
    """The account's blob endpoint and (when ``mint``) a key that signs (FULL permission)."""
    params = {"api-version": STORAGE_API_VERSION}
    got = send("GET", rid, params)
    if got.status == 404:
        raise SourceError(f"{what} was not found ({_arm_error(got)})")
    if got.status >= 400:
        raise SourceError(f"{what} could not be read ({_arm_error(got)})")
    props = (got.body or {}).get("properties") or {}
    endpoint = (props.get("primaryEndpoints") or {}).get("blob")
    if not isinstance(endpoint, str) or not endpoint.lower().startswith("https://"):
        raise SourceError(f"{what} has no HTTPS blob endpoint (primaryEndpoints.blob: {endpoint!r})")
    if props.get("allowSharedKeyAccess") is False:
        raise SourceError(
            f"{what} does not allow shared key access (allowSharedKeyAccess: false), so a SAS signed "
            "with its key would be refused"
        )
    if not mint:
        return endpoint, None
    keys = send("POST", f"{rid}/listKeys", params)
    if keys.status >= 400:
        raise SourceError(
            f"{what}: its keys could not be listed ({_arm_error(keys)}); the build's identity needs "
            "Microsoft.Storage/storageAccounts/listKeys/action (e.g. the role Storage Account Key "
            "Operator Service Role)"
        )
    for key in (keys.body or {}).get("keys") or []:
        if str(key.get("permissions", "")).lower() == "full" and key.get("value"):
            return endpoint, str(key["value"])
    raise SourceError(f"{what}: listKeys returned no key with FULL permission")


def blob_url(endpoint: str, container: str, name: str) -> str:
    """The blob's URL under an account endpoint (the name percent-encoded, its slashes kept)."""
    return f"{endpoint.rstrip('/')}/{container}/{urllib.parse.quote(name, safe='/')}"


def sas_url(
    endpoint: str,
    account: str,
    key: str,
    container: str,
    name: str,
    start: _dt.datetime,
    expiry: _dt.datetime,
) -> str:
    """The blob's URL with a read-only, HTTPS-only service SAS valid from ``start`` to ``expiry``."""
    from azure.storage.blob import BlobSasPermissions, generate_blob_sas  # the SDK azcollection needs

    sas = generate_blob_sas(
        account_name=account,
        container_name=container,
        blob_name=name,
        account_key=key,
        permission=BlobSasPermissions(read=True),
        start=start,
        expiry=expiry,
        protocol="https",
    )
    return f"{blob_url(endpoint, container, name)}?{sas}"


def _where(items: list[Mapping[str, Any]]) -> str:
    """The image spec fields of the downloads (their ids when no field is known)."""
    fields = [f"{f}.blob.storage_account" for d in items for f in d.get("fields") or ()]
    return ", ".join(dict.fromkeys(fields or [d["id"] for d in items]))


def mint_urls(
    send: Send,
    subscription_id: str,
    downloads: Iterable[Mapping[str, Any]],
    hours: int,
    now: _dt.datetime | None = None,
    mint: bool = True,
) -> tuple[dict[str, str], str, list[str]]:
    """``({download id: SAS URL}, expiry as ISO 8601, problems)`` for blob downloads
    (``{id, storage_account, resource_group, container, name[, fields]}``). Every account is
    looked at; one that cannot serve is a problem naming the image spec fields, and no URL is
    returned then. ``mint`` false: only GET the accounts (the preflight's read-only look-up)."""
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= 24:
        raise SourceError(f"downloads.sas_lifetime_hours must be an integer from 1 to 24, got {hours!r}")
    now = now or _dt.datetime.now(_dt.UTC)
    start, expiry = now - START_SKEW, now + _dt.timedelta(hours=hours)
    by_account: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for d in downloads:
        by_account.setdefault((d["resource_group"], d["storage_account"]), []).append(d)
    urls: dict[str, str] = {}
    problems: list[str] = []
    for (rg, account), items in by_account.items():
        rid = f"/subscriptions/{subscription_id}/resourceGroups/{rg}/providers/Microsoft.Storage"
        what = f"{_where(items)}: storage account {account!r} in resource group {rg!r}"
        try:
            endpoint, key = _account(send, f"{rid}/storageAccounts/{account}", what, mint)
        except SourceError as exc:
            problems.append(str(exc))
            continue
        for d in items if key else ():
            urls[d["id"]] = sas_url(endpoint, account, key, d["container"], d["name"], start, expiry)
    return ({} if problems else urls), expiry.strftime("%Y-%m-%dT%H:%M:%SZ"), problems
