"""The simulated registry: keys, typed values, hives and hive files.

Values keep the .NET/Win32 kinds (REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, REG_DWORD, REG_QWORD,
REG_BINARY, REG_NONE). DWORD/QWORD data are stored unsigned; binary data as a list of byte ints.
Names are case-insensitive and keep their first spelling. The (Default) value has the name "".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.guest_api import NotModelled

VALUE_TYPES = ("REG_SZ", "REG_EXPAND_SZ", "REG_MULTI_SZ", "REG_DWORD", "REG_QWORD", "REG_BINARY", "REG_NONE")

# PowerShell drive / Win32 root names -> the stored root they live in.
_ROOTS = {
    "hklm": "HKLM",
    "hkey_local_machine": "HKLM",
    "hku": "HKU",
    "hkey_users": "HKU",
    "hkcu": "HKCU",
    "hkey_current_user": "HKCU",
    "hkcr": "HKCR",
    "hkey_classes_root": "HKCR",
    "hkcc": "HKCC",
    "hkey_current_config": "HKCC",
}


@dataclass
class RegValue:
    name: str
    type: str
    data: Any

    def to_list(self) -> list[Any]:
        return [self.name, self.type, self.data]


@dataclass
class RegKey:
    name: str
    values: dict[str, RegValue] = field(default_factory=dict)
    subkeys: dict[str, RegKey] = field(default_factory=dict)

    # --- navigation ---------------------------------------------------------------------------
    def child(self, name: str) -> RegKey | None:
        return self.subkeys.get(name.lower())

    def walk(self, parts: list[str]) -> RegKey | None:
        node: RegKey | None = self
        for part in parts:
            if node is None:
                return None
            node = node.child(part)
        return node

    def ensure(self, parts: list[str]) -> RegKey:
        node = self
        for part in parts:
            nxt = node.child(part)
            if nxt is None:
                nxt = RegKey(part)
                node.subkeys[part.lower()] = nxt
            node = nxt
        return node

    # --- values -------------------------------------------------------------------------------
    def get(self, name: str) -> RegValue | None:
        return self.values.get(name.lower())

    def set(self, name: str, type_: str, data: Any) -> None:
        if type_ not in VALUE_TYPES:
            raise ValueError(f"unknown registry value type {type_}")
        existing = self.values.get(name.lower())
        self.values[name.lower()] = RegValue(existing.name if existing else name, type_, data)

    def delete_value(self, name: str) -> bool:
        return self.values.pop(name.lower(), None) is not None

    def subkey_names(self) -> list[str]:
        return [k.name for k in self.subkeys.values()]

    # --- persistence --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.values:
            out["values"] = [v.to_list() for v in self.values.values()]
        if self.subkeys:
            out["subkeys"] = [k.to_dict() for k in self.subkeys.values()]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegKey:
        key = cls(data["name"])
        for name, type_, value in data.get("values", []):
            key.values[name.lower()] = RegValue(name, type_, value)
        for sub in data.get("subkeys", []):
            child = cls.from_dict(sub)
            key.subkeys[child.name.lower()] = child
        return key

    def flat(self, prefix: str) -> dict[str, dict[str, Any]]:
        """{key path: {value name: [type, data]}} for dumps and test assertions."""
        here = f"{prefix}\\{self.name}" if prefix else self.name
        out = {here: {v.name: [v.type, v.data] for v in self.values.values()}}
        for sub in self.subkeys.values():
            out.update(sub.flat(here))
        return out


def split_path(path: str) -> tuple[str, list[str]]:
    """'HKLM:\\SOFTWARE\\X', 'HKEY_LOCAL_MACHINE\\SOFTWARE\\X' or 'Registry::HKLM\\...' ->
    ('HKLM', ['SOFTWARE', 'X']). Raises ValueError for anything else."""
    raw = path.strip()
    if raw.lower().startswith("registry::"):
        raw = raw[len("registry::") :]
    raw = raw.replace("/", "\\")
    head, _, rest = raw.partition("\\")
    root = _ROOTS.get(head.rstrip(":").lower())
    if root is None:
        raise ValueError(f"not a registry path: {path}")
    parts = [p for p in rest.split("\\") if p]
    return root, parts


class Registry:
    """HKLM, HKU (with the admin's hive as HKCU) and hive files (NTUSER.DAT) by file path."""

    def __init__(self, admin_sid: str) -> None:
        self.admin_sid = admin_sid
        self.hklm = RegKey("HKEY_LOCAL_MACHINE")
        self.hku = RegKey("HKEY_USERS")
        for sid in (".DEFAULT", "S-1-5-18", "S-1-5-19", "S-1-5-20", admin_sid):
            self.hku.ensure([sid, "Software"])
        # Hive files keyed by lower-cased normalised file path (e.g. c:\users\default\ntuser.dat).
        self.hive_files: dict[str, RegKey] = {}
        self._mounted: dict[str, RegKey] = {}

    # --- roots --------------------------------------------------------------------------------
    def _root_and_parts(self, path: str) -> tuple[RegKey, list[str]]:
        root, parts = split_path(path)
        if root == "HKLM":
            if parts and parts[0].lower() in self._mounted:
                return self._mounted[parts[0].lower()], parts[1:]
            return self.hklm, parts
        if root == "HKU":
            return self.hku, parts
        if root == "HKCU":
            return self.hku.ensure([self.admin_sid]), parts
        if root == "HKCR":
            return self.hklm.ensure(["SOFTWARE", "Classes"]), parts
        raise NotModelled(f"registry root {root} (HKEY_CURRENT_CONFIG) is not simulated")

    def open(self, path: str) -> RegKey | None:
        root, parts = self._root_and_parts(path)
        return root.walk(parts)

    def create(self, path: str) -> RegKey:
        root, parts = self._root_and_parts(path)
        return root.ensure(parts)

    def exists(self, path: str) -> bool:
        return self.open(path) is not None

    def delete_key(self, path: str) -> bool:
        """DeleteSubKeyTree; returns whether it existed."""
        root, parts = self._root_and_parts(path)
        if not parts:
            raise ValueError(f"cannot delete a registry root: {path}")
        parent_key = root.walk(parts[:-1])
        if parent_key is None:
            return False
        return parent_key.subkeys.pop(parts[-1].lower(), None) is not None

    def get_value(self, path: str, name: str) -> RegValue | None:
        key = self.open(path)
        return key.get(name) if key else None

    def set_value(self, path: str, name: str, type_: str, data: Any) -> None:
        self.create(path).set(name, type_, data)

    # --- hive files (win_regedit `hive:` loads them at HKLM\ANSIBLE) ----------------------------
    def mount(self, mount_name: str, hive_key: str) -> None:
        self._mounted[mount_name.lower()] = self.hive_files[hive_key]

    def unmount(self, mount_name: str) -> None:
        self._mounted.pop(mount_name.lower(), None)

    def mount_point(self, hive_key: str) -> str | None:
        """The HKLM subkey name a hive file is loaded at, None when it is not loaded."""
        hive = self.hive_files.get(hive_key)
        return next((name for name, key in self._mounted.items() if key is hive), None)

    # --- persistence --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "admin_sid": self.admin_sid,
            "HKLM": self.hklm.to_dict(),
            "HKU": self.hku.to_dict(),
            "hive_files": {path: key.to_dict() for path, key in self.hive_files.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Registry:
        reg = cls(data["admin_sid"])
        reg.hklm = RegKey.from_dict(data["HKLM"])
        reg.hku = RegKey.from_dict(data["HKU"])
        reg.hive_files = {p: RegKey.from_dict(k) for p, k in data.get("hive_files", {}).items()}
        return reg
