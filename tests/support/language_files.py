"""Real language files for the tests: CAB packages made with Debian's gcab, Local Experience Packs
as ZIP app packages, named as on Microsoft's Languages and Optional Features ISO.

A package's ``update.mum`` carries the assemblyIdentity DISM reads (name, version, architecture,
language); the simulated guest installs what that identity says, not what the file is called.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import zipfile
from pathlib import Path

LP_NAME = "Microsoft-Windows-Client-LanguagePack-Package"
MUM = """<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<assembly xmlns="urn:schemas-microsoft-com:asm.v3" manifestVersion="1.0">
  <assemblyIdentity name="{name}" version="10.0.{build}.1" processorArchitecture="amd64"
                    language="{language}" publicKeyToken="31bf3856ad364e35" buildType="release"/>
  <package identifier="{name}" releaseType="{release}"/>
</assembly>
"""
APPX_MANIFEST = """<?xml version="1.0" encoding="utf-8"?>
<Package xmlns="http://schemas.microsoft.com/appx/manifest/foundation/windows10">
  <Identity Name="Microsoft.LanguageExperiencePack{tag}"
            Publisher="CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US"
            Version="{build}.1.2.0" ProcessorArchitecture="neutral"/>
</Package>
"""
LICENSE = '<?xml version="1.0" encoding="utf-8"?><License Version="1"><Binding/></License>\n'


def gcab() -> str:
    found = shutil.which("gcab")
    if found is None:
        raise RuntimeError("gcab is missing: `make setup` installs it (Debian package gcab)")
    return found


def _cab(folder: Path, cab_name: str, mum: str, compress: bool) -> Path:
    work = folder / f".{cab_name}.d"
    work.mkdir(parents=True, exist_ok=True)
    (work / "update.mum").write_text(mum)
    (work / "payload.txt").write_text(f"payload of {cab_name}\n" * 50)
    out = folder / cab_name
    args = [
        gcab(),
        "-c",
        *(["-z"] if compress else []),
        "-n",
        str(out),
        str(work / "update.mum"),
        str(work / "payload.txt"),
    ]
    subprocess.run(args, check=True, capture_output=True)
    shutil.rmtree(work)
    return out


def language_pack(
    folder: Path, tag: str, build: str = "26100", *, holds: str | None = None, compress: bool = True
) -> Path:
    """``Microsoft-Windows-Client-Language-Pack_x64_<tag>.cab``; ``holds``: the language really inside."""
    mum = MUM.format(name=LP_NAME, build=build, language=holds or tag, release="Language Pack")
    return _cab(folder, f"Microsoft-Windows-Client-Language-Pack_x64_{tag.lower()}.cab", mum, compress)


def feature(folder: Path, feature_name: str, tag: str, build: str = "26100") -> Path:
    """``Microsoft-Windows-LanguageFeatures-<Feature>-<tag>-Package~31bf3856ad364e35~amd64~~.cab``."""
    name = f"Microsoft-Windows-LanguageFeatures-{feature_name}-{tag.lower()}-Package"
    mum = MUM.format(name=name, build=build, language="neutral", release="OnDemand Pack")
    return _cab(folder, f"{name}~31bf3856ad364e35~amd64~~.cab", mum, compress=True)


def experience_pack(folder: Path, tag: str, build: str = "26100") -> tuple[Path, Path]:
    """``LanguageExperiencePack.<tag>.Neutral.appx`` and the ``License.xml`` next to it."""
    folder.mkdir(parents=True, exist_ok=True)
    appx = folder / f"LanguageExperiencePack.{tag}.Neutral.appx"
    with zipfile.ZipFile(appx, "w") as archive:
        archive.writestr("AppxManifest.xml", APPX_MANIFEST.format(tag=tag, build=build))
        archive.writestr("Resources/strings.txt", f"strings of {tag}\n")
    license_file = folder / "License.xml"
    license_file.write_text(LICENSE)
    return appx, license_file


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
