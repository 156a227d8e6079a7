"""Which api-versions Azure has, per resource type, and Azure's 400 for one it does not have.

A request whose api-version Azure does not know is refused by Azure with 400
``InvalidApiVersionParameter``; a request with a real api-version that the sandbox does not model
is a gap in the sandbox and answers 501 (recorded). Telling the two apart needs the list of the
api-versions Azure has, kept in ``sandbox/arm/api_versions.json`` and generated from:

- the Azure SDK packages in the venv: azure-mgmt-compute ships one package folder per api-version
  and, in it, one operations class per operation group, so a version counts for a type when its
  folder has that type's operations class; azure-mgmt-resource likewise for resource groups and
  subscriptions; the single-version azure-mgmt-network gives its one version;
- the Azure CLI's venv (``.venv-az``, ``make az-cli``) when present: its newer SDK packages and
  the api-version of every resource its aaz commands address (``["mgmt-plane", path, version]``);
- ``EXTRA`` below: versions newer than the pinned SDKs or absent from them, each group with its
  source (a folder of Azure/azure-rest-api-specs, or Azure's own list in one of its error
  answers).

    .venv/bin/python -m sandbox.arm.apiversions            # rewrites sandbox/arm/api_versions.json
    .venv/bin/python -m sandbox.arm.apiversions --check    # exit 1 when a derivable one is missing

The same sources give the resource types of Microsoft.Compute and Microsoft.Network (their URL
templates), so that a type those namespaces do not have answers ARM's 400 InvalidResourceType
while a real one the sandbox does not model stays 501.

Versions and types are only ever added (Azure does not withdraw api-versions), so regenerating
without ``.venv-az`` keeps what it contributed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from functools import cache
from pathlib import Path

from sandbox.arm.errors import ArmError, BadRequest

OUT = Path(__file__).with_name("api_versions.json")

# ARM itself (resource groups, subscriptions, tenants, providers, a group's resources list).
ARM = "arm"
# type key -> the operations classes whose presence in an SDK version folder makes that version count
COMPUTE: dict[str, tuple[str, ...]] = {
    "microsoft.compute/virtualmachines": ("VirtualMachinesOperations",),
    "microsoft.compute/virtualmachines/extensions": ("VirtualMachineExtensionsOperations",),
    "microsoft.compute/locations/vmsizes": ("VirtualMachineSizesOperations",),
    "microsoft.compute/locations/publishers": ("VirtualMachineImagesOperations",),
    "microsoft.compute/disks": ("DisksOperations",),
    "microsoft.compute/galleries": ("GalleriesOperations",),
    "microsoft.compute/galleries/images": ("GalleryImagesOperations",),
    "microsoft.compute/galleries/images/versions": ("GalleryImageVersionsOperations",),
}
NETWORK = (
    "microsoft.network/virtualnetworks",
    "microsoft.network/virtualnetworks/subnets",
    "microsoft.network/networksecuritygroups",
    "microsoft.network/networksecuritygroups/securityrules",
    "microsoft.network/publicipaddresses",
    "microsoft.network/networkinterfaces",
)
_COMPUTE_RP = (
    "microsoft.compute/virtualmachines",
    "microsoft.compute/virtualmachines/extensions",
    "microsoft.compute/locations/vmsizes",
    "microsoft.compute/locations/publishers",
)
_GALLERY_RP = (
    "microsoft.compute/galleries",
    "microsoft.compute/galleries/images",
    "microsoft.compute/galleries/images/versions",
)

FAMILIES = (NETWORK, _COMPUTE_RP, _GALLERY_RP)

# (keys, versions, source). Only facts with a source; the SDK-derived part needs none.
EXTRA: list[tuple[tuple[str, ...], tuple[str, ...], str]] = [
    (
        (ARM,),
        tuple(
            [
                "2025-04-01",
                "2024-11-01",
                "2024-08-01",
                "2024-06-01-preview",
                "2024-03-01",
                "2023-07-01",
                "2023-07-01-preview",
                "2023-03-01-preview",
                "2022-12-01",
                "2022-11-01-preview",
                "2022-09-01",
                "2022-06-01",
                "2022-05-01",
                "2022-03-01-preview",
                "2022-01-01",
                "2021-04-01",
                "2021-01-01",
                "2020-10-01",
                "2020-09-01",
                "2020-08-01",
                "2020-07-01",
                "2020-06-01",
                "2020-05-01",
                "2020-01-01",
                "2019-11-01",
                "2019-10-01",
                "2019-09-01",
                "2019-08-01",
                "2019-07-01",
                "2019-06-01",
                "2019-05-10",
                "2019-05-01",
                "2019-03-01",
                "2018-11-01",
                "2018-09-01",
                "2018-08-01",
                "2018-07-01",
                "2018-06-01",
                "2018-05-01",
                "2018-02-01",
                "2018-01-01",
                "2017-12-01",
                "2017-08-01",
                "2017-06-01",
                "2017-05-10",
                "2017-05-01",
                "2017-03-01",
                "2016-09-01",
                "2016-07-01",
                "2016-06-01",
                "2016-02-01",
                "2015-11-01",
                "2015-01-01",
                "2014-04-01-preview",
                "2014-04-01",
                "2014-01-01",
                "2013-03-01",
                "2014-02-26",
                "2014-04",
            ]
        ),
        "ARM's own list in its InvalidApiVersionParameter answer (ansible-collections/azure#1739, "
        "2024) + azure-rest-api-specs Microsoft.Resources/stable/2024-11-01, 2025-04-01",
    ),
    (
        NETWORK,
        tuple(
            [
                "2014-12-01-preview",
                "2015-05-01-preview",
                "2015-06-15",
                "2016-03-30",
                "2016-06-01",
                "2016-07-01",
                "2016-08-01",
                "2016-09-01",
                "2016-10-01",
                "2016-11-01",
                "2016-12-01",
                "2017-03-01",
                "2017-04-01",
                "2017-06-01",
                "2017-08-01",
                "2017-09-01",
                "2017-10-01",
                "2017-11-01",
                "2018-01-01",
                "2018-02-01",
                "2018-03-01",
                "2018-04-01",
                "2018-05-01",
                "2018-06-01",
                "2018-07-01",
                "2018-08-01",
                "2018-10-01",
                "2018-11-01",
                "2018-12-01",
                "2019-02-01",
                "2019-04-01",
                "2019-06-01",
                "2019-07-01",
                "2019-08-01",
                "2019-09-01",
                "2019-11-01",
                "2019-12-01",
                "2020-01-01",
                "2020-03-01",
                "2020-04-01",
                "2020-05-01",
                "2020-06-01",
                "2020-07-01",
                "2020-08-01",
                "2020-11-01",
                "2021-01-01",
                "2021-02-01",
                "2021-03-01",
            ]
        ),
        "Azure's own list in a NoRegisteredProviderFound answer for networkSecurityGroups "
        "(AutomatedLab/AutomatedLab#1361)",
    ),
    (
        NETWORK,
        (
            "2021-05-01",
            "2021-08-01",
            "2022-01-01",
            "2022-05-01",
            "2022-07-01",
            "2022-09-01",
            "2022-11-01",
            "2023-02-01",
            "2023-04-01",
            "2023-05-01",
            "2023-06-01",
            "2023-09-01",
            "2023-11-01",
            "2024-01-01",
            "2024-03-01",
            "2024-05-01",
            "2024-07-01",
            "2025-01-01",
            "2025-03-01",
        ),
        "azure-rest-api-specs specification/network/resource-manager/Microsoft.Network/stable/<version>",
    ),
    (
        _COMPUTE_RP,
        ("2024-11-01", "2025-04-01"),
        "azure-rest-api-specs Microsoft.Compute/ComputeRP/stable/<version>",
    ),
    (
        ("microsoft.compute/virtualmachines",),
        ("2015-05-01-preview",),
        "Azure's own list in a NoRegisteredProviderFound answer for virtualMachines "
        "(Azure/azure-powershell#3543)",
    ),
    (
        ("microsoft.compute/disks",),
        ("2024-07-01",),
        "unsourced: azure.azcollection 3.21 sends it for disks (the sandbox models it), so taken as real",
    ),
    (_GALLERY_RP, ("2024-03-03",), "azure-rest-api-specs Microsoft.Compute/GalleryRP/stable/2024-03-03"),
    (
        ("microsoft.storage/storageaccounts",),
        tuple(
            [
                "2015-06-15",
                "2016-01-01",
                "2016-05-01",
                "2016-12-01",
                "2017-06-01",
                "2017-10-01",
                "2018-02-01",
                "2018-07-01",
                "2018-11-01",
                "2019-04-01",
                "2019-06-01",
                "2021-01-01",
                "2021-02-01",
                "2021-04-01",
                "2021-06-01",
                "2021-08-01",
                "2021-09-01",
                "2022-05-01",
                "2022-09-01",
                "2023-01-01",
                "2023-04-01",
                "2023-05-01",
                "2024-01-01",
                "2025-01-01",
                "2025-06-01",
                "2025-08-01",
            ]
        ),
        "azure-rest-api-specs specification/storage/resource-manager/Microsoft.Storage/stable/<version> "
        "(azure-mgmt-storage 25.0.0, which azure.azcollection 3.21 uses, sends 2025-08-01)",
    ),
]


def _site_dirs() -> list[Path]:
    """The running venv's site-packages, then the Azure CLI's own venv (.venv-az) when present."""
    import sysconfig

    repo = Path(__file__).resolve().parents[2]
    dirs = [Path(sysconfig.get_paths()["purelib"])]
    dirs += sorted(repo.glob(".venv-az/lib/python3*/site-packages"))
    return [d for d in dirs if d.is_dir()]


def _folder_version(name: str) -> str | None:
    m = re.fullmatch(r"v(\d{4})_(\d{2})_(\d{2})(_preview)?", name)
    if not m:
        return None
    return f"{m[1]}-{m[2]}-{m[3]}" + ("-preview" if m[4] else "")


def _classes(folder: Path) -> set[str]:
    text = "".join(p.read_text(encoding="utf-8") for p in sorted((folder / "operations").glob("*.py")))
    return set(re.findall(r"^class (\w+Operations)\b", text, flags=re.MULTILINE))


_TRACKED = (ARM, *COMPUTE, *NETWORK)
_AAZ_RESOURCE = re.compile(r'\["mgmt-plane", "([^"]+)", "([^"]+)"\]')


def _key_for_path(path: str) -> str | None:
    """The type key of an ARM path template (aaz style, ``{}`` for names), when tracked."""
    low = path.lower().rstrip("/")
    if "/providers/" not in low:
        return ARM if low.startswith(("/subscriptions", "/tenants")) else None
    ns_and_rest = low.split("/providers/", 1)[1].split("/")
    key = "/".join([ns_and_rest[0], *(p for p in ns_and_rest[1:] if p != "{}")])
    if key.startswith(
        ("microsoft.compute/locations/communitygalleries", "microsoft.compute/locations/sharedg")
    ):
        return "microsoft.compute/galleries"  # GalleryRP versions, shared by the gallery family
    for tracked in _TRACKED:
        if key == tracked or (tracked.endswith("/publishers") and key.startswith(tracked + "/")):
            return tracked
    return None


TYPE_NAMESPACES = ("microsoft.compute", "microsoft.network")
_SDK_URL = re.compile(
    r'"(/subscriptions/\{subscriptionId\}/resourceGroups/\{resourceGroupName\}/providers/[^"]+)"'
)


def _types_of_path(path: str) -> tuple[str, set[str]] | None:
    """(namespace, resource types) a resource-group-scoped path template addresses, as the
    router reads it: type/{name} pairs, plus a trailing collection (a child type or an action)."""
    low = path.lower()
    if "/resourcegroups/" not in low or "/providers/" not in low:
        return None
    segs = low.split("/providers/", 1)[1].split("/")
    ns, rest = segs[0], segs[1:]
    if ns not in TYPE_NAMESPACES:
        return None
    types: set[str] = set()
    parts: list[str] = []
    i = 0
    while i < len(rest):
        seg = rest[i]
        if seg.startswith("{"):
            i += 1
            continue
        parts.append(seg)
        types.add("/".join(parts))
        i += 1
    return ns, types


def derive_types(sites: list[Path]) -> dict[str, set[str]]:
    """Resource types per namespace (Microsoft.Compute, Microsoft.Network): from the URL templates
    of the SDK operations and the Azure CLI's aaz commands."""
    found: dict[str, set[str]] = {}
    for site in sites:
        files = [
            *(site / "azure" / "mgmt" / "compute").glob("**/operations/*.py"),
            *(site / "azure" / "mgmt" / "network").glob("**/operations/*.py"),
        ]
        templates: list[str] = []
        for f in files:
            templates += _SDK_URL.findall(f.read_text(encoding="utf-8"))
        modules = site / "azure" / "cli" / "command_modules"
        for f in sorted(modules.glob("*/aaz/**/*.py")) if modules.is_dir() else []:
            templates += [p for p, _v in _AAZ_RESOURCE.findall(f.read_text(encoding="utf-8"))]
        for t in templates:
            got = _types_of_path(t)
            if got:
                found.setdefault(got[0], set()).update(got[1])
    return found


def derive(sites: list[Path]) -> dict[str, set[str]]:
    """api-versions per type key from the SDK packages and the Azure CLI's aaz commands."""
    found: dict[str, set[str]] = {}

    def add(keys: tuple[str, ...] | list[str], versions: object) -> None:
        for k in keys:
            found.setdefault(k, set()).update(versions)  # type: ignore[arg-type]

    for site in sites:
        compute = site / "azure" / "mgmt" / "compute"
        for folder in sorted(compute.iterdir()) if compute.is_dir() else []:
            ver = _folder_version(folder.name)
            if ver is None or not (folder / "operations").is_dir():
                continue
            classes = _classes(folder)
            for key, wanted in COMPUTE.items():
                if any(c in classes for c in wanted):
                    add([key], [ver])
        for sub in ("resources", "subscriptions"):
            root = site / "azure" / "mgmt" / "resource" / sub
            if root.is_dir():
                add([ARM], [v for f in root.iterdir() if (v := _folder_version(f.name))])
        network = site / "azure" / "mgmt" / "network" / "operations"
        if network.is_dir():
            text = "".join(p.read_text(encoding="utf-8") for p in network.glob("*.py"))
            add(NETWORK, set(re.findall(r'"api-version", "(\d{4}-\d{2}-\d{2}(?:-preview)?)"', text)))
        modules = site / "azure" / "cli" / "command_modules"
        for f in sorted(modules.glob("*/aaz/**/*.py")) if modules.is_dir() else []:
            for path, ver in _AAZ_RESOURCE.findall(f.read_text(encoding="utf-8")):
                key = _key_for_path(path)
                if key and ver != "{}":
                    add([key], [ver])
    for keys, versions, _source in EXTRA:
        add(keys, versions)
    # A resource provider registers an api-version for all its types at once (one REST spec
    # folder per version): share the versions within each family.
    for family in FAMILIES:
        union = set().union(*(found.get(k, set()) for k in family))
        add(family, union)
    return found


def generate(
    previous: dict[str, list[str]] | None = None, previous_types: dict[str, list[str]] | None = None
) -> dict[str, object]:
    """The document: what the installed packages give, plus EXTRA, plus what the file already had
    (Azure does not withdraw api-versions, and a regeneration without .venv-az must not drop the
    versions it gave)."""
    found = derive(_site_dirs())
    for k, v in (previous or {}).items():
        found.setdefault(k, set()).update(v)
    types = derive_types(_site_dirs())
    for k, v in (previous_types or {}).items():
        types.setdefault(k, set()).update(v)
    sources = [
        "installed azure-mgmt-compute / azure-mgmt-resource / azure-mgmt-network version folders",
        "the azure-cli aaz commands' resource api-versions (.venv-az)",
        *(source for _keys, _versions, source in EXTRA),
    ]
    return {
        "_generated_by": "python -m sandbox.arm.apiversions",
        "_sources": sources,
        "types": {k: sorted(v, reverse=True) for k, v in sorted(found.items())},
        "resource_types": {k: sorted(v) for k, v in sorted(types.items())},
    }


@cache
def _doc() -> dict[str, dict[str, list[str]]]:
    return json.loads(OUT.read_text())


def _known() -> dict[str, list[str]]:
    return _doc()["types"]


@cache
def _resource_types() -> dict[str, frozenset[str]]:
    return {k: frozenset(v) for k, v in _doc().get("resource_types", {}).items()}


def refuse_unknown_type(namespace: str, type_path: str, version: str | None) -> None:
    """ARM's 400 InvalidResourceType for a type the namespace does not have (only for the
    namespaces whose types are derived: Microsoft.Compute, Microsoft.Network)."""
    known_types = _resource_types().get(namespace.lower())
    if not known_types or type_path.lower() in known_types:
        return
    raise BadRequest(
        "InvalidResourceType",
        f"The resource type '{type_path}' could not be found in the namespace '{namespace}' for api "
        f"version '{version}'.",
    )


def known(key: str) -> list[str]:
    """Azure's api-versions for a type key (lower-case, e.g. microsoft.compute/virtualmachines)."""
    return _known().get(key.lower(), [])


def invalid(version: str, key: str) -> ArmError:
    supported = ",".join(known(key))
    return BadRequest(
        "InvalidApiVersionParameter",
        f"The api-version '{version}' is invalid. The supported versions are '{supported}'.",
    )


def refuse_unknown(key: str, version: str | None) -> None:
    """Azure's 400 for an api-version it does not have for this type (malformed ones included).
    A missing api-version is the caller's (MissingApiVersionParameter); a real one passes."""
    if version is None:
        return
    versions = known(key)
    if not versions:
        raise RuntimeError(f"no api-versions known for {key}: regenerate api_versions.json")
    if version in versions:
        return
    # ARM matches api-versions case-insensitively (e.g. 2020-10-01-Preview).
    if version.lower() in {v.lower() for v in versions}:
        return
    raise invalid(version, key)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when api_versions.json lacks a version")
    args = ap.parse_args(argv)
    doc = json.loads(OUT.read_text()) if OUT.exists() else {}
    previous, previous_types = doc.get("types", {}), doc.get("resource_types", {})
    if args.check:
        missing = {k: sorted(set(v) - set(previous.get(k, ()))) for k, v in derive(_site_dirs()).items()}
        missing = {k: v for k, v in missing.items() if v}
        missing |= {
            f"types of {k}": v
            for k, t in derive_types(_site_dirs()).items()
            if (v := sorted(t - set(previous_types.get(k, ()))))
        }
        if missing:
            print(f"{OUT} lacks {missing}: run python -m sandbox.arm.apiversions", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(json.dumps(generate(previous, previous_types), indent=1, sort_keys=True) + "\n")
    _doc.cache_clear()
    _resource_types.cache_clear()
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
