"""Which api-versions Azure has, per resource type, and Azure's 400 for one it does not have.

A request whose api-version Azure does not know is refused by Azure with 400
``InvalidApiVersionParameter``; a request with a real api-version that the sandbox does not model
is a gap in the sandbox and answers 501 (recorded). Telling the two apart needs the list of the
api-versions Azure has, kept in ``sandbox/arm/api_versions.json`` and generated from:

- the Azure SDK packages in the venv: azure-mgmt-compute ships one package folder per api-version
  and, in it, one operations class per operation group, so a version counts for a type when its
  folder has that type's operations class; azure-mgmt-resource likewise for resource groups and
  subscriptions; the single-version azure-mgmt-network gives its one version;
- ``EXTRA`` below: versions newer than the pinned SDKs or absent from them, each group with its
  source (a folder of Azure/azure-rest-api-specs, or Azure's own list in one of its error
  answers).

    .venv/bin/python -m sandbox.arm.apiversions            # rewrites sandbox/arm/api_versions.json
    .venv/bin/python -m sandbox.arm.apiversions --check    # exit 1 when it is stale
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from functools import cache
from pathlib import Path

from sandbox.arm.errors import ArmError

OUT = Path(__file__).with_name("api_versions.json")

# ARM itself (resource groups, subscriptions, tenants, providers, a group's resources list).
ARM = "arm"
# key -> (SDK package, operations classes whose presence in a version folder makes it count)
COMPUTE: dict[str, tuple[str, ...]] = {
    "microsoft.compute/virtualmachines": ("VirtualMachinesOperations",),
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
    "microsoft.compute/locations/vmsizes",
    "microsoft.compute/locations/publishers",
)
_GALLERY_RP = (
    "microsoft.compute/galleries",
    "microsoft.compute/galleries/images",
    "microsoft.compute/galleries/images/versions",
)

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
]


def _sdk_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _folder_version(name: str) -> str | None:
    m = re.fullmatch(r"v(\d{4})_(\d{2})_(\d{2})(_preview)?", name)
    if not m:
        return None
    return f"{m[1]}-{m[2]}-{m[3]}" + ("-preview" if m[4] else "")


def _classes(folder: Path) -> set[str]:
    text = "".join(p.read_text(encoding="utf-8") for p in sorted((folder / "operations").glob("*.py")))
    return set(re.findall(r"^class (\w+Operations)\b", text, flags=re.MULTILINE))


def generate() -> dict[str, object]:
    found: dict[str, set[str]] = {}

    def add(keys: tuple[str, ...] | list[str], versions: object) -> None:
        for k in keys:
            found.setdefault(k, set()).update(versions)  # type: ignore[arg-type]

    compute = _sdk_dir("azure.mgmt.compute")
    if compute is None:
        raise SystemExit("azure-mgmt-compute is not installed (run in the project venv)")
    for folder in sorted(compute.iterdir()):
        ver = _folder_version(folder.name)
        if ver is None or not (folder / "operations").is_dir():
            continue
        classes = _classes(folder)
        for key, wanted in COMPUTE.items():
            if any(c in classes for c in wanted):
                add([key], [ver])
    for sub in ("resources", "subscriptions"):
        root = _sdk_dir(f"azure.mgmt.resource.{sub}")
        if root is not None:
            add([ARM], [v for f in root.iterdir() if (v := _folder_version(f.name))])
    network = _sdk_dir("azure.mgmt.network")
    if network is not None:
        text = "".join(p.read_text(encoding="utf-8") for p in (network / "operations").glob("*.py"))
        add(NETWORK, set(re.findall(r'"api-version", "(\d{4}-\d{2}-\d{2}(?:-preview)?)"', text)))
    sources = ["installed azure-mgmt-compute, azure-mgmt-resource, azure-mgmt-network (version folders)"]
    for keys, versions, source in EXTRA:
        add(keys, versions)
        sources.append(source)
    return {
        "_generated_by": "python -m sandbox.arm.apiversions",
        "_sources": sources,
        "types": {k: sorted(v, reverse=True) for k, v in sorted(found.items())},
    }


@cache
def _known() -> dict[str, list[str]]:
    return json.loads(OUT.read_text())["types"]


def known(key: str) -> list[str]:
    """Azure's api-versions for a type key (lower-case, e.g. microsoft.compute/virtualmachines)."""
    return _known().get(key.lower(), [])


def invalid(version: str, key: str) -> ArmError:
    supported = ",".join(known(key))
    return ArmError(
        400,
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
    ap.add_argument("--check", action="store_true", help="exit 1 when api_versions.json is stale")
    args = ap.parse_args(argv)
    text = json.dumps(generate(), indent=1, sort_keys=True) + "\n"
    if args.check:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT} is stale: run python -m sandbox.arm.apiversions", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
