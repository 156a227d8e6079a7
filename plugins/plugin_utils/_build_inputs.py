"""What a build is built from, as one digest, and the image version already built from it.

The promote phase tags a published version with ``avd-inputs-sha256``; the preflight of a later run
computes the digest of its own inputs and, when a succeeded version carries the same one, the build
stops as up to date (docs/contracts.md section 19). The digest covers what can change the image or
where it is published:

- the validated image spec, without the fields that only say how the build runs or who pays
  (``SPEC_FIELDS_NOT_HASHED``);
- the exact marketplace version Azure resolved (``latest`` today is not ``latest`` next month);
- the collection's version and the content it ships as data (the optimization profiles and the
  Windows Update deny list), so a new release of the tool rebuilds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

TAG = "avd-inputs-sha256"
# Image spec fields that change neither the image nor its publication: the description, the
# tags (cost centres), the build network, whether a missing gallery may be created, how the new
# version is validated and how many old ones are kept.
SPEC_FIELDS_NOT_HASHED = ("description", "tags", "network")
GALLERY_FIELDS_NOT_HASHED = ("create_if_missing", "publish")

COLLECTION_ROOT = Path(__file__).resolve().parents[2]
# The content the roles read as data, relative to the collection root (files, or folders read whole).
SHIPPED_CONTENT = ("optimization/profiles", "roles/windows_update/vars/deny_list.yml")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def hashed_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The part of the validated image spec that the digest covers."""
    out = {k: v for k, v in spec.items() if k not in SPEC_FIELDS_NOT_HASHED}
    if isinstance(out.get("gallery"), Mapping):
        out["gallery"] = {k: v for k, v in out["gallery"].items() if k not in GALLERY_FIELDS_NOT_HASHED}
    return out


def collection_version(root: Path = COLLECTION_ROOT) -> str:
    """The collection's version: MANIFEST.json when installed, galaxy.yml in a source tree."""
    manifest = root / "MANIFEST.json"
    if manifest.is_file():
        return str(json.loads(manifest.read_text())["collection_info"]["version"])
    galaxy = root / "galaxy.yml"
    if galaxy.is_file():
        return str(yaml.safe_load(galaxy.read_text())["version"])
    raise ValueError(f"no MANIFEST.json or galaxy.yml in {root.name}: the collection version is unknown")


def content_sha256(root: Path = COLLECTION_ROOT, paths: tuple[str, ...] = SHIPPED_CONTENT) -> str:
    """One digest over the shipped content files (relative path and bytes of each)."""
    files: list[Path] = []
    for rel in paths:
        target = root / rel
        if target.is_dir():
            files.extend(p for p in target.rglob("*") if p.is_file())
        elif target.is_file():
            files.append(target)
        else:
            raise ValueError(f"shipped content {rel} is missing from the collection")
    listing = {p.relative_to(root).as_posix(): _sha256(p.read_bytes()) for p in files}
    return _sha256(_canonical(listing))


def build_inputs(
    spec: Mapping[str, Any], source_exact_version: str, root: Path = COLLECTION_ROOT
) -> dict[str, Any]:
    """What this build is built from, each part's digest, and the digest of them all (``sha256``)."""
    if not source_exact_version:
        raise ValueError("the exact marketplace version is not known, so the inputs cannot be recorded")
    parts = {
        "definition_sha256": _sha256(_canonical(hashed_spec(spec))),
        "source_image": {k: spec["source"][k] for k in ("publisher", "offer", "sku")},
        "source_image_exact_version": source_exact_version,
        "collection_version": collection_version(root),
        "content_sha256": content_sha256(root),
    }
    return {"sha256": _sha256(_canonical(parts)), **parts}


def up_to_date_version(
    versions: list[Mapping[str, Any]], sha256: str, force: bool = False
) -> dict[str, Any] | None:
    """The newest succeeded image version (as ARM lists them) built from the same inputs, or None
    (always None when forced: the build goes on whatever exists).

    Only the promote phase writes the tag, so a version that failed validation never carries it.
    """
    if force:
        return None
    matches = [
        v
        for v in versions
        if (v.get("tags") or {}).get(TAG) == sha256
        and (v.get("properties") or {}).get("provisioningState") == "Succeeded"
    ]
    if not matches:
        return None
    newest = max(matches, key=lambda v: tuple(int(p) for p in str(v["name"]).split(".")))
    return {"name": newest["name"], "id": newest["id"]}
