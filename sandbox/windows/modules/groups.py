"""ansible.windows.win_group_membership over the simulated local groups (WindowsState.local_groups).

Follows win_group_membership.ps1 (ansible.windows 3.8.0), a Legacy module: Parse-Args with check
mode, Get-AnsibleParam for name / members / state (present | absent | pure), result keys name,
added (present, pure), removed (absent, pure) and members, ``Could not find local group <name>``.
Members are resolved like Ansible.ModuleUtils.SID (``_sid.py``):

- ``Convert-ToSID``: a SID string (``New-Object SecurityIdentifier``; SDDL aliases such as ``BA``
  included) is taken as is; ``.\\name`` and ``COMPUTERNAME\\name`` are local (a local group by its
  bare name); ``DOMAIN\\name`` is looked up in that domain; a bare name is a local user if one
  exists, else whatever LookupAccountName finds (well-known, BUILTIN, local). The build VM is not
  domain-joined, so ``DOMAIN\\name`` and ``name@domain`` fail with the message Convert-ToSID gives.
- ``Convert-FromSID``: the NTAccount spelling (``Everyone``, ``BUILTIN\\Users``,
  ``NT AUTHORITY\\SYSTEM``, ``COMPUTERNAME\\admin``).

Adding a local group to a local group fails on ``$group.Add`` (not in check mode), as Windows
refuses it. Null or empty entries in ``members`` raise NotModelled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.guest_api import NotModelled
from sandbox.windows.argspec import build_spec, parse_str
from sandbox.windows.modules import Ctx, ModuleFail, Unhandled, register
from sandbox.windows.modules._sid import convert_from_sid, find_group, to_sid

if TYPE_CHECKING:
    from sandbox.windows.state import WindowsState

GROUP_MEMBERSHIP = build_spec("ansible.windows.win_group_membership", "legacy", supports_check_mode=True)

_NOT_TRANSLATED = (
    'Exception calling "Translate" with "1" argument(s): '
    '"Some or all identity references could not be translated."'
)
_WRONG_ACCOUNT_TYPE = (
    'Exception calling "Add" with "1" argument(s): "A new member could not be added to a local group '
    'because the member has the wrong account type.\r\n"'
)


# ----------------------------------------------------------------------------------------------
# Ansible.ModuleUtils.SID failures
# ----------------------------------------------------------------------------------------------
def convert_to_sid(ctx: Ctx, account_name: str) -> str:
    """Convert-ToSID: a failure is ``Fail-Json @{} ...`` (nothing of the module's result kept)."""
    sid = to_sid(ctx.state, account_name)
    if sid is None:
        raise _fail_fresh(
            ctx, f"account_name {account_name} is not a valid account, cannot get SID: {_NOT_TRANSLATED}"
        )
    return sid


def _fail_fresh(ctx: Ctx, msg: str) -> ModuleFail:
    """Fail-Json -obj @{}: the result so far is dropped."""
    ctx.result = {"changed": False}
    return ModuleFail(msg)


def _account(ctx: Ctx, sid: str) -> str:
    """Convert-FromSID, failing as it does."""
    name = convert_from_sid(ctx.state, sid)
    if name is None:
        raise _fail_fresh(ctx, f"failed to convert sid '{sid}' to a logon name: {_NOT_TRANSLATED}")
    return name


# ----------------------------------------------------------------------------------------------
# the module
# ----------------------------------------------------------------------------------------------
def _input_members(ctx: Ctx, members: list[Any]) -> list[tuple[str, str]]:
    """Get-InputMember: unique (sid, account_name) in input order."""
    seen: set[str] = set()
    out = []
    for raw in members:
        if raw is None or parse_str(raw) == "":
            raise NotModelled(
                "win_group_membership: a null or empty member (parameter binding) is not simulated"
            )
        sid = convert_to_sid(ctx, parse_str(raw))
        if sid not in seen:
            seen.add(sid)
            out.append((sid, _account(ctx, sid)))
    return out


def _member_names(state: WindowsState, group: dict[str, Any]) -> list[str]:
    """Get-GroupMember account names; a SID that no longer translates is reported as the SID."""
    return [convert_from_sid(state, sid) or sid for sid in group["members"]]


def _add(ctx: Ctx, group: dict[str, Any], sid: str) -> None:
    """$group.Add("WinNT://<sid>"): a local group cannot be a member of a local group."""
    if any(g["sid"] == sid for g in ctx.state.local_groups.values()):
        raise ModuleFail(_WRONG_ACCOUNT_TYPE)
    group["members"].append(sid)


@register(GROUP_MEMBERSHIP)
def group_membership(ctx: Ctx) -> None:
    p = ctx.params
    name = "" if p["name"] is None else parse_str(p["name"])
    state = parse_str(p["state"]).lower()
    r = ctx.result
    r["name"] = p["name"] if p["name"] is None else name
    if state in ("present", "pure"):
        r["added"] = []
    if state in ("absent", "pure"):
        r["removed"] = []
    found = find_group(ctx.state, name)
    if found is None:
        raise ModuleFail(f"Could not find local group {name}")
    group = found[1]
    if p["members"] is None:
        raise Unhandled("Cannot bind argument to parameter 'Member' because it is null.")
    target = _input_members(ctx, list(p["members"]))
    for sid, account in target:
        in_group = sid in group["members"]
        if state in ("present", "pure") and not in_group:
            if not ctx.check_mode:
                _add(ctx, group, sid)
            r["added"].append(account)
            r["changed"] = True
        elif state == "absent" and in_group:
            if not ctx.check_mode:
                group["members"].remove(sid)
            r["removed"].append(account)
            r["changed"] = True
    if state == "pure":
        wanted = {sid for sid, _ in target}
        for sid, account in zip(list(group["members"]), _member_names(ctx.state, group), strict=True):
            if sid not in wanted:
                if not ctx.check_mode:
                    group["members"].remove(sid)
                r["removed"].append(account)
                r["changed"] = True
    _report_members(ctx, group)


def _report_members(ctx: Ctx, group: dict[str, Any]) -> None:
    r = ctx.result
    members: Any = _member_names(ctx.state, group)
    if ctx.check_mode:
        members += r.get("added") or []
        if r.get("removed"):
            # $result.members | Where-Object {...}: one item unrolls to a string, none to $null
            left = [m for m in members if m.lower() not in {x.lower() for x in r["removed"]}]
            members = left[0] if len(left) == 1 else (left or None)
    r["members"] = members
