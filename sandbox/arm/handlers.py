"""What a resource provider gives the emulator: a ``ResourceHandler`` per resource type, described
by a ``TypeSpec``, collected in a ``Registry``.

The generic ARM behaviour (routing, api-versions, parents, LROs, in-use checks before delete) lives
in sandbox.arm.routes and sandbox.arm.lro; it calls the hooks below at fixed points. Every hook has
a default, so a handler overrides only what its type does differently. The registry is filled by
the providers (sandbox.arm.types_*) in sandbox.arm.app, the one module that knows them all.

Everything runs with ``World.lock`` held: hooks are plain code without their own locking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.arm.errors import Unmodelled

if TYPE_CHECKING:
    from sandbox.arm.core import Arm
    from sandbox.arm.values import Request, Response

Resource = dict[str, Any]
Action = Callable[["Arm", "Request", Resource], "Response"]


class ResourceHandler:
    """Behaviour of one resource type. Subclass it and override the hooks the type needs."""

    def build(self, arm: Arm, req: Request, rid: str, existing: Resource | None) -> Resource:
        """PUT: validate ``req.body`` and return the resource to store (``existing`` is None on
        create). Runs after the generic checks (api-version, parent exists, known members, no
        operation in progress); raising an ArmError refuses the request and stores nothing."""
        raise Unmodelled(f"PUT of {type(self).__name__} resources is not modelled")

    def patch(self, arm: Arm, req: Request, existing: Resource) -> Resource:
        """PATCH of an existing resource (usually tags only): return the updated resource."""
        raise Unmodelled(f"PATCH of {type(self).__name__} resources is not modelled")

    def after_store(self, arm: Arm, req: Request, res: Resource, existing: Resource | None) -> None:
        """Right after a PUT/PATCH stored ``res`` (and started its operation, if any): update
        what depends on it (dynamic IP addresses, the guest's address)."""

    def on_provisioned(self, arm: Arm, res: Resource, created: bool) -> None:
        """The PUT's long-running operation succeeded (``provisioningState`` is Succeeded)."""

    def on_failed(self, arm: Arm, res: Resource) -> None:
        """The PUT's long-running operation failed (an injected fault): undo what build began."""

    def get(self, arm: Arm, req: Request, res: Resource) -> Resource:
        """GET of one resource: the rendered resource, plus what ``$expand`` asks for."""
        rendered = arm.render(res)
        assert rendered is not None
        return rendered

    def render(self, arm: Arm, res: Resource) -> Resource:
        """``res`` (a private copy) as ARM returns it: add computed back-references here."""
        return res

    def check_delete(self, arm: Arm, req: Request, res: Resource) -> None:
        """Before a DELETE is accepted: raise an ArmError when the resource is in use."""

    def on_deleted(self, arm: Arm, res: Resource) -> None:
        """While the resource is removed (its nested resources already are): release what it
        held (guest, disks, addresses)."""

    @property
    def actions(self) -> dict[str, Action]:
        """POST (or GET) sub-routes by lower-case name, e.g. ``{"poweroff": fn}``."""
        return {}

    def complete_action(self, arm: Arm, res: Resource, action: str, args: dict[str, Any]) -> Any:
        """An action's long-running operation succeeded: apply its effect; the return value is the
        operation's result document (or None)."""
        raise Unmodelled(f"action {action} of {type(self).__name__} is not modelled")

    def fail_action(self, arm: Arm, res: Resource, action: str, args: dict[str, Any]) -> None:
        """An action's long-running operation failed: restore the state before the action."""

    def seed(self, arm: Arm, rid: str, body: dict[str, Any]) -> Resource:
        """The control endpoint's ``POST /_sandbox/<type>`` shortcut: the resource as it exists
        before a build (made outside the product), returned for the store."""
        raise Unmodelled(f"seeding {type(self).__name__} resources is not modelled")

    def on_restart(self, arm: Arm, res: Resource) -> None:
        """The emulator restarted from its state file: re-announce ``res`` to the guest side."""


@dataclass
class TypeSpec:
    """How the emulator treats one resource type."""

    type_name: str  # "Microsoft.Network/virtualNetworks/subnets"
    # api-version -> {method: schema key or None}; methods listed are the only ones accepted.
    api_versions: dict[str, dict[str, str | None]]
    handler: ResourceHandler
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


class SubscriptionRoutes:
    """Routes that are not ``.../providers/{namespace}/{type}/{name}``: resource groups and
    subscription-level location routes. Microsoft.Resources implements them; without it they
    answer 501."""

    def list_groups(self, arm: Arm, req: Request) -> Response:
        """GET /subscriptions/{sub}/resourcegroups"""
        raise Unmodelled(f"route {req.method} {req.path} is not modelled")

    def resource_group(self, arm: Arm, req: Request, name: str) -> Response:
        """GET/HEAD/PUT/PATCH/DELETE /subscriptions/{sub}/resourcegroups/{name}"""
        raise Unmodelled(f"route {req.method} {req.path} is not modelled")

    def list_resources(self, arm: Arm, req: Request, rg: Resource) -> Response:
        """GET /subscriptions/{sub}/resourcegroups/{name}/resources"""
        raise Unmodelled(f"route {req.method} {req.path} is not modelled")

    def location(
        self, arm: Arm, req: Request, provider: str, location: str, rest: list[str], raw: list[str]
    ) -> Response:
        """GET /subscriptions/{sub}/providers/{provider}/locations/{location}/... other than the
        operation status routes (rest/raw: the lower-case / original segments after it)."""
        raise Unmodelled(f"route {req.method} {req.path} is not modelled")


@dataclass
class Registry:
    """The resource types the emulator serves, by lower-case type name."""

    types: dict[str, TypeSpec] = field(default_factory=dict)
    subscription_routes: SubscriptionRoutes = field(default_factory=SubscriptionRoutes)

    def add(self, *specs: TypeSpec) -> None:
        for spec in specs:
            if spec.key in self.types:
                raise ValueError(f"resource type {spec.type_name} registered twice")
            self.types[spec.key] = spec
