"""Filters for image specs and build naming; the logic lives in the package plugin_utils._image_spec.

Each filter has its documentation in a sidecar ``<filter name>.yml`` next to this file, because
one Python file cannot hold several DOCUMENTATION blocks.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

# Module aliases: the filters below share the names of the functions they wrap.
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec import build as _build
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec import loader as _loader
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec import password as _password
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec import spec as _spec
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec import versions as _versions
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import ImageSpecError


def _moment(value: Any, what: str) -> _dt.datetime | None:
    """Accept None, a datetime or an ISO 8601 string (``Z`` allowed) as a UTC moment."""
    if value is None or isinstance(value, _dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
    raise AnsibleFilterError(f"{what}: expected an ISO 8601 date-time, got {value!r}")


def load_image_spec(path: Any, name: str | None = None, report: bool = False) -> Any:
    """Read the image spec file ``path`` strictly (size, duplicate keys, aliases); return its data.

    :param name: how the error names the file (default: ``path``).
    :param report: instead of failing, return ``{"data": ..., "errors": [...]}`` (one error at most).
    """
    if not isinstance(path, str) or not path:
        raise AnsibleFilterError(f"load_image_spec: expects the image spec file's path, got {path!r}")
    try:
        data = _loader.read_image_spec_file(path, name)
    except _loader.SpecFileError as exc:
        if report:
            return {"data": None, "errors": [str(exc)]}
        raise AnsibleFilterError(str(exc)) from None
    return {"data": data, "errors": []} if report else data


def validate_image_spec(data: Any, today: str | None = None, base_dir: str | None = None) -> list[str]:
    """Return every error in an image spec as ``"<dotted.field>: <reason>"``.

    :param data: the image spec as loaded from YAML.
    :param today: ``YYYY-MM-DD`` to judge ``end_of_life_date`` against (default: today, UTC).
    :param base_dir: the spec file's directory; ``optimization.path`` is read relative to it.
    """
    try:
        return _spec.validate_image_spec(data, today, base_dir)
    except ValueError as exc:
        raise AnsibleFilterError(f"validate_image_spec: {exc}") from exc


def normalize_image_spec(data: Any, today: str | None = None, base_dir: str | None = None) -> dict[str, Any]:
    """Return the image spec with defaults filled; fail listing every error when it is invalid."""
    try:
        return _spec.normalize_image_spec(data, today, base_dir)
    except ImageSpecError as exc:
        raise AnsibleFilterError(str(exc)) from exc
    except ValueError as exc:
        raise AnsibleFilterError(f"normalize_image_spec: {exc}") from exc


def new_build_id(name: str, timestamp: Any = None, suffix: str | None = None) -> str:
    """Return a fresh build id ``<name>-<yyyymmddHHMMSS>-<4 hex>`` (UTC now, random suffix)."""
    try:
        return _build.new_build_id(name, _moment(timestamp, "new_build_id"), suffix)
    except ValueError as exc:
        raise AnsibleFilterError(f"new_build_id: {exc}") from exc


def build_context(
    image_spec: Mapping[str, Any],
    build_id: str,
    owner: str | None = None,
    ttl_hours: int = 24,
    artifacts_root: str = "artifacts",
    awx_job_id: Any = None,
) -> dict[str, Any]:
    """Return the ``avd_build`` context (names, tags, times, paths) for a normalised image spec."""
    try:
        return _build.build_context(image_spec, build_id, owner, ttl_hours, artifacts_root, awx_job_id)
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"build_context: the image spec is not normalised ({exc!r})") from exc
    except ValueError as exc:
        raise AnsibleFilterError(f"build_context: {exc}") from exc


def next_image_version(existing: Iterable[Any] | None) -> str:
    """Return the latest existing gallery image version plus one patch, ``1.0.0`` when none."""
    try:
        return _versions.next_image_version(existing)
    except ValueError as exc:
        raise AnsibleFilterError(f"next_image_version: {exc}") from exc


def password_meets_azure_complexity(password: Any, min_length: int = 12) -> bool:
    """Return whether Azure would accept ``password`` for a Windows VM admin account."""
    return _password.password_meets_azure_complexity(password, min_length)


class FilterModule:
    """Image spec filters."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "load_image_spec": load_image_spec,
            "validate_image_spec": validate_image_spec,
            "normalize_image_spec": normalize_image_spec,
            "new_build_id": new_build_id,
            "build_context": build_context,
            "next_image_version": next_image_version,
            "password_meets_azure_complexity": password_meets_azure_complexity,
        }
