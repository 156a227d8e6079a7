"""avd.golden.win_registry_set over the simulated registry (plugins/modules/win_registry_set.ps1).

The same steps as the PowerShell: every item checked and normalised first (a bad one fails the
module naming it, before anything is read); the default user hive loaded at
HKLM\\AVD_DEFAULT_USER only when an item needs it (``reg.exe load``, with reg.exe's errors for a
missing, foreign or busy file); items compared and written in order; the hive unloaded in
``finally``. Messages, return values and diff are the PowerShell's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sandbox.windows.argspec import build_spec, parse_str
from sandbox.windows.modules import Ctx, ModuleFail, register
from sandbox.windows.modules import _winpath as wp

SPEC = build_spec("avd.golden.win_registry_set", "basic", supports_check_mode=True)
MOUNT = "AVD_DEFAULT_USER"

# The option's spelling -> the stored kind (and back: RegistryValueKind.ToString().ToLower()).
KINDS = {
    "string": "REG_SZ",
    "expandstring": "REG_EXPAND_SZ",
    "multistring": "REG_MULTI_SZ",
    "dword": "REG_DWORD",
    "qword": "REG_QWORD",
    "binary": "REG_BINARY",
}
_TYPE_OF_KIND = {v: k for k, v in KINDS.items()} | {"REG_NONE": "none"}
_ROOTED_KEY = re.compile(r"^\\|^[^\\]*:|^(HKEY_\w+|HKLM|HKCU|HKU|HKCR|HKCC)(\\|$)", re.IGNORECASE)

# reg.exe load/unload failures (FormatMessage of the Win32 error, after "ERROR: ").
REG_NOT_FOUND = "ERROR: The system cannot find the file specified."
REG_NOT_A_HIVE = (
    "ERROR: The system has attempted to load or restore a file into the registry, but the specified "
    "file is not in a registry file format."
)
REG_IN_USE = "ERROR: The process cannot access the file because it is being used by another process."


class ItemError(Exception):
    """A problem with one item: "<field>: <reason>" while checking, the reason while applying."""


@dataclass
class Item:
    index: int
    hive: str
    key: str
    name: str
    type: str | None
    state: str
    json_merge: bool
    source: str | None
    data: Any

    @property
    def path(self) -> str:
        prefix = f"HKLM\\{MOUNT}" if self.hive == "default_user" else "HKLM"
        return f"{prefix}\\{self.key}"


# ----------------------------------------------------------------------------------------------
# checking and converting an item (ConvertTo-Unsigned, ConvertTo-ByteList, ConvertTo-ItemData)
# ----------------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    """ "$value" in PowerShell: $null is empty, an integral double has no ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return parse_str(value)


def to_unsigned(data: Any, type_: str) -> int:
    bits = 32 if type_ == "dword" else 64
    if isinstance(data, bool):
        raise ItemError(f"must be an integer for type {type_}, not a boolean")
    text = _text(data).strip()
    if m := re.fullmatch(r"0x([0-9a-f]{1,16})", text, re.IGNORECASE):
        n = int(m.group(1), 16)
    elif re.fullmatch(r"-?[0-9]{1,20}", text):
        n = int(text)
    else:
        raise ItemError(
            f"must be an integer for type {type_} (a number or a 0x hexadecimal string): {_text(data)}"
        )
    span = 2**bits
    if n >= span or n < -span // 2:
        raise ItemError(f"{_text(data)} is out of range for type {type_}")
    return n + span if n < 0 else n


def to_bytes(data: Any) -> list[int]:
    if isinstance(data, str):
        hex_text = re.sub(r"^hex:", "", data.strip(), flags=re.IGNORECASE)
        parts = [p.strip() for p in hex_text.split(",") if p.strip()]
        if any(not re.fullmatch(r"(0x)?[0-9a-f]{1,2}", p, re.IGNORECASE) for p in parts):
            raise ItemError(f"must be comma-separated hexadecimal bytes for type binary: {data}")
        return [int(re.sub(r"^0x", "", p, flags=re.IGNORECASE), 16) for p in parts]
    if not isinstance(data, list) or any(
        isinstance(b, bool) or not isinstance(b, int) or not 0 <= b <= 255 for b in data
    ):
        raise ItemError(
            "must be a list of byte values (0 to 255) or a string of hexadecimal bytes for type binary"
        )
    return list(data)


def to_data(data: Any, type_: str) -> Any:
    is_list, is_dict = isinstance(data, list), isinstance(data, dict)
    if type_ in ("dword", "qword"):
        if is_list or is_dict:
            raise ItemError(f"must be an integer for type {type_} (a number or a 0x hexadecimal string)")
        return to_unsigned(data, type_)
    if type_ == "binary":
        return to_bytes(data)
    if type_ == "multistring":
        elements = data if is_list else [data]
        if is_dict or any(isinstance(e, (list, dict)) for e in elements):
            raise ItemError("must be a list of strings for type multistring")
        return [_text(e) for e in elements]
    if is_list or is_dict:
        raise ItemError(f"must be a string for type {type_}")
    return _text(data)


def resolve(value: dict[str, Any], index: int) -> Item:
    """Resolve-RegItem: the item checked and normalised."""
    raw_key = value["key"] or ""  # "$($Value.key)": an explicit null is empty
    if _ROOTED_KEY.search(raw_key):
        raise ItemError(
            f"key: must be relative to the hive, without a drive, root name or leading backslash: {raw_key}"
        )
    key = "\\".join(p for p in raw_key.split("\\") if p)
    if not key:
        raise ItemError("key: is empty")
    item = Item(
        index=index,
        hive="default_user" if (value["hive"] or "").lower() == "default_user" else "HKLM",
        key=key,
        name=value["name"] or "",
        type=value["type"].lower() if value["type"] else None,
        state=(value["state"] or "").lower(),
        json_merge=value["json_merge"],
        source=value["source"],
        data=None,
    )
    if item.state == "absent":
        return item
    if item.json_merge:
        item.type = item.type or "string"
        if item.type != "string":
            raise ItemError("type: must be string with json_merge")
        if not isinstance(value["data"], dict):
            raise ItemError("data: must be a dictionary with json_merge")
        item.data = value["data"]
        return item
    if item.type is None:
        raise ItemError("type: is required when state is present")
    if value["data"] is None:
        raise ItemError("data: is required when state is present")
    try:
        item.data = to_data(value["data"], item.type)
    except ItemError as err:
        raise ItemError(f"data: {err}") from None
    return item


def resolve_all(values: list[dict[str, Any]]) -> list[Item]:
    items: list[Item] = []
    seen: dict[str, int] = {}
    for i, value in enumerate(values):
        try:
            item = resolve(value, i)
        except ItemError as err:
            raise ModuleFail(f"values[{i}].{err}") from None
        ident = f"{item.hive}\\{item.key}\\{item.name}".lower()
        if ident in seen:
            raise ModuleFail(
                f"values[{i}].name: {item.hive}\\{item.key} value '{item.name}' is also in "
                f"values[{seen[ident]}]; give each value once"
            )
        seen[ident] = i
        items.append(item)
    return items


# ----------------------------------------------------------------------------------------------
# JSON text as Windows PowerShell 5.1's ConvertTo-Json -Compress writes it
# ----------------------------------------------------------------------------------------------
def _json_ready(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    return value


def compact_json(value: Any) -> str:
    """Compact, keys in order, non-ASCII kept, < > & ' escaped as \\u003c and so on (5.1's serializer)."""
    text = json.dumps(_json_ready(value), separators=(",", ":"), ensure_ascii=False)
    for char in "<>&'":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def _ci_find(mapping: dict[str, Any], key: str) -> str | None:
    """The spelling under which a case-insensitive PowerShell dictionary holds ``key``."""
    return next((k for k in mapping if k.lower() == key.lower()), None)


def merge_json(old: dict[str, Any] | None, item: Item, label: str) -> str:
    """Merge-JsonValue: the text with the item's keys merged in; the old text when all are as asked."""
    merged: dict[str, Any] = {}
    if old is not None:
        text = old["data"] if old["type"] == "string" else ""
        parsed: Any = None
        if text.strip():
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
        if old["type"] != "string" or (text.strip() and not isinstance(parsed, dict)):
            raise ItemError(
                f"{label} is not a JSON object in a string value; json_merge does not overwrite it"
            )
        for k, v in (parsed or {}).items():
            merged[_ci_find(merged, k) or k] = v
    same = old is not None
    for k, v in item.data.items():
        found = _ci_find(merged, k)
        if found is None or compact_json(merged[found]) != compact_json(v):
            same = False
        merged[found or k] = v
    if same:
        return old["data"]  # type: ignore[index]
    return compact_json(merged)


# ----------------------------------------------------------------------------------------------
# reading, comparing and writing
# ----------------------------------------------------------------------------------------------
def read_value(ctx: Ctx, item: Item) -> dict[str, Any] | None:
    """Get-RegValue: {type, data} as stored (unexpanded), None when the key or the value is missing."""
    value = ctx.state.registry.get_value(item.path, item.name)
    if value is None:
        return None
    type_ = _TYPE_OF_KIND.get(value.type, "unknown")
    data = list(value.data) if isinstance(value.data, list) else value.data
    return {"type": type_, "data": data}


def _write(ctx: Ctx, item: Item, new: dict[str, Any] | None) -> None:
    reg = ctx.state.registry
    if new is None:
        key = reg.open(item.path)
        assert key is not None  # it held the value a moment ago
        key.delete_value(item.name)
        return
    # CreateSubKey: an existing key is opened as it is; only missing keys are created.
    reg.create(item.path).set(item.name, KINDS[new["type"]], new["data"])


def _add_diff(diff: dict[str, dict[str, Any]], item: Item, old: Any, new: Any) -> None:
    """Both sides get the key (PowerShell's case-insensitive dictionaries: first spelling kept)."""
    where = f"{item.hive}\\{item.key}"
    for side, value in (("before", old), ("after", new)):
        spelled = _ci_find(diff[side], where)
        if spelled is None:
            spelled = where
            diff[side][where] = {}
        if value is not None:
            names = diff[side][spelled]
            names[_ci_find(names, item.name) or item.name] = value


def update(ctx: Ctx, item: Item, diff: dict[str, dict[str, Any]]) -> None:
    """Update-RegItem: compare one item and write it unless it is already as asked."""
    label = f"{item.hive}\\{item.key}\\{item.name}"
    old = read_value(ctx, item)
    new: dict[str, Any] | None = None
    if item.state == "present" and item.json_merge:
        new = {"type": "string", "data": merge_json(old, item, label)}
    elif item.state == "present":
        new = {"type": item.type, "data": item.data}
    same = (
        old is not None
        and new is not None
        and old["type"] == new["type"]
        and compact_json(old["data"]) == compact_json(new["data"])
    )
    if same or (old is None and new is None):
        ctx.result["unchanged"] += 1
        return
    if not ctx.check_mode:
        _write(ctx, item, new)
    ctx.result["changed"] = True
    ctx.result["changes"].append(
        {
            "hive": item.hive,
            "key": item.key,
            "name": item.name,
            "source": item.source,
            "type": (new or old or {}).get("type"),
            "before": old,
            "after": new,
        }
    )
    _add_diff(diff, item, old, new)


# ----------------------------------------------------------------------------------------------
# the default user hive (reg.exe load / unload)
# ----------------------------------------------------------------------------------------------
def reg_load(ctx: Ctx, mount: str, hive_path: str) -> str | None:
    """``reg.exe load HKLM\\<mount> <file>``: None on success, else reg.exe's error line."""
    reg = ctx.state.registry
    norm = ctx.path(hive_path)
    if not ctx.state.fs.exists(norm):
        return REG_NOT_FOUND
    hive_key = wp.key(norm)
    if hive_key not in reg.hive_files:
        return REG_NOT_A_HIVE
    if reg.mount_point(hive_key) is not None:
        return REG_IN_USE
    reg.mount(mount, hive_key)
    return None


def load_default_user(ctx: Ctx) -> None:
    reg = ctx.state.registry
    if reg.open(f"HKLM\\{MOUNT}") is not None:
        ctx.warn(f"HKLM\\{MOUNT} was still loaded (a previous run did not unload it); unloaded it first")
        reg.unmount(MOUNT)
    hive = ctx.params["default_user_hive"]
    error = reg_load(ctx, MOUNT, hive)
    if error is not None:
        raise ItemError(f"failed to load the default user hive {hive} at HKLM\\{MOUNT}: {error}")
    ctx.result["default_user_hive_loaded"] = True


@register(SPEC)
def registry_set(ctx: Ctx) -> None:
    ctx.result.update(changes=[], unchanged=0, default_user_hive_loaded=False)
    items = resolve_all(ctx.params["values"])
    diff: dict[str, dict[str, Any]] = {"before": {}, "after": {}}
    try:
        if any(item.hive == "default_user" for item in items):
            load_default_user(ctx)
        for item in items:
            try:
                update(ctx, item, diff)
            except ItemError as err:
                raise ItemError(f"values[{item.index}]: {err}") from None
    except ItemError as err:
        raise ModuleFail(str(err)) from None
    finally:
        if ctx.result["default_user_hive_loaded"]:
            ctx.state.registry.unmount(MOUNT)
        ctx.diff.update(diff)
