"""The ARM emulator's engine: routing, resource store, long-running operations, faults, the
request log and persistence. Resource-type behaviour lives in sandbox.arm.types_*.

Everything runs with ``World.lock`` held, so handlers are plain code without their own locking.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import random
import re
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from sandbox.arm import auth, catalog
from sandbox.arm.errors import ArmError, Unmodelled
from sandbox.arm.redact import redact, redact_run_command
from sandbox.guest_api import GuestHost, NotModelled
from sandbox.world import World

STATE_FILE = "arm-state.json"
REQUEST_LOG_FILE = "requests.jsonl"
MAX_LOG = 50_000

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


def utcnow() -> str:
    """ISO 8601 UTC timestamp with 7 fractional digits, as ARM prints them."""
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}0+00:00"


def etag() -> str:
    return f'W/"{uuid.uuid4()}"'


@dataclass
class Request:
    """One HTTP request, parsed."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    raw_body: bytes
    base_url: str  # https://127.0.0.1:<port>
    body: Any = None
    segments: list[str] = field(default_factory=list)

    @property
    def api_version(self) -> str | None:
        return self.query.get("api-version")


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-able, or bytes, or None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class TypeSpec:
    """How the emulator treats one resource type."""

    type_name: str  # "Microsoft.Network/virtualNetworks/subnets"
    # api-version -> {method: schema key or None}; methods listed are the only ones accepted.
    api_versions: dict[str, dict[str, str | None]]
    handler: Any  # object with build/check_delete/on_deleted/actions
    put_lro: bool = True
    delete_lro: bool = True
    tracked: bool = True  # a top-level tracked resource (listed by GET {RG}/resources)
    creating_state: str = "Creating"
    updating_state: str = "Updating"

    @property
    def key(self) -> str:
        return self.type_name.lower()

    @property
    def provider(self) -> str:
        return self.type_name.split("/", 1)[0]

    @property
    def parent_key(self) -> str | None:
        parts = self.type_name.split("/")
        return "/".join(parts[:-1]).lower() if len(parts) > 2 else None


class Arm:
    """The emulator. Implements sandbox.guest_api.ArmCallbacks for the Windows side."""

    def __init__(
        self,
        world: World,
        guests: GuestHost | None = None,
        *,
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
        self.lro_polls = lro_polls
        self.retry_after_ms = retry_after_ms
        self.pool = ipaddress.ip_network(vm_address_pool, strict=False)
        self.latency = latency
        self.probe_bind = probe_bind
        self.auto_complete_s = auto_complete_s
        self.types: dict[str, TypeSpec] = {}
        self.resources: dict[str, dict[str, Any]] = {}
        self.internal: dict[str, dict[str, Any]] = {}
        self.ops: dict[str, dict[str, Any]] = {}
        self.faults: list[dict[str, Any]] = []
        self.unmodelled: list[dict[str, Any]] = []
        self.request_log: list[dict[str, Any]] = []
        self.image_state_override: dict[str, str] = {}  # lower vm id -> ImageState (control shortcut)
        # Secrets that must never be persisted: admin passwords of VMs still being created.
        self._volatile: dict[str, dict[str, Any]] = {}
        creds_doc = world.read_json("credentials.json")
        if creds_doc:
            self.creds = auth.Credentials(**creds_doc)
        else:
            self.creds = auth.Credentials.generate()
            world.write_json("credentials.json", self.creds.to_dict(), mode=0o600)
        self.authority = auth.Authority(self.creds)
        from sandbox.arm import types_compute, types_gallery, types_network, types_resources

        for module in (types_resources, types_network, types_compute, types_gallery):
            for spec in module.specs(self):
                self.types[spec.key] = spec
        self._load()

    # ----------------------------------------------------------------------------------------------
    # persistence
    def _load(self) -> None:
        doc = self.world.read_json(STATE_FILE)
        if not doc:
            return
        self.resources = doc.get("resources", {})
        self.internal = doc.get("internal", {})
        self.ops = doc.get("ops", {})
        self.faults = doc.get("faults", [])
        self.unmodelled = doc.get("unmodelled", [])
        self.image_state_override = doc.get("image_state_override", {})
        self.authority.tokens = doc.get("token_digests", {})
        log_path = self.world.state_dir / REQUEST_LOG_FILE
        if log_path.exists():
            entries = []
            with log_path.open(encoding="utf-8") as fh:
                for line in fh:
                    try:
                        entries.append(json.loads(line))
                    except ValueError:
                        continue  # a line cut short by a crash: the log is informative, not state
            self.request_log = entries[-MAX_LOG:]

    def save(self) -> None:
        """Write the state atomically (no secrets: passwords are never stored)."""
        self.world.write_json(
            STATE_FILE,
            {
                "resources": self.resources,
                "internal": self.internal,
                "ops": self.ops,
                "faults": self.faults,
                "unmodelled": self.unmodelled,
                "image_state_override": self.image_state_override,
                "token_digests": self.authority.tokens,
            },
        )

    def reannounce(self) -> None:
        """After a restart: tell the guest side every VM's address and power state again."""
        if not self.guests:
            return
        for lid, res in self.resources.items():
            if res.get("type") != "Microsoft.Compute/virtualMachines":
                continue
            meta = self.internal.get(lid, {})
            if not meta.get("guest_created"):
                continue
            self.guests.vm_address(lid, self.vm_public_address(lid))
            self.guests.vm_power(lid, meta.get("power", "running"))

    def reset(self) -> None:
        """Empty everything (guests included)."""
        if self.guests:
            guest_reset = getattr(self.guests, "reset", None)
            if guest_reset is not None:
                guest_reset()
            else:
                for lid, res in list(self.resources.items()):
                    if res.get("type") == "Microsoft.Compute/virtualMachines" and self.internal.get(
                        lid, {}
                    ).get("guest_created"):
                        self.guests.vm_deleted(lid)
        self.resources.clear()
        self.internal.clear()
        self.ops.clear()
        self.faults.clear()
        self.unmodelled.clear()
        self.request_log.clear()
        self.image_state_override.clear()
        self._volatile.clear()
        (self.world.state_dir / REQUEST_LOG_FILE).unlink(missing_ok=True)
        self.save()

    # ----------------------------------------------------------------------------------------------
    # ids and lookups
    @property
    def sub(self) -> str:
        return self.creds.subscription_id

    def rg_id(self, rg: str) -> str:
        return f"/subscriptions/{self.sub}/resourceGroups/{rg}"

    def get(self, rid: str | None) -> dict[str, Any] | None:
        return self.resources.get(rid.lower()) if rid else None

    def meta(self, rid: str) -> dict[str, Any]:
        return self.internal.setdefault(rid.lower(), {})

    def rg_of(self, rid: str) -> str:
        return rid.split("/")[4]

    def children(self, rid: str) -> list[dict[str, Any]]:
        """Direct nested resources of `rid` (subnets of a VNet, versions of an image...)."""
        prefix = rid.lower() + "/"
        out = []
        for lid, res in self.resources.items():
            if lid.startswith(prefix) and lid.count("/") == prefix.count("/") + 1:
                out.append(res)
        return out

    def in_rg(self, rg: str) -> list[dict[str, Any]]:
        prefix = self.rg_id(rg).lower() + "/providers/"
        return [r for lid, r in self.resources.items() if lid.startswith(prefix)]

    def store(self, res: dict[str, Any]) -> None:
        self.resources[res["id"].lower()] = res

    def remove(self, rid: str) -> None:
        self.resources.pop(rid.lower(), None)
        self.internal.pop(rid.lower(), None)

    def check_location(self, location: Any, target: str = "location") -> str:
        """A known Azure region name (normalised like ARM: lower-case, no spaces)."""
        if not isinstance(location, str) or not location:
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        norm = location.replace(" ", "").lower()
        if norm not in catalog.LOCATIONS:
            raise ArmError(
                400,
                "LocationNotAvailableForResourceType",
                f"The provided location '{location}' is not available for resource type. List of available "
                f"regions is '{','.join(catalog.LOCATIONS)}'.",
                target=target,
            )
        return norm

    def ref(self, value: Any, want_type: str, by: str, target: str) -> dict[str, Any]:
        """The resource a `{"id": ...}` reference points to, or 400 InvalidResourceReference."""
        rid = value.get("id") if isinstance(value, dict) else None
        res = self.get(rid) if isinstance(rid, str) else None
        if res is None or res["type"].lower() != want_type.lower():
            raise ArmError(
                400,
                "InvalidResourceReference",
                f"Resource {rid} referenced by resource {by} was not found. Please make sure that the "
                "referenced resource exists, and that both resources are in the same region.",
                target=target,
            )
        return res

    # ----------------------------------------------------------------------------------------------
    # public IP pool
    def allocate_address(self) -> str:
        """The next free loopback address of the pool that can be bound on port 5986."""
        used = {m.get("address") for m in self.internal.values() if m.get("address")}
        hosts = list(self.pool.hosts()) if self.pool.num_addresses > 2 else list(self.pool)
        for host in hosts:
            addr = str(host)
            if addr == "127.0.0.1" or int(host) - int(self.pool.network_address) < 2 or addr in used:
                continue
            if self.probe_bind and not _can_bind(addr, 5986):
                continue
            return addr
        raise ArmError(
            409,
            "PublicIPCountLimitReached",
            f"Cannot create more public IP addresses: the sandbox address pool {self.pool} is exhausted.",
        )

    def vm_public_address(self, vm_lid: str) -> str | None:
        """The public IP address of a VM's primary NIC's primary ip configuration, if any."""
        vm = self.resources.get(vm_lid.lower())
        if not vm:
            return None
        for nic_ref in vm["properties"].get("networkProfile", {}).get("networkInterfaces", []):
            nic = self.get(nic_ref.get("id"))
            if not nic:
                continue
            for ipc in nic["properties"].get("ipConfigurations", []):
                pip = self.get((ipc["properties"].get("publicIPAddress") or {}).get("id"))
                address = self.internal.get(pip["id"].lower(), {}).get("address") if pip else None
                if address:
                    return address
        return None

    def notify_address(self, vm_lid: str | None) -> None:
        if vm_lid and self.guests and self.internal.get(vm_lid.lower(), {}).get("guest_created"):
            self.guests.vm_address(vm_lid.lower(), self.vm_public_address(vm_lid))

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
        from sandbox.arm.nsgeval import inbound_allowed

        return inbound_allowed(self, vm_id.lower(), source_address, port)

    # ----------------------------------------------------------------------------------------------
    # long-running operations
    def start_op(
        self,
        req: Request,
        provider: str,
        location: str,
        kind: str,
        rid: str,
        *,
        action: str | None = None,
        args: dict[str, Any] | None = None,
        location_only: bool = False,
    ) -> tuple[str, dict[str, str]]:
        """Register an operation and return (op id, headers to send)."""
        opid = str(uuid.uuid4())
        delay = (
            self.latency(f"{kind}:{action or ''}:{rid.split('/')[-2] if '/' in rid else rid}")
            if self.latency
            else 0
        )
        op = {
            "id": opid,
            "kind": kind,  # put | delete | action | rgdelete
            "rid": rid,
            "action": action,
            "args": args or {},
            "status": "InProgress",
            "polls_left": self.lro_polls,
            "ready_at": time.time() + delay,
            "started": utcnow(),
            "started_ts": time.time(),
            "provider": provider,
            "location": location,
            "api_version": req.api_version,
            "fail": None,
        }
        fault = self.take_fault(req, "lro_failed")
        if fault:
            op["fail"] = {
                "code": fault.get("code") or "InternalExecutionError",
                "message": fault.get("message") or "An internal execution error occurred (injected fault).",
            }
        self.ops[opid] = op
        base = f"{req.base_url}/subscriptions/{self.sub}/providers/{provider}/locations/{location}"
        api = quote(req.api_version or "")
        headers = {
            "Retry-After-Ms": str(self.retry_after_ms),
            "x-ms-retry-after-ms": str(self.retry_after_ms),
        }
        if location_only:
            headers["Location"] = (
                f"{req.base_url}/subscriptions/{self.sub}/operationresults/{opid}?api-version={api}"
            )
        else:
            headers["Azure-AsyncOperation"] = f"{base}/operations/{opid}?api-version={api}"
            if kind != "put":
                headers["Location"] = f"{base}/operationResults/{opid}?api-version={api}"
        return opid, headers

    def pending_op_for(self, rid: str) -> dict[str, Any] | None:
        lid = rid.lower()
        for op in self.ops.values():
            if op["status"] == "InProgress" and op["rid"].lower() == lid:
                return op
        return None

    def observe(self, op: dict[str, Any]) -> None:
        """One poll (or GET of the resource): count down and complete when due."""
        if op["status"] != "InProgress":
            return
        if op["polls_left"] > 0 and not self._settled(op):
            op["polls_left"] -= 1
            return
        if time.time() < op["ready_at"]:
            return
        self.complete(op)

    def _settled(self, op: dict[str, Any]) -> bool:
        """An operation nobody polls still finishes, like in Azure, after a short while."""
        return time.time() >= op.get("started_ts", 0) + self.auto_complete_s and time.time() >= op["ready_at"]

    def tick(self) -> None:
        """Finish unpolled operations whose time has come; forget old finished ones."""
        changed = False
        for op in list(self.ops.values()):
            if op["status"] == "InProgress" and self._settled(op):
                self.complete(op)
                changed = True
        if len(self.ops) > 2000:
            done = sorted(
                (o for o in self.ops.values() if o["status"] != "InProgress"),
                key=lambda o: o.get("started_ts", 0),
            )
            for o in done[: len(self.ops) - 1000]:
                self.ops.pop(o["id"], None)
        if changed:
            self.save()

    def complete(self, op: dict[str, Any]) -> None:
        """Apply the operation's effect (or its injected failure)."""
        from sandbox.arm import lro_effects

        try:
            if op["fail"]:
                lro_effects.fail(self, op)
                op["status"] = "Failed"
            else:
                op["result"] = lro_effects.succeed(self, op)
                op["status"] = "Succeeded"
        except ArmError as exc:
            op["status"] = "Failed"
            op["fail"] = {"code": exc.code, "message": exc.message}
        op["ended"] = utcnow()
        self.save()

    def op_status(self, req: Request, opid: str, kind: str) -> Response:
        op = self.ops.get(opid)
        if op is None:
            raise ArmError(404, "NotFound", f"The operation '{opid}' was not found.")
        self.observe(op)
        # With the latency model on, ask clients to poll less often while the operation runs.
        wait = max(self.retry_after_ms, min(10_000, int((op["ready_at"] - time.time()) * 250)))
        headers = {"Retry-After-Ms": str(wait), "x-ms-retry-after-ms": str(wait)}
        if kind == "status":
            doc: dict[str, Any] = {
                "name": opid,
                "status": op["status"],
                "startTime": op["started"],
            }
            if op["status"] != "InProgress":
                doc["endTime"] = op.get("ended")
            if op["status"] == "Failed":
                doc["error"] = op["fail"]
            elif op["status"] == "Succeeded" and op.get("result") is not None and op["kind"] == "action":
                doc["properties"] = {"output": op["result"]}
            return Response(200, doc, headers if op["status"] == "InProgress" else {})
        # Location polling: 202 while running; then the final answer.
        if op["status"] == "InProgress":
            return Response(202, None, {**headers, "Location": f"{req.base_url}{req.path}?{_qs(req.query)}"})
        if op["status"] == "Failed":
            raise ArmError(400 if op["kind"] != "delete" else 409, op["fail"]["code"], op["fail"]["message"])
        if op["kind"] == "put":
            res = self.get(op["rid"])
            return Response(200, self.render(res) if res else None)
        if op.get("result") is not None:
            return Response(200, op["result"])
        return Response(200 if op["kind"] == "rgdelete" else 204, None)

    # ----------------------------------------------------------------------------------------------
    # faults
    def add_fault(self, spec: dict[str, Any]) -> dict[str, Any]:
        target = spec.get("target", "arm")
        if target == "winrm":
            if not self.guests:
                raise Unmodelled(
                    "winrm faults need the Windows side (sandbox.windows.host) which is not installed"
                )
            try:
                self.guests.inject_fault(spec)
            except ValueError as exc:
                raise ArmError(400, "InvalidFault", str(exc)) from exc
            return spec
        if target != "arm":
            raise ArmError(400, "InvalidFault", f"Unknown fault target '{target}' (arm | winrm).")
        kind = spec.get("kind")
        if kind not in ("throttle", "server_error", "lro_failed", "delay"):
            raise ArmError(
                400, "InvalidFault", f"Unknown fault kind '{kind}' (throttle|server_error|lro_failed|delay)."
            )
        try:
            re.compile(spec.get("path", ".*"))
        except re.error as exc:
            raise ArmError(400, "InvalidFault", f"Bad path regex: {exc}") from exc
        fault = {
            "target": "arm",
            "kind": kind,
            "method": (spec.get("method") or "*").upper(),
            "path": spec.get("path", ".*"),
            "count": int(spec.get("count", 1)),
            "retry_after": spec.get("retry_after", 1),
            "delay_ms": int(spec.get("delay_ms", 0)),
            "code": spec.get("code"),
            "message": spec.get("message"),
            "status": int(spec.get("status", 500 if kind == "server_error" else 429)),
            "hits": 0,
        }
        self.faults.append(fault)
        return fault

    def take_fault(self, req: Request, kind: str) -> dict[str, Any] | None:
        """Consume one matching fault of `kind` for this request, if any."""
        for f in self.faults:
            if f["kind"] != kind or f["count"] <= 0:
                continue
            if f["method"] not in ("*", req.method):
                continue
            if not re.search(f["path"], req.path, re.I):
                continue
            f["count"] -= 1
            f["hits"] += 1
            return f
        return None

    # ----------------------------------------------------------------------------------------------
    # rendering
    def render(self, res: dict[str, Any] | None) -> dict[str, Any] | None:
        """A resource as ARM returns it (internal bookkeeping stripped)."""
        if res is None:
            return None
        out = json.loads(json.dumps(res))
        spec = self.types.get(out.get("type", "").lower())
        if spec is not None and hasattr(spec.handler, "render"):
            out = spec.handler.render(self, out)
        return out

    # ----------------------------------------------------------------------------------------------
    # request log
    def log(self, req: Request, status: int, error: ArmError | None = None) -> None:
        if req.segments[:1] == ["_sandbox"] and req.method == "GET":
            return  # reading the log must not grow it
        body: Any
        if req.raw_body and req.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            from urllib.parse import parse_qs

            body = redact({k: v[0] for k, v in parse_qs(req.raw_body.decode("utf-8", "replace")).items()})
        elif req.body is not None:
            body = (
                redact_run_command(req.body) if req.path.lower().endswith("/runcommand") else redact(req.body)
            )
        else:
            body = None
        entry = {
            "time": utcnow(),
            "method": req.method,
            "path": req.path,
            "query": {k: v for k, v in req.query.items()},
            "status": status,
            "body": body,
        }
        if error is not None:
            entry["error"] = error.code
        self.request_log.append(entry)
        if len(self.request_log) > MAX_LOG:
            del self.request_log[: len(self.request_log) - MAX_LOG]
        with (self.world.state_dir / REQUEST_LOG_FILE).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, sort_keys=True) + "\n")

    def record_unmodelled(self, req: Request, message: str) -> None:
        self.unmodelled.append(
            {
                "time": utcnow(),
                "method": req.method,
                "path": req.path,
                "query": dict(req.query),
                "message": message,
            }
        )

    # ----------------------------------------------------------------------------------------------
    # dispatch
    def handle(self, req: Request) -> Response:
        """Answer one request (called with the world lock held)."""
        req.segments = [s for s in req.path.split("/") if s]
        try:
            if req.segments[:1] != ["_sandbox"]:
                self.tick()
            resp = self._dispatch(req)
            self.log(req, resp.status)
            return resp
        except NotModelled as exc:
            err = Unmodelled(str(exc))
            self.record_unmodelled(req, str(exc))
            self.log(req, err.status, err)
            self._save_quietly()
            return _error_response(err)
        except ArmError as exc:
            if isinstance(exc, Unmodelled):
                self.record_unmodelled(req, exc.message)
                self._save_quietly()
            self.log(req, exc.status, exc)
            return _error_response(exc)
        except Exception as exc:  # a sandbox bug: answer loudly, keep a trace, make tests fail
            import traceback

            traceback.print_exc()
            message = f"sandbox internal error ({type(exc).__name__}: {exc}); see sandbox.log"
            err = ArmError(500, "SandboxInternalError", message)
            self.record_unmodelled(req, message)
            self.log(req, err.status, err)
            return _error_response(err)

    def _save_quietly(self) -> None:
        self.save()

    def _dispatch(self, req: Request) -> Response:
        from sandbox.arm import control, routes

        segs = req.segments
        low = [s.lower() for s in segs]
        if low[:1] == ["_sandbox"]:
            return control.handle(self, req)
        if low[:2] == ["metadata", "endpoints"] and req.method == "GET":
            if req.api_version not in ("2022-09-01", "2020-06-01", "2019-05-01"):
                raise Unmodelled(f"metadata/endpoints api-version '{req.api_version}' is not modelled")
            return Response(200, auth.cloud_metadata(req.base_url))
        if (
            len(segs) == 4
            and low[1:] == ["v2.0", ".well-known", "openid-configuration"]
            and req.method == "GET"
        ):
            return Response(200, self.authority.openid_configuration(req.base_url, segs[0]))
        if len(segs) == 3 and low[1:] == ["oauth2", "v2.0"]:
            pass
        if len(segs) == 4 and low[1:] == ["oauth2", "v2.0", "token"] and req.method == "POST":
            audience = req.base_url
            return Response(200, self.authority.token(segs[0], req.raw_body, audience))
        if low[:1] == ["subscriptions"]:
            self.authority.check(req.headers.get("authorization"))
            fault = self.take_fault(req, "delay")
            if fault:
                time.sleep(min(fault["delay_ms"], 60_000) / 1000.0)
            fault = self.take_fault(req, "throttle")
            if fault:
                raise ArmError(
                    fault["status"] if fault["status"] == 429 else 429,
                    fault.get("code") or "TooManyRequests",
                    fault.get("message") or "The request is being throttled (injected fault).",
                    headers={"Retry-After": str(fault["retry_after"])},
                )
            fault = self.take_fault(req, "server_error")
            if fault:
                raise ArmError(
                    fault["status"],
                    fault.get("code") or "InternalServerError",
                    fault.get("message") or "Encountered internal server error (injected fault).",
                )
            unknown_q = [k for k in req.query if k.lower() not in KNOWN_QUERY]
            if unknown_q:
                raise Unmodelled(
                    f"query parameter(s) {', '.join(unknown_q)} not modelled on {req.method} {req.path}"
                )
            resp = routes.dispatch(self, req)
            if req.method in ("PUT", "POST", "DELETE", "PATCH"):
                self.save()
            return resp
        raise Unmodelled(f"route {req.method} {req.path} is not modelled")


def _qs(query: dict[str, str]) -> str:
    return "&".join(f"{quote(k)}={quote(v)}" for k, v in query.items())


def _error_response(err: ArmError) -> Response:
    body = getattr(err, "aad", None) or err.body()
    headers = dict(err.headers)
    headers["x-ms-failure-cause"] = "gateway" if err.status in (401, 501) else "service"
    return Response(err.status, body, headers)


def _can_bind(addr: str, port: int) -> bool:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((addr, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def new_mac() -> str:
    return "00-0D-3A-" + "-".join(f"{random.randint(0, 255):02X}" for _ in range(3))  # noqa: S311
