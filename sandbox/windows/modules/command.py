"""ansible.windows.win_command and ansible.windows.win_shell: recognised executables only.

Simulated: sysprep.exe (see _sysprep.py), shutdown.exe (/s stops the VM, /r requests a reboot the
transport carries out, /a aborts), tzutil.exe (/g, /l, /s) and hostname.exe. An executable that
cannot be found fails as on Windows; one that exists but is not simulated fails with
"not simulated: <command>". win_shell accepts a plain invocation (optionally ``& 'path'`` with
``$env:VAR``) or ``Start-Process -FilePath ... -ArgumentList ... [-Wait]`` of the same executables.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from sandbox.windows.argspec import build_spec
from sandbox.windows.modules import Ctx, ModuleFail, _sysprep, register
from sandbox.windows.modules import _winpath as wp
from sandbox.windows.modules.timezone import set_time_zone, time_zone_ids

COMMAND = build_spec(
    "ansible.windows.win_command",
    "basic",
    supports_check_mode=False,
    required_one_of=(("_raw_params", "argv", "cmd"),),
    mutually_exclusive=(("_raw_params", "argv", "cmd"),),
)
SHELL = build_spec("ansible.windows.win_shell", "basic", supports_check_mode=False)


def split_command_line(line: str) -> list[str]:
    """CommandLineToArgvW: whitespace separates, double quotes group, 2n backslashes + quote -> n
    backslashes and a quote toggle, 2n+1 -> n backslashes and a literal quote."""
    args: list[str] = []
    cur: list[str] = []
    in_quotes = False
    have = False
    i = 0
    while i < len(line):
        c = line[i]
        if c == "\\":
            j = i
            while j < len(line) and line[j] == "\\":
                j += 1
            n = j - i
            if j < len(line) and line[j] == '"':
                cur.append("\\" * (n // 2))
                if n % 2:
                    cur.append('"')
                    i = j + 1
                else:
                    i = j
                have = True
                continue
            cur.append("\\" * n)
            i = j
            have = True
            continue
        if c == '"':
            in_quotes = not in_quotes
            have = True
        elif c in " \t" and not in_quotes:
            if have:
                args.append("".join(cur))
                cur, have = [], False
        else:
            cur.append(c)
            have = True
        i += 1
    if have:
        args.append("".join(cur))
    return args


def resolve_executable(ctx: Ctx, name: str, chdir: str | None) -> str | None:
    """SearchPath-like lookup: an explicit path, else chdir then %PATH% (with .exe appended)."""
    fs = ctx.state.fs
    name = wp.expand_env(name, ctx.state.env())
    candidates = [name] if name.lower().endswith(".exe") else [name, name + ".exe"]
    if "\\" in name or "/" in name or ":" in name:
        for c in candidates:
            p = ctx.path(c) if not chdir else wp.normalise(c, ctx.state.env(), cwd=ctx.path(chdir))
            if fs.is_file(p):
                return p
        return None
    dirs = ([ctx.path(chdir)] if chdir else []) + [d for d in ctx.state.env()["Path"].split(";") if d]
    for d in dirs:
        for c in candidates:
            p = wp.join(ctx.path(d), c)
            if fs.is_file(p):
                return p
    return None


def run_process(ctx: Ctx, exe: str, args: list[str]) -> _sysprep.ProcessResult | None:
    """Run a resolved executable; None when it is not simulated."""
    base = wp.basename(exe).lower()
    st = ctx.state
    if wp.key(exe) == wp.key(_sysprep.SYSPREP_EXE):
        return _sysprep.sysprep(st, args)
    if wp.key(exe) == wp.key(_sysprep.SHUTDOWN_EXE):
        return _sysprep.shutdown_exe(st, args)
    if base == "tzutil.exe":
        return _tzutil(ctx, args)
    if base == "hostname.exe" and not args:
        return _sysprep.ProcessResult(stdout=st.computer_name + "\r\n")
    return None


def _tzutil(ctx: Ctx, args: list[str]) -> _sysprep.ProcessResult | None:
    if args == ["/g"]:
        return _sysprep.ProcessResult(stdout=ctx.state.time_zone())
    if args == ["/l"]:
        return _sysprep.ProcessResult(stdout="\r\n".join(f"(UTC) {i}\r\n{i}\r\n" for i in time_zone_ids()))
    if len(args) == 2 and args[0].lower() == "/s":
        tz = args[1]
        if tz.removesuffix("_dstoff") not in time_zone_ids():
            return _sysprep.ProcessResult(stdout=f"Invalid time zone ID: {tz}\r\n", rc=-2147024809)
        set_time_zone(ctx.state, tz)
        return _sysprep.ProcessResult()
    return None


def _timestamps(start: float) -> dict[str, str]:
    s = datetime.fromtimestamp(start, UTC)
    e = datetime.fromtimestamp(time.time(), UTC)
    d = e - s
    secs = d.total_seconds()
    return {
        "start": s.strftime("%Y-%m-%d %H:%M:%S.%f"),
        "end": e.strftime("%Y-%m-%d %H:%M:%S.%f"),
        "delta": f"{int(secs // 3600)}:{int(secs % 3600 // 60):02d}:{secs % 60:09.6f}",
    }


def _creates_removes(ctx: Ctx) -> bool:
    p = ctx.params
    if p["creates"] and ctx.state.fs.exists(ctx.path(p["creates"])):
        ctx.result.update(msg=f"skipped, since {p['creates']} exists", skipped=True, rc=0)
        return True
    if p["removes"] and not ctx.state.fs.exists(ctx.path(p["removes"])):
        ctx.result.update(msg=f"skipped, since {p['removes']} does not exist", skipped=True, rc=0)
        return True
    return False


def _execute(ctx: Ctx, cmdline: str, argv: list[str]) -> None:
    start = time.time()
    if not argv:
        raise ModuleFail(f"Failed to run: '{cmdline}': The parameter is incorrect.", rc=87)
    exe = resolve_executable(ctx, argv[0], ctx.params.get("chdir"))
    if exe is None:
        raise ModuleFail(
            f"Failed to run: '{cmdline}': The system cannot find the file specified. (Win32ErrorCode 2)", rc=2
        )
    res = run_process(ctx, exe, argv[1:])
    if res is None:
        raise ModuleFail(f"not simulated: {cmdline}", rc=None)
    ctx.result.update(changed=True, stdout=res.stdout, stderr=res.stderr, rc=res.rc, **_timestamps(start))
    if res.after:
        ctx.state.request_power(res.after, res.delay)
    if res.rc != 0:
        raise ModuleFail("non-zero return code")


@register(COMMAND)
def win_command(ctx: Ctx) -> None:
    p = ctx.params
    if p["cmd"]:
        cmdline = p["cmd"]
        argv = split_command_line(cmdline)
    elif p["_raw_params"]:
        cmdline = p["_raw_params"].strip()
        argv = split_command_line(cmdline)
    else:
        argv = list(p["argv"])
        cmdline = " ".join(f'"{a}"' if (" " in a or not a) else a for a in argv)
    ctx.result["cmd"] = cmdline
    ctx.result["rc"] = 0
    if _creates_removes(ctx):
        return
    _execute(ctx, cmdline, argv)


_START_PROCESS = re.compile(
    r"^Start-Process\s+(?:-FilePath\s+)?(?P<exe>'[^']*'|\"[^\"]*\"|\S+)"
    r"(?:\s+-ArgumentList\s+(?P<args>(?:'[^']*'|\"[^\"]*\")(?:\s*,\s*(?:'[^']*'|\"[^\"]*\"))*))?"
    r"(?P<rest>(?:\s+-(?:Wait|NoNewWindow|PassThru))*)\s*$",
    re.IGNORECASE,
)


def _ps_expand(ctx: Ctx, text: str) -> str:
    env = {k.lower(): v for k, v in ctx.state.env().items()}

    def repl(m: re.Match[str]) -> str:
        return env.get(m.group(1).lower(), "")

    return re.sub(r"\$env:([A-Za-z_][A-Za-z0-9_()]*)", repl, text)


def _ps_unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        return token[1:-1]
    return token


def parse_powershell_invocation(ctx: Ctx, cmd: str) -> list[str] | None:
    """argv of a one-line PowerShell native-command invocation we understand, else None."""
    line = cmd.strip().rstrip(";").strip()
    if "\n" in line or "|" in line or ";" in line:
        return None
    m = _START_PROCESS.match(line)
    if m:
        exe = _ps_unquote(_ps_expand(ctx, m.group("exe")))
        args: list[str] = []
        if m.group("args"):
            for tok in re.findall(r"'[^']*'|\"[^\"]*\"", m.group("args")):
                args.extend(split_command_line(_ps_unquote(_ps_expand(ctx, tok))))
        return [exe, *args]
    if line.startswith("&"):
        line = line[1:].strip()
    tokens = re.findall(r"'[^']*'|\"[^\"]*\"|\S+", line)
    if not tokens or tokens[0].startswith("-") or re.match(r"^[A-Za-z]+-[A-Za-z]+$", tokens[0]):
        return None  # a cmdlet, not a native command
    return [_ps_unquote(_ps_expand(ctx, t)) for t in tokens]


@register(SHELL)
def win_shell(ctx: Ctx) -> None:
    p = ctx.params
    cmd = p["cmd"].strip()
    ctx.result["cmd"] = cmd
    if _creates_removes(ctx):
        return
    executable = p["executable"]
    if executable and wp.basename(executable).lower().removesuffix(".exe") not in ("powershell", "pwsh"):
        argv = split_command_line(cmd)  # cmd.exe /c <cmd>
    else:
        parsed = parse_powershell_invocation(ctx, cmd)
        if parsed is None:
            raise ModuleFail(f"not simulated: {cmd}", rc=None)
        argv = parsed
    _execute(ctx, cmd, argv)
