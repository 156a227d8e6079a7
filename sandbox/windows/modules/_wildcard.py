"""PowerShell wildcards (-like, Get-Service -Name, Get-ScheduledTask -TaskName, Get-AppxPackage -Name):
``*``, ``?`` and ``[...]``, case-insensitive, the whole string."""

from __future__ import annotations

import re
from functools import cache


@cache
def _compile(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            out.append("[" + re.escape(pattern[i + 1 : end]).replace("\\-", "-") + "]")
            i = end
        elif c == "`" and i + 1 < len(pattern):  # PowerShell's escape character
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def like(value: str, pattern: str) -> bool:
    """``value -like pattern``."""
    return _compile(pattern).fullmatch(value) is not None
