"""ansible.windows.win_file, win_stat, win_copy (module side) and slurp over the simulated C:."""

from __future__ import annotations

import base64
import hashlib
import io
import time
import zipfile
from datetime import datetime
from typing import Any

from sandbox.windows.argspec import build_spec
from sandbox.windows.modules import Ctx, ModuleFail, Unhandled, register
from sandbox.windows.modules import _winpath as wp
from sandbox.windows.modules._fs import Entry

FILE = build_spec("ansible.windows.win_file", "legacy")
STAT = build_spec("ansible.windows.win_stat", "basic", supports_check_mode=True)
# win_copy.ps1 reads these internal options too (set by the win_copy action plugin).
COPY = build_spec(
    "ansible.windows.win_copy",
    "legacy",
    extra_options={
        "_copy_mode": {
            "type": "str",
            "default": "single",
            "choices": ["explode", "query", "remote", "single"],
        },
        "_original_basename": {"type": "str"},
        "files": {"type": "list"},
        "directories": {"type": "list"},
    },
)
SLURP = build_spec("ansible.windows.slurp", "legacy")

_HASHES = {
    "md5": hashlib.md5,
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}


def _checksum(data: bytes, algorithm: str = "sha1") -> str:
    return _HASHES[algorithm](data).hexdigest()


def _check_mode(ctx: Ctx) -> bool:
    return bool(ctx.internal.get("_ansible_check_mode", ctx.check_mode))


def _missing_parent(path: str) -> Unhandled:
    return Unhandled(f"Could not find a part of the path '{path}'.")


# ----------------------------------------------------------------------------------------------
# win_file
# ----------------------------------------------------------------------------------------------
def _parse_time(value: str, fmt: str, what: str) -> float:
    py = (
        fmt.replace("yyyy", "%Y")
        .replace("MM", "%m")
        .replace("dd", "%d")
        .replace("HH", "%H")
        .replace("mm", "%M")
        .replace("ss", "%S")
    )
    try:
        return datetime.strptime(value, py).timestamp()
    except ValueError:
        raise ModuleFail(f"Invalid {what} '{value}'") from None


@register(FILE)
def win_file(ctx: Ctx) -> None:
    p = ctx.params
    fs = ctx.state.fs
    check = _check_mode(ctx)
    path = ctx.path(p["path"])
    state = p["state"]
    if p.get("_original_basename") is not None and fs.is_dir(path):
        path = wp.join(path, p["_original_basename"])
    if p.get("_diff_peek") is not None:
        e = fs.get(path)
        ctx.result.update(
            path=path,
            change=False,
            appears_binary=bool(e and not e.is_dir and b"\0" in e.data[:8192]),
            state="file" if e else "absent",
        )
        return
    times = _wanted_times(ctx)
    if state == "touch":
        _touch(ctx, path, times)
    e = fs.get(path)
    if e is not None:
        if state == "absent":
            if not check:
                fs.remove(path)
            ctx.result["changed"] = True
        elif state == "directory" and not e.is_dir:
            raise ModuleFail(f"path {path} is not a directory")
        elif state == "file" and e.is_dir:
            raise ModuleFail(f"path {path} is not a file")
        return
    if state is None:
        state = "file" if wp.basename(p["path"]) else "directory"
    if state == "directory":
        try:
            if not check:
                fs.mkdir(path)
        except FileExistsError:
            raise ModuleFail(f"path {path} is not a directory") from None
        ctx.result["changed"] = True
        if not check:
            _update_times(fs.get(path), times, check)
    elif state == "file":
        raise ModuleFail(f"path {path} will not be created")


def _wanted_times(ctx: Ctx) -> tuple[float | None, float | None]:
    """(modification, access) times to set; None keeps them ("preserve")."""
    p, now = ctx.params, ctx.state._now()
    out = []
    for opt in ("modification_time", "access_time"):
        value = p[opt] or ("now" if p["state"] == "touch" else "preserve")
        if value == "now":
            out.append(now)
        elif value == "preserve":
            out.append(None)
        else:
            out.append(_parse_time(value, p[f"{opt}_format"], opt))
    return out[0], out[1]


def _update_times(e: Entry | None, times: tuple[float | None, float | None], check: bool) -> bool:
    mtime, atime = times
    if e is None:
        return mtime is not None or atime is not None
    changed = False
    if mtime is not None and mtime != e.mtime:
        if not check:
            e.mtime = mtime
        changed = True
    if atime is not None and atime != e.atime:
        if not check:
            e.atime = atime
        changed = True
    return changed


def _touch(ctx: Ctx, path: str, times: tuple[float | None, float | None]) -> None:
    fs, check = ctx.state.fs, _check_mode(ctx)
    if fs.exists(path):
        ctx.result["changed"] = _update_times(fs.get(path), times, check)
        return
    parent = wp.parent(path)
    if parent and not fs.is_dir(parent):
        raise _missing_parent(path)
    if not check:
        fs.write(path, b"")
    ctx.result["changed"] = True
    _update_times(fs.get(path), times, check)


# ----------------------------------------------------------------------------------------------
# win_stat
# ----------------------------------------------------------------------------------------------
@register(STAT)
def win_stat(ctx: Ctx) -> None:
    p = ctx.params
    fs = ctx.state.fs
    path = ctx.path(p["path"])
    e = fs.get(path)
    if e is None:
        ctx.result["stat"] = {"exists": False}
        return
    name = wp.basename(e.path) or e.path
    stat: dict[str, Any] = {
        "exists": True,
        "attributes": e.attributes,
        "isarchive": "Archive" in e.attributes,
        "isdir": e.is_dir,
        "ishidden": e.hidden,
        "isjunction": False,
        "islnk": False,
        "isreadonly": e.readonly,
        "isreg": not e.is_dir,
        "isshared": False,
        "nlink": 1,
        "hlnk_targets": [],
        "creationtime": e.ctime,
        "lastaccesstime": e.atime,
        "lastwritetime": e.mtime,
        "path": e.path,
        "filename": name,
        "owner": "BUILTIN\\Administrators",
    }
    if e.is_dir:
        if p["get_size"]:
            stat["size"] = fs.dir_size(path)
    else:
        stat["extension"] = "." + name.rsplit(".", 1)[1] if "." in name else ""
        if p["get_checksum"]:
            stat["checksum"] = _checksum(e.data, p["checksum_algorithm"])
        if p["get_size"]:
            stat["size"] = len(e.data)
    ctx.result["stat"] = stat


# ----------------------------------------------------------------------------------------------
# slurp (ansible.builtin.slurp runs ansible.windows.slurp on Windows)
# ----------------------------------------------------------------------------------------------
@register(SLURP)
def slurp(ctx: Ctx) -> None:
    src = ctx.path(ctx.params["src"])
    e = ctx.state.fs.get(src)
    if e is None:
        raise ModuleFail(f"Path {ctx.params['src']} is not found")
    if e.is_dir:
        raise ModuleFail(f"Path {ctx.params['src']} is a directory")
    ctx.result["content"] = base64.b64encode(e.data).decode()
    ctx.result["encoding"] = "base64"


# ----------------------------------------------------------------------------------------------
# win_copy (module side; the action plugin transfers files through the transport)
# ----------------------------------------------------------------------------------------------
def _backup(ctx: Ctx, path: str, check: bool) -> str | None:
    """Backup-File: <path>.<pid>.<yyyyMMdd-HHmmss>.bak"""
    e = ctx.state.fs.get(path)
    if e is None or e.is_dir:
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(ctx.state._now()))
    backup = f"{path}.4242.{stamp}.bak"
    if not check:
        ctx.state.fs.write(backup, e.data)
    return backup


def _copy_file(
    ctx: Ctx, src: str, dest: str, force: bool, backup: bool, check: bool
) -> tuple[str, str | None]:
    fs = ctx.state.fs
    diff = ""
    data = fs.read(src)
    source_checksum = _checksum(data) if force else None
    copy = False
    if fs.is_dir(dest):
        raise ModuleFail(f"cannot copy file from '{src}' to '{dest}': dest is already a folder")
    if fs.is_file(dest):
        if force and _checksum(fs.read(dest)) != source_checksum:
            copy = True
    else:
        copy = True
    if copy:
        file_dir = wp.parent(dest) or dest
        if fs.is_file(file_dir):
            raise ModuleFail(
                f"cannot copy file from '{src}' to '{dest}': object at dest parent dir is not a folder"
            )
        if not fs.exists(file_dir):
            if not check:
                fs.mkdir(file_dir)
            diff += f"+{file_dir}\\\n"
        if backup:
            ctx.result["backup_file"] = _backup(ctx, dest, check)
        if fs.is_file(dest):
            if not check:
                fs.remove(dest)
            diff += f"-{dest}\n"
        if not check:
            fs.write(dest, data)
        diff += f"+{dest}\n"
        ctx.result["changed"] = True
    return diff, source_checksum


def _copy_folder(ctx: Ctx, src: str, dest: str, force: bool, check: bool) -> str:
    fs = ctx.state.fs
    diff = ""
    if not fs.is_dir(dest):
        par = wp.parent(dest)
        if par and fs.is_file(par):
            raise ModuleFail(
                f"cannot copy file from '{src}' to '{dest}': object at dest parent dir is not a folder"
            )
        if fs.is_file(dest):
            raise ModuleFail(f"cannot copy folder from '{src}' to '{dest}': dest is already a file")
        if not check:
            fs.mkdir(dest)
        diff += f"+{dest}\\\n"
        ctx.result["changed"] = True
    for child in sorted(fs.children(src), key=lambda e: e.path.lower()):
        target = wp.join(dest, wp.basename(child.path))
        if child.is_dir:
            diff += _copy_folder(ctx, child.path, target, force, check)
        else:
            diff += _copy_file(ctx, child.path, target, force, False, check)[0]
    return diff


@register(COPY)
def win_copy(ctx: Ctx) -> None:
    p = ctx.params
    mode = p["_copy_mode"]
    if p["src"] is None and mode in ("explode", "single"):
        raise ModuleFail("Get-AnsibleParam: Missing required argument: src")
    src = ctx.path(p["src"]) if p["src"] is not None else None
    dest = ctx.path(p["dest"])
    force = p["force"] if p["force"] is not None else True
    if bool(ctx.internal.get("_ansible_diff", ctx.diff_mode)):
        ctx.result["diff"] = {}
    if mode == "query":
        _copy_query(ctx, dest, force)
    elif mode == "explode":
        _copy_explode(ctx, src, dest)
    elif mode == "remote":
        _copy_remote(ctx, src, dest, force)
    else:
        _copy_single(ctx, src, dest)


def _copy_query(ctx: Ctx, dest: str, force: bool) -> None:
    """What the action plugin must send: files that differ or are missing, directories to create."""
    p, fs = ctx.params, ctx.state.fs
    changed_files, changed_dirs = [], []
    for f in p["files"] or []:
        filename = f["dest"]
        filepath = wp.join(dest, filename)
        if fs.is_dir(filepath):
            filename = wp.join(filename, wp.basename(f["src"]))
            filepath = wp.join(dest, filename)
        if fs.is_file(filepath):
            if force and _checksum(fs.read(filepath)) != f.get("checksum"):
                changed_files.append(f)
        elif fs.is_dir(filepath):
            raise ModuleFail(f"cannot copy file to dest '{filepath}': object at path is already a directory")
        else:
            changed_files.append(f)
    for d in p["directories"] or []:
        dirpath = wp.join(dest, d["dest"])
        par = wp.parent(dirpath)
        if par and fs.is_file(par):
            raise ModuleFail(
                f"cannot copy folder to dest '{dirpath}': object at parent directory path is already a file"
            )
        if fs.is_file(dirpath):
            raise ModuleFail(f"cannot copy folder to dest '{dirpath}': object at path is already a file")
        if not fs.is_dir(dirpath):
            changed_dirs.append(d)
    ctx.result.update(files=changed_files, directories=changed_dirs, symlinks=[])


def _copy_explode(ctx: Ctx, src: str | None, dest: str) -> None:
    """Unpack the zip the action plugin sent (member names are base64, directories end in /)."""
    fs, check = ctx.state.fs, _check_mode(ctx)
    if src is None or not fs.is_file(src):
        raise ModuleFail(f"Cannot expand src zip file: '{src}' as it does not exist")
    with zipfile.ZipFile(io.BytesIO(fs.read(src))) as zf:
        for info in zf.infolist():
            arc = info.filename
            is_dir = len(arc) % 4 == 1
            b64 = arc[:-1] if is_dir else arc
            name = base64.b64decode(b64).decode("utf-8").replace("/", "\\")
            target = ctx.path(wp.join(dest, name))
            if is_dir:
                if not check:
                    fs.mkdir(target)
                continue
            parent = wp.parent(target)
            if parent and not check:
                fs.mkdir(parent)
            if not check:
                fs.write(target, zf.read(info))
    ctx.result["changed"] = True


def _dest_parent_ready(ctx: Ctx, remote_dest: str, dest: str) -> None:
    """The destination's parent directory exists (created when dest names a directory)."""
    fs = ctx.state.fs
    parent = wp.parent(remote_dest) or remote_dest
    if fs.is_file(parent):
        raise ModuleFail(f"object at destination parent dir '{parent}' is currently a file")
    if not fs.is_dir(parent):
        if remote_dest == dest:
            raise ModuleFail(f"Destination directory '{parent}' does not exist")
        fs.mkdir(parent)


def _copy_remote_folder(ctx: Ctx, src: str, dest: str, force: bool) -> tuple[str, str]:
    """(diff, final destination) of a remote_src folder copy (its contents when src ends in a slash)."""
    fs, check = ctx.state.fs, _check_mode(ctx)
    ctx.result["operation"] = "folder_copy"
    if not ctx.params["src"].endswith(("/", "\\")):
        remote_dest = wp.join(dest, wp.basename(src))
        ctx.result["dest"] = remote_dest
        return _copy_folder(ctx, src, remote_dest, force, check), remote_dest
    diff = ""
    for child in sorted(fs.children(src), key=lambda e: e.path.lower()):
        target = wp.join(dest, wp.basename(child.path))
        if child.is_dir:
            diff += _copy_folder(ctx, child.path, target, force, check)
        else:
            diff += _copy_file(ctx, child.path, target, force, False, check)[0]
    return diff, dest


def _copy_remote(ctx: Ctx, src: str | None, dest: str, force: bool) -> None:
    """remote_src: copy a file or folder that is already on the guest."""
    p, fs, check = ctx.params, ctx.state.fs, _check_mode(ctx)
    raw_dest = p["dest"]
    ctx.result["src"] = p["src"]
    ctx.result["dest"] = raw_dest
    if src is None or not fs.exists(src):
        raise ModuleFail(f"Cannot copy src file: '{p['src']}' as it does not exist")
    if fs.is_dir(src):
        diff, remote_dest = _copy_remote_folder(ctx, src, dest, force)
    else:
        ctx.result["operation"] = "file_copy"
        ctx.result["original_basename"] = wp.basename(src)
        remote_dest = dest
        if raw_dest.endswith(("/", "\\")) or fs.is_dir(dest):
            remote_dest = wp.join(dest, wp.basename(src))
        ctx.result["dest"] = remote_dest
        _dest_parent_ready(ctx, remote_dest, dest)
        diff, checksum = _copy_file(ctx, src, remote_dest, force, bool(p["backup"]), check)
        ctx.result["checksum"] = checksum
    e = fs.get(remote_dest)
    if not check or (e and not e.is_dir):
        ctx.result["size"] = (fs.dir_size(remote_dest) if e and e.is_dir else len(e.data)) if e else None
    else:
        ctx.result["size"] = None
    if "diff" in ctx.result:
        ctx.result["diff"]["prepared"] = diff


def _copy_single(ctx: Ctx, src: str | None, dest: str) -> None:
    """One file the action plugin transferred to a temporary path."""
    p, fs = ctx.params, ctx.state.fs
    if src is None or not fs.is_file(src):
        raise ModuleFail(f"Cannot copy src file: '{p['src']}' as it does not exist")
    remote_dest = dest
    if p["dest"].endswith(("/", "\\")) or fs.is_dir(dest):
        remote_dest = wp.join(dest, p["_original_basename"] or wp.basename(src))
    _dest_parent_ready(ctx, remote_dest, dest)
    if p["backup"]:
        ctx.result["backup_file"] = _backup(ctx, remote_dest, _check_mode(ctx))
    fs.write(remote_dest, fs.read(src))  # Copy-Item has no -WhatIf here: it copies even in check mode
    ctx.result["changed"] = True
