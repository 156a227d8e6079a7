"""The sandbox's blob service: Azurite, Microsoft's Azure Storage emulator (npm package, pinned in
sandbox/azurite/package-lock.json), run as a child of ``python -m sandbox serve --azurite``.

- HTTPS only, with a server certificate from the sandbox CA (sandbox/pki.py), on 127.0.0.1.
- The storage accounts are the world's (``storage-accounts.json``, mode 600: name -> two keys of
  its own, never the well-known development key); Azurite gets them in ``AZURITE_ACCOUNTS``, which
  it reads at start, so adding an account restarts it (its data folder is kept).
- Strict: no ``--loose`` and no ``--skipApiVersionCheck``, so it refuses what Azure Storage refuses
  (a bad or expired SAS: 403 AuthenticationFailed; a missing blob: 404 BlobNotFound).
- Its access log goes through ``redact_sas`` into ``azurite.log``: a SAS signature never reaches
  a file.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sandbox import pki

if TYPE_CHECKING:
    from sandbox.world import World

AZURITE_DIR = Path(__file__).resolve().parent / "azurite"
AZURITE_BIN = AZURITE_DIR / "node_modules" / ".bin" / "azurite-blob"
ACCOUNTS_FILE = "storage-accounts.json"
_SAS_SIG = re.compile(r"(?i)\b(sig=)[^&\s\"']+")


class BlobServiceError(RuntimeError):
    """Azurite is not installed, did not start, or was asked for something it cannot do."""


def redact_sas(text: str) -> str:
    """``text`` with every SAS signature (``sig=...``) replaced."""
    return _SAS_SIG.sub(r"\1***REDACTED***", text)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _new_key() -> str:
    # Azure's account keys are 64 random bytes, base64 (88 characters).
    return base64.b64encode(secrets.token_bytes(64)).decode("ascii")


class BlobService:
    """One Azurite process for the world's storage accounts (all calls under ``World.lock``)."""

    def __init__(self, world: World, *, timeout: float = 30) -> None:
        self.world = world
        self.dir = world.state_dir / "azurite"
        self.timeout = timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self._pump: threading.Thread | None = None
        if not AZURITE_BIN.exists():
            raise BlobServiceError(f"Azurite is not installed ({AZURITE_BIN} missing): run `make setup`")

    # --- accounts ---------------------------------------------------------------------------------
    @property
    def accounts(self) -> dict[str, dict[str, Any]]:
        return self.world.read_json(ACCOUNTS_FILE, {}) or {}

    def ensure_account(self, name: str) -> None:
        """Add a storage account (two new keys) and restart Azurite with it; no-op when it exists."""
        accounts = self.accounts
        if name in accounts:
            return
        accounts[name] = {"keys": [_new_key(), _new_key()]}
        self.world.write_json(ACCOUNTS_FILE, accounts, mode=0o600)
        self.restart()

    def keys(self, name: str) -> list[str]:
        return list(self.accounts[name]["keys"])

    def endpoint(self, name: str) -> str:
        """The account's blob endpoint (path style: Azurite serves every account on one port)."""
        if self.port is None:
            raise BlobServiceError("the blob service is not running")
        return f"https://127.0.0.1:{self.port}/{name}/"

    # --- process ----------------------------------------------------------------------------------
    def start(self) -> None:
        """Start Azurite when there is an account to serve (it would otherwise serve the
        well-known development account)."""
        if self.proc is not None and self.proc.poll() is None:
            return
        accounts = self.accounts
        if not accounts:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        tls = pki.issue_server_cert(
            self.world.ca, self.dir / "blob.pem", self.dir / "blob.key", "127.0.0.1", ips=["127.0.0.1"]
        )
        self.port = self.port or self._previous_port() or _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AZURITE_")}
        env["AZURITE_ACCOUNTS"] = ";".join(f"{n}:{a['keys'][0]}:{a['keys'][1]}" for n, a in accounts.items())
        cmd = [
            str(AZURITE_BIN),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(self.port),
            "--location",
            str(self.dir / "data"),
            "--cert",
            str(tls.cert),
            "--key",
            str(tls.key),
            "--disableTelemetry",
        ]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
        assert self.proc.stdout is not None
        self._pump = threading.Thread(target=self._copy_log, args=(self.proc.stdout,), daemon=True)
        self._pump.start()
        self._wait_ready()
        self.world.write_json("azurite/port.json", {"port": self.port}, mode=0o644)

    def _previous_port(self) -> int | None:
        port = (self.world.read_json("azurite/port.json", {}) or {}).get("port")
        if not isinstance(port, int):
            return None
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return None
        return port

    def _copy_log(self, stream: IO[bytes]) -> None:
        with open(self.world.state_dir / "azurite.log", "a", encoding="utf-8") as log:
            for line in iter(stream.readline, b""):
                log.write(redact_sas(line.decode("utf-8", "replace")))
                log.flush()

    def _wait_ready(self) -> None:
        ctx = ssl.create_default_context(cafile=str(self.world.ca.cert))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise BlobServiceError(f"Azurite exited with {self.proc.returncode}: see azurite.log")
            try:
                with (
                    socket.create_connection(("127.0.0.1", int(self.port or 0)), timeout=1) as raw,
                    ctx.wrap_socket(raw, server_hostname="127.0.0.1"),
                ):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise BlobServiceError(f"Azurite did not answer on port {self.port} in {self.timeout}s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None
        if self._pump is not None:
            self._pump.join(timeout=5)
            self._pump = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def reset(self) -> None:
        """Forget every account and blob (the control endpoint's reset)."""
        self.stop()
        shutil.rmtree(self.dir / "data", ignore_errors=True)
        (self.world.state_dir / ACCOUNTS_FILE).unlink(missing_ok=True)
