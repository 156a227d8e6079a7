"""The ARM emulator's engine: one ``Arm`` object composing the store, the address pool, the
long-running operations, the faults and the request log, and the entry point for a request.

It knows no resource type: the providers (sandbox.arm.types_*) hand it their handlers through a
``Registry``, which sandbox.arm.app builds. Everything runs with ``World.lock`` held, so handlers
are plain code without their own locking.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from typing import Any

from sandbox.arm import auth, control, nsgeval, rbac, routes, tenancy, topology
from sandbox.arm.addresses import AddressPool
from sandbox.arm.errors import ArmError, SandboxInternalError, Unmodelled, invalid_fault, missing_api_version
from sandbox.arm.faults import FaultTable
from sandbox.arm.handlers import Registry, TypeSpec
from sandbox.arm.lro import Operations
from sandbox.arm.requestlog import RequestLog
from sandbox.arm.store import Store, check_location, load_state, save_state
from sandbox.arm.throttling import Throttling
from sandbox.arm.values import Request, Response
from sandbox.guest_api import GuestHost, NotModelled
from sandbox.world import World

# Query parameters ARM accepts on the routes we model (anything else answers 501).
KNOWN_QUERY = {
    "api-version",
    "$expand",
    "$filter",
    "$top",
    "$skiptoken",
    "forcedeletiontypes",
    "forcedeletion",
    "skipshutdown",
    "p",
    "c",
    "t",
    "s",
    "h",
}
METADATA_API_VERSIONS = ("2022-09-01", "2020-06-01", "2019-05-01")

Resource = dict[str, Any]


class Arm:
    """The emulator. Implements sandbox.guest_api.ArmCallbacks for the Windows side."""

    def __init__(
        self,
        world: World,
        guests: GuestHost | None = None,
        *,
        registry: Registry,
        lro_polls: int = 1,
        retry_after_ms: int = 20,
        vm_address_pool: str = "127.0.0.0/24",
        latency: Callable[[str], float] | None = None,
        probe_bind: bool = True,
        auto_complete_s: float = 3.0,
    ):
        self.world = world
        self.lock = world.lock
        self.guests = guests
        self.registry = registry
        self.types: dict[str, TypeSpec] = registry.types
        self.pool = AddressPool(vm_address_pool, probe_bind)
        self.operations = Operations(
            self,
            lro_polls=lro_polls,
            retry_after_ms=retry_after_ms,
            latency=latency,
            auto_complete_s=auto_complete_s,
        )
        self.fault_table = FaultTable()
        self.throttling = Throttling()
        self.requests = RequestLog(world.state_dir)
        self.image_state_override: dict[str, str] = {}  # lower vm id -> ImageState (control shortcut)
        # Secrets that must never be persisted: admin passwords of VMs still being created.
        self._volatile: dict[str, dict[str, Any]] = {}
        self.creds = _credentials(world)
        self.authority = auth.Authority(self.creds)
        self.rbac = rbac.Rbac(self)
        self.resource_store = Store(self.creds.subscription_id)
        self._load()

    # ----------------------------------------------------------------------------------------------
    # persistence
    def _load(self) -> None:
        doc = load_state(self.world)
        if not doc:
            return
        self.resource_store.resources = doc.get("resources", {})
        self.resource_store.internal = doc.get("internal", {})
        self.operations.ops = doc.get("ops", {})
        self.fault_table.faults = doc.get("faults", [])
        self.requests.unmodelled = doc.get("unmodelled", [])
        self.image_state_override = doc.get("image_state_override", {})
        self.authority.tokens = doc.get("token_digests", {})
        self.authority.clients = doc.get("client_secret_digests", {})
        self.rbac.load(doc.get("rbac", {}))
        self.requests.load()

    def save(self) -> None:
        """Write the state atomically (no secrets: passwords are never stored)."""
        save_state(
            self.world,
            {
                "resources": self.resources,
                "internal": self.internal,
                "ops": self.ops,
                "faults": self.faults,
                "unmodelled": self.unmodelled,
                "image_state_override": self.image_state_override,
                "token_digests": self.authority.tokens,
                "client_secret_digests": self.authority.clients,
                "rbac": self.rbac.dump(),
            },
        )

    def reannounce(self) -> None:
        """After a restart: tell the guest side every VM's address and power state again."""
        for res in list(self.resources.values()):
            spec = self.types.get(res.get("type", "").lower())
            if spec is not None:
                spec.handler.on_restart(self, res)

    def reset(self) -> None:
        """Empty everything (guests included)."""
        if self.guests:
            self.guests.reset()
        if self.world.blob is not None:
            self.world.blob.reset()
        self.resource_store.clear()
        self.ops.clear()
        self.faults.clear()
        self.requests.clear()
        self.image_state_override.clear()
        self._volatile.clear()
        self.rbac.clear()
        self.authority.clients.clear()
        self.throttling.configure({})
        self.save()

    # ----------------------------------------------------------------------------------------------
    # the store, for handlers
    @property
    def sub(self) -> str:
        return self.creds.subscription_id

    @property
    def resources(self) -> dict[str, Resource]:
        return self.resource_store.resources

    @property
    def internal(self) -> dict[str, dict[str, Any]]:
        return self.resource_store.internal

    def rg_id(self, rg: str) -> str:
        return self.resource_store.rg_id(rg)

    def rg_of(self, rid: str) -> str:
        return self.resource_store.rg_of(rid)

    def get(self, rid: str | None) -> Resource | None:
        return self.resource_store.get(rid)

    def meta(self, rid: str) -> dict[str, Any]:
        return self.resource_store.meta(rid)

    def children(self, rid: str) -> list[Resource]:
        return self.resource_store.children(rid)

    def in_rg(self, rg: str) -> list[Resource]:
        return self.resource_store.in_rg(rg)

    def store(self, res: Resource) -> None:
        self.resource_store.put(res)

    def remove(self, rid: str) -> None:
        self.resource_store.remove(rid)

    def ref(self, value: Any, want_type: str, by: str, target: str) -> Resource:
        return self.resource_store.ref(value, want_type, by, target)

    def check_location(self, location: Any, target: str = "location") -> str:
        return check_location(location, target)

    def render(self, res: Resource | None) -> Resource | None:
        """A resource as ARM returns it (a copy, with computed back-references)."""
        if res is None:
            return None
        out = json.loads(json.dumps(res))
        spec = self.types.get(out.get("type", "").lower())
        return spec.handler.render(self, out) if spec is not None else out

    # ----------------------------------------------------------------------------------------------
    # public IP addresses
    @property
    def probe_bind(self) -> bool:
        """Whether the pool skips addresses that cannot be bound on the WinRM port."""
        return self.pool.probe_bind

    @probe_bind.setter
    def probe_bind(self, value: bool) -> None:
        self.pool.probe_bind = value

    def allocate_address(self) -> str:
        return self.pool.allocate(m["address"] for m in self.internal.values() if m.get("address"))

    def vm_public_address(self, vm_lid: str) -> str | None:
        return topology.vm_public_address(self, vm_lid)

    def notify_address(self, vm_lid: str | None) -> None:
        if vm_lid and self.guests and self.internal.get(vm_lid.lower(), {}).get("guest_created"):
            self.guests.vm_address(vm_lid.lower(), self.vm_public_address(vm_lid))

    # ----------------------------------------------------------------------------------------------
    # long-running operations
    @property
    def ops(self) -> dict[str, dict[str, Any]]:
        return self.operations.ops

    def start_op(
        self, req: Request, provider: str, location: str, kind: str, rid: str, **kw: Any
    ) -> tuple[str, dict[str, str]]:
        """Register an operation (see Operations.start) and return (op id, headers to send)."""
        return self.operations.start(req, provider, location, kind, rid, **kw)

    def pending_op_for(self, rid: str) -> dict[str, Any] | None:
        return self.operations.pending_for(rid)

    def observe(self, op: dict[str, Any]) -> None:
        self.operations.observe(op)

    def op_status(self, req: Request, opid: str, kind: str) -> Response:
        return self.operations.status(req, opid, kind)

    # ----------------------------------------------------------------------------------------------
    # faults and the request log
    @property
    def faults(self) -> list[dict[str, Any]]:
        return self.fault_table.faults

    def add_fault(self, spec: dict[str, Any]) -> dict[str, Any]:
        target = spec.get("target", "arm")
        if target == "arm":
            return self.fault_table.add(spec)
        if target != "winrm":
            raise invalid_fault(f"Unknown fault target '{target}' (arm | winrm).")
        if not self.guests:
            raise Unmodelled(
                "winrm faults need the Windows side (sandbox.windows.host) which is not installed"
            )
        try:
            self.guests.inject_fault(spec)
        except ValueError as exc:
            raise invalid_fault(str(exc)) from exc
        return spec

    def clear_faults(self) -> None:
        self.faults.clear()
        if self.guests:
            self.guests.clear_faults()

    @property
    def request_log(self) -> list[dict[str, Any]]:
        return self.requests.entries

    @property
    def unmodelled(self) -> list[dict[str, Any]]:
        return self.requests.unmodelled

    # ----------------------------------------------------------------------------------------------
    # ArmCallbacks
    def guest_shutdown(self, vm_id: str) -> None:
        """The guest shut itself down (sysprep /shutdown): PowerState/stopped."""
        lid = vm_id.lower()
        if lid not in self.resources:
            return
        self.meta(lid)["power"] = "stopped"
        if self.guests:
            self.guests.vm_power(lid, "stopped")
        self.save()

    def winrm_allowed(self, vm_id: str, source_address: str, port: int) -> bool:
        return nsgeval.inbound_allowed(self, vm_id.lower(), source_address, port)

    # ----------------------------------------------------------------------------------------------
    # dispatch
    def handle(self, req: Request) -> Response:
        """Answer one request (called with the world lock held)."""
        req.segments = [s for s in req.path.split("/") if s]
        try:
            if req.segments[:1] != ["_sandbox"]:
                self.operations.tick()
            resp = self._dispatch(req)
            self.requests.log(req, resp.status)
            return resp
        except NotModelled as exc:
            return self._refuse(req, Unmodelled(str(exc)))
        except ArmError as exc:
            return self._refuse(req, exc)
        except Exception as exc:  # a sandbox bug: answer loudly, keep a trace, make tests fail
            traceback.print_exc()
            return self._refuse(
                req,
                SandboxInternalError(
                    f"sandbox internal error ({type(exc).__name__}: {exc}); see sandbox.log"
                ),
            )

    def _refuse(self, req: Request, err: ArmError) -> Response:
        """Log the error answer (and record it when the sandbox is at fault)."""
        if isinstance(err, (Unmodelled, SandboxInternalError)):
            self.requests.record_unmodelled(req, err.message)
        self.requests.log(req, err.status, err)
        if isinstance(err, Unmodelled):
            self.save()
        headers = dict(err.headers)
        headers["x-ms-failure-cause"] = "gateway" if err.status in (401, 501) else "service"
        return Response(err.status, err.body(), headers)

    def _dispatch(self, req: Request) -> Response:
        segs = req.segments
        low = [s.lower() for s in segs]
        if low[:1] == ["_sandbox"]:
            return control.handle(self, req)
        if low[:2] == ["metadata", "endpoints"] and req.method == "GET":
            if req.api_version not in METADATA_API_VERSIONS:
                raise Unmodelled(f"metadata/endpoints api-version '{req.api_version}' is not modelled")
            return Response(200, auth.cloud_metadata(req.base_url))
        if (
            len(segs) == 4
            and low[1:] == ["v2.0", ".well-known", "openid-configuration"]
            and req.method == "GET"
        ):
            return Response(200, self.authority.openid_configuration(req.base_url, segs[0]))
        if len(segs) == 4 and low[1:] == ["oauth2", "v2.0", "token"] and req.method == "POST":
            return Response(200, self.authority.token(segs[0], req.raw_body, req.base_url))
        if low == ["tenants"]:
            self.authority.check(req.headers.get("authorization"))
            if not req.api_version:
                raise missing_api_version()
            return tenancy.list_tenants(self, req)
        if low[:1] == ["subscriptions"]:
            return self._arm_request(req)
        raise Unmodelled(f"route {req.method} {req.path} is not modelled")

    def _arm_request(self, req: Request) -> Response:
        """/subscriptions/...: authenticated, faults applied, authorized (RBAC), then routed."""
        client_id = self.authority.check(req.headers.get("authorization"))
        remaining = self.throttling.take(client_id, req.method)
        try:
            resp = self._authorized_request(req, client_id)
        except ArmError as exc:
            exc.headers = {**remaining, **exc.headers}
            raise
        resp.headers = {**remaining, **resp.headers}
        return resp

    def _authorized_request(self, req: Request, client_id: str) -> Response:
        fault = self.fault_table.take(req, "delay")
        if fault:
            time.sleep(min(fault["delay_ms"], 60_000) / 1000.0)
        injected = self.fault_table.request_error(req)
        if injected is not None:
            raise injected
        if not req.api_version:
            raise missing_api_version()
        unknown_q = [k for k in req.query if k.lower() not in KNOWN_QUERY]
        if unknown_q:
            raise Unmodelled(
                f"query parameter(s) {', '.join(unknown_q)} not modelled on {req.method} {req.path}"
            )
        req.body = routes.parse_body(req) if req.method in ("PUT", "PATCH", "POST") else None
        if len(req.segments) >= 2:  # ARM refuses a malformed or unknown subscription before RBAC
            tenancy.check_subscription(self, req.segments[1])
        role_route = rbac.route_of(req)
        req.action = self.rbac.authorize(req, client_id)
        resp = routes.dispatch(self, req) if role_route is None else rbac.handle(self, req, *role_route)
        if req.method in ("PUT", "POST", "DELETE", "PATCH"):
            self.save()
        return resp


def _credentials(world: World) -> auth.Credentials:
    """The service principal of this state dir (generated on first use, stored mode 600)."""
    doc = world.read_json("credentials.json")
    if doc:
        return auth.Credentials(**doc)
    creds = auth.Credentials.generate()
    world.write_json("credentials.json", creds.to_dict(), mode=0o600)
    return creds
