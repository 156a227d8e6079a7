"""The editor schema (schema/image-definition.schema.json) agrees with the strict loader: every
shipped example passes both, specs the loader rejects for a reason a schema can express fail the
schema too, and the schema names exactly the loader's keys in every mapping it describes."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.support.paths import REPO

sys.path.insert(0, str(REPO / "collections"))

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.schema import KEYS
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.spec import validate_image_spec

SCHEMA = json.loads((REPO / "schema" / "image-definition.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
BASE = yaml.safe_load((REPO / "images" / "win11-24h2-avd.yml").read_text())
TODAY = "2026-11-27"
DELETE = object()


def _set(spec: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(spec)
    *parents, last = path.split(".")
    node: Any = out
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return out


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("path", sorted((REPO / "images").glob("*.yml")), ids=lambda p: p.name)
def test_shipped_examples_pass_the_schema_and_the_loader(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    assert [e.message for e in VALIDATOR.iter_errors(data)] == []
    assert validate_image_spec(data, today=TODAY, base_dir=str(REPO)) == []


# (path, value): each the loader rejects for a reason a schema can express.
BAD = [
    ("name", DELETE),  # required
    ("name", 42),  # type
    ("bulid_vm", {}),  # unknown key
    ("gallery.image_definition.hyperv_generation", "V2"),  # unknown nested key
    ("gallery.target_regions.0.replicas", 2),
    ("source", DELETE),
    ("source", "win11"),
    ("source.offer", "windows-12"),  # enum
    ("source.publisher", "MicrosoftWindowsServer"),
    ("build_vm.os_disk_type", "UltraSSD_LRS"),
    ("build_vm.os_disk_size_gb", "128"),
    ("network.mode", "peered"),
    ("gallery", DELETE),
    ("gallery.image_definition", DELETE),
    ("gallery.image_definition.hyper_v_generation", "V3"),
    ("gallery.image_definition.security_type", "ConfidentialVM"),
    ("gallery.version.strategy", "semver"),
    ("gallery.target_regions.0.replica_count", 0),  # bounds
    ("gallery.target_regions.0.storage_account_type", "Premium_ZRS"),
    ("gallery.exclude_from_latest", "no"),
    ("gallery.create_if_missing", "yes"),
    ("tags", ["workload"]),
    ("windows.timezone", "UTC"),
    ("avd.redirection", {"clipbaord": True}),
    ("appx", {"on_failure": "ignore"}),
    ("applications", [{"kind": "msi"}]),
]


@pytest.mark.parametrize(
    "path,value", BAD, ids=[f"{p}=deleted" if v is DELETE else f"{p}={v!r}"[:60] for p, v in BAD]
)
def test_what_the_loader_rejects_the_schema_rejects(path: str, value: Any) -> None:
    data = _set(BASE, path, value)
    assert validate_image_spec(data, today=TODAY, base_dir=str(REPO)), "the loader must reject it"
    assert list(VALIDATOR.iter_errors(data)), "the schema must reject it too"


def _schema_mappings(node: Any, path: str, found: dict[str, set[str]]) -> None:
    if isinstance(node, dict):
        if "$ref" in node:
            node = SCHEMA["$defs"][node["$ref"].rsplit("/", 1)[1]]
        if node.get("additionalProperties") is False:
            found[path] = set(node["properties"])
        for key, child in (node.get("properties") or {}).items():
            _schema_mappings(child, f"{path}.{key}".lstrip("."), found)
        if "items" in node:
            _schema_mappings(node["items"], f"{path}[]", found)
        for child in node.get("anyOf") or []:
            _schema_mappings(child, path, found)


def test_schema_keys_are_the_loaders_keys() -> None:
    assert set(SCHEMA["properties"]) == set(KEYS[""])
    found: dict[str, set[str]] = {}
    _schema_mappings(SCHEMA, "", found)
    # Sections whose schema path differs from the loader's KEYS name.
    alias = {
        "applications[].download": "download",
        "applications[].download.blob": "download.blob",
        "applications[].download.signer": "download.signer",
    }
    assert len(found) > 20
    for path, keys in found.items():
        assert keys == set(KEYS[alias.get(path, path)]), path
    # Every loader mapping is described, but the avd_stack installers, whose keys vary by installer.
    covered = {alias.get(path, path) for path in found}
    assert set(KEYS) - covered == {"avd_stack.pinned", "avd_stack.pinned_msi"}
