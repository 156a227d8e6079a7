"""Test and benchmark helper: run a real `python -m sandbox serve` in a subprocess with its own
temp state dir, port and VM address pool (127.X.Y.0/24, so parallel tests never collide on <ip>:5986).

    with Sandbox() as sb:
        env = {**os.environ, **sb.env}          # for ansible-playbook
        sb.set_image_state("vm1", "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE")
        assert sb.unmodelled() == []
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from sandbox.launch import REPO, child_env, serve_command


class SandboxError(RuntimeError):
    """The sandbox did not start or a control call failed."""


class HttpResult:
    """Status, headers and decoded JSON body of one call."""

    def __init__(self, status: int, headers: dict[str, str], body: Any):
        self.status = status
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        return f"HttpResult({self.status}, {self.body!r})"


class Sandbox:
    """A sandbox process for one test (or one session)."""

    def __init__(
        self,
        state_dir: str | os.PathLike[str] | None = None,
        *,
        pki_dir: str | os.PathLike[str] | None = None,
        vm_address_pool: str | None = None,
        lro_polls: int = 1,
        latency: str = "off",
        timeout: float = 60,
        azurite: bool = False,
    ):
        self._own_dir = state_dir is None
        self.state_dir = Path(state_dir or tempfile.mkdtemp(prefix="avd-sandbox-")).resolve()
        self.pki_dir = Path(pki_dir).resolve() if pki_dir else None
        self.pool = vm_address_pool or f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.0/24"  # noqa: S311
        self.lro_polls = lro_polls
        self.latency = latency
        self.timeout = timeout
        self.azurite = azurite
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self._token: str | None = None

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> Sandbox:
        cmd = serve_command(
            self.state_dir,
            vm_address_pool=self.pool,
            lro_polls=self.lro_polls,
            latency=self.latency,
            pki_dir=self.pki_dir,
            azurite=self.azurite,
        )
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.state_dir / "sandbox.log", "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=str(REPO),
            env=child_env(),
        )
        log.close()
        deadline = time.time() + self.timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SandboxError(f"sandbox exited with {self.proc.returncode}:\n{self.log_tail()}")
            path = self.state_dir / "sandbox.json"
            if path.exists():
                try:
                    info = json.loads(path.read_text())
                except ValueError:
                    info = {}
                if info.get("pid") == self.proc.pid:
                    self.info = info
                    self._token = None
                    return self
            time.sleep(0.05)
        self.stop()
        raise SandboxError(f"sandbox not ready after {self.timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def restart(self) -> Sandbox:
        """Stop and start again on the same state dir (and, when free, the same port)."""
        self.stop()
        return self.start()

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def log_tail(self, n: int = 60) -> str:
        path = self.state_dir / "sandbox.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:]) if path.exists() else ""

    # --- addresses and environment ----------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.info["url"]

    @property
    def ca(self) -> Path:
        return (self.pki_dir or self.state_dir / "pki") / "ca.pem"

    @property
    def env(self) -> dict[str, str]:
        """Variables to merge into os.environ for ansible-playbook / the Azure SDK."""
        return json.loads((self.state_dir / "env.json").read_text())

    @property
    def credentials(self) -> dict[str, str]:
        return json.loads((self.state_dir / "credentials.json").read_text())

    # --- HTTP ----------------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        auth: bool = True,
        timeout: float = 30,
    ) -> HttpResult:
        """One call to the sandbox; `path` may be absolute URL or start with '/'."""
        url = path if path.startswith("https://") else self.url + path
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        hdrs = {"Content-Type": "application/json"} if data is not None and raw is None else {}
        hdrs.update(headers or {})
        if auth and "/_sandbox/" not in url and "Authorization" not in hdrs:
            hdrs["Authorization"] = f"Bearer {self.token()}"
        req = urllib.request.Request(url, data=data, method=method, headers=hdrs)  # noqa: S310 - https only
        ctx = ssl.create_default_context(cafile=str(self.ca))
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=timeout) as r:  # noqa: S310
                status, rh, payload = r.status, dict(r.headers.items()), r.read()
        except urllib.error.HTTPError as e:
            status, rh, payload = e.code, dict(e.headers.items()), e.read()
        parsed = json.loads(payload) if payload else None
        return HttpResult(status, rh, parsed)

    def token(self) -> str:
        """A bearer token from the sandbox's own token endpoint for its service principal."""
        if self._token is None:
            self._token = self.token_for(self.credentials)
        return self._token

    def token_for(self, principal: dict[str, str]) -> str:
        """A bearer token for a service principal (``client_id``, ``client_secret``, ``tenant_id``)."""
        form = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": principal["client_id"],
                "client_secret": principal["client_secret"],
                "scope": f"{self.url}/.default",
            }
        ).encode()
        r = self.request(
            "POST",
            f"/{principal['tenant_id']}/oauth2/v2.0/token",
            raw=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=False,
        )
        if r.status != 200:
            raise SandboxError(f"token request failed: {r.status} {r.body}")
        return str(r.body["access_token"])

    def _control(self, method: str, path: str, body: Any = None) -> Any:
        r = self.request(method, f"/_sandbox/{path}", body, auth=False)
        if r.status >= 400:
            raise SandboxError(f"control {method} {path} failed: {r.status} {r.body}")
        return r.body

    # --- control helpers -----------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return self._control("GET", "state")

    def reset(self) -> None:
        self._control("POST", "reset")

    def fault(self, **spec: Any) -> dict[str, Any]:
        return self._control("POST", "faults", spec)

    def clear_faults(self) -> None:
        self._control("DELETE", "faults")

    def faults(self) -> list[dict[str, Any]]:
        """The armed ARM faults, each with its ``hits``."""
        return self._control("GET", "faults")["faults"]

    def requests(self) -> list[dict[str, Any]]:
        return self._control("GET", "requests")["requests"]

    def unmodelled(self) -> list[dict[str, Any]]:
        return self._control("GET", "unmodelled")["unmodelled"]

    def storage_account(self, resource_group: str, name: str, location: str = "westeurope") -> dict[str, Any]:
        """A storage account that exists before the build (``Sandbox(azurite=True)``), served by
        Azurite; its resource group must exist."""
        return self._control(
            "POST", "storage-accounts", {"resource_group": resource_group, "name": name, "location": location}
        )

    def set_image_state(self, vm: str, state: str) -> None:
        self._control("POST", f"guests/{vm}/image-state", {"state": state})

    @property
    def subscription_id(self) -> str:
        return self.credentials["subscription_id"]
