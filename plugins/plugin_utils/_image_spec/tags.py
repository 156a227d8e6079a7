"""The ``tags`` section: Azure's tag rules, and room for the tags the build adds itself."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import Checker
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.messages import join, type_name

# Azure allows 50 tags per resource; the build adds its own (see _RESERVED_TAG_COUNT: counted
# all together, which the image version, with the most of them, never exceeds).
AZURE_MAX_TAGS = 50
_RESERVED_TAG_PREFIX = "avd-build-"
RESERVED_TAG_KEYS = (
    "avd-build-id",
    "avd-build-owner",
    "avd-build-delete-after",
    "avd-build-awx-job",
    "avd-image",
    # only on the image version: where it comes from and what went in (docs/contracts.md 4 and 7)
    "avd-source-image",
    "avd-source-image-version",
    "avd-image-manifest",
    "avd-image-optimization",
    "avd-image-apps",
    "avd-image-avd-stack",
    "avd-image-languages",
    "avd-image-updates",
    # only on a promoted image version: what it was built from (docs/contracts.md section 19)
    "avd-inputs-sha256",
)
_RESERVED_TAG_COUNT = len(RESERVED_TAG_KEYS)
MAX_SPEC_TAGS = AZURE_MAX_TAGS - _RESERVED_TAG_COUNT
_SECRET_TAG_RE = re.compile(r"password|passwd|secret|token|credential")
_TAG_KEY_FORBIDDEN = set("<>%&\\?/")


def check_tags(c: Checker, root: Mapping[str, Any]) -> dict[str, str]:
    """Validate ``tags``; return them with every value as a string."""
    raw = root.get("tags")
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        c.error("tags", f"must be a mapping of tag names to values, got {type_name(raw)}")
        return {}
    if len(raw) > MAX_SPEC_TAGS:
        c.error(
            "tags",
            f"at most {MAX_SPEC_TAGS} tags: Azure allows {AZURE_MAX_TAGS} per resource and the build "
            f"adds {_RESERVED_TAG_COUNT} of its own, got {len(raw)}",
        )
    tags: dict[str, str] = {}
    lowered: dict[str, str] = {}
    for key, value in raw.items():
        if not _check_tag_name(c, key, lowered):
            continue
        field = join("tags", key)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            c.error(field, f"tag values must be strings, got {type_name(value)}")
            continue
        text = str(value)
        if not c.single_line(field, text):
            continue
        if len(text) > 256:
            c.error(field, f"tag values are at most 256 characters, got {len(text)}")
        tags[key] = text
    return tags


def _check_tag_name(c: Checker, key: Any, lowered: dict[str, str]) -> bool:
    """Report what is wrong with a tag name; False when it cannot be a tag name at all.

    ``lowered`` maps the lower-case names seen so far to their spelling (Azure ignores case).
    """
    field = join("tags", key) if isinstance(key, str) else f"tags.{key}"
    if not isinstance(key, str) or not key:
        c.error(field, "tag names must be non-empty strings")
        return False
    if len(key) > 512:
        c.error(f"tags.{key[:40]}...", f"tag names are at most 512 characters, got {len(key)}")
        return False
    if not c.single_line(field, key):
        return False
    bad = sorted(set(key) & _TAG_KEY_FORBIDDEN)
    if bad:
        c.error(field, f"tag names must not contain {' '.join(bad)} (Azure forbids < > % & \\ ? /)")
    low = key.lower()
    if _SECRET_TAG_RE.search(low):
        c.error(field, "tags must not carry secrets: tags are readable by anyone who can read the resource")
    if low.startswith(_RESERVED_TAG_PREFIX) or low in RESERVED_TAG_KEYS:
        c.error(field, f"is reserved for the build's own tags ({', '.join(RESERVED_TAG_KEYS)})")
    if low in lowered:
        c.error(field, f"duplicates tag {lowered[low]!r} (Azure tag names are case-insensitive)")
    lowered.setdefault(low, key)
    return True
