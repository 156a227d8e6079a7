"""Generate sandbox/arm/schemas.json: which property names each ARM body may carry.

The Azure SDK's generated models are built from the same REST specs ARM validates against, so
their attribute maps are a faithful list of the members each API version has. The emulator uses
the vendored JSON (no SDK import at run time) to answer 400 for a member the real API does not
have, with its JSON path. Regenerate after an SDK upgrade:

    .venv/bin/python -m sandbox.arm.schemagen            # rewrites sandbox/arm/schemas.json
    .venv/bin/python -m sandbox.arm.schemagen --check    # exit 1 when it is stale
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("schemas.json")

# (schema key, SDK models module, root model). The key is what routes refer to.
ROOTS: list[tuple[str, str, str]] = [
    (
        "resources/2022-09-01/ResourceGroup",
        "azure.mgmt.resource.resources.v2022_09_01.models",
        "ResourceGroup",
    ),
    (
        "resources/2022-09-01/ResourceGroupPatchable",
        "azure.mgmt.resource.resources.v2022_09_01.models",
        "ResourceGroupPatchable",
    ),
    ("network/2024-03-01/VirtualNetwork", "azure.mgmt.network.models", "VirtualNetwork"),
    ("network/2024-03-01/Subnet", "azure.mgmt.network.models", "Subnet"),
    ("network/2024-03-01/NetworkSecurityGroup", "azure.mgmt.network.models", "NetworkSecurityGroup"),
    ("network/2024-03-01/SecurityRule", "azure.mgmt.network.models", "SecurityRule"),
    ("network/2024-03-01/PublicIPAddress", "azure.mgmt.network.models", "PublicIPAddress"),
    ("network/2024-03-01/NetworkInterface", "azure.mgmt.network.models", "NetworkInterface"),
    ("network/2024-03-01/TagsObject", "azure.mgmt.network.models", "TagsObject"),
    ("compute/2024-07-01/VirtualMachine", "azure.mgmt.compute.v2024_07_01.models", "VirtualMachine"),
    (
        "compute/2024-07-01/VirtualMachineUpdate",
        "azure.mgmt.compute.v2024_07_01.models",
        "VirtualMachineUpdate",
    ),
    ("compute/2024-07-01/RunCommandInput", "azure.mgmt.compute.v2024_07_01.models", "RunCommandInput"),
    (
        "compute/2024-07-01/VirtualMachineExtension",
        "azure.mgmt.compute.v2024_07_01.models",
        "VirtualMachineExtension",
    ),
    ("compute/2023-04-02/Disk", "azure.mgmt.compute.v2023_04_02.models", "Disk"),
    ("compute/2019-07-01/Gallery", "azure.mgmt.compute.v2019_07_01.models", "Gallery"),
    ("compute/2022-03-03/Gallery", "azure.mgmt.compute.v2022_03_03.models", "Gallery"),
    ("compute/2022-03-03/GalleryImage", "azure.mgmt.compute.v2022_03_03.models", "GalleryImage"),
    ("compute/2023-07-03/GalleryImage", "azure.mgmt.compute.v2023_07_03.models", "GalleryImage"),
    (
        "compute/2023-07-03/GalleryImageVersion",
        "azure.mgmt.compute.v2023_07_03.models",
        "GalleryImageVersion",
    ),
    (
        "compute/2023-07-03/GalleryImageVersionUpdate",
        "azure.mgmt.compute.v2023_07_03.models",
        "GalleryImageVersionUpdate",
    ),
]

_SCALARS = {
    "str",
    "int",
    "long",
    "float",
    "bool",
    "iso-8601",
    "rfc-1123",
    "duration",
    "date",
    "object",
    "bytearray",
}


def _type_ref(type_str: str, models: Any, defs: dict[str, Any]) -> Any:
    """A compact schema for an SDK type string: "scalar", ["list", t], ["map", t] or a def name."""
    if type_str.startswith("[") and type_str.endswith("]"):
        return ["list", _type_ref(type_str[1:-1], models, defs)]
    if type_str.startswith("{") and type_str.endswith("}"):
        return ["map", _type_ref(type_str[1:-1], models, defs)]
    if type_str in _SCALARS or not hasattr(models, type_str):
        return "scalar"
    _define(getattr(models, type_str), models, defs)
    return type_str


def _define(cls: Any, models: Any, defs: dict[str, Any]) -> None:
    """Add cls (and everything it references) to defs as a nested member tree."""
    name = cls.__name__
    if name in defs:
        return
    defs[name] = {}  # placeholder first: models are recursive (Subnet -> NSG -> Subnet)
    members: dict[str, Any] = {}
    readonly: list[str] = []
    validation = getattr(cls, "_validation", {}) or {}
    for attr, spec in cls._attribute_map.items():
        key = spec["key"].replace("\\.", "\x00")
        parts = [p.replace("\x00", ".") for p in key.split(".")]
        node = members
        for p in parts[:-1]:
            node = node.setdefault(p, {"__object__": {}})["__object__"]
        node[parts[-1]] = _type_ref(spec["type"], models, defs)
        if validation.get(attr, {}).get("readonly"):
            readonly.append(".".join(parts))
    # Polymorphic types: accept the union of their sub-types' members.
    for sub_map in (getattr(cls, "_subtype_map", None) or {}).values():
        for sub_name in sub_map.values():
            if hasattr(models, sub_name):
                _define(getattr(models, sub_name), models, defs)
    defs[name] = {"members": members, "readonly": sorted(readonly)}


def generate() -> dict[str, Any]:
    """Build the whole schemas document."""
    out: dict[str, Any] = {"roots": {}, "defs": {}}
    for key, module_name, root in ROOTS:
        models = importlib.import_module(module_name)
        defs: dict[str, Any] = {}
        _define(getattr(models, root), models, defs)
        ns = key.rsplit("/", 1)[0]
        bucket = out["defs"].setdefault(ns, {})
        bucket.update(defs)
        out["roots"][key] = {"ns": ns, "def": root}
    return out


def main(argv: list[str] | None = None) -> int:
    """Write (or --check) the vendored schemas file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    text = json.dumps(generate(), indent=0, sort_keys=True) + "\n"
    if args.check:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT} is stale; run python -m sandbox.arm.schemagen", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
