"""The simulated NTFS volume C: (files and directories, case-insensitive, with timestamps)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from sandbox.windows.modules import _winpath as wp


@dataclass
class Entry:
    path: str  # normalised, first spelling seen
    is_dir: bool
    data: bytes = b""
    ctime: float = 0.0
    mtime: float = 0.0
    atime: float = 0.0
    hidden: bool = False
    readonly: bool = False

    @property
    def attributes(self) -> str:
        """FileAttributes.ToString() as .NET prints it."""
        flags = []
        if self.readonly:
            flags.append("ReadOnly")
        if self.hidden:
            flags.append("Hidden")
        flags.append("Directory" if self.is_dir else "Archive")
        return ", ".join(flags)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "dir": self.is_dir,
            "t": [self.ctime, self.mtime, self.atime],
        }
        if not self.is_dir:
            out["data"] = base64.b64encode(self.data).decode()
        if self.hidden:
            out["hidden"] = True
        if self.readonly:
            out["readonly"] = True
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Entry:
        c, m, a = d["t"]
        return cls(
            d["path"],
            d["dir"],
            base64.b64decode(d.get("data", "")),
            c,
            m,
            a,
            d.get("hidden", False),
            d.get("readonly", False),
        )


class FileSystem:
    """Entries keyed by lower-cased normalised path. Drive roots always exist (C:\\ only)."""

    def __init__(self, clock: Any) -> None:
        self._clock = clock
        self.entries: dict[str, Entry] = {}
        now = clock()
        self.entries["c:\\"] = Entry("C:\\", True, ctime=now, mtime=now, atime=now)

    def get(self, path: str) -> Entry | None:
        return self.entries.get(wp.key(path))

    def exists(self, path: str) -> bool:
        return wp.key(path) in self.entries

    def is_dir(self, path: str) -> bool:
        e = self.get(path)
        return bool(e and e.is_dir)

    def is_file(self, path: str) -> bool:
        e = self.get(path)
        return bool(e and not e.is_dir)

    def mkdir(self, path: str, parents: bool = True) -> bool:
        """New-Item -ItemType Directory (creates parents). Returns whether anything was created.
        Raises FileExistsError when a file is in the way, FileNotFoundError without parents."""
        existing = self.get(path)
        if existing:
            if not existing.is_dir:
                raise FileExistsError(path)
            return False
        par = wp.parent(path)
        if par is not None and not self.is_dir(par):
            if self.is_file(par):
                raise FileExistsError(par)
            if not parents:
                raise FileNotFoundError(par)
            self.mkdir(par, parents=True)
        now = self._clock()
        self.entries[wp.key(path)] = Entry(path, True, ctime=now, mtime=now, atime=now)
        return True

    def write(self, path: str, data: bytes, make_parents: bool = False) -> None:
        """Create or overwrite a file; the parent must exist unless make_parents."""
        par = wp.parent(path)
        if par is not None and not self.is_dir(par):
            if make_parents and not self.is_file(par):
                self.mkdir(par)
            else:
                raise FileNotFoundError(f"Could not find a part of the path '{path}'.")
        existing = self.get(path)
        now = self._clock()
        if existing:
            if existing.is_dir:
                raise IsADirectoryError(path)
            existing.data = data
            existing.mtime = now
            existing.atime = now
        else:
            self.entries[wp.key(path)] = Entry(path, False, data, now, now, now)

    def read(self, path: str) -> bytes:
        e = self.get(path)
        if e is None:
            raise FileNotFoundError(path)
        if e.is_dir:
            raise IsADirectoryError(path)
        return e.data

    def children(self, path: str) -> list[Entry]:
        prefix = wp.key(path).rstrip("\\") + "\\"
        return [
            e
            for k, e in self.entries.items()
            if k.startswith(prefix) and "\\" not in k[len(prefix) :] and k != prefix
        ]

    def descendants(self, path: str) -> list[Entry]:
        prefix = wp.key(path).rstrip("\\") + "\\"
        return [e for k, e in self.entries.items() if k.startswith(prefix) and k != prefix]

    def remove(self, path: str) -> bool:
        """Remove-Item -Recurse -Force; returns whether something was removed."""
        k = wp.key(path)
        if k not in self.entries or k == "c:\\":
            return False
        for e in self.descendants(path):
            del self.entries[wp.key(e.path)]
        del self.entries[k]
        return True

    def dir_size(self, path: str) -> int:
        return sum(len(e.data) for e in self.descendants(path) if not e.is_dir)

    def to_dict(self) -> list[dict[str, Any]]:
        return [e.to_dict() for _, e in sorted(self.entries.items())]

    @classmethod
    def from_dict(cls, data: list[dict[str, Any]], clock: Any) -> FileSystem:
        fs = cls(clock)
        for d in data:
            e = Entry.from_dict(d)
            fs.entries[wp.key(e.path)] = e
        return fs
