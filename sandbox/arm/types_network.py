"""Microsoft.Network: virtual networks, subnets, network security groups (+ security rules),
public IP addresses and network interfaces (api-version 2024-03-01, what azure-mgmt-network 28
sends).

Back-references (subnet.ipConfigurations, nsg.networkInterfaces/subnets, pip.ipConfiguration,
nic.virtualMachine) are computed from the forward references when a resource is rendered, so they
can never go stale; the in-use checks on delete use the same scans.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from typing import TYPE_CHECKING, Any

from sandbox.arm import names as naming
from sandbox.arm import validate
from sandbox.arm.errors import (
    BadRequest,
    InvalidRequestFormat,
    Unmodelled,
    invalid_resource_reference,
    subnet_in_use,
)
from sandbox.arm.handlers import Registry, ResourceHandler, TypeSpec
from sandbox.arm.topology import ipconfigs_using, nics, sync_dynamic_pips, vm_using_nic
from sandbox.arm.values import Request, etag, new_mac

if TYPE_CHECKING:
    from sandbox.arm.core import Arm

API = "2024-03-01"
VNET = "Microsoft.Network/virtualNetworks"
SUBNET = "Microsoft.Network/virtualNetworks/subnets"
NSG = "Microsoft.Network/networkSecurityGroups"
RULE = "Microsoft.Network/networkSecurityGroups/securityRules"
PIP = "Microsoft.Network/publicIPAddresses"
NIC = "Microsoft.Network/networkInterfaces"
IPCONFIG = "Microsoft.Network/networkInterfaces/ipConfigurations"
VM = "Microsoft.Compute/virtualMachines"

SERVICE_TAGS = {
    "*",
    "internet",
    "virtualnetwork",
    "azureloadbalancer",
    "azurecloud",
    "storage",
    "sql",
    "azuremonitor",
    "azureactivedirectory",
    "gatewaymanager",
    "windowsvirtualdesktop",
}


def _methods(schema: str) -> dict[str, str | None]:
    return {
        "GET": None,
        "PUT": f"network/{API}/{schema}",
        "DELETE": None,
        "LIST": None,
        "PATCH": f"network/{API}/TagsObject",
    }


def register(registry: Registry) -> None:
    kw = {"creating_state": "Updating", "updating_state": "Updating"}
    registry.add(
        TypeSpec(VNET, {API: _methods("VirtualNetwork")}, VNetHandler(), **kw),
        TypeSpec(SUBNET, {API: _methods("Subnet")}, SubnetHandler(), tracked=False, **kw),
        TypeSpec(NSG, {API: _methods("NetworkSecurityGroup")}, NsgHandler(), **kw),
        TypeSpec(RULE, {API: _methods("SecurityRule")}, RuleHandler(), tracked=False, **kw),
        TypeSpec(PIP, {API: _methods("PublicIPAddress")}, PipHandler(), **kw),
        TypeSpec(NIC, {API: _methods("NetworkInterface")}, NicHandler(), **kw),
    )


# --------------------------------------------------------------------------------------------------
# helpers
def _props(body: dict[str, Any]) -> dict[str, Any]:
    p = body.get("properties")
    return p if isinstance(p, dict) else {}


def _base(
    arm: Arm,
    rid: str,
    type_name: str,
    existing: dict[str, Any] | None,
    body: dict[str, Any],
    *,
    tracked: bool = True,
) -> dict[str, Any]:
    res: dict[str, Any] = {
        "id": existing["id"] if existing else rid,
        "name": existing["name"] if existing else rid.rsplit("/", 1)[-1],
        "type": type_name,
        "etag": etag(),
    }
    if tracked:
        loc = arm.check_location(body.get("location"))
        if existing is not None and existing.get("location") != loc:
            raise BadRequest(
                "InvalidResourceLocation",
                f"The resource '{res['name']}' already exists in location '{existing['location']}' in "
                "resource "
                f"group '{arm.rg_of(res['id'])}'. A resource with the same name cannot be created in "
                "location "
                f"'{body.get('location')}'. Please select a new resource name.",
            )
        res["location"] = loc
        tags = validate.body_tags(body)
        if tags is not None:
            res["tags"] = tags
    return res


def _cidr(value: Any, where: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(str(value), strict=False)
    except ValueError as exc:
        raise BadRequest(
            "InvalidAddressPrefixFormat", f"Address prefix {value} of {where} is not in a valid format."
        ) from exc
    if not isinstance(net, ipaddress.IPv4Network):
        raise Unmodelled(f"IPv6 address prefix {value} of {where} is not modelled")
    if str(net.network_address) != str(value).split("/")[0]:
        raise BadRequest(
            "InvalidCIDRNotation",
            f"The address prefix {value} in resource {where} has an invalid CIDR notation. For the given "
            "prefix "
            f"length, the address prefix should be {net}.",
        )
    return net


# --------------------------------------------------------------------------------------------------
# virtual networks and subnets
def _subnet_prefix(
    arm: Arm, vnet: dict[str, Any], name: str, props: dict[str, Any], existing: dict[str, Any] | None
) -> ipaddress.IPv4Network:
    """The subnet's address prefix: inside the VNet, not overlapping a sibling, unchanged while used."""
    sid = f"{vnet['id']}/subnets/{name}"
    if existing is None:
        naming.check(SUBNET.lower(), name)
    prefixes = props.get("addressPrefixes")
    prefix = props.get("addressPrefix")
    if prefix is None and not prefixes:
        raise BadRequest(
            "NoAddressPrefixOrPoolProvided",
            f"No address prefix or pool is provided for subnet '{name}'.",
            target=sid,
        )
    if prefixes:
        raise Unmodelled("subnet addressPrefixes (multiple prefixes) is not modelled; use addressPrefix")
    net = _cidr(prefix, sid)
    vnet_nets = [_cidr(p, vnet["id"]) for p in vnet["properties"]["addressSpace"]["addressPrefixes"]]
    if not any(net.subnet_of(v) for v in vnet_nets):
        raise BadRequest(
            "NetcfgSubnetRangeOutsideVnet",
            f"Subnet '{name}' is not valid because its IP address range is outside the IP address range of "
            f"virtual network '{vnet['name']}'.",
        )
    if net.prefixlen > 29:
        raise BadRequest(
            "NetcfgInvalidSubnet", f"Subnet '{name}' is not valid in virtual network '{vnet['name']}'."
        )
    for sib in arm.children(vnet["id"]):
        if sib["name"].lower() != name.lower() and net.overlaps(
            ipaddress.ip_network(sib["properties"]["addressPrefix"])
        ):
            raise _subnets_overlap(name, sib["name"], vnet["name"])
    if (
        existing is not None
        and existing["properties"]["addressPrefix"] != str(net)
        and ipconfigs_using(arm, "subnet", existing["id"])
    ):
        raise BadRequest("InUseSubnetCannotBeUpdated", f"Subnet {name} is in use and cannot be updated.")
    return net


def _subnets_overlap(name: str, other: str, vnet_name: str) -> BadRequest:
    return BadRequest(
        "NetcfgSubnetRangesOverlap",
        f"Subnet '{name}' is not valid because its IP address range overlaps with that of an existing "
        f"subnet in virtual network '{vnet_name}'.",
    )


def _subnet_resource(
    arm: Arm, vnet: dict[str, Any], name: str, props: dict[str, Any], existing: dict[str, Any] | None
) -> dict[str, Any]:
    """Validate and build one subnet of `vnet` (used by both VNet and subnet PUTs)."""
    sid = f"{vnet['id']}/subnets/{name}"
    net = _subnet_prefix(arm, vnet, name, props, existing)
    out: dict[str, Any] = {
        "id": existing["id"] if existing else sid,
        "name": existing["name"] if existing else name,
        "type": SUBNET,
        "etag": etag(),
        "properties": {
            "provisioningState": "Succeeded",
            "addressPrefix": str(net),
            "delegations": [],
            "privateEndpointNetworkPolicies": validate.enum(
                props,
                "privateEndpointNetworkPolicies",
                ["Enabled", "Disabled", "NetworkSecurityGroupEnabled", "RouteTableEnabled"],
            )
            or "Disabled",
            "privateLinkServiceNetworkPolicies": validate.enum(
                props, "privateLinkServiceNetworkPolicies", ["Enabled", "Disabled"]
            )
            or "Enabled",
        },
    }
    if props.get("delegations"):
        raise Unmodelled("subnet delegations are not modelled")
    for key in ("routeTable", "natGateway", "serviceEndpointPolicies", "applicationGatewayIPConfigurations"):
        if props.get(key):
            raise Unmodelled(f"subnet property {key} is not modelled")
    if props.get("serviceEndpoints"):
        out["properties"]["serviceEndpoints"] = [
            {
                "service": s.get("service"),
                "locations": s.get("locations") or ["*"],
                "provisioningState": "Succeeded",
            }
            for s in props["serviceEndpoints"]
        ]
    if props.get("defaultOutboundAccess") is not None:
        out["properties"]["defaultOutboundAccess"] = bool(props["defaultOutboundAccess"])
    if props.get("networkSecurityGroup"):
        nsg = arm.ref(props["networkSecurityGroup"], NSG, sid, "properties.networkSecurityGroup")
        out["properties"]["networkSecurityGroup"] = {"id": nsg["id"]}
    return out


def _named_children(
    items: list[dict[str, Any]], what: str, target: str | None = None, schema: str | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """(name, properties) of the child resources inlined in a PUT body (subnets of a VNet, rules of
    an NSG): each needs a name, used once."""
    names: set[str] = set()
    out = []
    for item in items:
        name = item.get("name")
        if not name:
            raise InvalidRequestFormat(f"Each {what} must have a name.", target=target)
        if what == "security rule":
            naming.check(RULE.lower(), name)
        if name.lower() in names:
            raise BadRequest(
                "DuplicateResourceName", f"{what[0].upper() + what[1:]} name {name} is used more than once."
            )
        names.add(name.lower())
        if schema:
            validate.check_members(item, schema, schema.rsplit("/", 1)[-1])
        out.append((name, _props(item)))
    return out


def _vnet_properties(
    props: dict[str, Any], existing: dict[str, Any] | None, rid: str, name: str
) -> dict[str, Any]:
    prefixes = validate.get(props, "addressSpace.addressPrefixes")
    if not prefixes:
        raise InvalidRequestFormat(
            "Cannot parse the request: the virtual network must have addressSpace.addressPrefixes.",
            target="properties.addressSpace.addressPrefixes",
        )
    nets = [_cidr(p, rid) for p in prefixes]
    for i, a in enumerate(nets):
        for b in nets[i + 1 :]:
            if a.overlaps(b):
                raise BadRequest(
                    "VnetAddressSpacesOverlap",
                    f"Address space {a} overlaps with address space {b} in virtual network {name}.",
                )
    for key in ("virtualNetworkPeerings", "ddosProtectionPlan", "bgpCommunities", "ipAllocations"):
        if props.get(key):
            raise Unmodelled(f"virtual network property {key} is not modelled")
    out = {
        "provisioningState": "Updating",
        "resourceGuid": existing["properties"]["resourceGuid"] if existing else str(uuid.uuid4()),
        "addressSpace": {"addressPrefixes": [str(n) for n in nets]},
        "virtualNetworkPeerings": [],
        "enableDdosProtection": bool(props.get("enableDdosProtection", False)),
        "privateEndpointVNetPolicies": props.get("privateEndpointVNetPolicies") or "Disabled",
    }
    if props.get("enableDdosProtection"):
        raise Unmodelled("DDoS protection is not modelled")
    if validate.get(props, "dhcpOptions.dnsServers"):
        out["dhcpOptions"] = {"dnsServers": list(props["dhcpOptions"]["dnsServers"])}
    if props.get("flowTimeoutInMinutes") is not None:
        ft = props["flowTimeoutInMinutes"]
        if not isinstance(ft, int) or not 4 <= ft <= 30:
            raise BadRequest("InvalidFlowTimeoutInMinutes", "flowTimeoutInMinutes must be from 4 to 30.")
        out["flowTimeoutInMinutes"] = ft
    if props.get("encryption"):
        raise Unmodelled("virtual network encryption is not modelled")
    return out


def _replace_subnets(
    arm: Arm, res: dict[str, Any], props: dict[str, Any], existing: dict[str, Any] | None
) -> None:
    """PUT semantics: the body's subnets replace the current set, all validated against the new
    address space before anything is stored."""
    rid = res["id"]
    wanted = _named_children(
        props.get("subnets") or [], "subnet", "properties.subnets", f"network/{API}/Subnet"
    )
    names = {name.lower() for name, _ in wanted}
    dropped = [sub for sub in (arm.children(rid) if existing else []) if sub["name"].lower() not in names]
    for sub in dropped:
        users = ipconfigs_using(arm, "subnet", sub["id"])
        if users:
            raise subnet_in_use(sub["name"], users[0])
    built = [
        _subnet_resource(arm, res, name, sprops, arm.get(f"{rid}/subnets/{name}")) for name, sprops in wanted
    ]
    for i, a in enumerate(built):
        for b in built[i + 1 :]:
            if ipaddress.ip_network(a["properties"]["addressPrefix"]).overlaps(
                ipaddress.ip_network(b["properties"]["addressPrefix"])
            ):
                raise _subnets_overlap(b["name"], a["name"], res["name"])
    for sub in dropped:
        arm.remove(sub["id"])
    for s in built:
        arm.store(s)


class TaggedResource(ResourceHandler):
    """A network resource whose PATCH (TagsObject) replaces its tags."""

    def patch(self, arm: Arm, req: Request, existing: dict[str, Any]) -> dict[str, Any]:
        existing["tags"] = validate.body_tags(req.body) or {}
        existing["etag"] = etag()
        return existing


class VNetHandler(TaggedResource):
    def build(self, arm: Arm, req: Request, rid: str, existing: dict[str, Any] | None) -> dict[str, Any]:
        props = _props(req.body)
        res = _base(arm, rid, VNET, existing, req.body)
        res["properties"] = _vnet_properties(props, existing, rid, res["name"])
        _replace_subnets(arm, res, props, existing)
        return res

    def render(self, arm: Arm, res: dict[str, Any]) -> dict[str, Any]:
        res["properties"]["subnets"] = [arm.render(s) for s in arm.children(res["id"]) if s["type"] == SUBNET]
        return res

    def check_delete(self, arm: Arm, req: Request, res: dict[str, Any]) -> None:
        for sub in arm.children(res["id"]):
            users = ipconfigs_using(arm, "subnet", sub["id"])
            if users:
                raise subnet_in_use(sub["name"], users[0])


class SubnetHandler(ResourceHandler):
    def build(self, arm: Arm, req: Request, rid: str, existing: dict[str, Any] | None) -> dict[str, Any]:
        vnet = arm.get(rid.rsplit("/", 2)[0])
        assert vnet is not None  # the router checked the parent
        return _subnet_resource(arm, vnet, rid.rsplit("/", 1)[-1], _props(req.body), existing)

    def render(self, arm: Arm, res: dict[str, Any]) -> dict[str, Any]:
        users = ipconfigs_using(arm, "subnet", res["id"])
        if users:
            res["properties"]["ipConfigurations"] = [{"id": u} for u in users]
        return res

    def check_delete(self, arm: Arm, req: Request, res: dict[str, Any]) -> None:
        users = ipconfigs_using(arm, "subnet", res["id"])
        if users:
            raise subnet_in_use(res["name"], users[0])


# --------------------------------------------------------------------------------------------------
# network security groups
DEFAULT_RULES = [
    (
        "AllowVnetInBound",
        "Allow inbound traffic from all VMs in VNET",
        "VirtualNetwork",
        "VirtualNetwork",
        "Allow",
        65000,
        "Inbound",
    ),
    (
        "AllowAzureLoadBalancerInBound",
        "Allow inbound traffic from azure load balancer",
        "AzureLoadBalancer",
        "*",
        "Allow",
        65001,
        "Inbound",
    ),
    ("DenyAllInBound", "Deny all inbound traffic", "*", "*", "Deny", 65500, "Inbound"),
    (
        "AllowVnetOutBound",
        "Allow outbound traffic from all VMs to all VMs in VNET",
        "VirtualNetwork",
        "VirtualNetwork",
        "Allow",
        65000,
        "Outbound",
    ),
    (
        "AllowInternetOutBound",
        "Allow outbound traffic from all VMs to Internet",
        "*",
        "Internet",
        "Allow",
        65001,
        "Outbound",
    ),
    ("DenyAllOutBound", "Deny all outbound traffic", "*", "*", "Deny", 65500, "Outbound"),
]

_PORT = re.compile(r"^(\*|\d{1,5}(-\d{1,5})?)$")


def _check_prefix(value: Any, rule: str, field: str) -> None:
    v = str(value)
    if v.lower() in SERVICE_TAGS or re.match(r"^[A-Za-z]+(\.[A-Za-z0-9]+)?$", v):
        return
    try:
        ipaddress.ip_network(v, strict=False)
    except ValueError as exc:
        raise BadRequest(
            "SecurityRuleInvalidAddressPrefix",
            f"Security rule {rule} has invalid Address prefix. Value provided: {v}",
            target=field,
        ) from exc


def _check_port(value: Any, rule: str, field: str) -> None:
    v = str(value)
    ok = bool(_PORT.match(v))
    if ok and v != "*":
        parts = [int(p) for p in v.split("-")]
        ok = all(0 <= p <= 65535 for p in parts) and (len(parts) == 1 or parts[0] <= parts[1])
    if not ok:
        raise BadRequest(
            "SecurityRuleInvalidPortRange",
            f"Security rule {rule} has invalid Port range. Value provided: {v}. Value should be an integer "
            "OR "
            "integer range with '-' delimiter. Valid range 0-65535.",
            target=field,
        )


def _rule_properties(name: str, p: dict[str, Any]) -> dict[str, Any]:
    """Validate one security rule's properties and return them as ARM stores them."""
    protocol = validate.enum(p, "protocol", ["Tcp", "Udp", "Icmp", "Esp", "*", "Ah"])
    access = validate.enum(p, "access", ["Allow", "Deny"])
    direction = validate.enum(p, "direction", ["Inbound", "Outbound"])
    for key, val in (("protocol", protocol), ("access", access), ("direction", direction)):
        if val is None:
            raise BadRequest(
                "SecurityRuleParameterContainsUnsupportedValue",
                f"Security rule parameter {key[0].upper() + key[1:]} for rule with Id {name} cannot be null.",
                target=f"properties.{key}",
            )
    prio = p.get("priority")
    if not isinstance(prio, int) or not 100 <= prio <= 4096:
        raise BadRequest(
            "SecurityRuleInvalidPriority",
            f"Security rule {name} has invalid Priority. Value provided: {prio} Allowed range 100-4096.",
            target="properties.priority",
        )
    out: dict[str, Any] = {
        "provisioningState": "Succeeded",
        "protocol": protocol,
        "access": access,
        "direction": direction,
        "priority": prio,
        "sourceAddressPrefixes": [],
        "destinationAddressPrefixes": [],
        "sourcePortRanges": [],
        "destinationPortRanges": [],
    }
    if p.get("description"):
        out["description"] = p["description"]
    for single, plural, check in (
        ("sourceAddressPrefix", "sourceAddressPrefixes", _check_prefix),
        ("destinationAddressPrefix", "destinationAddressPrefixes", _check_prefix),
        ("sourcePortRange", "sourcePortRanges", _check_port),
        ("destinationPortRange", "destinationPortRanges", _check_port),
    ):
        one, many = p.get(single), p.get(plural) or []
        if one is not None and many:
            raise BadRequest(
                "SecurityRuleParameterContainsUnsupportedValue",
                f"Security rule {name} has both {single} and {plural} specified.",
            )
        if one is None and not many:
            raise BadRequest(
                "SecurityRuleParameterContainsUnsupportedValue",
                f"Security rule parameter {single[0].upper() + single[1:]} for rule with Id {name} cannot "
                "be null.",
                target=f"properties.{single}",
            )
        for v in [one] if one is not None else many:
            check(v, name, f"properties.{single}")
        if one is not None:
            out[single] = str(one)
        else:
            out[plural] = [str(v) for v in many]
    for key in ("sourceApplicationSecurityGroups", "destinationApplicationSecurityGroups"):
        if p.get(key):
            raise Unmodelled(f"security rule {key} is not modelled")
    return out


def _check_conflicts(rules: list[tuple[str, dict[str, Any]]]) -> None:
    seen: dict[tuple[str, int], str] = {}
    for name, p in rules:
        key = (p["direction"], p["priority"])
        if key in seen:
            raise BadRequest(
                "SecurityRuleConflict",
                f"Security rule {name} conflicts with rule {seen[key]}. Rules cannot have the same "
                "Priority and "
                "Direction. To learn more, see aka.ms/nsgrules.",
            )
        seen[key] = name


class NsgHandler(TaggedResource):
    def build(self, arm: Arm, req: Request, rid: str, existing: dict[str, Any] | None) -> dict[str, Any]:
        body = req.body
        props = _props(body)
        res = _base(arm, rid, NSG, existing, body)
        res["properties"] = {
            "provisioningState": "Updating",
            "resourceGuid": existing["properties"]["resourceGuid"] if existing else str(uuid.uuid4()),
        }
        if props.get("flushConnection") is not None:
            res["properties"]["flushConnection"] = bool(props["flushConnection"])
        rules = [
            (name, _rule_properties(name, p))
            for name, p in _named_children(props.get("securityRules") or [], "security rule")
        ]
        _check_conflicts(rules)
        for child in arm.children(rid):
            arm.remove(child["id"])
        for name, p in rules:
            arm.store(
                {
                    "id": f"{res['id']}/securityRules/{name}",
                    "name": name,
                    "type": RULE,
                    "etag": etag(),
                    "properties": p,
                }
            )
        return res

    def render(self, arm: Arm, res: dict[str, Any]) -> dict[str, Any]:
        p = res["properties"]
        p["securityRules"] = [arm.render(r) for r in arm.children(res["id"]) if r["type"] == RULE]
        p["defaultSecurityRules"] = [
            {
                "name": n,
                "id": f"{res['id']}/defaultSecurityRules/{n}",
                "etag": res["etag"],
                "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
                "properties": {
                    "provisioningState": "Succeeded",
                    "description": d,
                    "protocol": "*",
                    "sourcePortRange": "*",
                    "destinationPortRange": "*",
                    "sourceAddressPrefix": src,
                    "destinationAddressPrefix": dst,
                    "access": acc,
                    "priority": prio,
                    "direction": direction,
                    "sourcePortRanges": [],
                    "destinationPortRanges": [],
                    "sourceAddressPrefixes": [],
                    "destinationAddressPrefixes": [],
                },
            }
            for n, d, src, dst, acc, prio, direction in DEFAULT_RULES
        ]
        nic_users, subnet_users = nsg_users(arm, res["id"])
        if nic_users:
            p["networkInterfaces"] = [{"id": i} for i in nic_users]
        if subnet_users:
            p["subnets"] = [{"id": i} for i in subnet_users]
        return res

    def check_delete(self, arm: Arm, req: Request, res: dict[str, Any]) -> None:
        nic_users, subnet_users = nsg_users(arm, res["id"])
        users = nic_users + subnet_users
        if users:
            raise BadRequest(
                "InUseNetworkSecurityGroupCannotBeDeleted",
                f"Network security group {res['id']} cannot be deleted because it is in use by the following "
                f"resources: {', '.join(users)}. In order to delete the Network security group, remove the "
                "association with the resource(s). To learn how to do this, see aka.ms/deletensg.",
            )


def nsg_users(arm: Arm, nsg_id: str) -> tuple[list[str], list[str]]:
    low = nsg_id.lower()
    nic_users = [
        n["id"]
        for n in nics(arm)
        if str((n["properties"].get("networkSecurityGroup") or {}).get("id", "")).lower() == low
    ]
    subnet_users = [
        s["id"]
        for s in arm.resources.values()
        if s["type"] == SUBNET
        and str((s["properties"].get("networkSecurityGroup") or {}).get("id", "")).lower() == low
    ]
    return nic_users, subnet_users


class RuleHandler(ResourceHandler):
    def build(self, arm: Arm, req: Request, rid: str, existing: dict[str, Any] | None) -> dict[str, Any]:
        name = rid.rsplit("/", 1)[-1]
        p = _rule_properties(name, _props(req.body))
        nsg_id = rid.rsplit("/", 2)[0]
        others = [
            (r["name"], r["properties"]) for r in arm.children(nsg_id) if r["name"].lower() != name.lower()
        ]
        _check_conflicts([*others, (name, p)])
        return {
            "id": existing["id"] if existing else rid,
            "name": existing["name"] if existing else name,
            "type": RULE,
            "etag": etag(),
            "properties": p,
        }


# --------------------------------------------------------------------------------------------------
# public IP addresses
PIP_UNMODELLED = (
    "publicIPPrefix",
    "ddosSettings",
    "natGateway",
    "servicePublicIPAddress",
    "linkedPublicIPAddress",
)
DOMAIN_NAME_LABEL = r"^[a-z][a-z0-9-]{1,61}[a-z0-9]$"


def _pip_sku(body: dict[str, Any], rid: str, existing: dict[str, Any] | None) -> tuple[str, str, str, str]:
    """(sku, tier, allocation method, IP version): Standard means Static; the SKU cannot change."""
    props = _props(body)
    sku = validate.enum(body, "sku.name", ["Basic", "Standard"]) or "Basic"
    tier = validate.enum(body, "sku.tier", ["Regional", "Global"]) or "Regional"
    if tier == "Global":
        raise Unmodelled("Global tier public IPs are not modelled")
    method = validate.enum(props, "publicIPAllocationMethod", ["Static", "Dynamic"])
    if method is None:
        method = "Static" if sku == "Standard" else "Dynamic"
    if sku == "Standard" and method != "Static":
        raise BadRequest(
            "StandardSkuPublicIPAddressMustBeStatic",
            f"Standard sku publicIp {rid} must have AllocationMethod set to Static.",
        )
    version = validate.enum(props, "publicIPAddressVersion", ["IPv4", "IPv6"]) or "IPv4"
    if version == "IPv6":
        raise Unmodelled("IPv6 public IPs are not modelled")
    if existing is not None and existing["sku"]["name"] != sku:
        raise BadRequest(
            "PublicIPAddressSkuCannotBeChanged",
            f"Sku of public IP address {rid} cannot be changed from {existing['sku']['name']} to {sku}.",
        )
    return sku, tier, method, version


def _pip_idle_timeout(props: dict[str, Any], rid: str) -> int:
    idle = props.get("idleTimeoutInMinutes", 4)
    if not isinstance(idle, int) or not 4 <= idle <= 30:
        raise BadRequest(
            "PublicIPIdleTimeoutIsOutOfRange",
            f"Idle timeout {idle} of public IP {rid} is out of range. It must be from 4 to 30 minutes.",
        )
    for key in PIP_UNMODELLED:
        if key == "ddosSettings" and (props.get(key) or {}).get("protectionMode") in (
            None,
            "VirtualNetworkInherited",
        ):
            continue
        if props.get(key):
            raise Unmodelled(f"public IP property {key} is not modelled")
    return idle


def _pip_dns_settings(props: dict[str, Any], location: str) -> dict[str, str] | None:
    label = validate.get(props, "dnsSettings.domainNameLabel")
    if not label:
        return None
    if not re.match(DOMAIN_NAME_LABEL, label):
        raise BadRequest(
            "InvalidDomainNameLabel",
            f"The domain name label {label} is invalid. It must conform to the following regular "
            f"expression: {DOMAIN_NAME_LABEL}.",
        )
    return {"domainNameLabel": label, "fqdn": f"{label}.{location}.cloudapp.azure.com"}


class PipHandler(TaggedResource):
    def build(self, arm: Arm, req: Request, rid: str, existing: dict[str, Any] | None) -> dict[str, Any]:
        body = req.body
        props = _props(body)
        res = _base(arm, rid, PIP, existing, body)
        sku, tier, method, version = _pip_sku(body, rid, existing)
        idle = _pip_idle_timeout(props, rid)
        res["sku"] = {"name": sku, "tier": tier}
        if body.get("zones"):
            res["zones"] = [str(z) for z in body["zones"]]
        res["properties"] = {
            "provisioningState": "Updating",
            "resourceGuid": existing["properties"]["resourceGuid"] if existing else str(uuid.uuid4()),
            "publicIPAddressVersion": version,
            "publicIPAllocationMethod": method,
            "idleTimeoutInMinutes": idle,
            "ipTags": list(props.get("ipTags") or []),
            "ddosSettings": {"protectionMode": "VirtualNetworkInherited"},
        }
        dns = _pip_dns_settings(props, res["location"])
        if dns:
            res["properties"]["dnsSettings"] = dns
        # Static addresses are allocated now; dynamic ones while the VM using them is allocated.
        meta = arm.meta(res["id"])
        if method == "Static":
            if not meta.get("address"):
                meta["address"] = arm.allocate_address()
        elif existing is not None and existing["properties"]["publicIPAllocationMethod"] == "Static":
            meta.pop("address", None)
        if meta.get("address"):
            res["properties"]["ipAddress"] = meta["address"]
        return res

    def render(self, arm: Arm, res: dict[str, Any]) -> dict[str, Any]:
        users = ipconfigs_using(arm, "publicIPAddress", res["id"])
        if users:
            res["properties"]["ipConfiguration"] = {"id": users[0]}
        addr = arm.internal.get(res["id"].lower(), {}).get("address")
        if addr:
            res["properties"]["ipAddress"] = addr
        else:
            res["properties"].pop("ipAddress", None)
        return res

    def check_delete(self, arm: Arm, req: Request, res: dict[str, Any]) -> None:
        users = ipconfigs_using(arm, "publicIPAddress", res["id"])
        if users:
            raise BadRequest(
                "PublicIPAddressCannotBeDeleted",
                f"Public IP address {res['id']} can not be deleted since it is still allocated to resource "
                f"{users[0]}. In order to delete the public IP, disassociate/detach the Public IP address "
                "from "
                "the resource.  To learn how to do this, see aka.ms/deletepublicip.",
            )


# --------------------------------------------------------------------------------------------------
# network interfaces
def _used_private_ips(arm: Arm, subnet_id: str, except_nic: str) -> set[str]:
    used = set()
    for nic in nics(arm):
        if nic["id"].lower() == except_nic.lower():
            continue
        for ipc in nic["properties"].get("ipConfigurations", []):
            if str(ipc["properties"].get("subnet", {}).get("id", "")).lower() == subnet_id.lower():
                used.add(ipc["properties"].get("privateIPAddress"))
    return used


NIC_IPC_UNMODELLED = (
    "loadBalancerBackendAddressPools",
    "loadBalancerInboundNatRules",
    "applicationGatewayBackendAddressPools",
    "applicationSecurityGroups",
    "gatewayLoadBalancer",
)


def _static_private_ip(ip: dict[str, Any], ipc_id: str, subnet: dict[str, Any], used: set[str]) -> str:
    net = ipaddress.ip_network(subnet["properties"]["addressPrefix"])
    addr = ip.get("privateIPAddress")
    if not addr:
        raise BadRequest(
            "PrivateIPAddressIsMissing", f"Private static IP address is missing in IP configuration {ipc_id}."
        )
    try:
        ip_addr = ipaddress.ip_address(addr)
    except ValueError as exc:
        raise InvalidRequestFormat(
            f"Cannot parse the request: '{addr}' is not a valid private IP address."
        ) from exc
    if ip_addr not in net:
        raise BadRequest(
            "PrivateIPAddressNotInSubnet",
            f"IP configuration {ipc_id} is referencing a subnet {subnet['id']} whose address range "
            f"does not contain private IP address {addr}.",
        )
    # Azure reserves the network address, the next three (gateway, DNS) and the last (broadcast)
    # address of every subnet.
    if int(ip_addr) - int(net.network_address) < 4 or ip_addr == net.broadcast_address:
        raise BadRequest(
            "PrivateIPAddressInReservedRange",
            f"Private static IP address {addr} falls within reserved IP range of subnet prefix {net}.",
        )
    if addr in used:
        raise BadRequest(
            "PrivateIPAddressInUse",
            f"IP configuration {ipc_id} is using the private IP address {addr} which is already "
            "allocated to another resource.",
        )
    return addr


def _dynamic_private_ip(subnet: dict[str, Any], old: dict[str, Any] | None, used: set[str]) -> str:
    """The previous address when it is still in the subnet and free, else the first free one (.4)."""
    if (
        old is not None
        and str(old["properties"]["subnet"]["id"]).lower() == subnet["id"].lower()
        and old["properties"]["privateIPAddress"] not in used
    ):
        return old["properties"]["privateIPAddress"]
    net = ipaddress.ip_network(subnet["properties"]["addressPrefix"])
    addr = next((str(h) for h in list(net.hosts())[3:] if str(h) not in used), None)
    if addr is None:
        raise BadRequest(
            "SubnetIsFull",
            f"Subnet {subnet['name']} with address prefix {net} does not have enough capacity for 1 IP "
            "address.",
        )
    return addr


def _nic_public_ip(
    arm: Arm, ip: dict[str, Any], idx: int, ipc_id: str, res: dict[str, Any], rid: str
) -> dict[str, str]:
    """The {"id"} reference to an ip configuration's public IP, which no other one may use."""
    pip = arm.ref(
        ip["publicIPAddress"], PIP, ipc_id, f"properties.ipConfigurations[{idx}].properties.publicIPAddress"
    )
    if pip["location"] != res["location"]:
        raise invalid_resource_reference(pip["id"], rid)
    others = [u for u in ipconfigs_using(arm, "publicIPAddress", pip["id"]) if u.lower() != ipc_id.lower()]
    if others:
        raise BadRequest(
            "PublicIPAddressInUse",
            f"Resource {pip['id']} is referenced by resource {others[0]}, so it cannot be used by {ipc_id}.",
        )
    return {"id": pip["id"]}


def _ip_configuration(
    arm: Arm,
    rid: str,
    res: dict[str, Any],
    idx: int,
    ipcs: list[dict[str, Any]],
    old: dict[str, Any] | None,
    used: set[str],
) -> dict[str, Any]:
    """One validated ip configuration of a NIC PUT (``used``: addresses taken in the subnet)."""
    ipc = ipcs[idx]
    name = ipc.get("name")
    if not name:
        raise InvalidRequestFormat("Each IP configuration must have a name.")
    ip = _props(ipc)
    ipc_id = f"{res['id']}/ipConfigurations/{name}"
    subnet = arm.ref(
        ip.get("subnet"), SUBNET, ipc_id, f"properties.ipConfigurations[{idx}].properties.subnet"
    )
    vnet = arm.get(subnet["id"].rsplit("/", 2)[0])
    if vnet and vnet["location"] != res["location"]:
        raise invalid_resource_reference(subnet["id"], rid)
    method = validate.enum(ip, "privateIPAllocationMethod", ["Dynamic", "Static"]) or "Dynamic"
    used = used | _used_private_ips(arm, subnet["id"], res["id"])
    if method == "Static":
        addr = _static_private_ip(ip, ipc_id, subnet, used)
    else:
        addr = _dynamic_private_ip(subnet, old, used)
    p_out: dict[str, Any] = {
        "provisioningState": "Succeeded",
        "privateIPAddress": addr,
        "privateIPAllocationMethod": method,
        "subnet": {"id": subnet["id"]},
        "primary": bool(ip.get("primary", idx == 0 and not any(_props(c).get("primary") for c in ipcs))),
        "privateIPAddressVersion": "IPv4",
    }
    if validate.get(ip, "privateIPAddressVersion", "IPv4") != "IPv4":
        raise Unmodelled("IPv6 NIC IP configurations are not modelled")
    if ip.get("publicIPAddress"):
        p_out["publicIPAddress"] = _nic_public_ip(arm, ip, idx, ipc_id, res, rid)
    for key in NIC_IPC_UNMODELLED:
        if ip.get(key):
            raise Unmodelled(f"NIC ip configuration property {key} is not modelled")
    return {"id": ipc_id, "name": name, "etag": res["etag"], "type": IPCONFIG, "properties": p_out}


def _ip_configurations(
    arm: Arm, rid: str, res: dict[str, Any], props: dict[str, Any], existing: dict[str, Any] | None
) -> list[dict[str, Any]]:
    ipcs = props.get("ipConfigurations") or []
    if not ipcs:
        raise BadRequest(
            "NetworkInterfaceMustHaveAtLeastOneIpConfiguration",
            f"Network interface {rid} must have at least one IP configuration.",
        )
    old_ipcs = {
        i["name"].lower(): i for i in (existing or {}).get("properties", {}).get("ipConfigurations", [])
    }
    out: list[dict[str, Any]] = []
    for idx, ipc in enumerate(ipcs):
        old = old_ipcs.get(str(ipc.get("name")).lower())
        out.append(
            _ip_configuration(
                arm, rid, res, idx, ipcs, old, {o["properties"]["privateIPAddress"] for o in out}
            )
        )
    if not any(o["properties"]["primary"] for o in out):
        raise BadRequest(
            "NetworkInterfaceMustHavePrimaryIpConfiguration",
            f"Network interface {rid} must have one primary IP configuration.",
        )
    if len({o["properties"]["subnet"]["id"].rsplit("/", 2)[0].lower() for o in out}) > 1:
        raise BadRequest(
            "IpConfigurationsOnSameNicCannotUseDifferentVnets",
            f"IP configurations on network interface {rid} reference subnets of different virtual networks.",
        )
    return out


def _nic_properties(
    props: dict[str, Any], existing: dict[str, Any] | None, ipcs: list[dict[str, Any]]
) -> dict[str, Any]:
    old = (existing or {}).get("properties", {})
    out = {
        "provisioningState": "Updating",
        "resourceGuid": old["resourceGuid"] if existing else str(uuid.uuid4()),
        "ipConfigurations": ipcs,
        "dnsSettings": {
            "dnsServers": list(validate.get(props, "dnsSettings.dnsServers", []) or []),
            "appliedDnsServers": [],
            "internalDomainNameSuffix": old.get("dnsSettings", {}).get("internalDomainNameSuffix")
            or f"{uuid.uuid4().hex[:26]}.ax.internal.cloudapp.net",
        },
        "enableAcceleratedNetworking": bool(props.get("enableAcceleratedNetworking", False)),
        "vnetEncryptionSupported": False,
        "enableIPForwarding": bool(props.get("enableIPForwarding", False)),
        "disableTcpStateTracking": bool(props.get("disableTcpStateTracking", False)),
        "hostedWorkloads": [],
        "tapConfigurations": [],
        "nicType": validate.enum(props, "nicType", ["Standard", "Elastic"]) or "Standard",
        "auxiliaryMode": props.get("auxiliaryMode") or "None",
        "auxiliarySku": props.get("auxiliarySku") or "None",
    }
    if out["auxiliaryMode"] != "None" or out["nicType"] != "Standard":
        raise Unmodelled("NIC auxiliaryMode / Elastic nicType is not modelled")
    if validate.get(props, "dnsSettings.internalDnsNameLabel"):
        out["dnsSettings"]["internalDnsNameLabel"] = props["dnsSettings"]["internalDnsNameLabel"]
    return out


class NicHandler(TaggedResource):
    def build(self, arm: Arm, req: Request, rid: str, existing: dict[str, Any] | None) -> dict[str, Any]:
        body = req.body
        props = _props(body)
        res = _base(arm, rid, NIC, existing, body)
        res["properties"] = _nic_properties(
            props, existing, _ip_configurations(arm, rid, res, props, existing)
        )
        if props.get("networkSecurityGroup"):
            nsg = arm.ref(props["networkSecurityGroup"], NSG, rid, "properties.networkSecurityGroup")
            res["properties"]["networkSecurityGroup"] = {"id": nsg["id"]}
        vm = vm_using_nic(arm, res["id"]) if existing else None
        meta = arm.meta(res["id"])
        if vm is not None:
            res["properties"]["macAddress"] = meta.setdefault("mac", new_mac())
        for key in ("privateLinkService", "migrationPhase", "workloadType"):
            if props.get(key):
                raise Unmodelled(f"NIC property {key} is not modelled")
        return res

    def after_store(
        self, arm: Arm, req: Request, res: dict[str, Any], existing: dict[str, Any] | None
    ) -> None:
        vm = vm_using_nic(arm, res["id"])
        if vm is not None:
            sync_dynamic_pips(arm, vm)
            arm.notify_address(vm["id"])

    def render(self, arm: Arm, res: dict[str, Any]) -> dict[str, Any]:
        vm = vm_using_nic(arm, res["id"])
        p = res["properties"]
        if vm is not None:
            p["virtualMachine"] = {"id": vm["id"]}
            p["primary"] = True
            mac = arm.internal.get(res["id"].lower(), {}).get("mac")
            if mac:
                p["macAddress"] = mac
        else:
            p.pop("virtualMachine", None)
        return res

    def check_delete(self, arm: Arm, req: Request, res: dict[str, Any]) -> None:
        vm = vm_using_nic(arm, res["id"])
        if vm is not None:
            raise BadRequest(
                "NicInUse",
                f"Network Interface {res['id']} is used by existing resource {vm['id']}. In order to "
                "delete the "
                "network interface, it must be dissociated from the resource. To learn more, see "
                "aka.ms/deletenic.",
            )
