"""Unit tests for image spec validation, defaults, versions and build naming.

The logic is the package plugins/plugin_utils/_image_spec/; the filter plugin is a thin wrapper, tested
at the end for its error translation.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleFilterError

REPO_ROOT = Path(__file__).resolve().parents[4]
# The plugins import each other as ansible_collections.avd.golden...; collections/ holds that path.
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.filter import image_spec as filt  # noqa: E402
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.azure_data import (  # noqa: E402
    VM_SIZE_PATTERN,
    trusted_launch_family,
)
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.build import (  # noqa: E402
    BUILD_ID_MAX,
    build_context,
    build_names,
    computer_name,
    new_build_id,
    parse_build_id,
)
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import ImageSpecError  # noqa: E402
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.password import (  # noqa: E402
    password_meets_azure_complexity,
)
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.spec import (  # noqa: E402
    normalize_image_spec,
    validate_image_spec,
)
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.tags import (  # noqa: E402
    AZURE_MAX_TAGS,
    MAX_SPEC_TAGS,
)
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.versions import (  # noqa: E402
    INT32_MAX,
    date_image_version,
    image_version,
    next_image_version,
    parse_image_version,
)

TODAY = "2026-11-27"
# Azure's length limits for the names derived from a build id (Microsoft.Resources / Network /
# Compute naming rules): the oracle for build_names, independent of the code under test.
NAME_LIMITS = {
    "resource_group": 90,
    "vnet": 64,
    "subnet": 80,
    "nsg": 80,
    "public_ip": 80,
    "nic": 80,
    "vm": 64,
    "os_disk": 80,
    "computer_name": 15,
}
DELETE = object()

BASE: dict[str, Any] = {
    "name": "win11-24h2-avd",
    "description": "test image",
    "source": {
        "publisher": "MicrosoftWindowsDesktop",
        "offer": "windows-11",
        "sku": "win11-24h2-avd",
        "version": "latest",
    },
    "location": "westeurope",
    "build_vm": {
        "size": "Standard_D4s_v5",
        "os_disk_size_gb": 128,
        "os_disk_type": "Premium_LRS",
        "resource_group": None,
    },
    "network": {"mode": "temporary", "address_prefix": "10.250.0.0/24", "existing_subnet_id": None},
    "gallery": {
        "resource_group": "rg-avd-images",
        "name": "gal_avd_images",
        "create_if_missing": False,
        "image_definition": {
            "name": "win11-24h2-avd",
            "publisher": "Contoso",
            "offer": "avd-golden",
            "sku": "win11-24h2-avd-base",
            "hyper_v_generation": "V2",
            "security_type": "TrustedLaunch",
        },
        "version": {"strategy": "date", "value": None},
        "target_regions": [
            {"name": "westeurope", "replica_count": 1, "storage_account_type": "Standard_LRS"}
        ],
        "exclude_from_latest": False,
        "end_of_life_date": None,
    },
    "windows": {"time_zone": "W. Europe Standard Time"},
    "tags": {"workload": "avd"},
}

SUBNET_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers/"
    "Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-build"
)


def _tokens(path: str) -> list[str | int]:
    out: list[str | int] = []
    for part in path.split("."):
        match = re.fullmatch(r"([^\[]+)((?:\[\d+\])*)", part)
        assert match, path
        out.append(match[1])
        out.extend(int(i) for i in re.findall(r"\[(\d+)\]", match[2]))
    return out


def mutate(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``base`` with dotted paths set (or removed with DELETE)."""
    data = copy.deepcopy(base)
    for path, value in changes.items():
        *parents, last = _tokens(path)
        node: Any = data
        for token in parents:
            node = node[token]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return data


def fields(errors: list[str]) -> list[str]:
    return [e.split(": ", 1)[0] for e in errors]


def test_base_spec_is_valid() -> None:
    assert validate_image_spec(BASE, TODAY) == []


@pytest.mark.parametrize("path", sorted(Path(REPO_ROOT / "images").glob("*.yml")), ids=lambda p: p.name)
def test_shipped_images_are_valid(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    assert validate_image_spec(data, TODAY) == []
    assert data["name"] == path.stem, "the file name is the image spec name"


def test_required_example_images_exist() -> None:
    names = {p.stem for p in (REPO_ROOT / "images").glob("*.yml")}
    assert {"win11-24h2-avd", "win11-24h2-avd-m365", "win11-24h2-ent", "win10-22h2-avd-g2"} <= names


# (id, changes, expected fields in order, a fragment the first error's reason must contain)
BAD_CASES: list[tuple[str, dict[str, Any], list[str], str]] = [
    ("name-missing", {"name": DELETE}, ["name"], "is required"),
    ("name-upper", {"name": "Win11"}, ["name"], "lower-case"),
    ("name-short", {"name": "ab"}, ["name"], "3-40"),
    ("name-long", {"name": "a" * 41}, ["name"], "3-40"),
    ("name-trailing-hyphen", {"name": "win11-"}, ["name"], "ending"),
    ("name-not-string", {"name": 42}, ["name"], "must be a string, got integer"),
    ("unknown-top", {"bulid_vm": {}}, ["bulid_vm"], "did you mean 'build_vm'"),
    (
        "unknown-nested",
        {"gallery.image_definition.hyperv_generation": "V2"},
        ["gallery.image_definition.hyperv_generation"],
        "did you mean 'hyper_v_generation'",
    ),
    (
        "unknown-region-key",
        {"gallery.target_regions[0].replicas": 2},
        ["gallery.target_regions[0].replicas"],
        "did you mean 'replica_count'",
    ),
    ("custom-image-source", {"source.id": "/subscriptions/x/images/y"}, ["source.id"], "fresh"),
    ("source-missing", {"source": DELETE}, ["source"], "is required"),
    ("source-not-mapping", {"source": "win11"}, ["source"], "must be a mapping, got string"),
    (
        "publisher-server",
        {"source.publisher": "MicrosoftWindowsServer"},
        ["source.publisher"],
        "Windows 10/11",
    ),
    ("offer-unknown", {"source.offer": "windows-12"}, ["source.offer"], "must be one of"),
    ("sku-server", {"source.sku": "2022-datacenter"}, ["source.sku"], "Windows 10/11 client SKU"),
    ("sku-pro", {"source.sku": "win11-24h2-pro"}, ["source.sku"], "Pro"),
    ("sku-edition-unknown", {"source.sku": "win11-24h2-avx"}, ["source.sku"], "unknown edition"),
    ("sku-win11-g2", {"source.sku": "win11-24h2-avd-g2"}, ["source.sku"], "no -g2 suffix"),
    ("sku-m365-wrong-offer", {"source.sku": "win11-24h2-avd-m365"}, ["source.sku"], "office-365"),
    ("sku-os-mismatch", {"source.sku": "win10-22h2-avd-g2"}, ["source.sku"], "Windows 10 SKU"),
    ("office-offer-plain-sku", {"source.offer": "office-365"}, ["source.sku"], "not published under offer"),
    ("version-bad", {"source.version": "26100.4061"}, ["source.version"], "latest"),
    ("version-number", {"source.version": 1}, ["source.version"], "must be a string"),
    ("location-missing", {"location": DELETE}, ["location"], "is required"),
    ("location-display-name", {"location": "West Europe"}, ["location"], "'westeurope'"),
    (
        "location-typo",
        {"location": "westeurop", "gallery.target_regions[0].name": "westeurope"},
        ["location"],
        "did you mean 'westeurope'",
    ),
    ("size-shape", {"build_vm.size": "D4s_v5"}, ["build_vm.size"], "VM size name"),
    ("size-not-trusted-launch", {"build_vm.size": "Standard_A2_v2"}, ["build_vm.size"], "Trusted Launch"),
    ("size-dv2", {"build_vm.size": "Standard_D2_v2"}, ["build_vm.size"], "Trusted Launch"),
    ("disk-small", {"build_vm.os_disk_size_gb": 126}, ["build_vm.os_disk_size_gb"], "127 to 4095, got 126"),
    ("disk-big", {"build_vm.os_disk_size_gb": 4096}, ["build_vm.os_disk_size_gb"], "got 4096"),
    ("disk-string", {"build_vm.os_disk_size_gb": "128"}, ["build_vm.os_disk_size_gb"], "integer"),
    ("disk-bool", {"build_vm.os_disk_size_gb": True}, ["build_vm.os_disk_size_gb"], "integer"),
    (
        "disk-type",
        {"build_vm.os_disk_type": "premium_lrs"},
        ["build_vm.os_disk_type"],
        "did you mean 'Premium_LRS'",
    ),
    ("rg-bad", {"build_vm.resource_group": "rg with space"}, ["build_vm.resource_group"], "1-90"),
    ("rg-trailing-period", {"build_vm.resource_group": "rg-build."}, ["build_vm.resource_group"], "period"),
    ("network-mode", {"network.mode": "private"}, ["network.mode"], "temporary, existing_subnet"),
    ("prefix-public", {"network.address_prefix": "8.8.8.0/24"}, ["network.address_prefix"], "RFC 1918"),
    ("prefix-too-big", {"network.address_prefix": "10.0.0.0/8"}, ["network.address_prefix"], "/16 to /28"),
    (
        "prefix-too-small",
        {"network.address_prefix": "10.250.0.0/29"},
        ["network.address_prefix"],
        "/16 to /28",
    ),
    ("prefix-host-bits", {"network.address_prefix": "10.250.0.1/24"}, ["network.address_prefix"], "CIDR"),
    ("prefix-no-length", {"network.address_prefix": "10.250.0.0"}, ["network.address_prefix"], "length"),
    ("prefix-ipv6", {"network.address_prefix": "fd00::/64"}, ["network.address_prefix"], "IPv4"),
    (
        "prefix-172-outside",
        {"network.address_prefix": "172.32.0.0/24"},
        ["network.address_prefix"],
        "RFC 1918",
    ),
    (
        "subnet-id-in-temporary",
        {"network.existing_subnet_id": SUBNET_ID},
        ["network.existing_subnet_id"],
        "only used with network.mode existing_subnet",
    ),
    (
        "existing-needs-id",
        {"network.mode": "existing_subnet", "network.address_prefix": None},
        ["network.existing_subnet_id"],
        "is required when network.mode is existing_subnet",
    ),
    (
        "existing-bad-id",
        {
            "network.mode": "existing_subnet",
            "network.address_prefix": None,
            "network.existing_subnet_id": "/subscriptions/abc/subnets/x",
        },
        ["network.existing_subnet_id"],
        "subnet resource id",
    ),
    (
        "existing-with-prefix",
        {"network.mode": "existing_subnet", "network.existing_subnet_id": SUBNET_ID},
        ["network.address_prefix"],
        "only used with network.mode temporary",
    ),
    ("gallery-missing", {"gallery": DELETE}, ["gallery"], "is required"),
    ("gallery-rg-missing", {"gallery.resource_group": DELETE}, ["gallery.resource_group"], "is required"),
    ("gallery-name-hyphen", {"gallery.name": "gal-avd"}, ["gallery.name"], "periods and underscores"),
    ("gallery-name-leading-underscore", {"gallery.name": "_gal"}, ["gallery.name"], "not starting"),
    ("gallery-name-trailing-period", {"gallery.name": "gal."}, ["gallery.name"], "ending"),
    ("gallery-name-long", {"gallery.name": "g" * 81}, ["gallery.name"], "1-80"),
    ("image-def-missing", {"gallery.image_definition": DELETE}, ["gallery.image_definition"], "is required"),
    (
        "image-def-name-space",
        {"gallery.image_definition.name": "win 11"},
        ["gallery.image_definition.name"],
        "1-80",
    ),
    (
        "image-def-name-long",
        {"gallery.image_definition.name": "w" * 81},
        ["gallery.image_definition.name"],
        "1-80",
    ),
    (
        "image-def-name-leading-period",
        {"gallery.image_definition.name": ".win"},
        ["gallery.image_definition.name"],
        "starting",
    ),
    (
        "publisher-long",
        {"gallery.image_definition.publisher": "p" * 129},
        ["gallery.image_definition.publisher"],
        "1-128",
    ),
    (
        "offer-bad-char",
        {"gallery.image_definition.offer": "avd/golden"},
        ["gallery.image_definition.offer"],
        "1-128",
    ),
    (
        "sku-empty",
        {"gallery.image_definition.sku": "  "},
        ["gallery.image_definition.sku"],
        "must not be empty",
    ),
    (
        "generation-enum",
        {"gallery.image_definition.hyper_v_generation": "V3"},
        ["gallery.image_definition.hyper_v_generation"],
        "V1, V2",
    ),
    (
        "security-enum",
        {"gallery.image_definition.security_type": "ConfidentialVM"},
        ["gallery.image_definition.security_type"],
        "TrustedLaunch, Standard",
    ),
    (
        "trusted-launch-v1",
        {"gallery.image_definition.hyper_v_generation": "V1"},
        [
            "gallery.image_definition.hyper_v_generation",
            "gallery.image_definition.hyper_v_generation",
        ],
        "TrustedLaunch",
    ),
    (
        "gen2-source-v1-standard",
        {
            "gallery.image_definition.hyper_v_generation": "V1",
            "gallery.image_definition.security_type": "Standard",
        },
        ["gallery.image_definition.hyper_v_generation"],
        "Gen2",
    ),
    (
        "gen1-source-trusted-launch",
        {"source.offer": "windows-10", "source.sku": "win10-22h2-avd"},
        ["source.sku"],
        "gallery.image_definition.hyper_v_generation",
    ),
    (
        "gen1-source-v2-standard",
        {
            "source.offer": "windows-10",
            "source.sku": "win10-22h2-ent",
            "gallery.image_definition.security_type": "Standard",
        },
        ["source.sku"],
        "Gen1",
    ),
    (
        "strategy-enum",
        {"gallery.version.strategy": "semver"},
        ["gallery.version.strategy"],
        "date, increment, explicit",
    ),
    ("explicit-missing", {"gallery.version.strategy": "explicit"}, ["gallery.version.value"], "is required"),
    (
        "explicit-shape",
        {"gallery.version": {"strategy": "explicit", "value": "1.2"}},
        ["gallery.version.value"],
        "MAJOR.MINOR.PATCH",
    ),
    (
        "explicit-leading-zero",
        {"gallery.version": {"strategy": "explicit", "value": "1.02.3"}},
        ["gallery.version.value"],
        "leading zeros",
    ),
    (
        "explicit-int32",
        {"gallery.version": {"strategy": "explicit", "value": "1.0.2147483648"}},
        ["gallery.version.value"],
        "2147483647",
    ),
    (
        "explicit-float",
        {"gallery.version": {"strategy": "explicit", "value": 1.2}},
        ["gallery.version.value"],
        "quoted string",
    ),
    ("value-with-date", {"gallery.version.value": "1.0.0"}, ["gallery.version.value"], "only used with"),
    ("regions-empty", {"gallery.target_regions": []}, ["gallery.target_regions"], "at least one"),
    (
        "regions-not-list",
        {"gallery.target_regions": "westeurope"},
        ["gallery.target_regions"],
        "must be a list",
    ),
    (
        "region-unknown",
        {"gallery.target_regions[0].name": "moon-north"},
        ["gallery.target_regions[0].name"],
        "unknown Azure region",
    ),
    (
        "region-missing-location",
        {"gallery.target_regions[0].name": "northeurope"},
        ["gallery.target_regions"],
        "must include the build location 'westeurope'",
    ),
    (
        "region-duplicate",
        {"gallery.target_regions": [{"name": "westeurope"}, {"name": "westeurope"}]},
        ["gallery.target_regions[1].name"],
        "listed twice",
    ),
    (
        "replica-zero",
        {"gallery.target_regions[0].replica_count": 0},
        ["gallery.target_regions[0].replica_count"],
        "must be an integer from 1 to 100, got 0",
    ),
    (
        "replica-101",
        {"gallery.target_regions[0].replica_count": 101},
        ["gallery.target_regions[0].replica_count"],
        "got 101",
    ),
    (
        "replica-string",
        {"gallery.target_regions[0].replica_count": "2"},
        ["gallery.target_regions[0].replica_count"],
        "integer",
    ),
    (
        "replica-float",
        {"gallery.target_regions[0].replica_count": 1.5},
        ["gallery.target_regions[0].replica_count"],
        "integer",
    ),
    (
        "storage-enum",
        {"gallery.target_regions[0].storage_account_type": "Premium_ZRS"},
        ["gallery.target_regions[0].storage_account_type"],
        "Standard_LRS, Standard_ZRS, Premium_LRS",
    ),
    (
        "region-item-type",
        {"gallery.target_regions": [{"name": "westeurope"}, 7]},
        ["gallery.target_regions[1]"],
        "must be a mapping",
    ),
    (
        "exclude-string",
        {"gallery.exclude_from_latest": "yes"},
        ["gallery.exclude_from_latest"],
        "true or false",
    ),
    ("publish-not-mapping", {"gallery.publish": "yes"}, ["gallery.publish"], "must be a mapping"),
    ("publish-unknown", {"gallery.publish": {"keep": 3}}, ["gallery.publish.keep"], "unknown key"),
    (
        "publish-validate-str",
        {"gallery.publish": {"validate": "no"}},
        ["gallery.publish.validate"],
        "true or false",
    ),
    (
        "publish-on-failure",
        {"gallery.publish": {"on_failure": "remove"}},
        ["gallery.publish.on_failure"],
        "keep_excluded, delete",
    ),
    (
        "publish-delete-unvalidated",
        {"gallery.publish": {"validate": False, "on_failure": "delete"}},
        ["gallery.publish.on_failure"],
        "needs gallery.publish.validate",
    ),
    (
        "publish-keep-zero",
        {"gallery.publish": {"keep_versions": 0}},
        ["gallery.publish.keep_versions"],
        "1 to 1000",
    ),
    (
        "publish-keep-bool",
        {"gallery.publish": {"keep_versions": True}},
        ["gallery.publish.keep_versions"],
        "integer",
    ),
    (
        "publish-timeout",
        {"gallery.publish": {"timeout_minutes": 1}},
        ["gallery.publish.timeout_minutes"],
        "5 to 240",
    ),
    (
        "publish-eol-str",
        {"gallery.publish": {"prune_end_of_life": "true"}},
        ["gallery.publish.prune_end_of_life"],
        "true or false",
    ),
    ("eol-past", {"gallery.end_of_life_date": "2020-01-01"}, ["gallery.end_of_life_date"], "in the future"),
    ("eol-today", {"gallery.end_of_life_date": TODAY}, ["gallery.end_of_life_date"], "in the future"),
    ("eol-not-date", {"gallery.end_of_life_date": "2030-02-30"}, ["gallery.end_of_life_date"], "real date"),
    ("eol-format", {"gallery.end_of_life_date": "01/02/2030"}, ["gallery.end_of_life_date"], "YYYY-MM-DD"),
    ("eol-number", {"gallery.end_of_life_date": 2030}, ["gallery.end_of_life_date"], "YYYY-MM-DD"),
    (
        "time-zone",
        {"windows.time_zone": "Europe/Amsterdam"},
        ["windows.time_zone"],
        "unknown Windows time zone",
    ),
    (
        "time-zone-typo",
        {"windows.time_zone": "W. Europe Standard"},
        ["windows.time_zone"],
        "did you mean 'W. Europe Standard Time'",
    ),
    ("windows-unknown-key", {"windows.timezone": "UTC"}, ["windows.timezone"], "did you mean 'time_zone'"),
    ("tags-not-mapping", {"tags": ["a"]}, ["tags"], "must be a mapping"),
    ("tag-reserved-prefix", {"tags": {"avd-build-id": "x"}}, ["tags.avd-build-id"], "reserved"),
    ("tag-reserved-case", {"tags": {"AVD-Build-Owner": "x"}}, ["tags.AVD-Build-Owner"], "reserved"),
    ("tag-reserved-image", {"tags": {"avd-image": "x"}}, ["tags.avd-image"], "reserved"),
    ("tag-forbidden-char", {"tags": {"cost/center": "x"}}, ["tags.cost/center"], "must not contain /"),
    ("tag-forbidden-chars", {"tags": {"a<b%c": "x"}}, ["tags.a<b%c"], "% <"),
    ("tag-value-long", {"tags": {"note": "v" * 257}}, ["tags.note"], "at most 256"),
    ("tag-key-long", {"tags": {"k" * 513: "v"}}, ["tags." + "k" * 40 + "..."], "at most 512"),
    ("tag-secret", {"tags": {"AdminPassword": "x"}}, ["tags.AdminPassword"], "must not carry secrets"),
    ("tag-value-list", {"tags": {"note": ["a"]}}, ["tags.note"], "must be strings"),
    ("tag-duplicate-case", {"tags": {"Env": "a", "env": "b"}}, ["tags.env"], "case-insensitive"),
    ("tags-too-many", {"tags": {f"t{i}": "v" for i in range(37)}}, ["tags"], "at most 36"),
]


@pytest.mark.parametrize(
    ("changes", "expected", "reason"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES]
)
def test_bad_spec_names_the_field(changes: dict[str, Any], expected: list[str], reason: str) -> None:
    errors = validate_image_spec(mutate(BASE, changes), TODAY)
    assert fields(errors) == expected, errors
    assert reason in errors[0].split(": ", 1)[1], errors


def test_all_errors_reported_at_once() -> None:
    bad = mutate(
        BASE,
        {
            "name": "X",
            "location": "mars",
            "build_vm.os_disk_size_gb": 64,
            "gallery.name": "-bad-",
            "gallery.target_regions[0].replica_count": 0,
            "windows.time_zone": "nowhere",
            "extra": 1,
        },
    )
    errors = validate_image_spec(bad, TODAY)
    assert set(fields(errors)) == {
        "extra",
        "name",
        "location",
        "build_vm.os_disk_size_gb",
        "gallery.name",
        "gallery.target_regions[0].replica_count",
        "windows.time_zone",
    }
    assert all(re.match(r"^[\w.\[\]-]+: \S", e) for e in errors), errors


@pytest.mark.parametrize("data", [None, [], "name: x", 3])
def test_root_must_be_a_mapping(data: Any) -> None:
    assert fields(validate_image_spec(data, TODAY)) == ["(root)"]


GOOD_VARIANTS: list[tuple[str, dict[str, Any]]] = [
    (
        "gen1-standard",
        {
            "source.offer": "windows-10",
            "source.sku": "win10-22h2-avd",
            "gallery.image_definition.hyper_v_generation": "V1",
            "gallery.image_definition.security_type": "Standard",
        },
    ),
    ("win10-m365-g2", {"source.offer": "office-365", "source.sku": "win10-22h2-avd-m365-g2"}),
    (
        "publish-all-keys",
        {
            "gallery.publish": {
                "validate": True,
                "on_failure": "delete",
                "keep_versions": 3,
                "prune_end_of_life": True,
                "timeout_minutes": 60,
            }
        },
    ),
    ("publish-unvalidated", {"gallery.publish": {"validate": False}}),
    ("win11-m365", {"source.offer": "office-365", "source.sku": "win11-24h2-avd-m365"}),
    ("win11-entn", {"source.sku": "win11-24h2-entn"}),
    ("exact-source-version", {"source.version": "26100.4061.250510"}),
    ("existing-subnet", {"network": {"mode": "existing_subnet", "existing_subnet_id": SUBNET_ID}}),
    ("prefix-172", {"network.address_prefix": "172.16.8.0/28"}),
    ("prefix-192-16", {"network.address_prefix": "192.168.0.0/16"}),
    (
        "standard-any-size",
        {"build_vm.size": "Standard_A2_v2", "gallery.image_definition.security_type": "Standard"},
    ),
    ("size-d4ads-v6", {"build_vm.size": "Standard_D4ads_v6"}),
    ("size-b2ms", {"build_vm.size": "Standard_B2ms"}),
    ("size-e8s-v5", {"build_vm.size": "Standard_E8s_v5"}),
    ("size-nv-a10", {"build_vm.size": "Standard_NV36ads_A10_v5"}),
    ("disk-limits-low", {"build_vm.os_disk_size_gb": 127}),
    ("disk-limits-high", {"build_vm.os_disk_size_gb": 4095}),
    ("explicit", {"gallery.version": {"strategy": "explicit", "value": "2147483647.0.10"}}),
    ("increment", {"gallery.version": {"strategy": "increment"}}),
    (
        "regions-two",
        {
            "gallery.target_regions": [
                {"name": "northeurope", "replica_count": 100, "storage_account_type": "Premium_LRS"},
                {"name": "westeurope", "storage_account_type": "Standard_ZRS"},
            ]
        },
    ),
    ("region-shorthand", {"gallery.target_regions": ["westeurope", "swedencentral"]}),
    ("eol-date-object", {"gallery.end_of_life_date": dt.date(2030, 1, 31)}),
    ("eol-string", {"gallery.end_of_life_date": "2026-11-28"}),
    ("tags-36", {"tags": {f"t{i}": "v" for i in range(36)}}),
    ("tag-number-value", {"tags": {"cost-center": 4711}}),
    ("rg-existing", {"build_vm.resource_group": "rg-build_(ws).1"}),
    ("gov-region", {"location": "usgovvirginia", "gallery.target_regions[0].name": "usgovvirginia"}),
]


@pytest.mark.parametrize("changes", [c[1] for c in GOOD_VARIANTS], ids=[c[0] for c in GOOD_VARIANTS])
def test_good_variants_are_valid(changes: dict[str, Any]) -> None:
    assert validate_image_spec(mutate(BASE, changes), TODAY) == []


def test_defaults_are_filled() -> None:
    minimal = {
        "name": "min",
        "source": {"offer": "windows-11", "sku": "win11-24h2-avd"},
        "location": "northeurope",
        "gallery": {
            "resource_group": "rg-img",
            "name": "gal",
            "create_if_missing": False,
            "image_definition": {"name": "d", "publisher": "p", "offer": "o", "sku": "s"},
        },
    }
    normal = normalize_image_spec(minimal, TODAY)
    # Sections with their own test file, which checks their defaults in full.
    own_tests = {
        "avd": "test_avd_settings.py",
        "default_user": "test_avd_settings.py",
        "downloads": "test_image_spec_downloads.py",
        "applications": "test_image_spec_applications.py",
        "avd_stack": "test_avd_stack_spec.py",
        "languages": "test_image_spec_languages.py",
    }
    assert {k: v for k, v in normal.items() if k not in own_tests} == {
        "name": "min",
        "description": "",
        "source": {
            "publisher": "MicrosoftWindowsDesktop",
            "offer": "windows-11",
            "sku": "win11-24h2-avd",
            "version": "latest",
        },
        "location": "northeurope",
        "build_vm": {
            "size": "Standard_D4s_v5",
            "os_disk_size_gb": 128,
            "os_disk_type": "Premium_LRS",
            "resource_group": None,
        },
        "network": {"mode": "temporary", "address_prefix": "10.250.0.0/24", "existing_subnet_id": None},
        "gallery": {
            "resource_group": "rg-img",
            "name": "gal",
            "create_if_missing": False,
            "image_definition": {
                "name": "d",
                "publisher": "p",
                "offer": "o",
                "sku": "s",
                "hyper_v_generation": "V2",
                "security_type": "TrustedLaunch",
            },
            "version": {"strategy": "date", "value": None},
            "target_regions": [
                {"name": "northeurope", "replica_count": 1, "storage_account_type": "Standard_LRS"}
            ],
            "exclude_from_latest": False,
            "end_of_life_date": None,
            "publish": {
                "validate": True,
                "on_failure": "keep_excluded",
                "keep_versions": None,
                "prune_end_of_life": False,
                "timeout_minutes": 30,
            },
        },
        "windows": {"time_zone": "UTC"},
        "optimization": {
            "enabled": True,
            "profile": "auto",
            "path": None,
            "categories": [
                "AppxPackages",
                "ScheduledTasks",
                "Services",
                "Autologgers",
                "DefaultUserSettings",
                "LanManWorkstation",
                "PolicyRegSettings",
                "EdgeSettings",
            ],
            "overrides": [],
            "disk_cleanup": False,
            "network": True,
        },
        "appx": {"remove": [], "keep": [], "on_failure": "fail"},
        "windows_update": {
            "enabled": False,
            "categories": ["SecurityUpdates", "CriticalUpdates", "UpdateRollups", "DefinitionUpdates"],
            "skip_optional": True,
            "include": [],
            "exclude": [],
            "deny_list": True,
            "max_rounds": 5,
            "on_max_rounds": "fail",
            "already_current_days": None,
            "timeout_minutes": 240,
        },
        "tags": {},
    }
    # Normalising is stable: a normalised image spec normalises to itself.
    assert normalize_image_spec(normal, TODAY) == normal


def test_existing_subnet_drops_the_default_prefix() -> None:
    normal = normalize_image_spec(
        mutate(BASE, {"network": {"mode": "existing_subnet", "existing_subnet_id": SUBNET_ID}}), TODAY
    )
    assert normal["network"] == {
        "mode": "existing_subnet",
        "address_prefix": None,
        "existing_subnet_id": SUBNET_ID,
    }


def test_normalize_converts_dates_and_tag_numbers() -> None:
    normal = normalize_image_spec(
        mutate(BASE, {"gallery.end_of_life_date": dt.date(2030, 1, 31), "tags": {"cc": 4711}}), TODAY
    )
    assert normal["gallery"]["end_of_life_date"] == "2030-01-31"
    assert normal["tags"] == {"cc": "4711"}


def test_normalize_raises_with_every_error() -> None:
    with pytest.raises(ImageSpecError) as info:
        normalize_image_spec(mutate(BASE, {"name": "X", "location": "mars"}), TODAY)
    assert fields(info.value.errors) == ["name", "location"]
    assert str(info.value).splitlines()[1:] == info.value.errors


@pytest.mark.parametrize(
    ("size", "capable"),
    [
        ("Standard_D4s_v5", True),
        ("Standard_D4ds_v5", True),
        ("Standard_D4as_v5", True),
        ("Standard_D2ls_v5", True),
        ("Standard_D4s_v3", True),
        ("Standard_D8s_v4", True),
        ("Standard_D4alds_v6", True),
        ("Standard_E8ads_v5", True),
        ("Standard_F8s_v2", True),
        ("Standard_B2ms", True),
        ("Standard_B2als_v2", True),
        ("Standard_L8s_v3", True),
        ("Standard_NC4as_T4_v3", True),
        ("Standard_NV6ads_A10_v5", True),
        ("Standard_A2_v2", False),
        ("Standard_D2_v2", False),
        ("Standard_DS2_v2", False),
        ("Standard_F4", False),
        ("Standard_M64ms", False),
        ("Standard_D4ps_v5", False),  # Arm64: the Windows client images here are x64
    ],
)
def test_trusted_launch_families(size: str, capable: bool) -> None:
    assert VM_SIZE_PATTERN.match(size), size
    assert (trusted_launch_family(size) is not None) is capable


# -- versions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (dt.datetime(2026, 11, 27, 21, 30, 59, tzinfo=dt.UTC), "2026.1127.2130"),
        (dt.datetime(2027, 1, 5, 9, 5, tzinfo=dt.UTC), "2027.105.905"),
        (dt.datetime(2027, 1, 1, 0, 0, tzinfo=dt.UTC), "2027.101.0"),
        (dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.UTC), "2026.1231.2359"),
        # A local time is converted to UTC first.
        (dt.datetime(2026, 11, 28, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))), "2026.1127.2230"),
    ],
)
def test_date_version(moment: dt.datetime, expected: str) -> None:
    assert date_image_version(moment) == expected
    assert all(0 <= int(p) <= INT32_MAX for p in expected.split("."))


def test_date_versions_sort_like_build_times() -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    moments = [start + dt.timedelta(minutes=37 * i) for i in range(0, 20000, 7)]
    versions = [parse_image_version(date_image_version(m)) for m in moments]
    assert versions == sorted(versions)


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        ([], "1.0.0"),
        (None, "1.0.0"),
        (["1.0.0"], "1.0.1"),
        (["1.9.0", "1.10.0", "1.2.7"], "1.10.1"),
        ([{"name": "2.0.3"}, {"name": "2.0.12"}], "2.0.13"),
        (["2026.1127.2130", "1.0.0"], "2026.1127.2131"),
        # Written by another tool with leading zeros: Azure compares the parts as integers.
        (["2026.0105.0930", "2026.105.931"], "2026.105.932"),
    ],
)
def test_next_image_version(existing: Any, expected: str) -> None:
    assert next_image_version(existing) == expected


@pytest.mark.parametrize("existing", [["1.0"], ["1.0.0.0"], [{"name": "x"}], [f"1.0.{INT32_MAX}"], [None]])
def test_next_image_version_refuses(existing: list[Any]) -> None:
    with pytest.raises(ValueError, match=r"1\.0|x|int32|None"):
        next_image_version(existing)


def test_image_version_per_strategy() -> None:
    started = dt.datetime(2026, 11, 27, 21, 30, tzinfo=dt.UTC)
    date = normalize_image_spec(BASE, TODAY)
    explicit = normalize_image_spec(
        mutate(BASE, {"gallery.version": {"strategy": "explicit", "value": "3.1.4"}}), TODAY
    )
    increment = normalize_image_spec(mutate(BASE, {"gallery.version.strategy": "increment"}), TODAY)
    assert image_version(date, started) == "2026.1127.2130"
    assert image_version(explicit, started) == "3.1.4"
    assert image_version(increment, started) is None


# -- build ids, names, context ------------------------------------------------------------------

MOMENT = dt.datetime(2026, 11, 27, 21, 30, 5, tzinfo=dt.UTC)


def test_build_id_shape() -> None:
    build_id = new_build_id("win11-24h2-avd", MOMENT, "3fa2")
    assert build_id == "win11-24h2-avd-20261127213005-3fa2"
    assert parse_build_id(build_id) == ("win11-24h2-avd", MOMENT)


def test_build_id_random_suffix() -> None:
    ids = {new_build_id("abc", MOMENT) for _ in range(50)}
    assert len(ids) > 1
    assert all(re.fullmatch(r"abc-20261127213005-[0-9a-f]{4}", i) for i in ids)


@pytest.mark.parametrize(
    "name", ["abc", "win11-24h2-avd", "a" * 40, "abcdefghijklmnopqrstuvwxyzabcdefghi-jkl", "x" * 35 + "-y"]
)
def test_names_fit_azure_limits(name: str) -> None:
    build_id = new_build_id(name, MOMENT, "beef")
    assert len(build_id) <= BUILD_ID_MAX
    assert not re.search(r"--", build_id.replace("-20261127213005-beef", "")), (
        "no dangling hyphen after shortening"
    )
    assert build_id.startswith(name[: len(build_id) - 20].rstrip("-"))
    names = build_names(build_id)
    for key, limit in NAME_LIMITS.items():
        assert 1 <= len(names[key]) <= limit, (key, names[key])
    assert re.fullmatch(r"avdb[0-9a-f]{11}", names["computer_name"])
    assert names["vm"] == f"vm-{build_id}"
    assert names["resource_group"] == f"rg-avdbuild-{build_id}"


def test_computer_names_differ_per_build() -> None:
    a = computer_name(new_build_id("abc", MOMENT, "0001"))
    b = computer_name(new_build_id("abc", MOMENT, "0002"))
    assert a != b


@pytest.mark.parametrize(
    "build_id",
    [
        "abc",
        "abc-2026112721300-abcd",
        "abc-20261127213005-ABCD",
        "ABC-20261127213005-abcd",
        "abc-20261327213005-abcd",
        "a" * 40 + "-20261127213005-abcd",
    ],
)
def test_parse_build_id_refuses(build_id: str) -> None:
    with pytest.raises(ValueError, match="build id"):
        parse_build_id(build_id)


def test_new_build_id_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        new_build_id("Bad Name", MOMENT)
    with pytest.raises(ValueError):
        new_build_id("abc", MOMENT, "xyz!")


def _context(changes: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    spec = normalize_image_spec(mutate(BASE, changes or {}), TODAY)
    args: dict[str, Any] = {"owner": "alice", "ttl_hours": 24, "artifacts_root": "/tmp/avd-artifacts"}
    args.update(kwargs)
    return build_context(spec, "win11-24h2-avd-20261127213005-3fa2", **args)


def test_build_context() -> None:
    ctx = _context()
    assert ctx["id"] == "win11-24h2-avd-20261127213005-3fa2"
    assert ctx["artifacts_dir"] == "/tmp/avd-artifacts/win11-24h2-avd-20261127213005-3fa2"
    assert ctx["ledger_path"] == ctx["artifacts_dir"] + "/ledger.json"
    assert ctx["created_at"] == "2026-11-27T21:30:05Z"
    assert ctx["delete_after"] == "2026-11-28T21:30:05Z"
    assert ctx["resource_group"] == "rg-avdbuild-win11-24h2-avd-20261127213005-3fa2"
    assert ctx["resource_group_created_by_build"] is True
    assert ctx["location"] == "westeurope"
    assert ctx["image_version"] == "2026.1127.2130"
    assert ctx["source_hyper_v_generation"] == "V2"
    assert ctx["session_type"] == "multi"
    assert set(ctx["names"]) == {
        "vnet",
        "subnet",
        "nsg",
        "public_ip",
        "nic",
        "vm",
        "os_disk",
        "computer_name",
    }
    assert ctx["tags"] == {
        "avd-build-id": "win11-24h2-avd-20261127213005-3fa2",
        "avd-build-owner": "alice",
        "avd-build-delete-after": "2026-11-28T21:30:05Z",
        "avd-image": "win11-24h2-avd",
        "workload": "avd",
    }
    # Derived from the id alone: the same id always yields the same context.
    assert _context() == ctx


def test_build_context_variants() -> None:
    ctx = _context({"build_vm.resource_group": "rg-mine"}, owner="  ", ttl_hours=2, awx_job_id=4711)
    assert ctx["resource_group"] == "rg-mine"
    assert ctx["resource_group_created_by_build"] is False
    assert ctx["owner"] == "unknown"
    assert ctx["delete_after"] == "2026-11-27T23:30:05Z"
    assert ctx["tags"]["avd-build-awx-job"] == "4711"
    assert len(ctx["tags"]) <= AZURE_MAX_TAGS
    single = _context({"source.sku": "win11-24h2-ent", "gallery.version.strategy": "increment"})
    assert single["session_type"] == "single"
    assert single["image_version"] is None


def test_build_context_tag_budget() -> None:
    ctx = _context({"tags": {f"t{i}": "v" for i in range(MAX_SPEC_TAGS)}}, awx_job_id="1")
    assert len(ctx["tags"]) <= AZURE_MAX_TAGS
    # The image version: the build tags without avd-build-delete-after, plus the source image,
    # its version and the manifest's two summary tags (docs/contracts.md sections 4 and 7).
    assert len(ctx["tags"]) - 1 + 4 <= AZURE_MAX_TAGS


@pytest.mark.parametrize("ttl", [0, -1, 8761, "24", True])
def test_build_context_refuses_bad_ttl(ttl: Any) -> None:
    with pytest.raises(ValueError, match="avd_build_ttl_hours"):
        _context(ttl_hours=ttl)


def test_build_context_refuses_foreign_build_id() -> None:
    spec = normalize_image_spec(BASE, TODAY)
    with pytest.raises(ValueError, match=r"^avd_build_id: .*does not belong"):
        build_context(spec, "other-20261127213005-3fa2", "alice")
    with pytest.raises(ValueError, match=r"^avd_build_id: not a build id"):
        build_context(spec, "win11-24h2-avd-2026", "alice")


# -- passwords ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "min_length", "ok"),
    [
        ("Abcdefgh1234", 12, True),
        ("abcdefgh1234!", 12, True),  # lower + digit + special
        ("ABCDEFGH!!!!", 12, False),  # two classes
        ("Abcdefgh123", 12, False),  # 11 characters
        ("Abcdefgh1234", 24, False),
        ("Xy7#" * 6, 24, True),
        ("A" * 60 + "b" * 60 + "1234", 12, False),  # 124 characters
        ("P@ssw0rd", 8, False),  # refused list and too short
        ("Pass@word1", 8, False),
        ("Abc\ndefgh1234", 12, False),  # control character
        (None, 12, False),
        (123456789012, 12, False),
    ],
)
def test_password_meets_azure_complexity(password: Any, min_length: int, ok: bool) -> None:
    assert password_meets_azure_complexity(password, min_length) is ok


# -- the filter plugin wrapper ------------------------------------------------------------------


def test_filter_module_lists_every_filter_with_a_doc_sidecar() -> None:
    names = set(filt.FilterModule().filters())
    assert names == {
        "load_image_spec",
        "validate_image_spec",
        "normalize_image_spec",
        "new_build_id",
        "build_context",
        "next_image_version",
        "password_meets_azure_complexity",
    }
    for name in names:
        doc = yaml.safe_load((REPO_ROOT / "plugins" / "filter" / f"{name}.yml").read_text())
        assert doc["DOCUMENTATION"]["name"] == name


def test_filter_normalize_fails_with_every_error() -> None:
    with pytest.raises(AnsibleFilterError) as info:
        filt.normalize_image_spec(mutate(BASE, {"name": "X", "location": "mars"}), TODAY)
    lines = str(info.value.message).splitlines()
    assert lines[1].startswith("name: ") and lines[2].startswith("location: ")


def test_filter_wrappers() -> None:
    assert filt.validate_image_spec(BASE, TODAY) == []
    assert filt.new_build_id("abc", "2026-11-27T21:30:05Z", "abcd") == "abc-20261127213005-abcd"
    assert filt.next_image_version(["1.0.0"]) == "1.0.1"
    assert filt.password_meets_azure_complexity("Xy7#" * 6, 24) is True
    ctx = filt.build_context(
        filt.normalize_image_spec(BASE, TODAY), "win11-24h2-avd-20261127213005-3fa2", "bob"
    )
    assert ctx["owner"] == "bob"
    with pytest.raises(AnsibleFilterError, match="new_build_id"):
        filt.new_build_id("abc", "not a time")
    with pytest.raises(AnsibleFilterError, match="next_image_version"):
        filt.next_image_version(["1.0"])
    with pytest.raises(AnsibleFilterError, match="not normalised"):
        filt.build_context({"name": "win11-24h2-avd"}, "win11-24h2-avd-20261127213005-3fa2")
    with pytest.raises(AnsibleFilterError, match="build_context"):
        filt.build_context(filt.normalize_image_spec(BASE, TODAY), "nope")


def test_readme_format_block_shows_the_defaults() -> None:
    """images/README.md's format block is valid and every optional value in it is the default."""
    text = (REPO_ROOT / "images" / "README.md").read_text()
    block = text.split("## Format", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    shown = yaml.safe_load(block)
    assert validate_image_spec(shown, TODAY) == []
    gallery = shown["gallery"]
    required_only = {
        "name": shown["name"],
        "source": {"offer": shown["source"]["offer"], "sku": shown["source"]["sku"]},
        "location": shown["location"],
        "gallery": {
            "resource_group": gallery["resource_group"],
            "name": gallery["name"],
            "image_definition": {
                k: gallery["image_definition"][k] for k in ("name", "publisher", "offer", "sku")
            },
        },
    }
    assert normalize_image_spec(required_only, TODAY) == normalize_image_spec(shown, TODAY)
    assert normalize_image_spec(shown, TODAY) == shown
