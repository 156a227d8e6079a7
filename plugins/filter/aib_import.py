"""An Azure Image Builder template as an image definition (avd.golden.aib_template_to_image_spec).

Thin wrapper: the logic lives in plugins/plugin_utils/_aib_import.py. Documentation is in the
sidecar aib_template_to_image_spec.yml.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.avd.golden.plugins.plugin_utils._aib_import import (
    AibImportError,
    import_aib_template,
)


def aib_template_to_image_spec(
    template: Any, name: str, identity: dict[str, str] | None = None
) -> dict[str, Any]:
    """The image definition of an AIB template, and what it could not import (see the sidecar doc)."""
    try:
        return import_aib_template(template, name, identity)
    except AibImportError as exc:
        raise AnsibleFilterError(f"aib_template: {exc}") from exc


class FilterModule:
    """avd.golden Image Builder import filter."""

    def filters(self) -> dict[str, Any]:
        return {"aib_template_to_image_spec": aib_template_to_image_spec}
