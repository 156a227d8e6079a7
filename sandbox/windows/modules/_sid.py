"""Account names and SIDs on the simulated guest, as Ansible.ModuleUtils.SID (ansible-core) sees them.

``to_sid`` is Convert-ToSID and ``convert_from_sid`` Convert-FromSID (SecurityIdentifier /
NTAccount Translate on a workgroup machine): well-known SIDs, the BUILTIN and local groups of
WindowsState.local_groups, the admin (``admin_sid``, the built-in Administrator renamed at
provisioning) and the other built-in accounts of a client image. Nothing outside the machine
resolves (the build VM is not domain-joined). Virtual accounts (``NT SERVICE\\...``,
``IIS APPPOOL\\...``, ...), the machine's own domain name and empty name parts raise NotModelled.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sandbox.guest_api import NotModelled

if TYPE_CHECKING:
    from sandbox.windows.state import WindowsState

# LookupAccountSid spellings of the well-known SIDs a client resolves without a domain:
# SID -> (domain, name); an empty domain prints the bare name (NTAccount.Value).
WELL_KNOWN: dict[str, tuple[str, str]] = {
    "S-1-1-0": ("", "Everyone"),
    "S-1-2-0": ("", "LOCAL"),
    "S-1-2-1": ("", "CONSOLE LOGON"),
    "S-1-3-0": ("", "CREATOR OWNER"),
    "S-1-3-1": ("", "CREATOR GROUP"),
    "S-1-3-4": ("", "OWNER RIGHTS"),
    "S-1-5-1": ("NT AUTHORITY", "DIALUP"),
    "S-1-5-2": ("NT AUTHORITY", "NETWORK"),
    "S-1-5-3": ("NT AUTHORITY", "BATCH"),
    "S-1-5-4": ("NT AUTHORITY", "INTERACTIVE"),
    "S-1-5-6": ("NT AUTHORITY", "SERVICE"),
    "S-1-5-7": ("NT AUTHORITY", "ANONYMOUS LOGON"),
    "S-1-5-10": ("NT AUTHORITY", "SELF"),
    "S-1-5-11": ("NT AUTHORITY", "Authenticated Users"),
    "S-1-5-12": ("NT AUTHORITY", "RESTRICTED"),
    "S-1-5-13": ("NT AUTHORITY", "TERMINAL SERVER USER"),
    "S-1-5-14": ("NT AUTHORITY", "REMOTE INTERACTIVE LOGON"),
    "S-1-5-15": ("NT AUTHORITY", "This Organization"),
    "S-1-5-17": ("NT AUTHORITY", "IUSR"),
    "S-1-5-18": ("NT AUTHORITY", "SYSTEM"),
    "S-1-5-19": ("NT AUTHORITY", "LOCAL SERVICE"),
    "S-1-5-20": ("NT AUTHORITY", "NETWORK SERVICE"),
    "S-1-5-64-10": ("NT AUTHORITY", "NTLM Authentication"),
    "S-1-5-113": ("NT AUTHORITY", "Local account"),
    "S-1-5-114": ("NT AUTHORITY", "Local account and member of Administrators group"),
    "S-1-5-80-0": ("NT SERVICE", "ALL SERVICES"),
    "S-1-15-2-1": ("APPLICATION PACKAGE AUTHORITY", "ALL APPLICATION PACKAGES"),
}

# Built-in local accounts of every Windows 10/11 client besides the admin (RID 500): RID -> name.
# WDAGUtilityAccount exists since 1709 [Unc: still created on 24H2, where Application Guard is gone].
BUILTIN_USERS = {501: "Guest", 503: "DefaultAccount", 504: "WDAGUtilityAccount"}

# SDDL SID strings ConvertStringSidToSid accepts (sddl.h); "LA"/"LG" are the machine's -500/-501.
SDDL_ALIASES = {
    "AA": "S-1-5-32-579",
    "AC": "S-1-15-2-1",
    "AN": "S-1-5-7",
    "AU": "S-1-5-11",
    "BA": "S-1-5-32-544",
    "BG": "S-1-5-32-546",
    "BO": "S-1-5-32-551",
    "BU": "S-1-5-32-545",
    "CG": "S-1-3-1",
    "CO": "S-1-3-0",
    "CY": "S-1-5-32-569",
    "ER": "S-1-5-32-573",
    "HA": "S-1-5-32-578",
    "IS": "S-1-5-32-568",
    "IU": "S-1-5-4",
    "LS": "S-1-5-19",
    "LU": "S-1-5-32-559",
    "MU": "S-1-5-32-558",
    "NO": "S-1-5-32-556",
    "NS": "S-1-5-20",
    "NU": "S-1-5-2",
    "OW": "S-1-3-4",
    "PS": "S-1-5-10",
    "PU": "S-1-5-32-547",
    "RC": "S-1-5-12",
    "RD": "S-1-5-32-555",
    "RE": "S-1-5-32-552",
    "RM": "S-1-5-32-580",
    "SU": "S-1-5-6",
    "SY": "S-1-5-18",
    "WD": "S-1-1-0",
}

# Domains of virtual accounts whose SIDs the sandbox does not derive.
_VIRTUAL_DOMAINS = ("nt service", "iis apppool", "nt virtual machine", "window manager", "font driver host")

_SID_RE = re.compile(r"^S-1-(\d+)((?:-\d+){0,15})$", re.I)


def local_users(state: WindowsState) -> dict[str, str]:
    """Local user name -> SID (the admin and the built-in accounts)."""
    users = {state.admin_username: state.admin_sid}
    users.update({name: f"{state.machine_sid}-{rid}" for rid, name in BUILTIN_USERS.items()})
    return users


def find_group(state: WindowsState, name: str) -> tuple[str, dict[str, Any]] | None:
    """The local group (ADSI ``WinNT://COMPUTERNAME`` child of class group) named ``name`` (-eq)."""
    return next(((n, g) for n, g in state.local_groups.items() if n.lower() == name.lower()), None)


def _computer(state: WindowsState) -> str:
    return state.computer_name.upper()  # $env:COMPUTERNAME, the NetBIOS name LookupAccountSid prints


def convert_from_sid(state: WindowsState, sid: str) -> str | None:
    """SecurityIdentifier.Translate(NTAccount).Value, or None when the SID does not translate."""
    if sid in WELL_KNOWN:
        domain, name = WELL_KNOWN[sid]
        return f"{domain}\\{name}" if domain else name
    for name, group in state.local_groups.items():
        if group["sid"] == sid:
            return f"BUILTIN\\{name}" if sid.startswith("S-1-5-32-") else f"{_computer(state)}\\{name}"
    for name, user_sid in local_users(state).items():
        if user_sid == sid:
            return f"{_computer(state)}\\{name}"
    if sid == state.machine_sid:
        raise NotModelled("account lookup: the machine's own domain SID is not simulated")
    return None


def parse_sid(state: WindowsState, text: str) -> str | None:
    """``New-Object SecurityIdentifier($text)``: the normalised SID, or None when it is no SID string."""
    if text in SDDL_ALIASES:
        return SDDL_ALIASES[text]
    if text in ("LA", "LG"):
        return f"{state.machine_sid}-{500 if text == 'LA' else 501}"
    m = _SID_RE.match(text)
    if not m:
        return None
    authority = int(m.group(1))
    subs = [int(s) for s in m.group(2).split("-")[1:]]
    if authority >= 2**48 or any(s >= 2**32 for s in subs):
        return None
    return "-".join(["S-1", str(authority), *map(str, subs)])


def _lookup(state: WindowsState, domain: str | None, name: str) -> str | None:
    """NTAccount([domain,] name).Translate(SecurityIdentifier) on a workgroup machine."""
    if not name or domain == "":
        raise NotModelled(f"account lookup: account with an empty name part {domain!r}\\{name!r}")
    lname, computer = name.lower(), _computer(state).lower()
    if domain is None and lname in (computer, "builtin", "nt authority"):
        raise NotModelled(f"account lookup: looking up the domain name {name!r} is not simulated")
    ldomain = None if domain is None else domain.lower()
    if ldomain in _VIRTUAL_DOMAINS and (ldomain, lname) != ("nt service", "all services"):
        raise NotModelled(f"account lookup: virtual account {domain}\\{name} is not simulated")
    for sid, (wk_domain, wk_name) in WELL_KNOWN.items():
        if wk_name.lower() == lname and ldomain in (None, wk_domain.lower() or None):
            return sid
    for gname, group in state.local_groups.items():
        builtin = group["sid"].startswith("S-1-5-32-")
        if gname.lower() == lname and ldomain in (None, "builtin" if builtin else computer):
            return group["sid"]
    if ldomain in (None, computer):
        return next((sid for user, sid in local_users(state).items() if user.lower() == lname), None)
    return None


def to_sid(state: WindowsState, account_name: str) -> str | None:
    """Convert-ToSID's lookup: the SID, or None where it calls Fail-Json (not a valid account)."""
    sid = parse_sid(state, account_name)
    if sid is not None:
        return sid
    computer = _computer(state)
    if "\\" in account_name:
        parts = account_name.split("\\")
        domain = computer if parts[0] == "." else parts[0]
        username = parts[1]
        if domain.lower() == computer.lower() and find_group(state, username):
            return _lookup(state, None, username)  # NTAccount($username)
        return _lookup(state, domain, username)
    if any(u.lower() == account_name.lower() for u in local_users(state)):
        return _lookup(state, computer, account_name)
    return _lookup(state, None, account_name)
