"""How a `python -m sandbox serve` child process is started (by `python -m sandbox start` and by
the tests' Sandbox helper): the command line and the environment that finds this checkout."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def serve_command(
    state_dir: str | os.PathLike[str],
    *,
    port: int = 0,
    vm_address_pool: str = "127.0.0.0/24",
    lro_polls: int = 1,
    latency: str = "off",
    pki_dir: str | os.PathLike[str] | None = None,
    azurite: bool = False,
) -> list[str]:
    """argv of `python -m sandbox serve` with these options (see `python -m sandbox serve -h`)."""
    cmd = [
        sys.executable,
        "-m",
        "sandbox",
        "serve",
        "--state-dir",
        str(state_dir),
        "--port",
        str(port),
        "--vm-address-pool",
        vm_address_pool,
        "--lro-polls",
        str(lro_polls),
        "--latency",
        latency,
    ]
    if pki_dir:
        cmd += ["--pki-dir", str(pki_dir)]
    if azurite:
        cmd.append("--azurite")
    return cmd


def child_env() -> dict[str, str]:
    """This process's environment with the checkout first on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env
