"""The sandbox's shared world: one process, one lock, one state directory.

The ARM emulator (sandbox.arm) and the simulated Windows guests (sandbox.windows) both live here.
Every call between them happens with ``World.lock`` held (see sandbox/guest_api.py).

Persistence: each side keeps its own files under ``World.state_dir`` and writes them atomically
with ``World.write_json``. ARM keeps ``arm-state.json``; the Windows side keeps its own file(s) and
restores its guests when it is constructed. After a restart ARM re-announces every VM's address and
power state (``GuestHost.vm_address`` / ``vm_power``) so the guest side re-creates its listeners.
"""

from __future__ import annotations

import importlib
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from sandbox import pki
from sandbox.guest_api import ArmCallbacks, GuestHost


class World:
    """Shared context handed to both sides."""

    def __init__(self, state_dir: str | os.PathLike[str], pki_dir: str | os.PathLike[str] | None = None):
        self.state_dir = Path(state_dir).resolve()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.state_dir, 0o700)
        self.pki_dir = Path(pki_dir).resolve() if pki_dir else self.state_dir / "pki"
        self.ca: pki.CertPair = pki.ensure_ca(self.pki_dir)
        self.lock = threading.RLock()
        self.guests: GuestHost | None = None
        # The blob service (sandbox.blobstore.BlobService), when the sandbox runs Azurite.
        self.blob: Any = None

    # --- persistence helpers ---------------------------------------------------------------------
    def write_json(self, name: str, data: Any, mode: int = 0o600) -> None:
        """Atomically write ``state_dir/name`` as JSON (temp file + rename, never half-written)."""
        path = self.state_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            os.fchmod(fd, mode)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=1, sort_keys=True)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read_json(self, name: str, default: Any = None) -> Any:
        """Read ``state_dir/name`` or return ``default`` when it does not exist."""
        path = self.state_dir / name
        if not path.exists():
            return default
        return json.loads(path.read_text(encoding="utf-8"))


def load_guest_host(world: World, arm: ArmCallbacks) -> GuestHost:
    """The Windows side (sandbox.windows.host.WindowsGuestHost), attached to the world.

    Imported when called: the Windows side imports this module, so a top-level import would be a cycle.
    """
    module = importlib.import_module("sandbox.windows.host")
    host = module.WindowsGuestHost(world, arm)
    world.guests = host
    return host
