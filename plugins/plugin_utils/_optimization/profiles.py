"""The collection's own optimization profiles, and which one a source image gets.

The profiles are data under ``optimization/profiles/`` at the collection root (its README says
what each holds and why): ``profiles.json`` names each profile and the layers it is made of, in
order; a layer is a folder of WDOT-format configuration files. A later layer's item replaces an
earlier item with the same identity (a service name, a task path, a registry value), so a layer
holds only what differs, and ``OptimizationState: Skip`` there turns a base item off.

A profile is chosen by the source image's Windows build (from the marketplace SKU's release:
win11-24h2 is build 26100) and session type (multi or single), never by ``ReleaseId`` (frozen
at 2009 since Windows 10 20H2).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._optimization.items import CATEGORIES, Entry
from ansible_collections.avd.golden.plugins.plugin_utils._optimization.reader import ConfigError, read_folder

PROFILES_DIR = Path(__file__).resolve().parents[3] / "optimization" / "profiles"
# Windows build of each client release the marketplace publishes (windows-image-facts 1.1).
RELEASE_BUILDS = {
    ("10", "22h2"): 19045,
    ("11", "21h2"): 22000,
    ("11", "22h2"): 22621,
    ("11", "23h2"): 22631,
    ("11", "24h2"): 26100,
    ("11", "25h2"): 26200,
}
_SKU = re.compile(r"^win(?P<os>10|11)-(?P<release>[0-9]{2}h[0-9])-(?P<edition>[a-z0-9-]+?)(?:-g2)?$")


def index() -> dict[str, dict[str, Any]]:
    """The shipped profiles by name: ``{"build": int, "session": str, "layers": [...]}``."""
    return json.loads((PROFILES_DIR / "profiles.json").read_text(encoding="utf-8"))["profiles"]


def source_build(sku: str) -> tuple[str, str, int | None]:
    """(os major, release, build) of a marketplace SKU; build None for a release we do not know."""
    match = _SKU.match(sku)
    if not match:
        return "", "", None
    return match["os"], match["release"], RELEASE_BUILDS.get((match["os"], match["release"]))


def choose(sku: str, session: str | None) -> tuple[str | None, str]:
    """The profile for a source image: (name, "") or (None, why none fits)."""
    os_major, release, build = source_build(sku)
    names = sorted(index())
    for name, profile in index().items():
        if build is not None and profile["build"] == build and profile["session"] == session:
            return name, ""
    what = f"Windows {os_major} {release.upper()}" + (f" (build {build})" if build else "")
    return None, (
        f"no shipped profile for {what} {session}-session (source.sku {sku!r}); the shipped "
        f"profiles are {', '.join(names)}: name one in optimization.profile, give your own "
        "files in optimization.path, or set optimization.enabled false"
    )


def load(name: str) -> dict[str, list[Entry]]:
    """The merged entries per category of a shipped profile; raise ConfigError if its data is bad."""
    errors: list[str] = []
    merged: dict[str, dict[str, Entry]] = {c: {} for c in CATEGORIES}
    for layer in index()[name]["layers"]:
        for category, entries in read_folder(PROFILES_DIR / layer, layer, errors).items():
            for entry in entries:
                entry.source = f"{layer}/{entry.source}"
                entry.where = f"optimization/profiles/{entry.where}"
                merged[category][entry.ident] = entry
    if errors:
        raise ConfigError([f"optimization/profiles/{e}" for e in errors])
    return {c: list(items.values()) for c, items in merged.items() if items}
