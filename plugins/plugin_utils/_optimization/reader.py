"""Read a folder of VDOT- or WDOT-format configuration files into entries, collecting every error.

File names are matched in any case (VDOT ships ``Autologgers.Json``); files of other names are
not read. Text may be UTF-8 with or without a BOM, or UTF-16 with a BOM (what Windows
PowerShell's ``Out-File`` writes). A file holding one object instead of a list (what
``ConvertTo-Json`` makes of a one-item array) is read as that one item. Errors read
``"<file>: <reason>"`` or ``"<file>: item <n> (<name>): <field>: <reason>"``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._optimization.items import (
    CATEGORIES,
    Entry,
    ItemError,
    fields,
    label,
    parse,
)


class ConfigError(ValueError):
    """Configuration files are not valid; ``errors`` lists every problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


def category_files(folder: Path) -> dict[str, Path]:
    """The configuration file of each category present in ``folder`` (names in any case)."""
    wanted = {f"{c.lower()}.json": c for c in CATEGORIES}
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        category = wanted.get(path.name.lower())
        if category and path.is_file():
            found[category] = path
    return found


def read_folder(folder: Path, shown: str, errors: list[str]) -> dict[str, list[Entry]]:
    """Entries per category of every configuration file in ``folder``; problems go to ``errors``.

    ``shown`` is how errors name the folder (as the user wrote it, or a profile layer's name).
    """
    if not folder.is_dir():
        errors.append(f"{shown}: is not a directory")
        return {}
    files = category_files(folder)
    if not files:
        names = ", ".join(f"{c}.json" for c in CATEGORIES)
        errors.append(f"{shown}: has none of the configuration files {names}")
    result = {}
    for category, path in files.items():
        result[category] = read_file(path, category, f"{shown.rstrip('/')}/{path.name}", errors)
    return result


def read_file(path: Path, category: str, shown: str, errors: list[str]) -> list[Entry]:
    """The entries of one configuration file; every problem goes to ``errors``."""
    try:
        document = json.loads(decode(path.read_bytes()))
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(f"{shown}: cannot be read as UTF-8 or UTF-16 text ({exc})")
        return []
    except json.JSONDecodeError as exc:
        errors.append(f"{shown}: is not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})")
        return []
    return entries(document, category, shown, path.name, errors)


def decode(raw: bytes) -> str:
    """Text of a file: UTF-16 when it starts with a UTF-16 BOM, else UTF-8 (BOM or not)."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16")
    return raw.decode("utf-8-sig")


def entries(document: Any, category: str, shown: str, source_name: str, errors: list[str]) -> list[Entry]:
    """The entries of a parsed document of ``category``."""
    if category == "LanManWorkstation":
        raws = _lanman_keys(document, shown, errors)
    elif isinstance(document, Mapping):
        raws = [(document, None)]
    elif isinstance(document, list):
        raws = [(raw, None) for raw in document]
    else:
        errors.append(f"{shown}: must be a JSON list of items, got {type(document).__name__}")
        return []
    result = []
    for number, (raw, defaults) in enumerate(raws, 1):
        try:
            entry = parse(category, raw, f"{source_name}#{number}", defaults)
        except ItemError as exc:
            name = label(category, raw) if isinstance(raw, Mapping) else "?"
            errors.append(f"{shown}: item {number} ({name}): {exc.field}: {exc}")
            continue
        entry.where = f"{shown}: item {number} ({entry.label})"
        result.append(entry)
    return result


def _lanman_keys(document: Any, shown: str, errors: list[str]) -> list[tuple[Any, dict[str, Any] | None]]:
    """LanManWorkstation: ``{HivePath, Keys: [...]}`` (WDOT) or a list of such (VDOT); one item per key."""
    groups = [document] if isinstance(document, Mapping) else document
    if not isinstance(groups, list):
        errors.append(f"{shown}: must be a JSON object with HivePath and Keys, got {type(document).__name__}")
        return []
    raws: list[tuple[Any, dict[str, Any] | None]] = []
    for number, group in enumerate(groups, 1):
        f = fields(group) if isinstance(group, Mapping) else {}
        keys = f.get("keys")
        if not isinstance(keys, list):
            errors.append(
                f"{shown}: group {number}: Keys: must be a list of values, got {type(keys).__name__}"
            )
            continue
        raws.extend((key, {"HivePath": f.get("hivepath")}) for key in keys)
    return raws
