"""placeholder"""

from __future__ import annotations


def specs(arm):
    return []
