"""Routing of /subscriptions/... requests onto resource types, with the generic ARM behaviour
every type shares: api-version allowlist, subscription / resource group / parent checks, GET,
list, PUT (with LRO), DELETE (with in-use checks and LRO), POST actions."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sandbox.arm import apiversions, errors, lro_effects, names, tenancy, validate
from sandbox.arm.catalog import LOCATIONS
from sandbox.arm.errors import Unmodelled
from sandbox.arm.handlers import TypeSpec
from sandbox.arm.values import Request, Response

if TYPE_CHECKING:
    from sandbox.arm.core import Arm

PROVIDERS_API_VERSIONS = ("2015-01-01", "2021-04-01", "2022-09-01")


def parse_body(req: Request) -> Any:
    if not req.raw_body:
        return None
    try:
        return json.loads(req.raw_body)
    except ValueError as exc:
        raise errors.InvalidRequestContent(
            f"The request content was invalid and could not be deserialized: {exc}."
        ) from exc


def _unmodelled_route(req: Request) -> Unmodelled:
    return Unmodelled(f"route {req.method} {req.path} is not modelled")


def dispatch(arm: Arm, req: Request) -> Response:
    segs = req.segments
    req.body = parse_body(req) if req.method in ("PUT", "PATCH", "POST") else None
    if len(segs) == 1:
        return tenancy.list_subscriptions(arm, req)
    if len(segs) == 2:
        return tenancy.get_subscription(arm, req, segs[1])
    tenancy.check_subscription(arm, segs[1])
    rest = [s.lower() for s in segs[2:]]
    if rest[:1] == ["resourcegroups"] and len(rest) >= 2:
        return _group_route(arm, req, segs[3], rest[2:], segs[4:])
    return _subscription_route(arm, req, rest, segs)


def _subscription_route(arm: Arm, req: Request, rest: list[str], segs: list[str]) -> Response:
    """Routes directly under the subscription: LRO status, locations, providers, group list."""
    sub_routes = arm.registry.subscription_routes
    if rest[:1] == ["operationresults"] and len(rest) == 2 and req.method == "GET":
        return arm.op_status(req, segs[3], "location")
    if rest[:1] == ["providers"] and len(rest) >= 5 and rest[2] == "locations":
        tail, raw = rest[4:], segs[6:]
        if req.method == "GET" and len(tail) == 2 and tail[0] == "operations":
            return arm.op_status(req, raw[1], "status")
        if req.method == "GET" and len(tail) == 2 and tail[0] == "operationresults":
            return arm.op_status(req, raw[1], "location")
        return sub_routes.location(arm, req, segs[3], segs[5], tail, raw)
    if rest[:1] == ["providers"] and len(rest) == 2 and req.method == "GET":
        return provider_document(arm, req, segs[3])
    if rest[:1] == ["providers"] and len(rest) == 3:
        return list_type(arm, req, None, segs[3] + "/" + segs[4])
    if rest == ["resourcegroups"]:
        return sub_routes.list_groups(arm, req)
    raise _unmodelled_route(req)


def _group_route(arm: Arm, req: Request, rg_name: str, rest: list[str], raw: list[str]) -> Response:
    """/subscriptions/{sub}/resourceGroups/{rg}[/...]; rest/raw: lower-case / original segments
    after the group name."""
    sub_routes = arm.registry.subscription_routes
    if not rest:
        return sub_routes.resource_group(arm, req, rg_name)
    rg = arm.get(arm.rg_id(rg_name))
    if rest == ["resources"]:
        if rg is None:
            raise errors.resource_group_not_found(rg_name)
        return sub_routes.list_resources(arm, req, rg)
    if rest[0] != "providers" or len(rest) < 3:
        raise _unmodelled_route(req)
    ns, tail = raw[1], raw[2:]
    if len(tail) == 1:
        listed = arm.types.get(f"{ns}/{tail[0]}".lower())
        if listed is not None:
            check_version(req, listed)
        else:
            apiversions.refuse_unknown_type(ns, tail[0], req.api_version)
        if rg is None:
            raise errors.resource_group_not_found(rg_name)
        return list_type(arm, req, rg, f"{ns}/{tail[0]}")
    return _resource_route(arm, req, rg, rg_name, ns, tail)


def _resource_route(
    arm: Arm, req: Request, rg: dict[str, Any] | None, rg_name: str, ns: str, tail: list[str]
) -> Response:
    """.../providers/{ns}/{type}/{name}[/{child type}/{name}...][/{collection or action}]"""
    # Walk type/name pairs; a trailing odd segment is a child collection or an action.
    type_parts = [ns, *tail[0 : len(tail) - 1 : 2]]
    names = tail[1::2]
    extra = tail[-1] if len(tail) % 2 else None
    type_name = "/".join(type_parts)
    spec = arm.types.get(type_name.lower())
    if spec is None:
        apiversions.refuse_unknown_type(ns, "/".join(type_parts[1:]), req.api_version)
        raise Unmodelled(f"resource type {type_name} is not modelled")
    child = arm.types.get(f"{type_name}/{extra}".lower()) if extra is not None else None
    check_version(req, child or spec)
    if rg is None:
        raise errors.resource_group_not_found(rg_name)
    rid = (
        arm.rg_id(rg["name"])
        + "/providers/"
        + ns
        + "/"
        + "/".join(f"{t}/{n}" for t, n in zip(type_parts[1:], names, strict=True))
    )
    if extra is None:
        return resource(arm, req, spec, rid)
    if child is None:
        return action(arm, req, spec, rid, extra)
    check_api(arm, req, child, "LIST")
    if arm.get(rid) is None:
        raise errors.resource_not_found(rid)
    return list_children(arm, req, rid, child)


def check_version(req: Request, spec: TypeSpec) -> dict[str, str | None]:
    """The modelled methods of this api-version; 400 when Azure has no such api-version for the
    type (ARM checks it before looking at the resource group), 501 when it is real but not
    modelled."""
    ver = req.api_version
    if not ver:
        raise errors.missing_api_version()
    methods = spec.api_versions.get(ver)
    if methods is None:
        apiversions.refuse_unknown(spec.key, ver)
        raise Unmodelled(
            f"api-version '{ver}' of {spec.type_name} is not modelled (known: {', '.join(spec.api_versions)})"
        )
    return methods


def check_api(arm: Arm, req: Request, spec: TypeSpec, method: str) -> str | None:
    """The schema key for this method and api-version; 501 when the pair is not modelled."""
    ver = req.api_version
    methods = check_version(req, spec)
    if method not in methods and not (method == "HEAD" and "GET" in methods):
        raise Unmodelled(f"{method} on {spec.type_name} with api-version {ver} is not modelled")
    return methods.get(method)


def list_type(arm: Arm, req: Request, rg: dict[str, Any] | None, type_name: str) -> Response:
    spec = arm.types.get(type_name.lower())
    if spec is None:
        ns, _, type_path = type_name.partition("/")
        apiversions.refuse_unknown_type(ns, type_path, req.api_version)
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
    items = [arm.render(r) for r in arm.children(parent_id) if r["type"].lower() == child.key]
    return Response(200, {"value": items})


def resource(arm: Arm, req: Request, spec: TypeSpec, rid: str) -> Response:
    if req.method == "PUT" and arm.get(rid) is None:
        # A name Azure refuses is refused even where the sandbox does not model the PUT.
        names.check(spec.key, rid.rsplit("/", 1)[-1])
    schema = check_api(arm, req, spec, req.method)
    existing = arm.get(rid)
    if req.method in ("GET", "HEAD"):
        return _read(arm, req, spec, rid, existing)
    if req.method == "DELETE":
        return delete(arm, req, spec, rid, existing)
    if req.method in ("PUT", "PATCH"):
        return _write(arm, req, spec, rid, existing, schema)
    raise Unmodelled(f"{req.method} on {spec.type_name} is not modelled")


def _read(arm: Arm, req: Request, spec: TypeSpec, rid: str, existing: dict[str, Any] | None) -> Response:
    """GET/HEAD: a poll of the resource also advances its pending operation."""
    if existing is None:
        raise errors.resource_not_found(rid)
    op = arm.pending_op_for(rid)
    if op:
        arm.observe(op)
        existing = arm.get(rid)
        if existing is None:
            raise errors.resource_not_found(rid)
    if req.method == "HEAD":
        return Response(204)
    return Response(200, spec.handler.get(arm, req, existing))


def _check_write(
    arm: Arm, req: Request, spec: TypeSpec, rid: str, existing: dict[str, Any] | None, schema: str | None
) -> None:
    """What ARM checks before any PUT/PATCH reaches the resource provider."""
    if spec.parent_key:
        parent_id = rid.rsplit("/", 2)[0]
        if arm.get(parent_id) is None:
            raise errors.parent_not_found(parent_id.rsplit("/", 1)[-1])
    if not isinstance(req.body, dict):
        raise errors.json_object_required()
    if req.method == "PUT" and existing is not None and existing.get("location"):
        _check_same_location(arm, existing, req.body.get("location"))
    if schema:
        validate.check_members(req.body, schema, schema.rsplit("/", 1)[-1])
    if existing is not None and arm.pending_op_for(rid):
        raise errors.another_operation_in_progress(rid.rsplit("/", 1)[-1])


def _check_same_location(arm: Arm, existing: dict[str, Any], location: Any) -> None:
    """ARM refuses a PUT that would move an existing resource to another region."""
    if not isinstance(location, str) or location.replace(" ", "").lower() == existing["location"].lower():
        return
    raise errors.BadRequest(
        "InvalidResourceLocation",
        f"The resource '{existing['name']}' already exists in location '{existing['location']}' in "
        f"resource group '{arm.rg_of(existing['id'])}'. A resource with the same name cannot be created "
        f"in location '{location}'. Please select a new resource name.",
    )


def _write(
    arm: Arm, req: Request, spec: TypeSpec, rid: str, existing: dict[str, Any] | None, schema: str | None
) -> Response:
    """PUT/PATCH: the handler builds the resource; the store and the operation are generic."""
    _check_write(arm, req, spec, rid, existing, schema)
    if req.method == "PATCH":
        if existing is None:
            raise errors.resource_not_found(rid)
        res = spec.handler.patch(arm, req, existing)
    else:
        res = spec.handler.build(arm, req, rid, existing)
    created = existing is None
    status = 201 if created else 200
    if not spec.put_lro:
        res.setdefault("properties", {})["provisioningState"] = "Succeeded"
        arm.store(res)
        spec.handler.after_store(arm, req, res, existing)
        return Response(status, arm.render(res))
    res.setdefault("properties", {})["provisioningState"] = (
        spec.creating_state if created else spec.updating_state
    )
    arm.store(res)
    location = res.get("location") or (arm.get(rid.rsplit("/", 2)[0]) or {}).get("location") or "westeurope"
    _opid, headers = arm.start_op(req, spec.provider, location, "put", res["id"], args={"created": created})
    spec.handler.after_store(arm, req, res, existing)
    return Response(status, arm.render(res), headers)


def delete(arm: Arm, req: Request, spec: TypeSpec, rid: str, existing: dict[str, Any] | None) -> Response:
    if existing is None:
        return Response(204)
    if arm.pending_op_for(rid):
        raise errors.another_operation_in_progress(rid.rsplit("/", 1)[-1], "delete")
    spec.handler.check_delete(arm, req, existing)
    if not spec.delete_lro:
        lro_effects.delete_resource(arm, existing["id"])
        return Response(200)
    existing.setdefault("properties", {})["provisioningState"] = "Deleting"
    location = existing.get("location") or "westeurope"
    _opid, headers = arm.start_op(req, spec.provider, location, "delete", existing["id"])
    return Response(202, None, headers)


def action(arm: Arm, req: Request, spec: TypeSpec, rid: str, name: str) -> Response:
    fn = spec.handler.actions.get(name.lower())
    if fn is None:
        raise Unmodelled(f"{req.method} {spec.type_name}/{name} is not modelled")
    check_api(arm, req, spec, f"{req.method}:{name.lower()}")
    existing = arm.get(rid)
    if existing is None:
        raise errors.resource_not_found(rid)
    return fn(arm, req, existing)


def provider_document(arm: Arm, req: Request, namespace: str) -> Response:
    """GET /subscriptions/{sub}/providers/{ns}: the resource types and api-versions the sandbox
    models (azure_rm_resource asks this when a task gives no api_version and takes the first)."""
    if req.api_version not in PROVIDERS_API_VERSIONS:
        apiversions.refuse_unknown(apiversions.ARM, req.api_version)
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
                    # Not the list-only versions (taught for az's listings): a client that takes
                    # the first version would GET with it.
                    "apiVersions": sorted(
                        (v for v, m in s.api_versions.items() if set(m) != {"LIST"}), reverse=True
                    ),
                }
                for s in types
            ],
        },
    )
