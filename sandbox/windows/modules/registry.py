"""ansible.windows.win_regedit and ansible.windows.win_reg_stat over the simulated registry."""

from __future__ import annotations

import re
from typing import Any

from sandbox.windows.argspec import build_spec, parse_str
from sandbox.windows.modules import Ctx, ModuleFail, register
from sandbox.windows.modules import _winpath as wp
from sandbox.windows.modules._registry import RegKey

_PS_PATH = re.compile(r"^HK(CC|CR|CU|LM|U):\\", re.IGNORECASE)

# win_regedit `type` -> RegistryValueKind as stored
_KIND = {
    "none": "REG_NONE",
    "binary": "REG_BINARY",
    "dword": "REG_DWORD",
    "expandstring": "REG_EXPAND_SZ",
    "multistring": "REG_MULTI_SZ",
    "string": "REG_SZ",
    "qword": "REG_QWORD",
}
# RegistryValueKind.ToString() as the diff reports it
_KIND_NAME = {
    "REG_NONE": "None",
    "REG_BINARY": "Binary",
    "REG_DWORD": "DWord",
    "REG_EXPAND_SZ": "ExpandString",
    "REG_MULTI_SZ": "MultiString",
    "REG_SZ": "String",
    "REG_QWORD": "QWord",
}

REGEDIT = build_spec("ansible.windows.win_regedit", "basic", supports_check_mode=True)
# The docs list an alias `property` that win_reg_stat.ps1 never reads (Get-AnsibleParam aliases
# "entry", "value"): the real module ignores it, so the simulation does too.
REG_STAT = build_spec(
    "ansible.windows.win_reg_stat",
    "legacy",
    extra_options={"name": {"type": "str", "aliases": ["entry", "value"]}},
)


def _hex_bytes(text: str) -> list[int]:
    """Convert-RegExportHexStringToByteArray: 'hex:be,ef', 'beef', 'be:ef' -> bytes."""
    s = re.sub(r"^hex:", "", text.lower())
    s = re.sub(r"[^a-f0-9\\,x\-:]", "", s).replace(",", ":")
    if not s:
        return []
    if len(s) == 1:
        return [int(s, 16)]
    if len(s) % 2 == 0 and ":" not in s:
        return [int(s[i : i + 2], 16) for i in range(0, len(s), 2)]
    if ":" in s:
        return [int(p, 16) for p in re.split(":+", s) if p]
    return []


def _to_uint(value: Any) -> int:
    """[UInt64]$data for a string (decimal or 0x hex, as PowerShell converts it)."""
    s = parse_str(value).strip()
    try:
        return int(s, 16) if s.lower().startswith("0x") else int(s)
    except ValueError:
        raise ModuleFail(
            f'Cannot convert value "{s}" to type "System.UInt64". '
            'Error: "Input string was not in a correct format."'
        ) from None


def _convert(kind: str, data: Any, name: str | None) -> Any:
    """The module's data conversion per type (None stays None only for the (Default) string)."""
    if kind in ("REG_BINARY", "REG_NONE"):
        if data is None:
            data = ""
        if isinstance(data, str):
            return _hex_bytes(data)
        if isinstance(data, bool):
            data = int(data)
        if isinstance(data, int):
            if data > 255:
                raise ModuleFail(
                    f"cannot convert binary data '{data}' to byte array, please specify this value as a yaml "
                    "byte array or a comma separated hex value string"
                )
            return [data]
        if isinstance(data, list):
            out = []
            for b in data:
                v = _to_uint(b) if isinstance(b, str) else int(b)
                if not 0 <= v <= 255:
                    raise ModuleFail(
                        f'Cannot convert value "{b}" to type "System.Byte". '
                        'Error: "Value was either too large or too small for an unsigned byte."'
                    )
                out.append(v)
            return out
        raise ModuleFail(f"cannot convert binary data '{data}' to byte array")
    if kind in ("REG_DWORD", "REG_QWORD"):
        if data is None:
            data = 0
        if isinstance(data, bool):
            data = int(data)
        if isinstance(data, str):
            data = _to_uint(data)
        elif isinstance(data, float):
            if data % 1 != 0:
                raise ModuleFail(
                    f"data '{data}' cannot be a decimal or float value with a remainder "
                    "when type is dword or qword"
                )
            data = int(data)
        if kind == "REG_DWORD":
            if data > 0xFFFFFFFF:
                raise ModuleFail("data cannot be larger than 0xffffffff when type is dword")
            if data < -(2**31):
                raise ModuleFail(f'Cannot convert value "{data}" to type "System.Int32".')
            return data & 0xFFFFFFFF
        if data > 0xFFFFFFFFFFFFFFFF:
            raise ModuleFail("data cannot be larger than 0xffffffffffffffff when type is qword")
        return data & 0xFFFFFFFFFFFFFFFF
    if kind in ("REG_SZ", "REG_EXPAND_SZ"):
        if data is None:
            return "" if name else None
        return parse_str(data)
    # multistring
    if data is None:
        return []
    if isinstance(data, list):
        return [parse_str(e) for e in data]
    return [parse_str(data)]


def _diff_value(kind: str, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": _KIND_NAME[kind], "value": value}
    if kind in ("REG_BINARY", "REG_NONE"):
        out["value"] = [f"0x{b:02x}" for b in value]
    elif kind == "REG_DWORD":
        out["value"] = f"0x{value:08x}"
    elif kind == "REG_QWORD":
        out["value"] = f"0x{value:016x}"
    return out


def _differs(existing: Any, new: Any) -> bool:
    """Compare-RegistryProperty: arrays element-wise (Compare-Object: case-insensitive strings),
    scalars with -cne (case-sensitive)."""
    if isinstance(existing, list):
        new_list = new if isinstance(new, list) else [new]
        if len(existing) != len(new_list):
            return True
        for a, b in zip(existing, new_list, strict=True):
            if isinstance(a, str) and isinstance(b, str):
                if a.lower() != b.lower():
                    return True
            elif a != b:
                return True
        return False
    if isinstance(existing, str) and not isinstance(new, str):
        return existing != parse_str(new)
    return existing != new


@register(REGEDIT)
def regedit(ctx: Ctx) -> None:
    p = ctx.params
    path, name, data, state = p["path"], p["name"], p["data"], p["state"]
    type_ = p["type"].lower()
    reg = ctx.state.registry
    ctx.result["data_changed"] = False
    ctx.result["data_type_changed"] = False
    ctx.diff["before"] = ""
    ctx.diff["after"] = ""
    if name == "":
        name = None
    if name is None and type_ != "string":
        ctx.warn(
            "the data type when name is not specified can only be 'string', "
            "the type has automatically been converted"
        )
        type_ = "string"
    if not _PS_PATH.match(path):
        raise ModuleFail(
            f"path: {path} is not a valid powershell path, see module documentation for examples."
        )
    kind = _KIND[type_]
    if state == "present":
        data = _convert(kind, data, name)

    mounted = False
    if p["hive"]:
        hive_path = p["hive"]
        norm = ctx.path(hive_path)
        if not ctx.state.fs.exists(norm):
            raise ModuleFail(f"hive at path '{hive_path}' is not valid or accessible, cannot load hive")
        if reg.open("HKLM\\ANSIBLE") is not None:
            ctx.warn("hive already loaded at HKLM:\\ANSIBLE, had to unload hive for win_regedit to continue")
            reg.unmount("ANSIBLE")
        if wp.key(norm) not in reg.hive_files:
            raise ModuleFail(
                f"failed to load registry hive from '{hive_path}' to HKLM:\\ANSIBLE: "
                f"Failed to load registry hive at "
                f"{hive_path} (The system has attempted to load or restore a file into the registry, "
                "but the specified "
                "file is not in a registry file format, Win32ErrorCode 1017)"
            )
        reg.mount("ANSIBLE", wp.key(norm))
        mounted = True
    try:
        if state == "present":
            _present(ctx, path, name, data, kind)
        else:
            _absent(ctx, path, name, p["delete_key"])
    finally:
        if mounted:
            reg.unmount("ANSIBLE")


def _present(ctx: Ctx, path: str, name: str | None, data: Any, kind: str) -> None:
    reg = ctx.state.registry
    key = reg.open(path)
    vname = name or ""
    if key is None:
        if not ctx.check_mode:
            key = reg.create(path)
        ctx.result["changed"] = True
        ctx.diff["before"] = {}
        ctx.diff["after"] = {path: {}}
    else:
        ctx.diff["before"] = {path: {}}
        ctx.diff["after"] = {path: {}}
    if key is None or data is None:
        return
    existing = key.get(vname)
    if existing is not None:
        change = False
        if existing.type != kind:
            change = True
            ctx.result["data_type_changed"] = True
            if _differs(existing.data, data):
                ctx.result["data_changed"] = True
        elif _differs(existing.data, data):
            change = True
            ctx.result["data_changed"] = True
        if change:
            before = _diff_value(existing.type, existing.data)
            if not ctx.check_mode:
                key.set(vname, kind, data)
            ctx.result["changed"] = True
            ctx.diff["before"][path][vname] = before
            ctx.diff["after"][path][vname] = _diff_value(kind, data)
        else:
            same = _diff_value(existing.type, existing.data)
            ctx.diff["before"][path][vname] = same
            ctx.diff["after"][path][vname] = dict(same)
    else:
        if not ctx.check_mode:
            key.set(vname, kind, data)
        ctx.result["changed"] = True
        ctx.diff["after"][path][vname] = _diff_value(kind, data)


def _absent(ctx: Ctx, path: str, name: str | None, delete_key: bool) -> None:
    reg = ctx.state.registry
    key = reg.open(path)
    if key is None:
        return
    if delete_key and not name:
        if not ctx.check_mode:
            reg.delete_key(path)
        ctx.result["changed"] = True
        ctx.diff["before"] = {path: {}}
        ctx.diff["after"] = {}
        return
    existing = key.get(name or "")
    if existing is None:
        return
    if not ctx.check_mode:
        key.delete_value(name or "")
    ctx.result["changed"] = True
    ctx.diff["before"] = {path: {name: _diff_value(existing.type, existing.data)}}
    ctx.diff["after"] = {path: {}}


# ----------------------------------------------------------------------------------------------
# win_reg_stat (Legacy module utils)
# ----------------------------------------------------------------------------------------------
_STAT_NAME = {
    "REG_BINARY": "REG_BINARY",
    "REG_SZ": "REG_SZ",
    "REG_DWORD": "REG_DWORD",
    "REG_QWORD": "REG_QWORD",
    "REG_MULTI_SZ": "REG_MULTI_SZ",
    "REG_EXPAND_SZ": "REG_EXPAND_SZ",
    "REG_NONE": "REG_NONE",
}


def _property(ctx: Ctx, key: RegKey, name: str) -> dict[str, Any] | None:
    v = key.get(name)
    if v is None:
        return None
    value: Any = v.data
    raw: Any = v.data
    kind = "REG_SZ" if name == "" else v.type
    if kind in ("REG_BINARY", "REG_NONE"):
        raw = [f"0x{b:02x}" for b in v.data]
    elif kind == "REG_EXPAND_SZ":
        value = wp.expand_env(v.data, ctx.state.env())
    return {"type": _STAT_NAME[kind], "value": value, "raw_value": raw}


@register(REG_STAT)
def reg_stat(ctx: Ctx) -> None:
    path, name = ctx.params["path"], ctx.params["name"]
    if not _PS_PATH.match(path):
        raise ModuleFail(f"path: {path} is not a valid registry path, see module documentation for examples.")
    key = ctx.state.registry.open(path)
    if key is None:
        ctx.result["exists"] = False
        return
    if name is None:
        props = {v.name: _property(ctx, key, v.name) for v in key.values.values() if v.name != ""}
        default = _property(ctx, key, "")
        if default is not None:
            props[""] = default
        ctx.result["exists"] = True
        ctx.result["properties"] = props
        ctx.result["sub_keys"] = key.subkey_names()
        return
    prop = _property(ctx, key, name)
    if prop is None:
        ctx.result["exists"] = False
    else:
        ctx.result["exists"] = True
        ctx.result.update(prop)
