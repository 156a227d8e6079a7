"""The inputs digest of a build and the version already built from it (docs/contracts.md section 19)."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.paths import REPO

sys.path.insert(0, str(REPO / "collections"))

from ansible_collections.avd.golden.plugins.filter.build_inputs import up_to_date_version
from ansible_collections.avd.golden.plugins.plugin_utils import _build_inputs as bi

SPEC: dict[str, Any] = {
    "name": "win11-avd",
    "description": "the multi-session base",
    "location": "westeurope",
    "source": {
        "publisher": "MicrosoftWindowsDesktop",
        "offer": "windows-11",
        "sku": "win11-24h2-avd",
        "version": "latest",
    },
    "tags": {"cost-center": "42"},
    "network": {"mode": "create"},
    "build_vm": {"size": "Standard_D4s_v5"},
    "applications": [{"name": "7-Zip", "version": "24.08"}],
    "gallery": {
        "name": "gal",
        "create_if_missing": True,
        "publish": {"validate": True, "keep_versions": None},
        "target_regions": [{"name": "westeurope", "replica_count": 1}],
        "version": {"strategy": "date", "value": None},
    },
}


def _fake_collection(tmp_path: Path, version: str = "1.2.3", deny: str = "[]\n") -> Path:
    tmp_path.mkdir(parents=True)
    (tmp_path / "galaxy.yml").write_text(
        yaml.safe_dump({"namespace": "avd", "name": "golden", "version": version})
    )
    profiles = tmp_path / "optimization" / "profiles"
    profiles.mkdir(parents=True)
    (profiles / "profiles.json").write_text("{}")
    vars_dir = tmp_path / "roles" / "windows_update" / "vars"
    vars_dir.mkdir(parents=True)
    (vars_dir / "deny_list.yml").write_text(deny)
    return tmp_path


def _sha(spec: dict[str, Any], exact: str = "26100.1.1", root: Path | None = None) -> str:
    return bi.build_inputs(spec, exact, root or REPO)["sha256"]


def test_the_digest_does_not_depend_on_key_order() -> None:
    reordered = dict(reversed(list(copy.deepcopy(SPEC).items())))
    assert _sha(reordered) == _sha(SPEC)


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s["applications"][0].update(version="24.09"),
        lambda s: s["source"].update(sku="win11-24h2-ent"),
        lambda s: s["build_vm"].update(size="Standard_D8s_v5"),
        lambda s: s["gallery"]["target_regions"].append({"name": "northeurope", "replica_count": 1}),
        lambda s: s["gallery"]["version"].update(strategy="explicit", value="1.0.1"),
    ],
    ids=["application", "source-sku", "vm-size", "target-region", "version"],
)
def test_a_change_to_what_goes_into_the_image_changes_the_digest(change: Any) -> None:
    changed = copy.deepcopy(SPEC)
    change(changed)
    assert _sha(changed) != _sha(SPEC)


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.update(description="renamed"),
        lambda s: s["tags"].update({"owner": "team-b"}),
        lambda s: s["network"].update(mode="existing_subnet"),
        lambda s: s["gallery"].update(create_if_missing=False),
        lambda s: s["gallery"]["publish"].update(keep_versions=3),
    ],
    ids=["description", "tags", "network", "create-if-missing", "publish"],
)
def test_how_the_build_runs_does_not_change_the_digest(change: Any) -> None:
    changed = copy.deepcopy(SPEC)
    change(changed)
    assert _sha(changed) == _sha(SPEC)


def test_a_new_marketplace_version_changes_the_digest() -> None:
    assert _sha(SPEC, "26100.2.1") != _sha(SPEC, "26100.1.1")


def test_a_new_release_or_new_shipped_content_changes_the_digest(tmp_path: Path) -> None:
    one = bi.build_inputs(SPEC, "26100.1.1", _fake_collection(tmp_path / "a"))
    released = bi.build_inputs(SPEC, "26100.1.1", _fake_collection(tmp_path / "b", version="1.2.4"))
    denied = bi.build_inputs(SPEC, "26100.1.1", _fake_collection(tmp_path / "c", deny="[{kb: KB5000001}]\n"))
    assert one["collection_version"] == "1.2.3" and released["collection_version"] == "1.2.4"
    assert len({one["sha256"], released["sha256"], denied["sha256"]}) == 3
    assert one["content_sha256"] == released["content_sha256"] != denied["content_sha256"]


def test_the_record_names_its_parts_and_the_real_collection() -> None:
    record = bi.build_inputs(SPEC, "26100.1.1")
    assert record["collection_version"] == yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    assert record["source_image_exact_version"] == "26100.1.1"
    assert record["source_image"] == {
        "publisher": "MicrosoftWindowsDesktop",
        "offer": "windows-11",
        "sku": "win11-24h2-avd",
    }
    assert len(record["sha256"]) == 64 and len(record["definition_sha256"]) == 64


def test_an_unknown_marketplace_version_or_missing_content_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exact marketplace version"):
        bi.build_inputs(SPEC, "")
    (tmp_path / "galaxy.yml").write_text("version: 1.0.0\n")
    with pytest.raises(ValueError, match="optimization/profiles is missing"):
        bi.build_inputs(SPEC, "26100.1.1", tmp_path)


GALLERY_IMAGE = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/galleries/gal/images/i"


def _version(name: str, sha: str | None, state: str = "Succeeded") -> dict[str, Any]:
    return {
        "name": name,
        "id": f"{GALLERY_IMAGE}/versions/{name}",
        "tags": {bi.TAG: sha} if sha else {"avd-build-id": "b"},
        "properties": {"provisioningState": state},
    }


def test_the_newest_succeeded_version_with_the_same_digest_is_up_to_date() -> None:
    versions = [
        _version("1.0.9", "aa"),
        _version("1.0.10", "aa"),
        _version("1.0.11", "aa", state="Failed"),
        _version("1.0.12", "bb"),
        _version("1.0.13", None),
    ]
    assert bi.up_to_date_version(versions, "aa") == {"name": "1.0.10", "id": versions[1]["id"]}
    assert bi.up_to_date_version(versions, "cc") is None
    assert bi.up_to_date_version([], "aa") is None
    assert bi.up_to_date_version(versions, "aa", force=True) is None


@pytest.mark.parametrize(
    ("force", "found"), [("true", False), ("True", False), (False, True), ("false", True)]
)
def test_the_filter_takes_force_as_ansible_passes_it(force: Any, found: bool) -> None:
    assert (up_to_date_version([_version("1.0.0", "aa")], "aa", force) is not None) is found
