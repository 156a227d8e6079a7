"""Windows path handling for the simulated guest: environment expansion and normalisation.

Windows paths are case-insensitive and accept both separators; the guest keys everything by the
lower-cased normalised form and keeps the first spelling it saw for display.
"""

from __future__ import annotations

import ntpath
import re

_ENV_RE = re.compile(r"%([^%]+)%")


def expand_env(value: str, env: dict[str, str]) -> str:
    """[Environment]::ExpandEnvironmentVariables: %NAME% (case-insensitive); unknown names stay."""
    lowered = {k.lower(): v for k, v in env.items()}

    def repl(match: re.Match[str]) -> str:
        return lowered.get(match.group(1).lower(), match.group(0))

    return _ENV_RE.sub(repl, value)


def normalise(path: str, env: dict[str, str], cwd: str = "C:\\") -> str:
    """Absolute, normalised Windows path (backslashes, no '.'/'..', no trailing separator except
    on a drive root). Relative paths resolve against ``cwd``."""
    path = expand_env(path, env).replace("/", "\\")
    if path.startswith("\\\\?\\"):
        path = path[4:]
    drive, rest = ntpath.splitdrive(path)
    if not drive:
        if path.startswith("\\"):
            drive = ntpath.splitdrive(cwd)[0]
        else:
            path = ntpath.join(cwd, path)
            drive, rest = ntpath.splitdrive(path)
    if drive and not rest.startswith("\\"):
        rest = "\\" + rest
    norm = ntpath.normpath(drive.upper() + rest)
    if len(norm) == 2 and norm[1] == ":":
        norm += "\\"
    return norm


def key(path: str) -> str:
    """The case-insensitive key of a normalised path."""
    return path.lower()


def parent(path: str) -> str | None:
    """The parent of a normalised path; None for a drive root."""
    head, tail = ntpath.split(path)
    if not tail:
        return None
    return head


def basename(path: str) -> str:
    """The last component of a path (empty for a path ending in a separator)."""
    return ntpath.basename(path.replace("/", "\\"))


def join(*parts: str) -> str:
    """ntpath.join."""
    return ntpath.join(*parts)
