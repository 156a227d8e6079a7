"""Malformed image spec files, as a user writes them: each is refused, naming the field.

A case is the text of a file (a good spec with one edit), read the way the validate phase reads it
(the strict loader, plugins/plugin_utils/_image_spec/loader.py) and then validated. The classes:
a value with a trailing newline or another control character (a YAML block scalar adds one), a key
given twice, an alias bomb and the other bounds of the loader, tags that are not plain YAML, and
dates that do not exist or are not dates. The file-level bounds (size, encoding) follow the table.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import time
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.filter import image_spec as filt  # noqa: E402
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.loader import (  # noqa: E402
    MAX_ALIASES,
    MAX_BYTES,
    MAX_DEPTH,
    SpecFileError,
    parse_image_spec_text,
    read_image_spec_file,
)
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.spec import (  # noqa: E402
    normalize_image_spec,
    validate_image_spec,
)

TODAY = "2026-11-27"
FILE = "images/bad.yml"

GOOD = """\
---
name: win11-24h2-avd
description: test image
source:
  offer: windows-11
  sku: win11-24h2-avd
  version: latest
location: westeurope
build_vm:
  size: Standard_D4s_v5
  os_disk_size_gb: 128
  os_disk_type: Premium_LRS
network:
  mode: temporary
  address_prefix: 10.250.0.0/24
gallery:
  resource_group: rg-avd-images
  name: gal_avd_images
  image_definition:
    name: win11-24h2-avd
    publisher: Contoso
    offer: avd-golden
    sku: win11-24h2-avd-base
    hyper_v_generation: V2
    security_type: TrustedLaunch
  version:
    strategy: date
  target_regions:
    - name: westeurope
      replica_count: 1
      storage_account_type: Standard_LRS
  end_of_life_date: 2030-01-31
windows:
  time_zone: W. Europe Standard Time
tags:
  workload: avd
"""


def edit(old: str, new: str) -> str:
    """GOOD with the one whole line ``old`` (indentation included) replaced by ``new`` (lines)."""
    lines = GOOD.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if line == old + "\n"]
    assert len(hits) == 1, f"{old!r} is not one line of GOOD"
    lines[hits[0]] = new + "\n"
    return "".join(lines)


def bomb(levels: int = 9) -> str:
    """The billion laughs, as tags: each level lists the previous one nine times."""
    lines = ['  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels):
        lines.append(f"  l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]")
    return edit("  workload: avd", "\n".join(lines))


EXISTING_SUBNET = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers/"
    "Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-build"
)

# (id, file text, the field named, a fragment of the reason)
CASES: list[tuple[str, str, str, str]] = [
    # -- a trailing newline (YAML block scalars | and > end with one) or another control character
    ("name-literal-block", edit("name: win11-24h2-avd", "name: |\n  win11-24h2-avd"), "name", "newline"),
    ("name-folded-block", edit("name: win11-24h2-avd", "name: >\n  win11-24h2-avd"), "name", "newline"),
    ("name-keep-block", edit("name: win11-24h2-avd", "name: |+\n  win11-24h2-avd\n"), "name", "one line"),
    ("name-quoted-newline", edit("name: win11-24h2-avd", 'name: "win11-24h2-avd\\n"'), "name", "newline"),
    ("name-inner-newline", edit("name: win11-24h2-avd", 'name: "win11\\n24h2"'), "name", "one line"),
    ("name-tab", edit("name: win11-24h2-avd", 'name: "win11-24h2-avd\\t"'), "name", "control"),
    ("source-offer", edit("  offer: windows-11", "  offer: |\n    windows-11"), "source.offer", "newline"),
    ("source-sku", edit("  sku: win11-24h2-avd", "  sku: |\n    win11-24h2-avd"), "source.sku", "newline"),
    (
        "source-version",
        edit("  version: latest", '  version: "26100.4061.250510\\n"'),
        "source.version",
        "newline",
    ),
    ("location", edit("location: westeurope", "location: |\n  westeurope"), "location", "newline"),
    (
        "vm-size",
        edit("  size: Standard_D4s_v5", "  size: >\n    Standard_D4s_v5"),
        "build_vm.size",
        "newline",
    ),
    (
        "vm-disk-type",
        edit("  os_disk_type: Premium_LRS", "  os_disk_type: |\n    Premium_LRS"),
        "build_vm.os_disk_type",
        "newline",
    ),
    (
        "vm-resource-group",
        edit("  os_disk_type: Premium_LRS", '  os_disk_type: Premium_LRS\n  resource_group: "rg-build\\n"'),
        "build_vm.resource_group",
        "newline",
    ),
    ("network-mode", edit("  mode: temporary", "  mode: |\n    temporary"), "network.mode", "newline"),
    (
        "network-prefix",
        edit("  address_prefix: 10.250.0.0/24", "  address_prefix: |\n    10.250.0.0/24"),
        "network.address_prefix",
        "newline",
    ),
    (
        "network-subnet-id",
        GOOD.replace(
            "  mode: temporary\n  address_prefix: 10.250.0.0/24\n",
            f"  mode: existing_subnet\n  existing_subnet_id: |\n    {EXISTING_SUBNET}\n",
        ),
        "network.existing_subnet_id",
        "newline",
    ),
    (
        "gallery-resource-group",
        edit("  resource_group: rg-avd-images", "  resource_group: |\n    rg-avd-images"),
        "gallery.resource_group",
        "newline",
    ),
    (
        "gallery-name",
        edit("  name: gal_avd_images", "  name: |\n    gal_avd_images"),
        "gallery.name",
        "newline",
    ),
    (
        "image-definition-name",
        edit("    name: win11-24h2-avd", "    name: |\n      win11-24h2-avd"),
        "gallery.image_definition.name",
        "newline",
    ),
    (
        "image-definition-publisher",
        edit("    publisher: Contoso", '    publisher: "Contoso\\n"'),
        "gallery.image_definition.publisher",
        "newline",
    ),
    (
        "image-definition-offer",
        edit("    offer: avd-golden", "    offer: >\n      avd-golden"),
        "gallery.image_definition.offer",
        "newline",
    ),
    (
        "image-definition-sku",
        edit("    sku: win11-24h2-avd-base", "    sku: |\n      win11-24h2-avd-base"),
        "gallery.image_definition.sku",
        "newline",
    ),
    (
        "hyper-v-generation",
        edit("    hyper_v_generation: V2", "    hyper_v_generation: |\n      V2"),
        "gallery.image_definition.hyper_v_generation",
        "newline",
    ),
    (
        "security-type",
        edit("    security_type: TrustedLaunch", "    security_type: |\n      TrustedLaunch"),
        "gallery.image_definition.security_type",
        "newline",
    ),
    (
        "version-value",
        edit("    strategy: date", '    strategy: explicit\n    value: "1.0.0\\n"'),
        "gallery.version.value",
        "newline",
    ),
    (
        "region-name",
        edit("    - name: westeurope", "    - name: |\n        westeurope"),
        "gallery.target_regions[0].name",
        "newline",
    ),
    (
        "region-shorthand",
        edit(
            "    - name: westeurope",
            "    - |\n      westeurope\n    - name: northeurope",
        ),
        "gallery.target_regions[0].name",
        "newline",
    ),
    (
        "region-storage",
        edit(
            "      storage_account_type: Standard_LRS", "      storage_account_type: |\n        Standard_LRS"
        ),
        "gallery.target_regions[0].storage_account_type",
        "newline",
    ),
    (
        "time-zone",
        edit("  time_zone: W. Europe Standard Time", "  time_zone: |\n    W. Europe Standard Time"),
        "windows.time_zone",
        "newline",
    ),
    ("tag-value", edit("  workload: avd", "  workload: |\n    avd"), "tags.workload", "newline"),
    ("tag-name", edit("  workload: avd", '  "work\\tload": avd'), "tags.work\\tload", "control"),
    (
        "name-zero-width-space",
        edit("name: win11-24h2-avd", 'name: "win11-24h2-avd\\u200b"'),
        "name",
        "invisible",
    ),
    (
        "tag-bidi-override",
        edit("  workload: avd", '  "cost\\u202ecenter": x'),
        "tags.cost\\u202ecenter",
        "invisible",
    ),
    (
        "gallery-name-line-separator",
        edit("  name: gal_avd_images", '  name: "gal_avd\\u2028images"'),
        "gallery.name",
        "invisible",
    ),
    (
        "optimization-profile",
        GOOD + "optimization:\n  profile: |\n    win11-24h2-multi\n",
        "optimization.profile",
        "newline",
    ),
    ("appx-remove", GOOD + 'appx:\n  remove: ["Microsoft.BingNews\\n"]\n', "appx.remove[0]", "newline"),
    (
        "fslogix-location",
        GOOD + "avd:\n  fslogix:\n    enabled: true\n    location_type: vhd_locations\n"
        '    locations: ["\\\\\\\\server\\\\share\\n"]\n',
        "avd.fslogix.locations[0]",
        "newline",
    ),
    (
        "default-user-key",
        GOOD + 'default_user:\n  - {key: "Software\\\\Contoso\\n", name: x, type: dword, data: 1}\n',
        "default_user[0].key",
        "newline",
    ),
    (
        "eol-date-newline",
        edit("  end_of_life_date: 2030-01-31", '  end_of_life_date: "2030-01-31\\n"'),
        "gallery.end_of_life_date",
        "newline",
    ),
    # -- a key given twice: YAML keeps the last one silently
    ("duplicate-root", GOOD + "name: win11-24h2-ent\n", "name", "duplicate key (first at line 2)"),
    (
        "duplicate-gallery-name",
        edit("  name: gal_avd_images", "  name: gal_avd_images\n  name: gal_other"),
        "gallery.name",
        "duplicate key",
    ),
    ("duplicate-section", GOOD + "gallery: {}\n", "gallery", "duplicate key"),
    (
        "duplicate-in-list-item",
        edit("      replica_count: 1", "      replica_count: 1\n      replica_count: 3"),
        "gallery.target_regions[0].replica_count",
        "duplicate key",
    ),
    ("duplicate-tag", GOOD + "  workload: other\n", "tags.workload", "duplicate key"),
    (
        "duplicate-quoted",
        edit("  sku: win11-24h2-avd", '  sku: win11-24h2-avd\n  "sku": win11-24h2-ent'),
        "source.sku",
        "duplicate key",
    ),
    (
        "duplicate-flow",
        GOOD + "avd: {storage_sense: true, storage_sense: false}\n",
        "avd.storage_sense",
        "duplicate key",
    ),
    # -- aliases and nesting: bounded before anything is expanded
    ("alias-bomb", bomb(), "tags.l5", "alias bomb"),
    ("alias-recursive", edit("tags:", "tags: &t") + "  self: *t\n", "tags.self", "recursive"),
    (
        "alias-too-many",
        edit("  workload: avd", "  workload: &w avd")
        + "default_user: ["
        + ", ".join(["*w"] * (MAX_ALIASES + 1))
        + "]\n",
        f"default_user[{MAX_ALIASES}]",
        f"more than {MAX_ALIASES} aliases",
    ),
    (
        "nesting-too-deep",
        GOOD + "description2: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n",
        "description2" + "[0]" * 20,
        "levels deep",
    ),
    # -- tags that are not plain YAML data
    (
        "tag-python",
        GOOD + "appx: !!python/object/apply:os.system [id]\n",
        "appx",
        "!!python/object/apply:os.system",
    ),
    (
        "tag-vault",
        edit("  workload: avd", "  workload: !vault |\n    $ANSIBLE_VAULT;1.1;AES256"),
        "tags.workload",
        "!vault",
    ),
    (
        "tag-binary",
        edit("description: test image", "description: !!binary aGVsbG8="),
        "description",
        "!!binary",
    ),
    ("tag-set", GOOD + "appx:\n  keep: !!set {Microsoft.YourPhone}\n", "appx.keep", "!!set"),
    ("key-not-scalar", GOOD + "? [a, b]\n: c\n", "(root)", "plain value"),
    # -- dates: impossible ones and things that are not dates
    (
        "eol-impossible",
        edit("  end_of_life_date: 2030-01-31", "  end_of_life_date: 2030-02-30"),
        "gallery.end_of_life_date",
        "2030-02-30 does not exist",
    ),
    (
        "eol-impossible-quoted",
        edit("  end_of_life_date: 2030-01-31", '  end_of_life_date: "2030-02-30"'),
        "gallery.end_of_life_date",
        "does not exist",
    ),
    (
        "eol-not-leap-year",
        edit("  end_of_life_date: 2030-01-31", "  end_of_life_date: 2029-02-29"),
        "gallery.end_of_life_date",
        "does not exist",
    ),
    (
        "eol-month-13",
        edit("  end_of_life_date: 2030-01-31", "  end_of_life_date: 2030-13-01"),
        "gallery.end_of_life_date",
        "does not exist",
    ),
    (
        "eol-year-0",
        edit("  end_of_life_date: 2030-01-31", "  end_of_life_date: 0000-01-01"),
        "gallery.end_of_life_date",
        "does not exist",
    ),
    (
        "eol-short-form",
        edit("  end_of_life_date: 2030-01-31", "  end_of_life_date: 2030-1-31"),
        "gallery.end_of_life_date",
        "YYYY-MM-DD",
    ),
    (
        "eol-other-format",
        edit("  end_of_life_date: 2030-01-31", "  end_of_life_date: 31.01.2030"),
        "gallery.end_of_life_date",
        "YYYY-MM-DD",
    ),
    (
        "eol-integer",
        edit("  end_of_life_date: 2030-01-31", "  end_of_life_date: 20300131"),
        "gallery.end_of_life_date",
        "got integer 20300131",
    ),
    (
        "eol-boolean",
        edit("  end_of_life_date: 2030-01-31", "  end_of_life_date: yes"),
        "gallery.end_of_life_date",
        "got boolean",
    ),
    (
        "eol-list",
        edit("  end_of_life_date: 2030-01-31", "  end_of_life_date: [2030-01-31]"),
        "gallery.end_of_life_date",
        "got list",
    ),
    (
        "eol-past",
        edit("  end_of_life_date: 2030-01-31", "  end_of_life_date: 2026-11-27"),
        "gallery.end_of_life_date",
        "must be in the future",
    ),
]

LINE_PREFIX = re.compile(rf"^{re.escape(FILE)}: line \d+: ")


def refusals(text: str) -> list[str]:
    """What the validate phase says about a file: the loader's one error, or the validator's list."""
    try:
        data = parse_image_spec_text(text, FILE)
    except SpecFileError as exc:
        message = str(exc)
        assert LINE_PREFIX.match(message), message
        return [LINE_PREFIX.sub("", message)]
    return validate_image_spec(data, TODAY)


def test_the_good_file_is_valid() -> None:
    assert refusals(GOOD) == []


def test_the_table_is_large_and_distinct() -> None:
    assert len(CASES) >= 40
    assert len({case[0] for case in CASES}) == len(CASES)
    assert len({case[1] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(("text", "field", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_file_is_refused_naming_the_field(text: str, field: str, reason: str) -> None:
    errors = refusals(text)
    assert errors, "accepted"
    named = [error.split(": ", 1)[0] for error in errors]
    assert named[0] == field or (field.endswith("[0]" * 20) and named[0].startswith(field)), errors
    assert reason in errors[0], errors
    assert all("\n" not in error for error in errors), "an error spans several lines"


def test_an_alias_bomb_is_refused_quickly() -> None:
    started = time.monotonic()
    with pytest.raises(SpecFileError, match="alias bomb"):
        parse_image_spec_text(bomb(12), FILE)
    assert time.monotonic() - started < 1


def test_aliases_that_nest_too_deep_are_refused() -> None:
    levels = ["a0: &a0 [x]"] + [f"a{n}: &a{n} [[[[[[[[[[*a{n - 1}]]]]]]]]]]" for n in range(1, 10)]
    with pytest.raises(SpecFileError, match=f"more than {MAX_DEPTH} levels deep"):
        parse_image_spec_text("\n".join(levels) + "\n", FILE)


def test_a_second_document_is_refused() -> None:
    with pytest.raises(SpecFileError, match=r"line 2: a second YAML document"):
        parse_image_spec_text("name: a\n---\nname: b\n", FILE)


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(SpecFileError, match=r"^images/bad.yml: line \d+: not valid YAML: "):
        parse_image_spec_text(GOOD + "tags: [\n", FILE)


def test_a_control_character_in_the_text_names_the_line() -> None:
    with pytest.raises(SpecFileError, match=r"line 3: character U\+0007 is not allowed"):
        parse_image_spec_text("name: a\ndescription: b\nx: \x07\n", FILE)


def test_without_libyaml_the_answers_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """PyYAML without libyaml: the loader falls back to the pure Python parser."""
    monkeypatch.setitem(sys.modules, "yaml._yaml", None)
    path = REPO_ROOT / "plugins" / "plugin_utils" / "_image_spec" / "loader.py"
    spec = importlib.util.spec_from_file_location("loader_without_libyaml", path)
    assert spec is not None and spec.loader is not None
    pure = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pure)
    assert len(pure._PARSER) == 3, "the pure Python parser"
    assert pure.parse_image_spec_text(GOOD, FILE) == parse_image_spec_text(GOOD, FILE)
    for _, text, _, _ in CASES:
        try:
            expected = str(parse_image_spec_text(text, FILE))
        except SpecFileError as exc:
            expected = re.sub(r"line \d+: ", "", str(exc))  # the parsers may place an error apart
        try:
            got = str(pure.parse_image_spec_text(text, FILE))
        except pure.SpecFileError as exc:
            got = re.sub(r"line \d+: ", "", str(exc))
        if "not valid YAML" not in expected:  # the parsers word syntax errors differently
            assert got == expected


# -- what stays allowed ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        edit("description: test image", "description: |\n  A multi-line\n  description.\n"),
        edit("name: win11-24h2-avd", "name: |-\n  win11-24h2-avd"),  # |- strips the newline
        edit("name: win11-24h2-avd", "name: 'win11-24h2-avd'"),
        # An override through the merge key is not a duplicate key.
        GOOD.replace("tags:\n  workload: avd\n", "tags:\n  <<: {workload: avd, cost: '1'}\n  cost: '2'\n"),
        edit("  end_of_life_date: 2030-01-31", "  end_of_life_date: '2030-01-31'"),
        edit("  end_of_life_date: 2030-01-31", "  end_of_life_date: 2030-01-31 10:00:00"),
        "\ufeff" + GOOD,  # a UTF-8 byte order mark
        GOOD.replace("\n", "\r\n"),  # Windows line ends
    ],
    ids=[
        "description-block",
        "strip-block",
        "quoted",
        "merge-override",
        "quoted-date",
        "datetime",
        "bom",
        "crlf",
    ],
)
def test_good_variants_still_load(text: str) -> None:
    assert refusals(text) == []


def test_dates_load_as_dates_and_normalise_to_iso() -> None:
    data = parse_image_spec_text(GOOD, FILE)
    assert normalize_image_spec(data, TODAY)["gallery"]["end_of_life_date"] == "2030-01-31"
    assert data == yaml.safe_load(GOOD), "a good file loads as the safe loader loads it"


# -- the file: size, encoding, the filter ----------------------------------------------------------


def test_a_file_over_the_bound_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.yml"
    path.write_text(GOOD + "# " + "x" * MAX_BYTES + "\n")
    with pytest.raises(SpecFileError, match=r"big.yml: larger than 1048576 bytes \(1 MiB\)"):
        read_image_spec_file(path)


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yml"
    path.write_bytes(GOOD.replace("test image", "caf\xe9").encode("latin-1"))
    with pytest.raises(SpecFileError, match=r"latin1.yml: line 3: not UTF-8 text"):
        read_image_spec_file(path)


def test_a_missing_file_or_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(SpecFileError, match=r"nope.yml: cannot be read: No such file"):
        read_image_spec_file(tmp_path / "nope.yml")
    with pytest.raises(SpecFileError, match=r"is not a regular file"):
        read_image_spec_file(tmp_path)
    with pytest.raises(SpecFileError, match=r"/dev/zero: is not a regular file"):
        read_image_spec_file("/dev/zero")


def test_the_filter_returns_the_data_or_fails(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.yml", tmp_path / "bad.yml"
    good.write_text(GOOD)
    bad.write_text(GOOD + "name: other\n")
    assert filt.load_image_spec(str(good)) == yaml.safe_load(GOOD)
    assert filt.load_image_spec(str(good), report=True) == {"data": yaml.safe_load(GOOD), "errors": []}
    with pytest.raises(AnsibleFilterError, match=r"bad.yml: line \d+: name: duplicate key"):
        filt.load_image_spec(str(bad))
    reported = filt.load_image_spec(str(bad), name="images/bad.yml", report=True)
    assert reported["data"] is None
    assert [e.split(": line ")[0] for e in reported["errors"]] == ["images/bad.yml"]
    with pytest.raises(AnsibleFilterError, match="expects the image spec file's path"):
        filt.load_image_spec(None)


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "images").glob("*.yml")), ids=lambda p: p.name)
def test_shipped_images_load_strictly(path: Path) -> None:
    data = read_image_spec_file(path)
    assert data == yaml.safe_load(path.read_text())
    assert validate_image_spec(data, TODAY, base_dir=path.parent) == []
