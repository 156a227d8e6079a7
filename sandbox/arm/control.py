"""The control endpoint under /_sandbox/ (docs/contracts.md section 1). Loopback only, JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sandbox.arm import names
from sandbox.arm.errors import BadRequest, Conflict, InvalidRequestContent, NotFound, resource_group_not_found
from sandbox.arm.values import Request, Response

if TYPE_CHECKING:
    from sandbox.arm.core import Arm

IMAGE_STATES = (
    "IMAGE_STATE_COMPLETE",
    "IMAGE_STATE_UNDEPLOYABLE",
    "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE",
    "IMAGE_STATE_GENERALIZE_RESEAL_TO_AUDIT",
    "IMAGE_STATE_SPECIALIZE_RESEAL_TO_OOBE",
    "IMAGE_STATE_SPECIALIZE_RESEAL_TO_AUDIT",
)


def _json(req: Request) -> Any:
    if not req.raw_body:
        return {}
    try:
        return json.loads(req.raw_body)
    except ValueError as exc:
        raise InvalidRequestContent(f"Control body is not JSON: {exc}") from exc


def find_vm(arm: Arm, name: str) -> dict[str, Any]:
    """A VM by resource name (the control API addresses guests by name)."""
    matches = [
        r
        for r in arm.resources.values()
        if r["type"] == "Microsoft.Compute/virtualMachines" and r["name"].lower() == name.lower()
    ]
    if not matches:
        raise NotFound("ResourceNotFound", f"No virtual machine named '{name}'.")
    if len(matches) > 1:
        raise Conflict("Ambiguous", f"More than one virtual machine is named '{name}'.")
    return matches[0]


def state(arm: Arm) -> dict[str, Any]:
    guests = arm.guests.dump() if arm.guests else {}
    vms = {
        r["name"]: {
            "id": r["id"],
            "power": arm.internal.get(lid, {}).get("power"),
            "generalized": arm.internal.get(lid, {}).get("generalized", False),
            "public_ip": arm.vm_public_address(lid),
            "image_state_override": arm.image_state_override.get(lid),
        }
        for lid, r in arm.resources.items()
        if r["type"] == "Microsoft.Compute/virtualMachines"
    }
    return {
        "resources": {lid: arm.render(r) for lid, r in sorted(arm.resources.items())},
        "guests": guests,
        "vms": vms,
        "pending_operations": [
            {k: op[k] for k in ("id", "kind", "rid", "action", "status")}
            for op in arm.ops.values()
            if op["status"] == "InProgress"
        ],
    }


def seed(arm: Arm, type_name: str, body: Any) -> dict[str, Any]:
    """A resource that exists before any build (``{"resource_group", "name", ...}``), made by its
    type's ``seed`` hook in an existing resource group; an existing one is returned as it is."""
    if not isinstance(body, dict) or not all(
        isinstance(body.get(k), str) for k in ("resource_group", "name")
    ):
        raise BadRequest("InvalidSeed", "body must be {'resource_group': str, 'name': str, ...}")
    spec = arm.types[type_name.lower()]
    if arm.get(arm.rg_id(body["resource_group"])) is None:
        raise resource_group_not_found(body["resource_group"])
    names.check(spec.key, body["name"])
    rid = f"{arm.rg_id(body['resource_group'])}/providers/{type_name}/{body['name']}"
    existing = arm.get(rid)
    if existing is None:
        existing = spec.handler.seed(arm, rid, body)
        arm.store(existing)
        arm.save()
    rendered = arm.render(existing)
    assert rendered is not None
    return rendered


def handle(arm: Arm, req: Request) -> Response:
    segs = req.segments[1:]
    low = [s.lower() for s in segs]
    m = req.method
    if low == ["reset"] and m == "POST":
        arm.reset()
        return Response(200, {"reset": True})
    if low == ["state"] and m == "GET":
        return Response(200, state(arm))
    if low == ["requests"] and m == "GET":
        return Response(200, {"requests": arm.request_log})
    if low == ["unmodelled"] and m == "GET":
        guest_side = [{"source": "guest", **entry} for entry in (arm.guests.unmodelled if arm.guests else [])]
        return Response(200, {"unmodelled": arm.unmodelled + guest_side})
    if low == ["faults"]:
        if m == "POST":
            fault = arm.add_fault(_json(req))
            arm.save()
            return Response(201, fault)
        if m == "DELETE":
            arm.clear_faults()
            arm.save()
            return Response(200, {"faults": []})
        if m == "GET":
            return Response(200, {"faults": arm.faults})
    if low == ["throttling"]:
        if m == "POST":
            return Response(200, arm.throttling.configure(_json(req)))
        if m == "DELETE":
            return Response(200, arm.throttling.configure({}))
        if m == "GET":
            return Response(200, arm.throttling.describe())
    if low == ["principals"] and m == "POST":
        name = str(_json(req).get("display_name") or "sandbox-principal")
        created = arm.rbac.add_principal(name)
        arm.save()
        return Response(201, created)
    if low == ["storage-accounts"] and m == "POST":
        return Response(201, seed(arm, "Microsoft.Storage/storageAccounts", _json(req)))
    if len(low) == 3 and low[0] == "guests" and low[2] == "image-state" and m == "POST":
        body = _json(req)
        value = body.get("state")
        if value not in IMAGE_STATES:
            raise BadRequest("InvalidImageState", f"state must be one of {', '.join(IMAGE_STATES)}")
        vm = find_vm(arm, segs[1])
        lid = vm["id"].lower()
        if arm.guests:
            arm.guests.set_image_state(lid, value)
        else:
            arm.image_state_override[lid] = value
        arm.save()
        return Response(200, {"vm": vm["name"], "state": value})
    raise NotFound("NotFound", f"Unknown control route {m} {req.path}")
