"""Long-running operations: ``Azure-AsyncOperation`` / ``Location`` headers, InProgress answers
before the end, completion (``lro_effects``) when the operation is polled or after a while."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sandbox.arm import errors, lro_effects
from sandbox.arm.values import Request, Response, utcnow

if TYPE_CHECKING:
    from sandbox.arm.core import Arm

Operation = dict[str, Any]
MAX_KEPT = 2000


class Operations:
    def __init__(
        self,
        arm: Arm,
        *,
        lro_polls: int,
        retry_after_ms: int,
        latency: Callable[[str], float] | None,
        auto_complete_s: float,
    ):
        self.arm = arm
        self.lro_polls = lro_polls
        self.retry_after_ms = retry_after_ms
        self.latency = latency
        self.auto_complete_s = auto_complete_s
        self.ops: dict[str, Operation] = {}

    def start(
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
        fail = self.arm.fault_table.lro_failure(req)
        delay = (
            self.latency(f"{kind}:{action or ''}:{rid.split('/')[-2] if '/' in rid else rid}")
            if self.latency
            else 0
        )
        self.ops[opid] = {
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
            "fail": fail,
            # replication_failed: the region the version's replication status shows Failed
            "failed_region": fail.pop("failed_region", None) if fail else None,
        }
        return opid, self._headers(req, provider, location, kind, opid, location_only)

    def _headers(
        self, req: Request, provider: str, location: str, kind: str, opid: str, location_only: bool
    ) -> dict[str, str]:
        sub = self.arm.sub
        base = f"{req.base_url}/subscriptions/{sub}/providers/{provider}/locations/{location}"
        api = quote(req.api_version or "")
        headers = {
            "Retry-After-Ms": str(self.retry_after_ms),
            "x-ms-retry-after-ms": str(self.retry_after_ms),
        }
        if location_only:
            headers["Location"] = (
                f"{req.base_url}/subscriptions/{sub}/operationresults/{opid}?api-version={api}"
            )
        else:
            headers["Azure-AsyncOperation"] = f"{base}/operations/{opid}?api-version={api}"
            if kind != "put":
                headers["Location"] = f"{base}/operationResults/{opid}?api-version={api}"
        return headers

    def pending_for(self, rid: str) -> Operation | None:
        lid = rid.lower()
        for op in self.ops.values():
            if op["status"] == "InProgress" and op["rid"].lower() == lid:
                return op
        return None

    def observe(self, op: Operation) -> None:
        """One poll (or GET of the resource): count down and complete when due."""
        if op["status"] != "InProgress":
            return
        if op["polls_left"] > 0 and not self._settled(op):
            op["polls_left"] -= 1
            return
        if time.time() < op["ready_at"]:
            return
        self.complete(op)

    def _settled(self, op: Operation) -> bool:
        """An operation nobody polls still finishes, like in Azure, after a short while."""
        return time.time() >= op.get("started_ts", 0) + self.auto_complete_s and time.time() >= op["ready_at"]

    def tick(self) -> None:
        """Finish unpolled operations whose time has come; forget old finished ones."""
        changed = False
        for op in list(self.ops.values()):
            if op["status"] == "InProgress" and self._settled(op):
                self.complete(op)
                changed = True
        if len(self.ops) > MAX_KEPT:
            done = sorted(
                (o for o in self.ops.values() if o["status"] != "InProgress"),
                key=lambda o: o.get("started_ts", 0),
            )
            for o in done[: len(self.ops) - MAX_KEPT // 2]:
                self.ops.pop(o["id"], None)
        if changed:
            self.arm.save()

    def complete(self, op: Operation) -> None:
        """Apply the operation's effect (or its injected failure)."""
        try:
            if op["fail"]:
                lro_effects.fail(self.arm, op)
                op["status"] = "Failed"
            else:
                op["result"] = lro_effects.succeed(self.arm, op)
                op["status"] = "Succeeded"
        except errors.ArmError as exc:
            op["status"] = "Failed"
            op["fail"] = {"code": exc.code, "message": exc.message}
        op["ended"] = utcnow()
        self.arm.save()

    def status(self, req: Request, opid: str, kind: str) -> Response:
        """GET of an operation: the status document (``kind`` status) or the Location answer."""
        op = self.ops.get(opid)
        if op is None:
            raise errors.NotFound("NotFound", f"The operation '{opid}' was not found.")
        self.observe(op)
        # With the latency model on, ask clients to poll less often while the operation runs.
        wait = max(self.retry_after_ms, min(10_000, int((op["ready_at"] - time.time()) * 250)))
        headers = {"Retry-After-Ms": str(wait), "x-ms-retry-after-ms": str(wait)}
        if kind == "status":
            return Response(200, _status_document(op), headers if op["status"] == "InProgress" else {})
        if op["status"] == "InProgress":
            return Response(202, None, {**headers, "Location": f"{req.base_url}{req.path}?{_qs(req.query)}"})
        return self._final_answer(op)

    def _final_answer(self, op: Operation) -> Response:
        """Location polling after the end: the operation's result, or its error."""
        if op["status"] == "Failed":
            raise errors.ArmError(
                400 if op["kind"] != "delete" else 409, op["fail"]["code"], op["fail"]["message"]
            )
        if op["kind"] == "put":
            res = self.arm.get(op["rid"])
            return Response(200, self.arm.render(res) if res else None)
        if op.get("result") is not None:
            return Response(200, op["result"])
        return Response(200 if op["kind"] == "rgdelete" else 204, None)


def _status_document(op: Operation) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": op["id"], "status": op["status"], "startTime": op["started"]}
    if op["status"] != "InProgress":
        doc["endTime"] = op.get("ended")
    if op["status"] == "Failed":
        doc["error"] = op["fail"]
    elif op["status"] == "Succeeded" and op.get("result") is not None and op["kind"] == "action":
        doc["properties"] = {"output": op["result"]}
    return doc


def _qs(query: dict[str, str]) -> str:
    return "&".join(f"{quote(k)}={quote(v)}" for k, v in query.items())
