"""Azure's rule for a Windows VM's admin password (the build generates one and checks it)."""

from __future__ import annotations

from typing import Any

# Passwords Azure refuses outright for a VM's admin account.
_AZURE_DISALLOWED_PASSWORDS = frozenset(
    {
        "abc@123",
        "iloveyou!",
        "p@$$w0rd",
        "p@ssw0rd",
        "p@ssword123",
        "pa$$word",
        "pass@word1",
        "password!",
        "password1",
        "password22",
    }
)


def password_meets_azure_complexity(password: Any, min_length: int = 12) -> bool:
    """Return whether ``password`` is accepted by Azure for a Windows VM admin account.

    Azure requires 12-123 characters, three of: lower case, upper case, digit, special
    character (non-alphanumeric, no control characters), and refuses a short list of common
    passwords. ``min_length`` raises the floor (the build uses 24).
    """
    if not isinstance(password, str):
        return False
    if not max(12, min_length) <= len(password) <= 123:
        return False
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in password):
        return False
    classes = (
        any(ch.islower() for ch in password),
        any(ch.isupper() for ch in password),
        any(ch.isdigit() for ch in password),
        any(not ch.isalnum() for ch in password),
    )
    return sum(classes) >= 3 and password.lower() not in _AZURE_DISALLOWED_PASSWORDS
