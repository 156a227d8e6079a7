"""The preflight decisions (plugins/plugin_utils/_preflight.py): each problem names its field."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

REPO_ROOT = Path(__file__).resolve().parents[4]
# The filter imports its logic as ansible_collections.avd.golden...; collections/ holds that path.
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.filter.azure_preflight import (  # noqa: E402
    azure_preflight_problems,
    marketplace_version_filter,
)
from ansible_collections.avd.golden.plugins.plugin_utils._preflight import (  # noqa: E402
    PreflightInputError,
    marketplace_version,
    preflight_problems,
)

BUILD_ID = "win11-24h2-avd-20261202010000-abcd"
VERSIONS = ["26100.2894.250113", "26100.10000.250101", "26100.4066.250524"]
GEN2_TL = {
    "hyperVGeneration": "V2",
    "features": [{"name": "SecurityType", "value": "TrustedLaunchSupported"}],
}
DEFINITION_PROPS = {
    "osType": "Windows",
    "osState": "Generalized",
    "hyperVGeneration": "V2",
    "identifier": {"publisher": "Contoso", "offer": "avd-golden", "sku": "win11-24h2-avd"},
    "features": [{"name": "SecurityType", "value": "TrustedLaunch"}],
}


def _checks(**changes: Any) -> dict[str, Any]:
    checks: dict[str, Any] = {
        "source": {
            "publisher": "MicrosoftWindowsDesktop",
            "offer": "windows-11",
            "sku": "win11-24h2-avd",
            "version": "latest",
        },
        "location": "westeurope",
        "vm_size": "Standard_D4s_v5",
        "gallery_resource_group": "rg-avd-images",
        "gallery_name": "gal_avd_images",
        "create_if_missing": False,
        "image_definition": {
            "name": "win11-24h2-avd",
            "publisher": "Contoso",
            "offer": "avd-golden",
            "sku": "win11-24h2-avd",
            "hyper_v_generation": "V2",
            "security_type": "TrustedLaunch",
        },
        "version_strategy": "explicit",
        "version": "1.2.3",
        "build_id": BUILD_ID,
    }
    checks.update(changes)
    return checks


def _found(**changes: Any) -> dict[str, Any]:
    """Everything exists and fits: the gallery and definition, no version of that name."""
    found: dict[str, Any] = {
        "marketplace_error": "",
        "marketplace_versions": VERSIONS,
        "marketplace_image": GEN2_TL,
        "vm_sizes": ["Standard_D2s_v5", "Standard_D4s_v5"],
        "gallery_resource_group": True,
        "gallery": {"name": "gal_avd_images", "location": "westeurope"},
        "image_definition": DEFINITION_PROPS,
        "image_version": None,
    }
    found.update(changes)
    return found


def _fields(problems: list[str]) -> list[str]:
    return [p.split(": ", 1)[0] for p in problems]


def test_nothing_to_report_when_everything_fits() -> None:
    assert preflight_problems(_checks(), _found()) == []


def test_latest_is_the_highest_version_part_by_part() -> None:
    assert marketplace_version(VERSIONS, "latest") == "26100.10000.250101"
    assert marketplace_version([{"name": v} for v in VERSIONS], "LATEST") == "26100.10000.250101"
    assert marketplace_version(VERSIONS, "26100.2894.250113") == "26100.2894.250113"
    assert marketplace_version(VERSIONS, "26100.1.1") == ""
    assert marketplace_version([], "latest") == ""
    assert marketplace_version(None, "latest") == ""


def test_a_sku_azure_does_not_have() -> None:
    found = _found(marketplace_error="Failed to list images: (PlatformImageNotFound) nope\nCode: x")
    problems = preflight_problems(_checks(), found)
    assert _fields(problems) == ["source.sku"]
    assert "MicrosoftWindowsDesktop:windows-11:win11-24h2-avd is not available in westeurope" in problems[0]
    assert "PlatformImageNotFound" in problems[0] and "\n" not in problems[0]


def test_a_version_the_sku_does_not_publish_names_the_newest() -> None:
    source = {**_checks()["source"], "version": "26100.1.1"}
    problems = preflight_problems(_checks(source=source), _found(marketplace_image=None))
    assert _fields(problems) == ["source.version"]
    assert "26100.1.1 is not a published version" in problems[0]
    assert "the newest is 26100.10000.250101" in problems[0]


def test_latest_of_a_sku_without_versions() -> None:
    problems = preflight_problems(_checks(), _found(marketplace_versions=[], marketplace_image=None))
    assert _fields(problems) == ["source.sku"]
    assert "has no published version" in problems[0]


def test_a_gen1_source_does_not_fit_a_trusted_launch_gen2_definition() -> None:
    gen1 = {"hyperVGeneration": "V1", "features": [{"name": "SecurityType", "value": "Standard"}]}
    problems = preflight_problems(_checks(), _found(marketplace_image=gen1))
    assert _fields(problems) == [
        "gallery.image_definition.hyper_v_generation",
        "gallery.image_definition.security_type",
    ]


def test_a_gen2_source_without_trusted_launch_support() -> None:
    standard = {"hyperVGeneration": "V2", "features": [{"name": "SecurityType", "value": "Standard"}]}
    problems = preflight_problems(_checks(), _found(marketplace_image=standard))
    assert _fields(problems) == ["gallery.image_definition.security_type"]
    # A Standard definition takes it.
    definition = {**_checks()["image_definition"], "security_type": "Standard"}
    existing = {**DEFINITION_PROPS, "features": []}
    assert (
        preflight_problems(
            _checks(image_definition=definition),
            _found(marketplace_image=standard, image_definition=existing),
        )
        == []
    )


def test_a_vm_size_the_region_does_not_offer() -> None:
    problems = preflight_problems(_checks(vm_size="Standard_Nope"), _found())
    assert problems == ["build_vm.size: Standard_Nope is not offered in westeurope"]
    # Sizes compare case-blind; not looked up means not checked.
    assert preflight_problems(_checks(vm_size="standard_d4s_v5"), _found()) == []
    assert preflight_problems(_checks(vm_size="Standard_Nope"), _found(vm_sizes=None)) == []


def test_a_missing_gallery_without_the_key() -> None:
    problems = preflight_problems(_checks(), _found(gallery=None, image_definition=None))
    assert _fields(problems) == ["gallery.name"]
    assert "gallery.create_if_missing: true" in problems[0]


def test_a_missing_gallery_resource_group_names_both() -> None:
    found = _found(gallery_resource_group=False, gallery=None, image_definition=None)
    assert _fields(preflight_problems(_checks(), found)) == ["gallery.resource_group", "gallery.name"]


def test_a_missing_gallery_with_the_key_is_created_later() -> None:
    found = _found(gallery_resource_group=False, gallery=None, image_definition=None)
    assert preflight_problems(_checks(create_if_missing=True), found) == []


def test_a_gallery_in_another_region() -> None:
    found = _found(gallery={"name": "gal_avd_images", "location": "North Europe"})
    problems = preflight_problems(_checks(), found)
    assert _fields(problems) == ["gallery.name"]
    assert "is in North Europe" in problems[0]
    assert preflight_problems(_checks(), _found(gallery={"location": "West Europe"})) == []


@pytest.mark.parametrize(
    ("existing", "fields"),
    [
        ({"hyperVGeneration": "V1"}, ["gallery.image_definition.hyper_v_generation"]),
        ({"features": []}, ["gallery.image_definition.security_type"]),
        ({"osState": "Specialized"}, ["gallery.image_definition.name"]),
        ({"osType": "Linux"}, ["gallery.image_definition.name"]),
        (
            {"identifier": {"publisher": "Other", "offer": "avd-golden", "sku": "x"}},
            ["gallery.image_definition.publisher", "gallery.image_definition.sku"],
        ),
    ],
)
def test_an_existing_definition_that_differs(existing: dict[str, Any], fields: list[str]) -> None:
    problems = preflight_problems(_checks(), _found(image_definition={**DEFINITION_PROPS, **existing}))
    assert _fields(problems) == fields
    assert all("use another image definition name" in p for p in problems)


def test_an_existing_definition_without_a_generation_is_v1() -> None:
    props = {k: v for k, v in DEFINITION_PROPS.items() if k != "hyperVGeneration"}
    problems = preflight_problems(_checks(), _found(image_definition=props))
    assert _fields(problems) == ["gallery.image_definition.hyper_v_generation"]


def test_an_explicit_version_that_exists() -> None:
    version = {"name": "1.2.3", "tags": {"avd-build-id": "other-20260101000000-abcd"}}
    problems = preflight_problems(_checks(), _found(image_version=version))
    assert _fields(problems) == ["gallery.version.value"]
    assert "1.2.3 already exists in gal_avd_images/win11-24h2-avd" in problems[0]
    assert "other-20260101000000-abcd" in problems[0]
    untagged = preflight_problems(_checks(), _found(image_version={"name": "1.2.3", "tags": None}))
    assert "not published by this build" in untagged[0]


def test_a_date_version_that_exists() -> None:
    checks = _checks(version_strategy="date", version="2026.1202.100")
    problems = preflight_problems(checks, _found(image_version={"name": "2026.1202.100"}))
    assert _fields(problems) == ["gallery.version.strategy"]
    assert "same minute" in problems[0]


def test_this_builds_own_version_is_not_a_collision() -> None:
    version = {"name": "1.2.3", "tags": {"avd-build-id": BUILD_ID}}
    assert preflight_problems(_checks(), _found(image_version=version)) == []


def test_increment_never_collides() -> None:
    checks = _checks(version_strategy="increment", version=None)
    assert preflight_problems(checks, _found(image_version={"name": "1.0.0"})) == []


def test_problems_come_in_the_order_of_the_spec() -> None:
    found = _found(
        marketplace_error="boom",
        vm_sizes=[],
        gallery_resource_group=False,
        gallery=None,
        image_definition=None,
    )
    assert _fields(preflight_problems(_checks(), found)) == [
        "source.sku",
        "build_vm.size",
        "gallery.resource_group",
        "gallery.name",
    ]


def test_bad_inputs_name_what_is_missing() -> None:
    with pytest.raises(PreflightInputError, match="checks lacks build_id"):
        preflight_problems({k: v for k, v in _checks().items() if k != "build_id"}, _found())
    with pytest.raises(PreflightInputError, match="mappings"):
        preflight_problems([], _found())  # type: ignore[arg-type]


def test_the_filters_wrap_the_logic() -> None:
    assert azure_preflight_problems(_checks(), _found()) == []
    with pytest.raises(AnsibleFilterError, match="azure_preflight_problems: checks lacks"):
        azure_preflight_problems({}, _found())
    assert marketplace_version_filter(VERSIONS, "latest") == "26100.10000.250101"
    with pytest.raises(AnsibleFilterError, match="expects a list"):
        marketplace_version_filter("26100.1.1", "latest")
