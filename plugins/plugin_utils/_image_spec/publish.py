"""The ``gallery.publish`` section: how a new image version is published (docs/contracts.md
section 9). The version is created excluded from ``latest``; with ``validate`` a VM booted from it
must prove it before it is promoted; ``on_failure`` says what a failed validation leaves; the
prune keys say which older versions of the image definition go once the new one is promoted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import Checker

PUBLISH_ON_FAILURE = ("keep_excluded", "delete")


def check_publish_section(c: Checker, gallery: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``gallery.publish``; return it normalised with every default filled in."""
    path = "gallery.publish"
    data = c.mapping(gallery, "publish", path, required=False) or {}
    c.unknown_keys(data, path, path)
    keep = data.get("keep_versions")
    normal = {
        # true: boot a validation VM from the version and check the manifest before promoting.
        "validate": c.boolean(data, "validate", path, default=True),
        # keep_excluded: a failed validation leaves the version excluded from latest; delete: removes it.
        "on_failure": c.choice(data, "on_failure", path, PUBLISH_ON_FAILURE, default="keep_excluded"),
        # null: no pruning by count; N: after promotion keep the N newest versions, this one included.
        "keep_versions": None if keep is None else c.integer(data, "keep_versions", path, 1, 1000, default=1),
        # true: after promotion delete the versions whose end-of-life date has passed.
        "prune_end_of_life": c.boolean(data, "prune_end_of_life", path, default=False),
        # Bound on the validation VM: created, running and answering WinRM.
        "timeout_minutes": c.integer(data, "timeout_minutes", path, 5, 240, default=30),
    }
    if normal["on_failure"] == "delete" and not normal["validate"]:
        c.error(f"{path}.on_failure", "delete needs gallery.publish.validate: true (nothing is validated)")
    return normal
