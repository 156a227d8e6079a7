"""The controller address filter (avd.golden.controller_source_prefix): normalised, bounded, never
"any" (docs/contracts.md section 6)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

REPO_ROOT = Path(__file__).resolve().parents[4]
# The filter imports its logic as ansible_collections.avd.golden...; collections/ holds that path.
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.filter.controller_address import (  # noqa: E402
    FilterModule,
    controller_source_prefix,
)
from ansible_collections.avd.golden.plugins.plugin_utils._controller_address import (  # noqa: E402
    ControllerAddressError,
    normalize_controller_address,
)

VAR = "azure_build_vm_controller_address"


@pytest.mark.parametrize(
    ("value", "widest", "expected"),
    [
        ("203.0.113.10", 32, "203.0.113.10"),
        ("203.0.113.10/32", 32, "203.0.113.10"),  # a /32 is the bare host
        (" 203.0.113.10\n", 32, "203.0.113.10"),  # `curl` output, a YAML block scalar
        ("127.0.0.1", 32, "127.0.0.1"),
        ("10.1.2.3", 32, "10.1.2.3"),
        ("203.0.113.8/29", 29, "203.0.113.8/29"),
        ("203.0.113.8/29", "29", "203.0.113.8/29"),
        ("203.0.113.8/255.255.255.248", 29, "203.0.113.8/29"),  # a netmask: normalised to a length
        ("203.0.113.0/24", 24, "203.0.113.0/24"),  # public: up to /24 when the bound allows it
        ("10.20.0.0/16", 16, "10.20.0.0/16"),  # private: up to /16 when the bound allows it
        ("192.168.4.0/22", 20, "192.168.4.0/22"),
    ],
)
def test_accepted_and_normalised(value: str, widest: int | str, expected: str) -> None:
    assert normalize_controller_address(value, widest) == expected
    assert controller_source_prefix(value, widest_prefix=widest) == expected
    assert normalize_controller_address(expected, widest) == expected  # idempotent


@pytest.mark.parametrize(
    ("value", "widest", "reason"),
    [
        ("*", 32, "every address"),
        ("Any", 32, "every address"),
        ("any", 32, "every address"),
        ("Internet", 32, "every address"),
        ("INTERNET", 32, "every address"),
        ("0.0.0.0/0", 32, "a /0 prefix is every address"),
        ("8.8.8.8/0", 32, "a /0 prefix is every address"),
        ("::/0", 32, "a /0 prefix is every address"),
        ("0.0.0.0/1", 16, "wider than /16, the widest prefix ever allowed"),
        ("128.0.0.0/1", 16, "wider than /16"),
        ("10.0.0.0/8", 16, "wider than /16"),
        ("10.0.0.5/8", 16, "host bits set; write 10.0.0.5 for that single host, or 10.0.0.0/8"),
        ("203.0.113.10/24", 24, "host bits set"),
        ("203.0.113.0/24", 32, "wider than azure_build_vm_controller_widest_prefix allows (a single host)"),
        ("203.0.113.8/29", 30, "allows (/30)"),
        ("198.51.96.0/20", 16, "a public prefix may be at most /24 wide"),
        ("0.0.0.0", 32, "not the address of a host"),  # noqa: S104 - refused, not bound
        ("0.0.0.0/32", 32, "not the address of a host"),
        ("224.0.0.1", 32, "not the address of a host"),
        ("255.255.255.255", 32, "not the address of a host"),
        ("2001:db8::1", 32, "IPv6 is not supported"),
        ("203.0.113.300", 32, "not an IPv4 address or CIDR prefix"),
        ("controller.example.com", 32, "not an IPv4 address or CIDR prefix"),
        ("203.0.113.10/33", 32, "not an IPv4 address or CIDR prefix"),
        ("203.0.113.10, 203.0.113.11", 32, "not an IPv4 address or CIDR prefix"),
        ("", 32, "must be the controller's IPv4 address"),
        ("   ", 32, "must be the controller's IPv4 address"),
        (None, 32, "must be the controller's IPv4 address"),
        (["203.0.113.10"], 32, "must be the controller's IPv4 address"),
    ],
)
def test_refused_naming_the_variable_and_the_reason(value: object, widest: int, reason: str) -> None:
    with pytest.raises(ControllerAddressError) as caught:
        normalize_controller_address(value, widest)
    assert str(caught.value).startswith(f"{VAR}: ")
    assert reason in str(caught.value)
    with pytest.raises(AnsibleFilterError, match=VAR):
        controller_source_prefix(value, widest_prefix=widest)


@pytest.mark.parametrize("widest", [0, 1, 15, 33, -1, "x", None, True, 24.5])
def test_the_bound_itself_is_bounded(widest: object) -> None:
    with pytest.raises(
        ControllerAddressError, match="azure_build_vm_controller_widest_prefix: must be a prefix length"
    ):
        normalize_controller_address("203.0.113.10", widest)


def test_the_error_names_the_variable_it_is_told() -> None:
    with pytest.raises(AnsibleFilterError, match=r"^windows_connect_controller_address: '\*' is refused"):
        controller_source_prefix("*", widest_prefix=16, variable="windows_connect_controller_address")


def test_the_filter_is_registered() -> None:
    assert FilterModule().filters() == {"controller_source_prefix": controller_source_prefix}
