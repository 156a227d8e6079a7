"""The ``source`` section: a Windows 10/11 client marketplace image, and what its SKU implies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import Checker
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.messages import show, suggest
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.schema import (
    SOURCE_OFFERS,
    SOURCE_PUBLISHER,
)

_SKU_RE = re.compile(r"^win(?P<os>10|11)-(?P<release>[0-9]{2}h[0-9])-(?P<edition>[a-z0-9-]+?)(?P<g2>-g2)?\Z")
_MARKETPLACE_VERSION_RE = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+\Z")

# Editions the validator accepts, by offer. Pro is refused: AVD does not support it as a host.
_EDITIONS = {
    "avd": ("multi", ("windows-10", "windows-11")),
    "avd-m365": ("multi", ("office-365",)),
    "ent": ("single", ("windows-10", "windows-11")),
    "entn": ("single", ("windows-10", "windows-11")),
}


def check_source(c: Checker, root: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate ``source``; return the normalised section and facts about the SKU."""
    facts: dict[str, Any] = {"generation": None, "session": None, "os": None}
    with c.section(c.mapping(root, "source", "source", required=True)) as data:
        return _check_source_fields(c, data, facts)


def _check_source_fields(
    c: Checker, data: dict[str, Any], facts: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    c.unknown_keys(data, "source", "source")
    publisher = c.string(data, "publisher", "source", default=SOURCE_PUBLISHER)
    if publisher != SOURCE_PUBLISHER and isinstance(data.get("publisher"), str):
        c.error(
            "source.publisher",
            f"must be {SOURCE_PUBLISHER} (Windows 10/11 client images), got {show(publisher)}",
        )
    offer = c.choice(data, "offer", "source", SOURCE_OFFERS, required=True)
    sku = c.string(data, "sku", "source", required=True)
    if isinstance(sku, str) and sku.strip():
        facts.update(check_sku(c, sku, offer))
    version = c.string(data, "version", "source", default="latest")
    if isinstance(version, str) and version != "latest" and not _MARKETPLACE_VERSION_RE.match(version):
        c.error(
            "source.version",
            f"must be 'latest' or an exact marketplace version like 26100.4061.250510, got {show(version)}",
        )
    normal = {"publisher": publisher, "offer": offer, "sku": sku, "version": version}
    return normal, facts


def check_sku(c: Checker, sku: str, offer: str | None) -> dict[str, Any]:
    """Check a marketplace SKU's shape against its offer; return generation and session type."""
    match = _SKU_RE.match(sku)
    if not match:
        c.error(
            "source.sku",
            "must be a Windows 10/11 client SKU like win11-24h2-avd, win11-24h2-avd-m365, "
            f"win11-24h2-ent or win10-22h2-avd-g2, got {show(sku)}",
        )
        return {}
    os_major, edition, gen2 = match["os"], match["edition"], bool(match["g2"])
    if edition in ("pro", "pron"):
        c.error(
            "source.sku",
            f"{sku!r} is a Windows Pro image, which AVD does not support as a session host; use an "
            "-avd (multi-session) or -ent (single-session) SKU",
        )
        return {}
    if edition not in _EDITIONS:
        c.error(
            "source.sku",
            f"unknown edition {edition!r} in {sku!r}; expected one of {', '.join(_EDITIONS)}"
            f"{suggest(edition, _EDITIONS)}",
        )
        return {}
    session, offers = _EDITIONS[edition]
    if os_major == "11" and gen2:
        c.error("source.sku", f"Windows 11 SKUs are all Gen2 and have no -g2 suffix, got {sku!r}")
    if offer is not None:
        _check_sku_offer(c, sku, offer, os_major, offers)
    generation = "V2" if (os_major == "11" or gen2) else "V1"
    return {"generation": generation, "session": session, "os": os_major}


def _check_sku_offer(c: Checker, sku: str, offer: str, os_major: str, offers: tuple[str, ...]) -> None:
    expected_os = {"windows-11": "11", "windows-10": "10"}.get(offer)
    if offer not in offers:
        c.error("source.sku", f"{sku!r} is not published under offer {offer!r}; use offer {offers[0]!r}")
    elif expected_os and expected_os != os_major:
        c.error("source.sku", f"{sku!r} is a Windows {os_major} SKU, but source.offer is {offer!r}")
