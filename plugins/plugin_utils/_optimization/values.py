"""Fields of VDOT/WDOT configuration files: states, registry paths, value types and data.

Each function takes one raw field as a real file has it and returns it in the form the
collection's modules take, or raises ``FieldError`` with the reason (the reader adds the file,
the item and the field). The quirks of real files are accepted here: type names in any case and
spelling (``DWord``, ``dword``, ``REG_DWORD``), numbers as strings (``"0x00000001"``, ``"1"``),
booleans as strings (``"True"``), trailing spaces, binary data as comma-separated hex bytes and
registry paths with or without the PowerShell drive colon.
"""

from __future__ import annotations

import re
from typing import Any

# Registry value types as the modules take them, by every spelling files use (lowercase,
# without "reg_" and "_").
TYPES = {
    "dword": "dword",
    "qword": "qword",
    "string": "string",
    "sz": "string",
    "expandstring": "expandstring",
    "expandsz": "expandstring",
    "multistring": "multistring",
    "multisz": "multistring",
    "binary": "binary",
}
_LIMITS = {"dword": 0xFFFFFFFF, "qword": 0xFFFFFFFFFFFFFFFF}
_HIVES = {
    "hklm": "HKLM",
    "hkey_local_machine": "HKLM",
    "hkcu": "HKCU",
    "hkey_current_user": "HKCU",
}
_PROVIDER = re.compile(r"^(?:microsoft\.powershell\.core\\)?registry::", re.IGNORECASE)
# Where VDOT and WDOT load C:\Users\Default\NTUSER.DAT: HKLM\VDOT_TEMP, HKLM\WDOT_TEMP.
_TEMP_HIVE = re.compile(r"^[VW]DOT_TEMP$", re.IGNORECASE)


class FieldError(ValueError):
    """One field of one item is wrong; the message is the reason."""


def text(value: Any, what: str = "a string") -> str:
    """A non-empty string field, trailing and leading spaces removed."""
    if not isinstance(value, str) or not value.strip():
        raise FieldError(f"must be {what}, got {_show(value)}")
    return value.strip()


def state(value: Any, apply: tuple[str, ...], skip: tuple[str, ...]) -> bool:
    """True when a state field (any case, spaces trimmed) says apply, False when it says skip."""
    word = value.strip().lower() if isinstance(value, str) else None
    for choice in apply + skip:
        if word == choice.lower():
            return choice in apply
    raise FieldError(f"must be one of {', '.join(apply + skip)}, got {_show(value)}")


def flag(value: Any) -> bool:
    """A VDOT boolean: JSON true/false or the strings "True"/"False" (any case)."""
    if isinstance(value, bool):
        return value
    return state(value, ("True",), ("False",))


def value_type(value: Any) -> str:
    """A registry type name in any spelling -> dword|qword|string|expandstring|multistring|binary."""
    if isinstance(value, str):
        word = value.strip().lower().replace("_", "")
        word = word.removeprefix("reg")
        if word in TYPES:
            return TYPES[word]
    raise FieldError(
        "must be a registry type (DWord, QWord, String, ExpandString, MultiString, Binary), "
        f"got {_show(value)}"
    )


def data(value: Any, kind: str) -> Any:
    """Registry data of type ``kind`` from a file's value (see the module docstring)."""
    if kind in _LIMITS:
        return _number(value, kind)
    if kind == "binary":
        return _binary(value)
    if kind == "multistring":
        if isinstance(value, str):
            return [value] if value else []
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        raise FieldError(f"must be a list of strings for a multistring, got {_show(value)}")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise FieldError(f"must be a string for a {kind}, got {_show(value)}")
    return str(value)


def _number(value: Any, kind: str) -> int:
    limit = _LIMITS[kind]
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip():
        word = value.strip().lower()
        try:
            number = int(word, 16) if word.startswith("0x") else int(word, 10)
        except ValueError:
            number = None
    # A negative number is stored as its two's complement, as reg.exe does ("-1" is 0xffffffff).
    if number is not None and -(limit + 1) // 2 <= number < 0:
        number += limit + 1
    if number is None or not 0 <= number <= limit:
        raise FieldError(
            f"must be a {kind} number from 0 to {limit:#x} (decimal or 0x hex), got {_show(value)}"
        )
    return number


def _binary(value: Any) -> list[int]:
    """Bytes as a list of integers, or as a string of comma-separated hex bytes ("0x24,0x00")."""
    if isinstance(value, list) and all(isinstance(b, int) and not isinstance(b, bool) for b in value):
        if all(0 <= b <= 255 for b in value):
            return list(value)
    elif isinstance(value, str):
        parts = [p.strip().lower().removeprefix("0x") for p in value.split(",")] if value.strip() else []
        if all(re.fullmatch(r"[0-9a-f]{1,2}", p) for p in parts):
            return [int(p, 16) for p in parts]
    raise FieldError(
        f"must be bytes for a binary: comma-separated hex bytes like '0x24,0x00' or a list of "
        f"0-255, got {_show(value)}"
    )


def registry_path(value: Any) -> tuple[str, str]:
    """Split ``HKLM:\\SOFTWARE\\X`` (or HKLM\\, HKEY_LOCAL_MACHINE\\, Registry::...) into (HKLM|HKCU, key)."""
    path = text(value, "a registry path like 'HKLM:\\SOFTWARE\\...'")
    path = _PROVIDER.sub("", path)
    head, _, rest = path.replace("/", "\\").partition("\\")
    hive = _HIVES.get(head.rstrip(":").strip().lower())
    key = "\\".join(part.strip() for part in rest.split("\\") if part.strip())
    if hive is None:
        raise FieldError(
            f"must start with HKLM:\\ or HKCU:\\ (or HKEY_LOCAL_MACHINE\\ ...), got {_show(value)}"
        )
    if not key:
        raise FieldError(f"names a hive but no key, got {_show(value)}")
    return hive, key


def default_user_path(value: Any) -> tuple[str, str, bool]:
    """A DefaultUserSettings HivePath -> (hive, key, is_default_user).

    ``HKLM:\\VDOT_TEMP\\<key>`` (and WDOT_TEMP, HKCU:\\<key>) is the default user's ``<key>``; any
    other HKLM path is a machine key.
    """
    hive, key = registry_path(value)
    head, _, rest = key.partition("\\")
    if hive == "HKLM" and _TEMP_HIVE.match(head):
        if not rest:
            raise FieldError(f"names the loaded hive but no key in it, got {_show(value)}")
        return "default_user", rest, True
    if hive == "HKCU":
        return "default_user", key, True
    return hive, key, False


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if len(value) <= 80 else repr(value[:77] + "...")
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return f"a {'mapping' if isinstance(value, dict) else 'list'}"
    return repr(value)
