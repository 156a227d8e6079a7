"""Azure's naming rules for what an image spec names, and the spec's own name rule.

Each check takes the ``Checker`` and records an error naming the field; a value that is not a
non-empty string was already reported by the checker and is not judged again here.
"""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.azure_data import AZURE_REGIONS
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import Checker
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.messages import (
    show,
    suggest,
    type_name,
)

# The spec's name goes into the build id and every resource name, so it takes their strictest rule.
SPEC_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\Z")
_RG_RE = re.compile(r"^[-\w.()]{1,90}\Z")
_GALLERY_RE = re.compile(r"^[A-Za-z0-9._]{1,80}\Z")
_GALLERY_IMAGE_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,78}[A-Za-z0-9])?\Z")
_GALLERY_IMAGE_IDENTIFIER_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}\Z")
SUBNET_ID_RE = re.compile(
    r"^/subscriptions/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"/resourceGroups/[-\w.()]{1,90}(?<!\.)"
    r"/providers/Microsoft\.Network/virtualNetworks/[A-Za-z0-9][-\w.]{0,62}[\w]"
    r"/subnets/[A-Za-z0-9](?:[-\w.]{0,78}[\w])?\Z",
    re.IGNORECASE,
)


def _given(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def check_spec_name(c: Checker, name: Any) -> None:
    if _given(name) and not (3 <= len(name) <= 40 and SPEC_NAME_RE.match(name)):
        c.error(
            "name",
            "must be 3-40 lower-case letters, digits and hyphens, starting and ending with a letter or "
            f"digit (it is used in the build id and resource names), got {show(name)}",
        )


def check_region(c: Checker, value: Any, field: str) -> str | None:
    """Return ``value`` when it is a known region's programmatic name; None (reported) otherwise."""
    if value is None:
        c.missing(field)
        return None
    if not isinstance(value, str):
        c.error(field, f"must be an Azure region name, got {type_name(value)} {show(value)}")
        return None
    if not c.single_line(field, value):
        return None
    if value in AZURE_REGIONS:
        return value
    squashed = value.replace(" ", "").lower()
    if squashed in AZURE_REGIONS:
        c.error(field, f"use the region's programmatic name {squashed!r}, got {show(value)}")
    else:
        c.error(field, f"unknown Azure region {show(value)}{suggest(squashed, sorted(AZURE_REGIONS))}")
    return None


def check_resource_group_name(c: Checker, value: str | None, field: str) -> None:
    if value is None:
        return
    if not _RG_RE.match(value) or value.endswith("."):
        c.error(
            field,
            "must be 1-90 characters: letters, digits, underscores, hyphens, periods and "
            f"parentheses, not ending with a period; got {show(value)}",
        )


def check_gallery_name(c: Checker, name: Any) -> None:
    if _given(name) and (not _GALLERY_RE.match(name) or name[0] in "._" or name[-1] in "._"):
        c.error(
            "gallery.name",
            "must be 1-80 letters, digits, periods and underscores, not starting or ending with a period "
            f"or underscore, got {show(name)}",
        )


def check_gallery_image_name(c: Checker, field: str, name: Any) -> None:
    """The name of a gallery image definition (Azure's resource, ``gallery.image_definition``)."""
    if _given(name) and not _GALLERY_IMAGE_NAME_RE.match(name):
        c.error(
            field,
            "must be 1-80 letters, digits, hyphens, periods and underscores, starting and ending with a "
            f"letter or digit, got {show(name)}",
        )


def check_gallery_image_identifier(c: Checker, field: str, value: Any) -> None:
    """One part (publisher, offer, sku) of a gallery image definition's identifier."""
    if _given(value) and not _GALLERY_IMAGE_IDENTIFIER_RE.match(value):
        c.error(field, f"must be 1-128 letters, digits, hyphens, periods and underscores, got {show(value)}")
