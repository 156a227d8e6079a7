"""The optimization plan filter (avd.golden.optimization_plan).

Thin wrapper: the logic lives in the package plugins/plugin_utils/_optimization. Documentation is
in the sidecar optimization_plan.yml.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.spec import source_facts
from ansible_collections.avd.golden.plugins.plugin_utils._optimization.plan import build_plan
from ansible_collections.avd.golden.plugins.plugin_utils._optimization.reader import ConfigError


def optimization_plan(avd_image: Any, base_dir: Any = None) -> dict[str, Any]:
    """Return what the optimize and appx phases apply to the image (see the sidecar doc)."""
    if not isinstance(avd_image, Mapping) or not {"source", "optimization", "appx"} <= set(avd_image):
        raise AnsibleFilterError(
            "optimization_plan: expects the normalised image spec (avd_image, from normalize_image_spec)"
        )
    try:
        session = source_facts(avd_image).get("session")
        return build_plan(
            avd_image["optimization"], avd_image["appx"], avd_image["source"]["sku"], session, base_dir
        )
    except ConfigError as exc:
        raise AnsibleFilterError("optimization_plan: " + "\n".join(exc.errors)) from exc
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"optimization_plan: the image spec is not normalised ({exc!r})") from exc


class FilterModule:
    """avd.golden optimization filters."""

    def filters(self) -> dict[str, Any]:
        return {"optimization_plan": optimization_plan}
