"""The version resource (VS_VERSIONINFO) of a PE file: the strings Explorer shows under Details.

Read from the file's bytes as Windows does: the DOS header's e_lfanew, the PE headers, the resource
data directory (index 2), the RT_VERSION (16) entry, then the StringFileInfo tables. A file that is
not a PE, or has no version resource, gives ``{}``; the caller decides what that means.
"""

from __future__ import annotations

import struct

RT_VERSION = 16


def _rva_to_offset(sections: list[tuple[int, int, int, int]], rva: int) -> int | None:
    for va, vsize, raw_ptr, raw_size in sections:
        if va <= rva < va + max(vsize, raw_size):
            return raw_ptr + (rva - va)
    return None


def _sections(data: bytes) -> tuple[list[tuple[int, int, int, int]], int | None]:
    """(section table, RVA of the resource directory) or ([], None) when not a PE."""
    if len(data) < 64 or data[:2] != b"MZ":
        return [], None
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    if data[pe : pe + 4] != b"PE\0\0":
        return [], None
    count, opt_size = struct.unpack_from("<2xH12xH", data, pe + 4)
    opt = pe + 24
    magic = struct.unpack_from("<H", data, opt)[0]
    dirs = opt + (96 if magic == 0x10B else 112)
    res_rva, res_size = struct.unpack_from("<II", data, dirs + 2 * 8)
    table = opt + opt_size
    sections = [struct.unpack_from("<8xIIII", data, table + 40 * i) for i in range(count)]
    # (VirtualSize, VirtualAddress, SizeOfRawData, PointerToRawData) -> (va, vsize, ptr, size)
    return [(va, vs, ptr, size) for vs, va, size, ptr in sections], (res_rva if res_size else None)


def _first_leaf(data: bytes, base: int, offset: int, want: int | None) -> int | None:
    """Offset of the directory entry's target: the entry with id ``want`` (or the first)."""
    named, ids = struct.unpack_from("<12xHH", data, base + offset)
    for i in range(named + ids):
        ident, target = struct.unpack_from("<II", data, base + offset + 16 + 8 * i)
        if want is None or ident == want:
            return target
    return None


def _version_block(data: bytes) -> bytes | None:
    sections, res_rva = _sections(data)
    if res_rva is None:
        return None
    base = _rva_to_offset(sections, res_rva)
    if base is None:
        return None
    target: int | None = 0
    for want in (RT_VERSION, None, None):  # type, name, language
        target = _first_leaf(data, base, target & 0x7FFFFFFF, want) if target is not None else None
        if target is None:
            return None
    rva, size = struct.unpack_from("<II", data, base + (target & 0x7FFFFFFF))
    start = _rva_to_offset(sections, rva)
    return None if start is None else data[start : start + size]


def _align(n: int) -> int:
    return (n + 3) & ~3


def _node(buf: bytes, pos: int) -> tuple[int, int, int, str, int]:
    """(length, value length, type, key, offset of the value) of the node at ``pos``."""
    length, value_len, kind = struct.unpack_from("<HHH", buf, pos)
    end = pos + 6
    while buf[end : end + 2] != b"\0\0":
        end += 2
    key = buf[pos + 6 : end].decode("utf-16-le")
    return length, value_len, kind, key, _align(end + 2)


def _children(buf: bytes, start: int, end: int) -> list[int]:
    out, pos = [], start
    while pos + 6 <= end:
        length = struct.unpack_from("<H", buf, pos)[0]
        if length == 0:
            break
        out.append(pos)
        pos = _align(pos + length)
    return out


def fixed_file_version(data: bytes) -> str | None:
    """VS_FIXEDFILEINFO's FileVersion (what FileVersionInfo.File*Part read), ``a.b.c.d``."""
    buf = _version_block(data)
    if not buf:
        return None
    _length, value_len, _kind, key, value_at = _node(buf, 0)
    if key != "VS_VERSION_INFO" or value_len < 52:
        return None
    signature, _struct, ms, ls = struct.unpack_from("<IIII", buf, value_at)
    if signature != 0xFEEF04BD:
        return None
    return f"{ms >> 16}.{ms & 0xFFFF}.{ls >> 16}.{ls & 0xFFFF}"


def version_strings(data: bytes) -> dict[str, str]:
    """{"CompanyName": ..., "ProductName": ..., "ProductVersion": ..., "FileVersion": ..., ...}."""
    buf = _version_block(data)
    if not buf:
        return {}
    length, value_len, _kind, key, value_at = _node(buf, 0)
    if key != "VS_VERSION_INFO":
        return {}
    strings: dict[str, str] = {}
    for child in _children(buf, _align(value_at + value_len), length):
        c_len, _v, _k, c_key, c_val = _node(buf, child)
        if c_key != "StringFileInfo":
            continue
        for table in _children(buf, c_val, child + c_len):
            t_len, _v, _k, _lang, t_val = _node(buf, table)
            for item in _children(buf, t_val, table + t_len):
                _i_len, i_vlen, _k, i_key, i_val = _node(buf, item)
                text = buf[i_val : i_val + 2 * i_vlen].decode("utf-16-le", "replace").rstrip("\0")
                strings.setdefault(i_key, text)
    return strings
