"""Read what a test needs out of a simulated guest's state dump (``/_sandbox/state`` ``guests``).

Shared by the integration tests that check "what is set in Windows" after a real playbook run:
registry values (machine and default user hive), service start modes, scheduled task states,
AppX packages (provisioned and per user) and firewall rules.
"""

from __future__ import annotations

from typing import Any

DEFAULT_USER_HIVE = r"C:\Users\Default\NTUSER.DAT"


def _find(flat: dict[str, Any], key: str) -> dict[str, Any] | None:
    for path, values in flat.items():
        if path.lower() == key.lower():
            return values
    return None


def hklm(dump: dict[str, Any], key: str, name: str) -> Any:
    """``[type, data]`` of ``HKLM\\<key>`` value ``name`` (key without the drive), or None."""
    values = _find(dump["registry"]["HKLM"], "HKEY_LOCAL_MACHINE\\" + key)
    return None if values is None else values.get(name)


def default_user(dump: dict[str, Any], key: str, name: str) -> Any:
    """``[type, data]`` of a value in the default user hive (key relative to the hive), or None."""
    hives = dump["registry"]["hive_files"]
    hive = next((flat for path, flat in hives.items() if path.lower() == DEFAULT_USER_HIVE.lower()), None)
    if hive is None:
        return None
    values = _find(hive, key)
    if values is None:
        values = next((v for p, v in hive.items() if p.lower().endswith("\\" + key.lower())), None)
    return None if values is None else values.get(name)


def service(dump: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((s for s in dump["services"] if s["name"].lower() == name.lower()), None)


def task(dump: dict[str, Any], path: str, name: str) -> dict[str, Any] | None:
    return next(
        (
            t
            for t in dump["scheduled_tasks"]
            if t["path"].lower() == path.lower() and t["name"].lower() == name.lower()
        ),
        None,
    )


def appx_names(dump: dict[str, Any]) -> set[str]:
    """Every package name still provisioned or installed for any user."""
    names = {p["name"] for p in dump["appx_provisioned"]}
    for packages in dump["appx_user"].values():
        names |= {p["name"] for p in packages}
    return names
