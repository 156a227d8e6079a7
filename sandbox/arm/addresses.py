"""The public IP address pool: each public IP gets its own loopback address (127.X.Y.2, .3, ...),
on which the guest side binds the VM's WinRM listener."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from sandbox.arm.errors import Conflict

WINRM_HTTPS_PORT = 5986


class AddressPool:
    def __init__(self, network: str, probe_bind: bool = True):
        self.network = ipaddress.ip_network(network, strict=False)
        self.probe_bind = probe_bind

    def allocate(self, used: Iterable[str]) -> str:
        """The next free address of the pool that can be bound on the WinRM port."""
        taken = set(used)
        pool = self.network
        hosts = list(pool.hosts()) if pool.num_addresses > 2 else list(pool)
        for host in hosts:
            addr = str(host)
            if addr == "127.0.0.1" or int(host) - int(pool.network_address) < 2 or addr in taken:
                continue
            if self.probe_bind and not can_bind(addr, WINRM_HTTPS_PORT):
                continue
            return addr
        raise Conflict(
            "PublicIPCountLimitReached",
            f"Cannot create more public IP addresses: the sandbox address pool {pool} is exhausted.",
        )


def can_bind(addr: str, port: int) -> bool:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((addr, port))
        return True
    except OSError:
        return False
    finally:
        s.close()
