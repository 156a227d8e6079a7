"""The controller's address: the only source allowed to reach the build VM's WinRM listener.

``normalize_controller_address`` parses what the user gave (``azure_build_vm_controller_address``)
with :mod:`ipaddress` and returns the one spelling the NSG rule and the guest firewall rule use: a
bare IPv4 address for a single host, ``<network>/<length>`` for a prefix. It refuses, naming the
variable and the reason:

- every spelling of "any" (``*``, ``Any``, ``Internet``, a /0 such as ``0.0.0.0/0`` or
  ``8.8.8.8/0``, IPv6 ``::/0``) and any prefix wider than the hard floor (``0.0.0.0/1``);
- a prefix wider than the bound the definition allows (``widest_prefix``, default 32: one host);
- a public prefix wider than /24, whatever the bound says;
- a prefix with host bits set (``10.0.0.5/8``): it is neither the host nor the network, so the
  message offers both;
- IPv6, the unspecified address, multicast and broadcast, and anything that is not an address.
"""

from __future__ import annotations

import ipaddress
from typing import Any

# The widest prefix any bound may allow, and the widest a public (globally routed) prefix may be.
HARD_WIDEST_PREFIX = 16
PUBLIC_WIDEST_PREFIX = 24
ANY_SPELLINGS = frozenset({"*", "any", "internet", "all", "0/0"})
DEFAULT_VARIABLE = "azure_build_vm_controller_address"
BOUND_VARIABLE = "azure_build_vm_controller_widest_prefix"


class ControllerAddressError(ValueError):
    """The address (or the bound) is refused; the message names the variable and the reason."""


def check_widest_prefix(value: Any, bound_variable: str = BOUND_VARIABLE) -> int:
    """The bound as an int from HARD_WIDEST_PREFIX to 32."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ControllerAddressError(f"{bound_variable}: must be a prefix length, got {value!r}")
    text = str(value).strip().lstrip("/")
    if not text.isdigit() or not HARD_WIDEST_PREFIX <= int(text) <= 32:
        raise ControllerAddressError(
            f"{bound_variable}: must be a prefix length from {HARD_WIDEST_PREFIX} to 32 (32 is a "
            f"single host), got {value!r}"
        )
    return int(text)


def normalize_controller_address(
    value: Any,
    widest_prefix: Any = 32,
    variable: str = DEFAULT_VARIABLE,
    bound_variable: str = BOUND_VARIABLE,
) -> str:
    """The address as the NSG and the guest firewall get it; ControllerAddressError otherwise."""
    bound = check_widest_prefix(widest_prefix, bound_variable)
    if not isinstance(value, str) or not value.strip():
        raise ControllerAddressError(
            f"{variable}: must be the controller's IPv4 address (or a CIDR prefix) as the build VM "
            f"sees it, the only source allowed to reach WinRM; got {value!r}"
        )
    text = value.strip()
    refused = f"{variable}: {text!r} is refused: "
    if text.lower() in ANY_SPELLINGS:
        raise ControllerAddressError(refused + "it means every address, and would open WinRM to the Internet")
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ControllerAddressError(
            refused + "not an IPv4 address or CIDR prefix (like 203.0.113.10 or 203.0.113.8/29)"
        ) from None
    if net.prefixlen == 0:
        raise ControllerAddressError(
            refused + "a /0 prefix is every address and would open WinRM to the Internet"
        )
    if net.version != 4:
        raise ControllerAddressError(refused + "IPv6 is not supported (the build VM is reached over IPv4)")
    host = ipaddress.ip_interface(text).ip
    if host != net.network_address:
        raise ControllerAddressError(
            refused + f"it has host bits set; write {host} for that single host, or {net} for the whole "
            "prefix (if the bound allows it)"
        )
    _check_width(net, bound, refused, bound_variable)
    if (
        net.is_unspecified
        or net.is_multicast
        or net.network_address == ipaddress.IPv4Address("255.255.255.255")
    ):
        raise ControllerAddressError(
            refused + "not the address of a host (unspecified, multicast or broadcast)"
        )
    return str(net.network_address) if net.prefixlen == 32 else str(net)


def _check_width(net: ipaddress.IPv4Network, bound: int, refused: str, bound_variable: str) -> None:
    if net.prefixlen < HARD_WIDEST_PREFIX:
        raise ControllerAddressError(
            refused + f"/{net.prefixlen} is wider than /{HARD_WIDEST_PREFIX}, the widest prefix ever "
            "allowed to reach WinRM"
        )
    if net.prefixlen < bound:
        allowed = "a single host" if bound == 32 else f"/{bound}"
        raise ControllerAddressError(
            refused + f"/{net.prefixlen} is wider than {bound_variable} allows ({allowed}); give the "
            f"single address, or set {bound_variable}: {net.prefixlen} to allow this prefix"
        )
    if net.prefixlen < PUBLIC_WIDEST_PREFIX and not net.is_private:
        raise ControllerAddressError(
            refused + f"a public prefix may be at most /{PUBLIC_WIDEST_PREFIX} wide, whatever "
            f"{bound_variable} says; /{net.prefixlen} would open WinRM to {net.num_addresses} public "
            "addresses"
        )
