"""Command line of the sandbox (docs/contracts.md section 1).

python -m sandbox pki   --dir DIR
python -m sandbox serve --state-dir DIR [--port 0] [--vm-address-pool 127.0.0.0/24] [--azurite]
python -m sandbox start --state-dir DIR [same options]    # serve in the background, with Azurite
python -m sandbox stop  --state-dir DIR
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

from sandbox import launch, pki
from sandbox.arm.server import serve


def _pki(args: argparse.Namespace) -> int:
    pair = pki.ensure_ca(args.dir)
    print(pair.cert)
    return 0


def _serve(args: argparse.Namespace) -> int:
    return serve(args)


def _info(state_dir: Path) -> dict:
    path = state_dir / "sandbox.json"
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except ValueError:
        return {}


def _is_our_server(pid: int | None) -> bool:
    """Whether `pid` is a live `python -m sandbox serve` (never signal anything else)."""
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"sandbox" in cmdline and b"serve" in cmdline


def _ready(info: dict, ca: Path) -> bool:
    try:
        ctx = ssl.create_default_context(cafile=str(ca))
        with (
            socket.create_connection(("127.0.0.1", int(info["port"])), timeout=2) as raw,
            ctx.wrap_socket(raw, server_hostname="127.0.0.1"),
        ):
            return True
    except (OSError, KeyError, ValueError):
        return False


def _start(args: argparse.Namespace) -> int:
    state = Path(args.state_dir).resolve()
    state.mkdir(parents=True, exist_ok=True)
    info = _info(state)
    if _is_our_server(info.get("pid")):
        print(f"sandbox already running (pid {info['pid']}, {info.get('url')})")
        return 0
    cmd = launch.serve_command(
        state,
        port=args.port,
        vm_address_pool=args.vm_address_pool,
        lro_polls=args.lro_polls,
        latency=args.latency,
        pki_dir=args.pki_dir,
        azurite=args.azurite,
    )
    log = open(state / "sandbox.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        cmd,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        cwd=str(launch.REPO),
        env=launch.child_env(),
    )
    log.close()
    deadline = time.time() + args.timeout
    pki_dir = Path(args.pki_dir).resolve() if args.pki_dir else state / "pki"
    while time.time() < deadline:
        if proc.poll() is not None:
            print(f"sandbox exited with {proc.returncode}; see {state / 'sandbox.log'}", file=sys.stderr)
            return 1
        info = _info(state)
        if info.get("pid") == proc.pid and _ready(info, pki_dir / "ca.pem"):
            print(f"sandbox running (pid {proc.pid}, {info['url']}); env: {state / 'env'}")
            return 0
        time.sleep(0.1)
    print(f"sandbox did not become ready in {args.timeout}s; see {state / 'sandbox.log'}", file=sys.stderr)
    os.kill(proc.pid, signal.SIGTERM)
    return 1


def _stop(args: argparse.Namespace) -> int:
    state = Path(args.state_dir).resolve()
    info = _info(state)
    pid = info.get("pid")
    if not _is_our_server(pid):
        print("sandbox not running")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + 15
    while time.time() < deadline and _is_our_server(pid):
        time.sleep(0.1)
    if _is_our_server(pid):
        os.kill(pid, signal.SIGKILL)
    print(f"sandbox stopped (pid {pid})")
    return 0


def _serve_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state-dir", required=True)
    p.add_argument("--port", type=int, default=0, help="0: the previous port if free, else any free port")
    p.add_argument("--vm-address-pool", default="127.0.0.0/24", help="loopback network for public IPs")
    p.add_argument("--pki-dir", default=None, help="test CA directory (default: STATE_DIR/pki)")
    p.add_argument("--lro-polls", type=int, default=1, help="InProgress answers before an LRO completes")
    p.add_argument("--latency", choices=("off", "realistic"), default="off")


def _azurite_option(p: argparse.ArgumentParser, default: bool) -> None:
    p.add_argument(
        "--azurite",
        action=argparse.BooleanOptionalAction,
        default=default,
        help="run the blob service (Azurite, from `make setup`) for the storage accounts",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pki", help="create the test CA (idempotent)")
    p.add_argument("--dir", required=True)
    p.set_defaults(fn=_pki)
    p = sub.add_parser("serve", help="run the sandbox in the foreground")
    _serve_options(p)
    _azurite_option(p, default=False)
    p.set_defaults(fn=_serve)
    p = sub.add_parser("start", help="run the sandbox in the background; return when ready")
    _serve_options(p)
    _azurite_option(p, default=True)
    p.add_argument("--timeout", type=float, default=60)
    p.set_defaults(fn=_start)
    p = sub.add_parser("stop", help="stop a background sandbox")
    p.add_argument("--state-dir", required=True)
    p.set_defaults(fn=_stop)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
