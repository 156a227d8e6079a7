"""One download the image spec names (an installer, a language file, ...) and the ``downloads``
section that says how the build reaches blob storage (docs/contracts.md, "Downloads").

A download comes from an HTTPS URL or from an Azure Blob storage blob, always with a SHA-256 and
optionally a pinned Authenticode signer. A definition never holds a secret: a URL with credentials
or a SAS is refused; for a blob the build mints a read-only SAS that expires (the ``sources``
phase).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import Checker
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.messages import join, show
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.naming import check_resource_group_name
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.schema import NO_SECRETS as _NO_SECRETS

DOWNLOAD_AUTH = ("sas", "managed_identity")
SAS_LIFETIME_HOURS = (1, 24)
SAS_LIFETIME_DEFAULT = 3

# Azure's rules (Storage account and blob naming docs): 3-24 lower-case letters and digits; a
# container 3-63 lower-case letters, digits and single hyphens, starting and ending with a letter
# or digit; a blob 1-1024 characters in at most 254 path segments.
_ACCOUNT_RE = re.compile(r"[a-z0-9]{3,24}\Z")
_CONTAINER_RE = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}\Z")
_BLOB_MAX, _BLOB_SEGMENTS_MAX = 1024, 254
_SHA256_RE = re.compile(r"[0-9A-Fa-f]{64}\Z")
_THUMBPRINT_RE = re.compile(r"[0-9A-Fa-f]{40}\Z")
# Query parameters that carry a credential: a SAS signature, or a token some servers accept.
_SECRET_QUERY = ("sig", "signature", "token", "access_token", "code", "key", "password")


def check_download(c: Checker, data: Any, field: str) -> dict[str, Any]:
    """Validate one download mapping at ``field``; return it normalised (docs/contracts.md).

    ``{"url", "blob", "sha256", "signer", "id"}``: exactly one of url and blob; sha256 lower-case;
    signer ``{"thumbprint": upper-case hex | None, "subject": str | None}`` or None; id the url or
    ``blob://<account>/<container>/<name>``.
    """
    out: dict[str, Any] = {"url": None, "blob": None, "sha256": None, "signer": None, "id": None}
    if data is None:
        c.missing(field)
        return out
    if not isinstance(data, Mapping):
        c.error(field, f"must be a mapping (url or blob, sha256, signer), got {show(data)}")
        return out
    c.unknown_keys(data, "download", field)
    url = c.string(data, "url", field)
    blob = c.mapping(data, "blob", join(field, "blob"), required=False)
    if data.get("url") is not None and data.get("blob") is not None:
        c.error(field, "give either url or blob, not both")
    elif data.get("url") is None and data.get("blob") is None:
        c.error(field, "needs url (an HTTPS address) or blob (a blob in Azure Storage)")
    elif url is not None:
        out["url"] = out["id"] = _check_url(c, url, join(field, "url"))
    elif blob is not None:
        out["blob"] = b = _check_blob(c, blob, join(field, "blob"))
        if b is not None:
            out["id"] = f"blob://{b['storage_account']}/{b['container']}/{b['name']}"
    out["sha256"] = _check_sha256(c, data, field)
    out["signer"] = _check_signer(c, data, field)
    return out


def _check_url(c: Checker, url: str, field: str) -> str | None:
    """An https URL without credentials; errors never echo its query or user part (secrets)."""
    try:
        parts = urllib.parse.urlsplit(url)
        host, _port = parts.hostname, parts.port
    except ValueError as exc:
        c.error(field, f"is not a valid URL ({exc})")
        return None
    if parts.username is not None or parts.password is not None:
        c.error(field, f"must not hold credentials (user:password@): {_NO_SECRETS}")
        return None
    names = {k.lower() for k, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)}
    secret = sorted(names & set(_SECRET_QUERY))
    if secret:
        c.error(field, f"must not carry a credential in its query ({'=, '.join(secret)}=): {_NO_SECRETS}")
        return None
    shown = show(urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")))
    if parts.scheme.lower() != "https":
        c.error(field, f"must be an https:// URL (downloads are only fetched over TLS), got {shown}")
    elif not host:
        c.error(field, f"has no host name, got {shown}")
    elif " " in url:
        c.error(field, f"must not contain spaces (percent-encode them as %20), got {shown}")
    elif parts.fragment:
        c.error(field, f"must not have a #fragment (it is never sent to the server), got {shown}")
    else:
        return url
    return None


def _check_blob(c: Checker, data: Mapping[str, Any], field: str) -> dict[str, Any] | None:
    errors = len(c.errors)
    c.unknown_keys(data, "download.blob", field)
    account = c.string(data, "storage_account", field, required=True)
    rg = c.string(data, "resource_group", field, required=True)
    container = c.string(data, "container", field, required=True)
    name = c.string(data, "name", field, required=True)
    if account is not None and not _ACCOUNT_RE.match(account):
        c.error(
            join(field, "storage_account"),
            f"must be 3-24 lower-case letters and digits (Azure's storage account rule), got {show(account)}",
        )
    check_resource_group_name(c, rg, join(field, "resource_group"))
    if container is not None and not _CONTAINER_RE.match(container):
        c.error(
            join(field, "container"),
            "must be 3-63 lower-case letters, digits and hyphens, starting and ending with a letter or "
            f"digit, no two hyphens in a row (Azure's container rule), got {show(container)}",
        )
    if name is not None:
        _check_blob_name(c, name, join(field, "name"))
    if len(c.errors) > errors or None in (account, rg, container, name):
        return None
    return {"storage_account": account, "resource_group": rg, "container": container, "name": name}


def _check_blob_name(c: Checker, name: str, field: str) -> None:
    if len(name) > _BLOB_MAX:
        c.error(field, f"must be at most {_BLOB_MAX} characters (Azure's blob name rule), got {len(name)}")
    elif name.count("/") + 1 > _BLOB_SEGMENTS_MAX:
        c.error(field, f"must have at most {_BLOB_SEGMENTS_MAX} path segments (Azure's blob name rule)")
    elif name.startswith("/") or "//" in name:
        c.error(field, f"must not have an empty path segment (a leading / or //), got {show(name)}")
    elif name[-1] in "./\\":
        c.error(field, f"must not end with a dot, a slash or a backslash (Azure's rule), got {show(name)}")


def _check_sha256(c: Checker, data: Mapping[str, Any], field: str) -> str | None:
    value = c.string(data, "sha256", field, required=True)
    if value is None or not value.strip():
        return None
    if not _SHA256_RE.match(value):
        c.error(join(field, "sha256"), f"must be 64 hexadecimal characters (a SHA-256), got {show(value)}")
        return None
    return value.lower()


def _check_signer(c: Checker, data: Mapping[str, Any], field: str) -> dict[str, Any] | None:
    path = join(field, "signer")
    signer = c.mapping(data, "signer", path, required=False)
    if signer is None:
        return None
    c.unknown_keys(signer, "download.signer", path)
    given = [k for k in ("thumbprint", "subject") if signer.get(k) is not None]
    if len(given) != 1:
        c.error(path, "give exactly one of thumbprint (the certificate's SHA-1, 40 hex) and subject")
        return None
    value = c.string(signer, given[0], path, required=True)
    if value is None or not value.strip():
        return None
    if given == ["subject"]:
        return {"thumbprint": None, "subject": value}
    if not _THUMBPRINT_RE.match(value):
        c.error(
            join(path, "thumbprint"),
            f"must be 40 hexadecimal characters (a certificate's SHA-1 thumbprint), got {show(value)}",
        )
        return None
    return {"thumbprint": value.upper(), "subject": None}


def check_downloads_section(c: Checker, root: Mapping[str, Any]) -> dict[str, Any]:
    """The ``downloads`` section: how the build VM reads blobs (a SAS now; see the docs)."""
    data = c.mapping(root, "downloads", "downloads", required=False) or {}
    c.unknown_keys(data, "downloads", "downloads")
    auth = c.choice(data, "auth", "downloads", DOWNLOAD_AUTH, default="sas")
    if auth == "managed_identity":
        c.error(
            "downloads.auth",
            "managed_identity is not supported yet: blobs are read with a SAS the build mints (auth: sas)",
        )
        auth = "sas"
    low, high = SAS_LIFETIME_HOURS
    hours = c.integer(data, "sas_lifetime_hours", "downloads", low, high, default=SAS_LIFETIME_DEFAULT)
    return {"auth": auth, "sas_lifetime_hours": hours}


def iter_downloads(value: Any) -> Iterator[dict[str, Any]]:
    """Every normalised download anywhere in a normalised spec (mappings check_download made)."""
    if isinstance(value, Mapping):
        if _is_download(value):
            yield dict(value)
            return
        for item in value.values():
            yield from iter_downloads(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from iter_downloads(item)


def _is_download(value: Mapping[str, Any]) -> bool:
    return set(value) == {"url", "blob", "sha256", "signer", "id"} and isinstance(value.get("id"), str)


def blob_downloads(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The blob downloads of a normalised spec, one per id, in the order the spec names them."""
    seen: dict[str, dict[str, Any]] = {}
    for d in iter_downloads(spec):
        if d["blob"] is not None and d["id"] not in seen:
            seen[d["id"]] = {"id": d["id"], **d["blob"]}
    return list(seen.values())
