"""The resource store (resources as ARM returns them, plus the emulator's private metadata per
resource) and the state file it is persisted in."""

from __future__ import annotations

from typing import Any

from sandbox.arm import catalog, errors
from sandbox.world import World

STATE_FILE = "arm-state.json"

Resource = dict[str, Any]


class Store:
    """Resources keyed by lower-case id. ``internal`` holds what ARM does not show (power state,
    addresses, the generalized flag...), also keyed by lower-case id."""

    def __init__(self, subscription_id: str) -> None:
        self.sub = subscription_id
        self.resources: dict[str, Resource] = {}
        self.internal: dict[str, dict[str, Any]] = {}

    def rg_id(self, rg: str) -> str:
        return f"/subscriptions/{self.sub}/resourceGroups/{rg}"

    @staticmethod
    def rg_of(rid: str) -> str:
        return rid.split("/")[4]

    def get(self, rid: str | None) -> Resource | None:
        return self.resources.get(rid.lower()) if rid else None

    def meta(self, rid: str) -> dict[str, Any]:
        return self.internal.setdefault(rid.lower(), {})

    def children(self, rid: str) -> list[Resource]:
        """Direct nested resources of `rid` (subnets of a VNet, versions of an image...)."""
        prefix = rid.lower() + "/"
        depth = prefix.count("/") + 1
        return [
            res for lid, res in self.resources.items() if lid.startswith(prefix) and lid.count("/") == depth
        ]

    def in_rg(self, rg: str) -> list[Resource]:
        prefix = self.rg_id(rg).lower() + "/providers/"
        return [r for lid, r in self.resources.items() if lid.startswith(prefix)]

    def put(self, res: Resource) -> None:
        self.resources[res["id"].lower()] = res

    def remove(self, rid: str) -> None:
        self.resources.pop(rid.lower(), None)
        self.internal.pop(rid.lower(), None)

    def clear(self) -> None:
        self.resources.clear()
        self.internal.clear()

    # --- references and locations ---------------------------------------------------------------
    def ref(self, value: Any, want_type: str, by: str, target: str) -> Resource:
        """The resource a `{"id": ...}` reference points to, or 400 InvalidResourceReference."""
        rid = value.get("id") if isinstance(value, dict) else None
        res = self.get(rid) if isinstance(rid, str) else None
        if res is None or res["type"].lower() != want_type.lower():
            raise errors.invalid_resource_reference(rid, by, target=target)
        return res


def check_location(location: Any, target: str = "location") -> str:
    """A known Azure region name (normalised like ARM: lower-case, no spaces)."""
    if not isinstance(location, str) or not location:
        raise errors.location_required()
    norm = location.replace(" ", "").lower()
    if norm not in catalog.LOCATIONS:
        raise errors.location_not_available(location, catalog.LOCATIONS, target=target)
    return norm


def load_state(world: World) -> dict[str, Any]:
    return world.read_json(STATE_FILE) or {}


def save_state(world: World, doc: dict[str, Any]) -> None:
    """Write the state atomically (the caller passes no secrets: passwords are never stored)."""
    world.write_json(STATE_FILE, doc)
