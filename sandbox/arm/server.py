"""HTTPS front end of the sandbox (stdlib http.server + ssl) and the `serve` entry point."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import socket
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox import pki
from sandbox.arm import auth
from sandbox.arm.app import create_arm
from sandbox.arm.core import Arm
from sandbox.arm.latency import realistic
from sandbox.arm.values import Request, Response
from sandbox.blobstore import BlobService
from sandbox.world import World, load_guest_host

MAX_BODY = 8 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stall
    server_version = "avd-golden-sandbox"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        return  # the emulator keeps its own (redacted) request log

    def _serve(self) -> None:
        srv: SandboxServer = self.server  # type: ignore[assignment]
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.send_error(413)
            return
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        req = Request(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            raw_body=raw,
            base_url=srv.base_url,
        )
        with srv.arm.lock:
            resp = srv.arm.handle(req)
        self._send(resp)

    def _send(self, resp: Response) -> None:
        if isinstance(resp.body, bytes):
            payload = resp.body
            ctype = "application/octet-stream"
        elif resp.body is None:
            payload = b""
            ctype = None
        else:
            payload = json.dumps(resp.body).encode()
            ctype = "application/json; charset=utf-8"
        self.send_response(resp.status)
        rid = str(uuid.uuid4())
        self.send_header("x-ms-request-id", rid)
        self.send_header("x-ms-correlation-request-id", rid)
        self.send_header("Cache-Control", "no-cache")
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = _serve


class SandboxServer(ThreadingHTTPServer):
    """ThreadingHTTPServer serving the emulator over TLS on 127.0.0.1."""

    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, arm: Arm, port: int, cert: pki.CertPair):
        super().__init__(("127.0.0.1", port), _Handler)
        self.arm = arm
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(str(cert.cert), str(cert.key))
        self.socket = ctx.wrap_socket(self.socket, server_side=True)
        self.port = self.server_address[1]
        self.base_url = f"https://127.0.0.1:{self.port}"

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        sock.settimeout(120)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        # TLS handshakes aborted by clients (port probes) are not errors worth a traceback.
        return


def env_lines(world: World, arm: Arm, base_url: str) -> dict[str, str]:
    """The environment that points the Azure SDK, CLI and azure.azcollection at the sandbox."""
    ca = str(world.ca.cert)
    c = arm.creds
    return {
        "ARM_CLOUD_METADATA_URL": f"{base_url}/metadata/endpoints?api-version=2022-09-01",
        "AZURE_CLOUD_ENVIRONMENT": base_url,
        "AZURE_DISABLE_INSTANCE_DISCOVERY": "true",
        "AZURE_CONFIG_DIR": str(world.state_dir / "azure-config"),
        # The Azure CLI (az): the sandbox's cloud from the metadata document, no msal instance
        # discovery on the Internet, no telemetry upload (its config options as env vars).
        "AZURE_CLOUD_NAME": auth.CLOUD_NAME,
        "AZURE_CORE_INSTANCE_DISCOVERY": "false",
        "AZURE_CORE_COLLECT_TELEMETRY": "false",
        "REQUESTS_CA_BUNDLE": ca,
        "SSL_CERT_FILE": ca,
        "AZURE_SUBSCRIPTION_ID": c.subscription_id,
        "AZURE_CLIENT_ID": c.client_id,
        "AZURE_SECRET": c.client_secret,
        "AZURE_TENANT": c.tenant_id,
        "AZURE_CLIENT_SECRET": c.client_secret,
        "AZURE_TENANT_ID": c.tenant_id,
        "AZURE_AUTHORITY_HOST": base_url,
        "AVD_SANDBOX_URL": f"{base_url}/_sandbox",
    }


def _previous_port(world: World) -> int:
    info = world.read_json("sandbox.json") or {}
    return int(info.get("port") or 0)


def build(
    state_dir: str,
    port: int = 0,
    vm_address_pool: str = "127.0.0.0/24",
    pki_dir: str | None = None,
    lro_polls: int = 1,
    latency: str = "off",
    azurite: bool = False,
) -> tuple[World, Arm, SandboxServer]:
    """Create the world, the emulator (+ the Windows side when installed, + Azurite when asked)
    and the bound server."""
    world = World(state_dir, pki_dir)
    if azurite:
        world.blob = BlobService(world)
        world.blob.start()
    tls = pki.issue_server_cert(
        world.ca,
        world.state_dir / "tls" / "arm.pem",
        world.state_dir / "tls" / "arm.key",
        "127.0.0.1",
        ips=["127.0.0.1"],
        dns=["localhost"],
    )
    latency_fn = realistic() if latency == "realistic" else None
    arm = create_arm(world, None, lro_polls=lro_polls, vm_address_pool=vm_address_pool, latency=latency_fn)
    with world.lock:
        guests = load_guest_host(world, arm)
        arm.guests = guests
    server = None
    prev = _previous_port(world) if port == 0 else 0
    if prev:
        with contextlib.suppress(OSError):
            server = SandboxServer(arm, prev, tls)
    if server is None:
        server = SandboxServer(arm, port, tls)
    with world.lock:
        arm.reannounce()
    return world, arm, server


def serve(args: Any) -> int:
    """Run in the foreground until SIGTERM/SIGINT."""
    world, arm, server = build(
        args.state_dir,
        port=args.port,
        vm_address_pool=args.vm_address_pool,
        pki_dir=args.pki_dir,
        lro_polls=args.lro_polls,
        latency=args.latency,
        azurite=getattr(args, "azurite", False),
    )
    # A changed port would make azure-cli-core's metadata cache stale: drop it.
    (world.state_dir / "azure-config" / "cloudEndpoints.json").unlink(missing_ok=True)
    (world.state_dir / "azure-config").mkdir(exist_ok=True)
    env = env_lines(world, arm, server.base_url)
    world.write_json("env.json", env, mode=0o600)
    text = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
    env_path = world.state_dir / "env"
    tmp = env_path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, env_path)
    stop = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    world.write_json(
        "sandbox.json",
        {
            "port": server.port,
            "pid": os.getpid(),
            "url": server.base_url,
            "control_url": f"{server.base_url}/_sandbox",
            "started": time.time(),
            "guest_host": type(arm.guests).__name__ if arm.guests else None,
        },
        mode=0o644,
    )
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        if arm.guests:
            with world.lock:
                arm.guests.close()
        with world.lock:
            arm.save()
            if world.blob is not None:
                world.blob.stop()
        info = world.read_json("sandbox.json") or {}
        if info.get("pid") == os.getpid():
            info["pid"] = None
            world.write_json("sandbox.json", info, mode=0o644)
    return 0
