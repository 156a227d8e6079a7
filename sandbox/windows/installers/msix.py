"""MSIX / APPX packages and bundles: the identity their own manifest declares.

A package is a ZIP with ``AppxManifest.xml`` (``Package/Identity``), a bundle one with
``AppxMetadata/AppxBundleManifest.xml`` (``Bundle/Identity``). Windows refuses a package without a
block map or a signature (``AppxBlockMap.xml``, ``AppxSignature.p7x``); so does ``provision``.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from typing import TYPE_CHECKING

from sandbox.guest_api import NotModelled

if TYPE_CHECKING:
    from sandbox.windows.installers.model import InstallerFile
    from sandbox.windows.state import WindowsState

MANIFESTS = ("AppxManifest.xml", "AppxMetadata/AppxBundleManifest.xml")
UNSIGNED = (
    "Deployment failed with HRESULT: 0x800B0100, The app package must be digitally signed for signature "
    "validation."
)


def identity(data: bytes) -> dict[str, str]:
    """{Name, Version, Publisher, ProcessorArchitecture, Bundle, Signed} from the package's manifest."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise NotModelled(f"not an MSIX package: {exc}") from exc
    names = set(archive.namelist())
    manifest = next((m for m in MANIFESTS if m in names), None)
    if manifest is None:
        raise NotModelled("ZIP file without AppxManifest.xml or AppxBundleManifest.xml: not an MSIX package")
    root = ET.fromstring(archive.read(manifest))  # noqa: S314
    ident = next((el for el in root if el.tag.rsplit("}", 1)[-1] == "Identity"), None)
    if ident is None:
        raise NotModelled(f"{manifest} has no Identity element")
    return {
        "Name": ident.get("Name", ""),
        "Version": ident.get("Version", ""),
        "Publisher": ident.get("Publisher", ""),
        "ProcessorArchitecture": ident.get("ProcessorArchitecture", "neutral"),
        "Bundle": str(manifest != MANIFESTS[0]).lower(),
        "Signed": str({"AppxBlockMap.xml", "AppxSignature.p7x"} <= names).lower(),
    }


def provision(state: WindowsState, file: InstallerFile) -> str | None:
    """Add-AppxProvisionedPackage -Online -PackagePath <file> -SkipLicense: the error Windows
    gives, or None once the identity is provisioned (replacing an older version)."""
    props = file.properties
    if props.get("Signed") != "true":
        return UNSIGNED
    name = props["Name"]
    publisher_id = _publisher_id(props["Publisher"])
    state.appx_provisioned = [p for p in state.appx_provisioned if p["name"].lower() != name.lower()]
    state.appx_provisioned.append(
        {
            "name": name,
            "version": props["Version"],
            "publisher_id": publisher_id,
            "architecture": props["ProcessorArchitecture"],
            "non_removable": False,
        }
    )
    return None


def _publisher_id(publisher: str) -> str:
    """The 13-character publisher id Windows derives from the Publisher (SHA-256, Crockford base32)."""
    import hashlib

    digest = hashlib.sha256(publisher.encode("utf-16-le")).digest()[:8]
    bits = int.from_bytes(digest, "big") << 1
    alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
    return "".join(alphabet[(bits >> (60 - 5 * i)) & 31] for i in range(13))
