"""Real installer files for the tests, built with real tools.

- ``build_msi``: an MSI database written by ``wixl`` (Debian msitools) from a small WiX source: a
  per-machine product with a ProductCode, a version, one file under Program Files and one HKLM
  value, so the product's detection and the sandbox's MSI model meet the real format.
- ``build_exe``: a PE executable assembled and linked with binutils-mingw-w64 (``as``, ``ld``) with
  a version resource compiled by ``windres``: the sandbox's sample EXE installer
  (sandbox/windows/installers/sample.py) is keyed by that resource.
- ``sign``: an Authenticode signature by ``osslsigncode`` with a code-signing certificate the
  sandbox CA issued (``code_signing_cert``).

No MSIX is built: a real one needs a block map and a package signature that only Windows' SDK
tools (MakeAppx, SignTool) write, so the MSIX path is covered by the sandbox's unit tests of the
manifest reader only.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from sandbox import pki

TOOLS = {
    "wixl": "msitools (wixl)",
    "msiinfo": "msitools",
    "osslsigncode": "osslsigncode",
    "x86_64-w64-mingw32-as": "binutils-mingw-w64-x86-64",
    "x86_64-w64-mingw32-ld": "binutils-mingw-w64-x86-64",
    "x86_64-w64-mingw32-windres": "binutils-mingw-w64-x86-64",
}


def missing_tools() -> list[str]:
    """Debian packages whose tools are not installed (`make setup` installs them)."""
    return sorted({pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None})


def _run(*command: str, cwd: Path) -> None:
    out = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({out.returncode}): {out.stdout}{out.stderr}")


@dataclass(frozen=True)
class Installer:
    path: Path
    product_code: str | None = None
    version: str = ""
    name: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def build_msi(
    out: Path, name: str = "Contoso Tool", version: str = "1.2.3", manufacturer: str = "Contoso Ltd"
) -> Installer:
    """A per-machine x64 MSI installing ``C:\\Program Files\\<name>\\readme.txt`` and
    ``HKLM\\SOFTWARE\\<manufacturer>\\<name>\\Version``; a new ProductCode per call."""
    work = out.parent / f".build-{out.stem}"
    work.mkdir(parents=True, exist_ok=True)
    code = "{" + str(uuid.uuid4()).upper() + "}"
    (work / "readme.txt").write_text(f"{name} {version}\n")
    (work / "product.wxs").write_text(
        f"""<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="{code}" Name="{name}" Language="1033" Version="{version}" Manufacturer="{manufacturer}"
           UpgradeCode="{{{uuid.uuid4()}}}">
    <Package InstallerVersion="500" Compressed="yes" InstallScope="perMachine"/>
    <Media Id="1" Cabinet="product.cab" EmbedCab="yes"/>
    <Directory Id="TARGETDIR" Name="SourceDir">
      <Directory Id="ProgramFiles64Folder">
        <Directory Id="INSTALLDIR" Name="{name}">
          <Component Id="Main" Guid="{{{uuid.uuid4()}}}" Win64="yes">
            <File Id="Readme" Name="readme.txt" Source="readme.txt" KeyPath="yes"/>
            <RegistryValue Root="HKLM" Key="SOFTWARE\\{manufacturer}\\{name}" Name="Version" Type="string"
                           Value="{version}"/>
          </Component>
        </Directory>
      </Directory>
    </Directory>
    <Feature Id="Complete" Level="1"><ComponentRef Id="Main"/></Feature>
  </Product>
</Wix>
"""
    )
    _run("wixl", "-a", "x64", "-o", str(out), "product.wxs", cwd=work)
    return Installer(out, code, version, name)


def build_exe(out: Path, version: str = "2.5.0", product: str = "Sample EXE installer") -> Installer:
    """The sandbox's sample EXE installer: a real PE with a version resource (CompanyName
    ``avd.golden sandbox``, ProductName ``product``)."""
    work = out.parent / f".build-{out.stem}"
    work.mkdir(parents=True, exist_ok=True)
    parts = [*version.split("."), "0", "0", "0"][:4]
    (work / "version.rc").write_text(
        f"""1 VERSIONINFO
FILEVERSION {",".join(parts)}
PRODUCTVERSION {",".join(parts)}
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "040904b0"
    BEGIN
      VALUE "CompanyName", "avd.golden sandbox"
      VALUE "ProductName", "{product}"
      VALUE "ProductVersion", "{version}"
      VALUE "FileVersion", "{".".join(parts)}"
      VALUE "OriginalFilename", "{out.name}"
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x409, 1200
  END
END
"""
    )
    (work / "main.s").write_text("  .text\n  .globl start\nstart:\n  xor %eax, %eax\n  ret\n")
    _run("x86_64-w64-mingw32-windres", "--preprocessor=cat", "-i", "version.rc", "-o", "version.o", cwd=work)
    _run("x86_64-w64-mingw32-as", "-o", "main.o", "main.s", cwd=work)
    _run(
        "x86_64-w64-mingw32-ld",
        "-e",
        "start",
        "--subsystem",
        "console",
        "-o",
        str(out),
        "main.o",
        "version.o",
        cwd=work,
    )
    return Installer(out, None, version, product)


def code_signing_cert(ca: pki.CertPair, directory: Path, name: str = "Contoso Code Signing") -> pki.CertPair:
    """A code-signing certificate from the sandbox CA (``CN=<name>, O=Contoso Ltd`` as Windows shows it)."""
    return pki.issue_code_signing_cert(
        ca, directory / f"{name}.pem", directory / f"{name}.key", name, "Contoso Ltd"
    )


def sign(installer: Installer, cert: pki.CertPair) -> Installer:
    """Sign the file in place (SHA-256 Authenticode, no timestamp)."""
    signed = installer.path.with_name(installer.path.name + ".signed")
    _run(
        "osslsigncode", "sign", "-certs", str(cert.cert), "-key", str(cert.key), "-h", "sha256",
        "-in", str(installer.path), "-out", str(signed), cwd=installer.path.parent,
    )  # fmt: skip
    signed.replace(installer.path)
    return installer


def thumbprint(cert: pki.CertPair) -> str:
    """The certificate's SHA-1 thumbprint as Windows shows it (upper-case hex)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    der = x509.load_pem_x509_certificate(cert.cert.read_bytes()).public_bytes(Encoding.DER)
    return hashlib.sha1(der).hexdigest().upper()  # noqa: S324 - Windows' thumbprint
