"""The application: the one module that knows every resource provider and wires them into the
emulator. Base modules (sandbox.arm.core and what it composes) never import a provider; providers
(sandbox.arm.types_*) import only base modules; a new provider is added to PROVIDERS here."""

from __future__ import annotations

from typing import Any

from sandbox.arm import types_compute, types_gallery, types_network, types_resources, types_storage
from sandbox.arm.core import Arm
from sandbox.arm.handlers import Registry
from sandbox.guest_api import GuestHost
from sandbox.world import World

PROVIDERS = (types_resources, types_network, types_compute, types_gallery, types_storage)


def registry() -> Registry:
    """Every resource type the sandbox models, from every provider."""
    reg = Registry()
    for provider in PROVIDERS:
        provider.register(reg)
    return reg


def create_arm(world: World, guests: GuestHost | None = None, **options: Any) -> Arm:
    """The emulator with every provider (options: see Arm)."""
    return Arm(world, guests, registry=registry(), **options)
