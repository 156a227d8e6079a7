"""The full example (images/win11-24h2-avd-m365.yml) made buildable in a sandbox, as a user makes it
buildable in Azure: build each file the example names (real MSIs, PEs, an MSIX, language CABs; see
installers.py and language_files.py), upload it to the blob the example names, and write a copy of
the example whose placeholder SHA-256s and ProductCodes are those of the files uploaded. Nothing
else of the example changes, so a build of the copy is a build of the example.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sandbox import pki
from tests.support import installers as ti
from tests.support import language_files as lf
from tests.support.blobs import seed_containers
from tests.support.paths import REPO
from tests.support.sandbox_process import Sandbox

EXAMPLE = REPO / "images" / "win11-24h2-avd-m365.yml"
MS = "Microsoft Corporation"
TEAMS_PUBLISHER = "CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US"
LANGUAGES = ("de-DE", "fr-FR")


@dataclass
class Example:
    """The example pinned to the files built for it (``data``; written to ``spec`` by ``prepare``)."""

    spec: Path
    data: dict[str, Any]
    root: Path
    # (container, blob name) -> the file for that blob (below root).
    blobs: dict[tuple[str, str], Path] = field(default_factory=dict)

    @property
    def bytes(self) -> int:
        """The size of every file, each counted once: what a build downloads."""
        return sum(path.stat().st_size for path in self.blobs.values())


def _builders(cert: pki.CertPair) -> dict[str, Callable[[Path, str], ti.Installer]]:
    """What to build for each blob name the example's installers use, given its pinned version."""

    def exe(product: str, original: str | None = None) -> Callable[[Path, str], ti.Installer]:
        return lambda out, version: ti.build_exe(out, version, product, MS, original)

    def msi(name: str, manufacturer: str = MS) -> Callable[[Path, str], ti.Installer]:
        return lambda out, version: ti.build_msi(out, name, version, manufacturer)

    def seven_zip(out: Path, _version: str) -> ti.Installer:
        return ti.build_msi(out, "7-Zip 24.09 (x64 edition)", "24.09.00.0", "Igor Pavlov")  # release 24.09

    def contoso(out: Path, version: str) -> ti.Installer:
        return ti.sign(ti.build_msi(out, "Contoso Line of Business", version, "Contoso Ltd"), cert)

    return {
        "apps/7z2409-x64.msi": seven_zip,
        "apps/contoso-lob-4.2.1.msi": contoso,
        "avd/VC_redist.x64.exe": exe("Visual C++", "VC_redist.x64.exe"),
        "avd/FSLogixAppsSetup.exe": exe("Microsoft FSLogix Apps"),
        "avd/MsRdcWebRTCSvc_HostSetup_x64.msi": msi("Remote Desktop WebRTC Redirector Service"),
        "avd/teamsbootstrapper.exe": exe("Teams", "teamsbootstrapper.exe"),
        "avd/MSTeams-x64.msix": lambda out, v: ti.build_msix(out, cert, "MSTeams", v, TEAMS_PUBLISHER),
        "avd/MsMmrHostInstaller_x64.msi": msi("Remote Desktop Multimedia Redirection"),
        "avd/OneDriveSetup.exe": exe("Microsoft OneDrive"),
        "avd/odt/setup.exe": exe("Office Deployment Tool"),
    }  # fmt: skip


def _pins(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every pinned installer of the example: a mapping with ``version`` and a blob ``download``,
    and where its ProductCode goes (``product_code`` or ``detection.product_code``)."""
    yield from data.get("applications") or []
    stack = data.get("avd_stack") or {}
    for key, part in stack.items():
        if key == "teams":
            yield from part.values()
        elif key == "m365_apps":
            yield part["odt"]
        else:
            yield part


def build(work: Path, ca: pki.CertPair) -> Example:
    """Build every file the example names under ``work/files`` (the Contoso MSI and the Teams MSIX
    signed by a code-signing certificate of ``ca``, which the guest must trust); return the example
    pinned to them (not uploaded, not written: see ``prepare`` and ``with_urls``)."""
    assert ti.missing_tools() == [], "run make setup"
    pinned = yaml.safe_load(EXAMPLE.read_text())
    builders = _builders(ti.code_signing_cert(ca, work / "pki"))
    example = Example(work / EXAMPLE.name, pinned, root=work / "files")
    for pin in _pins(pinned):
        blob = pin["download"]["blob"]
        out = example.root / blob["container"] / blob["name"]
        out.parent.mkdir(parents=True, exist_ok=True)
        built = builders[blob["name"]](out, pin["version"])
        pin["download"]["sha256"] = built.sha256
        if built.product_code:
            if "detection" in pin:
                pin["detection"]["product_code"] = built.product_code
            else:
                pin["product_code"] = built.product_code
        example.blobs[(blob["container"], blob["name"])] = out

    source = pinned["languages"]["source"]
    base = source["base"]["blob"]
    lof = example.root / "lof"
    for path in _language_files(lof):
        relative = path.relative_to(lof).as_posix()
        assert relative in source["files"], f"the example does not list {relative}"
        source["files"][relative] = lf.sha256(path)
        example.blobs[(base["container"], f"{base['prefix']}/{relative}")] = path
    assert len([n for c, n in example.blobs if c == base["container"]]) == len(source["files"]), source[
        "files"
    ]
    return example


def prepare(sb: Sandbox, work: Path) -> Example:
    """``build`` for ``sb`` (a ``Sandbox(azurite=True)``), upload every file to the blob the example
    names and write the pinned copy to ``Example.spec``."""
    example = build(work, pki.ensure_ca(sb.ca.parent))
    accounts = {(d["blob"]["resource_group"], d["blob"]["storage_account"]) for d in _downloads(example.data)}
    assert len(accounts) == 1, f"the example reads from one storage account, not {sorted(accounts)}"
    resource_group, account = accounts.pop()
    containers: dict[str, dict[str, bytes]] = {}
    for (container, name), path in example.blobs.items():
        containers.setdefault(container, {})[name] = path.read_bytes()
    seed_containers(sb, resource_group, account, containers)
    example.spec.write_text(json.dumps(example.data, indent=2))
    return example


def with_urls(example: Example, url: Callable[[str], str]) -> dict[str, Any]:
    """The pinned example with every blob replaced by ``url(<path below Example.root>)``: the same
    files from an HTTPS folder (tests/support/file_server.py), for a VM without the sources phase."""
    data = copy.deepcopy(example.data)
    for pin in _pins(data):
        blob = pin["download"].pop("blob")
        download = pin["download"]
        download["url"] = url(f"{blob['container']}/{blob['name']}")
    data["languages"]["source"]["base"] = {"url": url("lof")}
    return data


def _downloads(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every blob download of the example: the installers' and the languages' base."""
    for pin in _pins(data):
        yield pin["download"]
    yield data["languages"]["source"]["base"]


def _language_files(lof: Path, build: str = "26100") -> list[Path]:
    """For each language: its language pack, the Basic feature, the Local Experience Pack and its
    license, laid out as on the Languages and Optional Features ISO."""
    out = []
    for tag in LANGUAGES:
        (lof / "x64" / "langpacks").mkdir(parents=True, exist_ok=True)
        (lof / "LanguagesAndOptionalFeatures").mkdir(parents=True, exist_ok=True)
        out.append(lf.language_pack(lof / "x64" / "langpacks", tag, build))
        out.append(lf.feature(lof / "LanguagesAndOptionalFeatures", "Basic", tag, build))
        out.extend(lf.experience_pack(lof / "LocalExperiencePack" / tag.lower(), tag, build))
    return out
