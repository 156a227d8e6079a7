"""The ``network`` section: a temporary private VNet, or an existing subnet by resource id."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import Checker
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.messages import show
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.naming import SUBNET_ID_RE
from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.schema import NETWORK_MODES

_PRIVATE_NETS = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def check_network(c: Checker, root: Mapping[str, Any]) -> dict[str, Any]:
    data = c.mapping(root, "network", "network", required=False) or {}
    c.unknown_keys(data, "network", "network")
    mode = c.choice(data, "mode", "network", NETWORK_MODES, default="temporary")
    prefix = c.string(data, "address_prefix", "network", default=None)
    subnet_id = c.string(data, "existing_subnet_id", "network", default=None)
    if mode == "temporary":
        if subnet_id is not None:
            c.error("network.existing_subnet_id", "is only used with network.mode existing_subnet")
        prefix = prefix if prefix is not None else "10.250.0.0/24"
        if "address_prefix" not in data or isinstance(data.get("address_prefix"), str):
            _check_private_prefix(c, prefix)
    elif mode == "existing_subnet":
        if prefix is not None:
            c.error("network.address_prefix", "is only used with network.mode temporary")
            prefix = None
        _check_existing_subnet_id(c, data, subnet_id)
    return {"mode": mode, "address_prefix": prefix, "existing_subnet_id": subnet_id}


def _check_existing_subnet_id(c: Checker, data: Mapping[str, Any], subnet_id: str | None) -> None:
    if subnet_id is None:
        if data.get("existing_subnet_id") is None:
            c.error("network.existing_subnet_id", "is required when network.mode is existing_subnet")
    elif not SUBNET_ID_RE.match(subnet_id):
        c.error(
            "network.existing_subnet_id",
            "must be a subnet resource id like /subscriptions/<guid>/resourceGroups/<rg>/providers/"
            f"Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>, got {show(subnet_id)}",
        )


def _check_private_prefix(c: Checker, prefix: str) -> None:
    field = "network.address_prefix"
    try:
        net = ipaddress.ip_network(prefix, strict=True)
    except ValueError as exc:
        c.error(field, f"must be an IPv4 CIDR prefix like 10.250.0.0/24, got {show(prefix)} ({exc})")
        return
    if "/" not in prefix:
        c.error(field, f"must be a CIDR prefix with a length, like 10.250.0.0/24, got {show(prefix)}")
        return
    if net.version != 4 or not any(net.subnet_of(p) for p in _PRIVATE_NETS):
        c.error(
            field,
            "must be a private (RFC 1918) IPv4 prefix inside 10.0.0.0/8, 172.16.0.0/12 or "
            f"192.168.0.0/16, got {show(prefix)}",
        )
    elif not 16 <= net.prefixlen <= 28:
        c.error(field, f"prefix length must be from /16 to /28, got /{net.prefixlen}")
