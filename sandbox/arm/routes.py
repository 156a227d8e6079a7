"""Routing of /subscriptions/... requests onto resource types, with the generic ARM behaviour
every type shares: api-version allowlist, subscription / resource group / parent checks, GET,
list, PUT (with LRO), DELETE (with in-use checks and LRO), POST actions."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sandbox.arm import validate
from sandbox.arm.errors import ArmError, Unmodelled

if TYPE_CHECKING:
    from sandbox.arm.core import Arm, Request, Response, TypeSpec


def parse_body(req: Request) -> Any:
    if not req.raw_body:
        return None
    try:
        return json.loads(req.raw_body)
    except ValueError as exc:
        raise ArmError(
            400,
            "InvalidRequestContent",
            f"The request content was invalid and could not be deserialized: {exc}.",
        ) from exc


def dispatch(arm: Arm, req: Request) -> Response:
    from sandbox.arm import types_resources

    segs = req.segments
    low = [s.lower() for s in segs]
    req.body = parse_body(req) if req.method in ("PUT", "PATCH", "POST") else None
    if len(segs) < 2:
        raise Unmodelled(f"route {req.method} {req.path} is not modelled")
    if segs[1].lower() != arm.sub.lower():
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{segs[1]}' could not be found.")
    rest = low[2:]
    # Subscription-level provider routes (LRO status, locations, catalogue).
    if rest[:1] == ["operationresults"] and len(rest) == 2 and req.method == "GET":
        return arm.op_status(req, segs[3], "location")
    if rest[:1] == ["providers"] and len(rest) >= 5 and rest[2] == "locations":
        return types_resources.location_route(arm, req, segs[3], segs[5], rest[4:], segs[6:])
    if rest[:1] == ["providers"] and len(rest) == 2 and req.method == "GET":
        return provider_document(arm, req, segs[3])
    if rest[:1] == ["providers"] and len(rest) == 3:
        return list_type(arm, req, None, segs[3] + "/" + segs[4])
    if rest == ["resourcegroups"]:
        return types_resources.list_groups(arm, req)
    if rest[:1] != ["resourcegroups"] or len(rest) < 2:
        raise Unmodelled(f"route {req.method} {req.path} is not modelled")
    rg_name = segs[3]
    if len(rest) == 2:
        return types_resources.resource_group(arm, req, rg_name)
    rg = types_resources.find_group(arm, rg_name)
    if rest[2:] == ["resources"]:
        if rg is None:
            raise types_resources.rg_not_found(rg_name)
        return types_resources.list_resources(arm, req, rg)
    if rest[2] != "providers" or len(rest) < 5:
        raise Unmodelled(f"route {req.method} {req.path} is not modelled")
    ns = segs[5]
    tail = segs[6:]
    if len(tail) == 1:
        if rg is None:
            raise types_resources.rg_not_found(rg_name)
        return list_type(arm, req, rg, f"{ns}/{tail[0]}")
    # Walk type/name pairs; a trailing odd segment is a child collection or an action.
    type_parts = [ns]
    names: list[str] = []
    i = 0
    while i + 1 < len(tail):
        type_parts.append(tail[i])
        names.append(tail[i + 1])
        i += 2
    extra = tail[i] if i < len(tail) else None
    type_name = "/".join(type_parts)
    spec = arm.types.get(type_name.lower())
    if spec is None:
        raise Unmodelled(f"resource type {type_name} is not modelled")
    if rg is None:
        raise types_resources.rg_not_found(rg_name)
    rid = (
        arm.rg_id(rg["name"])
        + "/providers/"
        + ns
        + "/"
        + "/".join(f"{t}/{n}" for t, n in zip(type_parts[1:], names, strict=True))
    )
    if extra is not None:
        child = arm.types.get(f"{type_name}/{extra}".lower())
        if child is not None:
            check_api(arm, req, child, "LIST")
            parent = arm.get(rid)
            if parent is None:
                raise _not_found(spec, rid)
            return list_children(arm, req, rid, child)
        return action(arm, req, spec, rid, extra)
    return resource(arm, req, spec, rid)


def check_api(arm: Arm, req: Request, spec: TypeSpec, method: str) -> str | None:
    """The schema key for this method and api-version; 501 when the pair is not modelled."""
    ver = req.api_version
    if not ver:
        raise ArmError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    methods = spec.api_versions.get(ver)
    if methods is None:
        raise Unmodelled(
            f"api-version '{ver}' of {spec.type_name} is not modelled (known: {', '.join(spec.api_versions)})"
        )
    if method not in methods and not (method == "HEAD" and "GET" in methods):
        raise Unmodelled(f"{method} on {spec.type_name} with api-version {ver} is not modelled")
    return methods.get(method)


def _not_found(spec: TypeSpec, rid: str) -> ArmError:
    parts = rid.split("/")
    rg = parts[4]
    rel = "/".join(parts[6:])
    # ARM names a nested resource as type/name/child/name.
    names = parts[7::2]
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{parts[6]}/{'/'.join(parts[7:])}' under resource group '{rg}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
        target=rel if len(names) > 1 else None,
    )


def list_type(arm: Arm, req: Request, rg: dict[str, Any] | None, type_name: str) -> Response:
    from sandbox.arm.core import Response

    spec = arm.types.get(type_name.lower())
    if spec is None:
        raise Unmodelled(f"list of resource type {type_name} is not modelled")
    check_api(arm, req, spec, "LIST")
    prefix = (arm.rg_id(rg["name"]) if rg else f"/subscriptions/{arm.sub}").lower()
    items = [
        arm.render(r)
        for lid, r in sorted(arm.resources.items())
        if r["type"].lower() == spec.key and lid.startswith(prefix + "/")
    ]
    return Response(200, {"value": items})


def list_children(arm: Arm, req: Request, parent_id: str, child: TypeSpec) -> Response:
    from sandbox.arm.core import Response

    items = [arm.render(r) for r in arm.children(parent_id) if r["type"].lower() == child.key]
    return Response(200, {"value": items})


def resource(arm: Arm, req: Request, spec: TypeSpec, rid: str) -> Response:
    from sandbox.arm.core import Response

    schema = check_api(arm, req, spec, req.method)
    existing = arm.get(rid)
    if req.method in ("GET", "HEAD"):
        if existing is None:
            raise _not_found(spec, rid)
        op = arm.pending_op_for(rid)
        if op:
            arm.observe(op)
            existing = arm.get(rid)
            if existing is None:
                raise _not_found(spec, rid)
        if req.method == "HEAD":
            return Response(204)
        if hasattr(spec.handler, "get"):
            return Response(200, spec.handler.get(arm, req, existing))
        return Response(200, arm.render(existing))
    if req.method == "DELETE":
        return delete(arm, req, spec, rid, existing)
    if req.method in ("PUT", "PATCH"):
        parent_key = spec.parent_key
        if parent_key:
            parent_id = rid.rsplit("/", 2)[0]
            if arm.get(parent_id) is None:
                parent_name = parent_id.rsplit("/", 1)[-1]
                raise ArmError(
                    404,
                    "ParentResourceNotFound",
                    "Can not perform requested operation on nested resource. Parent resource "
                    f"'{parent_name}' "
                    "not found.",
                )
        if not isinstance(req.body, dict):
            raise ArmError(
                400, "InvalidRequestContent", "The request content was invalid: a JSON object is required."
            )
        if schema:
            validate.check_members(req.body, schema, schema.rsplit("/", 1)[-1])
        if existing is not None and arm.pending_op_for(rid):
            raise ArmError(
                409,
                "AnotherOperationInProgress",
                f"Operation on resource '{rid.rsplit('/', 1)[-1]}' is not allowed because another operation "
                "is in progress.",
            )
        if req.method == "PATCH":
            if existing is None:
                raise _not_found(spec, rid)
            res = spec.handler.patch(arm, req, existing)
        else:
            res = spec.handler.build(arm, req, rid, existing)
        created = existing is None
        if spec.put_lro:
            res.setdefault("properties", {})["provisioningState"] = (
                spec.creating_state if created else spec.updating_state
            )
            arm.store(res)
            location = (
                res.get("location") or (arm.get(rid.rsplit("/", 2)[0]) or {}).get("location") or "westeurope"
            )
            _opid, headers = arm.start_op(
                req, spec.provider, location, "put", res["id"], args={"created": created}
            )
            if hasattr(spec.handler, "after_store"):
                spec.handler.after_store(arm, req, res, existing)
            return Response(201 if created else 200, arm.render(res), headers)
        res.setdefault("properties", {})["provisioningState"] = "Succeeded"
        arm.store(res)
        if hasattr(spec.handler, "after_store"):
            spec.handler.after_store(arm, req, res, existing)
        return Response(201 if created else 200, arm.render(res))
    raise Unmodelled(f"{req.method} on {spec.type_name} is not modelled")


def delete(arm: Arm, req: Request, spec: TypeSpec, rid: str, existing: dict[str, Any] | None) -> Response:
    from sandbox.arm.core import Response

    if existing is None:
        return Response(204)
    if arm.pending_op_for(rid):
        raise ArmError(
            409,
            "AnotherOperationInProgress",
            f"Operation 'delete' on resource '{rid.rsplit('/', 1)[-1]}' is not allowed because another "
            "operation "
            "is in progress.",
        )
    if hasattr(spec.handler, "check_delete"):
        spec.handler.check_delete(arm, req, existing)
    if not spec.delete_lro:
        from sandbox.arm import lro_effects

        lro_effects.delete_resource(arm, existing["id"])
        return Response(200)
    existing.setdefault("properties", {})["provisioningState"] = "Deleting"
    location = existing.get("location") or "westeurope"
    _opid, headers = arm.start_op(req, spec.provider, location, "delete", existing["id"])
    return Response(202, None, headers)


def action(arm: Arm, req: Request, spec: TypeSpec, rid: str, name: str) -> Response:
    actions = getattr(spec.handler, "actions", {})
    fn = actions.get(name.lower())
    if fn is None:
        raise Unmodelled(f"{req.method} {spec.type_name}/{name} is not modelled")
    check_api(
        arm, req, spec, f"POST:{name.lower()}" if req.method == "POST" else f"{req.method}:{name.lower()}"
    )
    existing = arm.get(rid)
    if existing is None:
        raise _not_found(spec, rid)
    return fn(arm, req, existing)


def provider_document(arm: Arm, req: Request, namespace: str) -> Response:
    """GET /subscriptions/{sub}/providers/{ns}: the resource types and api-versions the sandbox
    models (azure_rm_resource asks this when a task gives no api_version and takes the first)."""
    from sandbox.arm.catalog import LOCATIONS
    from sandbox.arm.core import Response

    if req.api_version not in ("2015-01-01", "2021-04-01", "2022-09-01"):
        raise Unmodelled(f"api-version '{req.api_version}' of the providers API is not modelled")
    types = [s for s in arm.types.values() if s.provider.lower() == namespace.lower()]
    if not types:
        raise Unmodelled(f"resource provider {namespace} is not modelled")
    return Response(
        200,
        {
            "id": f"/subscriptions/{arm.sub}/providers/{types[0].provider}",
            "namespace": types[0].provider,
            "registrationState": "Registered",
            "resourceTypes": [
                {
                    "resourceType": s.type_name.split("/", 1)[1],
                    "locations": list(LOCATIONS.values()),
                    "apiVersions": sorted(s.api_versions, reverse=True),
                }
                for s in types
            ],
        },
    )
