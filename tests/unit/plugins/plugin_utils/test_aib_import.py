"""Image Builder templates (AVD Custom Image Templates) imported as image definitions."""

from __future__ import annotations

import copy
import sys
from typing import Any

import pytest

from tests.support.aib_templates import IDENTITY, TEMPLATE
from tests.support.paths import REPO

sys.path.insert(0, str(REPO / "collections"))

from ansible_collections.avd.golden.plugins.plugin_utils._aib_import import (
    AibImportError,
    import_aib_template,
)
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.spec import (
    validate_image_spec,
)


def test_a_custom_image_template_becomes_a_valid_definition() -> None:
    out = import_aib_template(TEMPLATE, "win11-24h2-avd", IDENTITY)
    spec = out["spec"]
    assert validate_image_spec(spec, today="2026-12-01") == []
    assert spec["source"] == {
        "publisher": "MicrosoftWindowsDesktop",
        "offer": "windows-11",
        "sku": "win11-24h2-avd",
        "version": "latest",
    }
    assert spec["location"] == "westeurope"
    assert spec["build_vm"] == {"size": "Standard_D4s_v5", "os_disk_size_gb": 127}
    assert spec["network"]["mode"] == "existing_subnet"
    assert spec["gallery"]["resource_group"] == "rg-avd-images"
    assert spec["gallery"]["name"] == "gal_avd"
    assert spec["gallery"]["image_definition"] == {"name": "win11-24h2-avd", **IDENTITY}
    assert spec["gallery"]["target_regions"] == [
        {"name": "westeurope", "replica_count": 2, "storage_account_type": "Standard_ZRS"},
        {"name": "northeurope"},
    ]
    assert spec["gallery"]["exclude_from_latest"] is False
    assert spec["avd"] == {"time_zone_redirection": True, "storage_sense": False}
    assert spec["windows_update"] == {"enabled": True}
    assert out["to_complete"] == []


def test_what_has_no_equivalent_is_listed_not_dropped() -> None:
    notes = import_aib_template(TEMPLATE, "win11-24h2-avd", IDENTITY)["not_imported"]
    joined = "\n".join(notes)
    for expected in (
        "customize[2] PowerShell installApp: inline",
        "customize[3] PowerShell custom: script 'https://example.org/setup.ps1'",
        "customize[4] WindowsRestart",
        "customize[5] WindowsUpdate: searchCriteria",
        "customize[6] File",
        "distribute VHD",
        "buildTimeoutInMinutes",
    ):
        assert expected in joined, (expected, notes)
    assert len(notes) == 7, notes


def test_without_the_identity_the_fields_to_complete_are_named_and_the_loader_agrees() -> None:
    out = import_aib_template(TEMPLATE, "win11-24h2-avd")
    assert out["to_complete"] == [
        f"gallery.image_definition.{k}: AIB names an existing definition without it"
        for k in ("publisher", "offer", "sku")
    ]
    errors = validate_image_spec(out["spec"], today="2026-12-01")
    assert {e.split(":")[0] for e in errors} == {
        f"gallery.image_definition.{k}" for k in ("publisher", "offer", "sku")
    }


def test_an_arm_deployment_template_and_an_explicit_version() -> None:
    resource = copy.deepcopy(TEMPLATE)
    target = resource["properties"]["distribute"][0]
    target["galleryImageId"] += "/versions/1.2.3"
    del target["targetRegions"]
    target["replicationRegions"] = ["westeurope"]
    deployment = {
        "$schema": "deploymentTemplate.json#",
        "resources": [{"type": "Microsoft.Network/x"}, resource],
    }
    spec = import_aib_template(deployment, "x", IDENTITY)["spec"]
    assert spec["gallery"]["version"] == {"strategy": "explicit", "value": "1.2.3"}
    assert spec["gallery"]["target_regions"] == [{"name": "westeurope"}]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda t: t["properties"]["source"].update(type="SharedImageVersion"), "properties.source.type"),
        (lambda t: t["properties"].update(distribute=[{"type": "ManagedImage"}]), "properties.distribute"),
        (lambda t: t["properties"]["distribute"][0].update(galleryImageId="/bad"), "galleryImageId"),
        (lambda t: t.update(type="Microsoft.Compute/virtualMachines"), "type"),
        (lambda t: t.pop("properties"), "properties"),
    ],
    ids=["gallery-source", "no-gallery-target", "bad-image-id", "not-a-template", "no-properties"],
)
def test_what_cannot_be_imported_fails_naming_the_field(change: Any, field: str) -> None:
    template = copy.deepcopy(TEMPLATE)
    change(template)
    with pytest.raises(AibImportError, match=field.replace(".", r"\.")):
        import_aib_template(template, "x", IDENTITY)
