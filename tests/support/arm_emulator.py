"""The ARM emulator in-process, for the sandbox's tests (fixtures in tests/sandbox/arm/conftest.py).

`make_emu` runs the emulator in-process (no TLS, no subprocess) with a recording NullGuestHost, so the
many small refusal tests stay fast; tests about the process, TLS, auth and files on disk use
tests.support.sandbox_process.Sandbox (a real `python -m sandbox serve`).
"""

from __future__ import annotations

import json
import random
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.arm.app import create_arm
from sandbox.arm.core import Arm
from sandbox.arm.values import Request, Response
from sandbox.world import World
from tests.support.nullguest import NullGuestHost

PASSWORD = "Canary-Pa55word-4242!"  # a canary: it must never show up in logs or on disk
BASE = "https://127.0.0.1:1"


@dataclass
class Emu:
    """An in-process emulator plus helpers to call it like a client would."""

    arm: Arm
    guest: NullGuestHost
    world: World
    token: str

    @property
    def sub(self) -> str:
        return self.arm.sub

    def rg(self, name: str = "rg1") -> str:
        return f"/subscriptions/{self.sub}/resourceGroups/{name}"

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        api: str | None = None,
        query: dict[str, str] | None = None,
        token: str | None = "default",  # noqa: S107 - "default" means: the fixture's own token
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        if path.startswith(BASE):
            path = path[len(BASE) :]
        parts = urllib.parse.urlsplit(path)
        q = dict(urllib.parse.parse_qsl(parts.query))
        if api:
            q["api-version"] = api
        q.update(query or {})
        hdrs = {"content-type": "application/json"}
        if token == "default":
            hdrs["authorization"] = f"Bearer {self.token}"
        elif token:
            hdrs["authorization"] = token
        hdrs.update(headers or {})
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        req = Request(method, parts.path, q, hdrs, data, BASE)
        with self.arm.lock:
            return self.arm.handle(req)

    # --- builders for the usual resources -------------------------------------------------------
    def put_rg(self, name: str = "rg1", location: str = "westeurope") -> Response:
        return self.call(
            "PUT",
            f"/subscriptions/{self.sub}/resourcegroups/{name}",
            {"location": location},
            api="2022-09-01",
        )

    def put_gallery(self, name: str = "gal1") -> str:
        """Create a gallery in rg1 (which must exist) and return its id."""
        gallery = f"{self.rg()}/providers/Microsoft.Compute/galleries/{name}"
        self.done(self.call("PUT", gallery, {"location": "westeurope"}, api="2019-07-01"))
        return gallery

    def done(self, resp: Response, limit: int = 10) -> Response:
        """Poll an LRO to its end (Azure-AsyncOperation first, like azure-core); the last status."""
        url = resp.headers.get("Azure-AsyncOperation") or resp.headers.get("Location")
        assert url, resp
        last = resp
        for _ in range(limit):
            last = self.call("GET", url)
            if (
                last.status == 200
                and isinstance(last.body, dict)
                and last.body.get("status")
                in (
                    "Succeeded",
                    "Failed",
                    "Canceled",
                )
            ):
                return last
            if last.status in (200, 204) and "Azure-AsyncOperation" not in resp.headers:
                return last
        raise AssertionError(f"LRO did not finish: {last}")

    def network(self, rg: str = "rg1", nsg_rules: list[dict] | None = None) -> dict[str, str]:
        """RG + VNet + NSG + subnet + static Standard PIP + NIC; returns their ids."""
        self.put_rg(rg)
        net = f"{self.rg(rg)}/providers/Microsoft.Network"
        ids = {
            "vnet": f"{net}/virtualNetworks/vnet1",
            "nsg": f"{net}/networkSecurityGroups/nsg1",
            "subnet": f"{net}/virtualNetworks/vnet1/subnets/snet1",
            "pip": f"{net}/publicIPAddresses/pip1",
            "nic": f"{net}/networkInterfaces/nic1",
        }
        api = "2024-03-01"
        r = self.call(
            "PUT",
            ids["vnet"],
            {
                "location": "westeurope",
                "properties": {"addressSpace": {"addressPrefixes": ["10.250.0.0/24"]}},
            },
            api=api,
        )
        assert r.status == 201, r
        self.done(r)
        rules = nsg_rules if nsg_rules is not None else [winrm_rule()]
        r = self.call(
            "PUT", ids["nsg"], {"location": "westeurope", "properties": {"securityRules": rules}}, api=api
        )
        assert r.status == 201, r
        self.done(r)
        r = self.call(
            "PUT",
            ids["subnet"],
            {"properties": {"addressPrefix": "10.250.0.0/26", "networkSecurityGroup": {"id": ids["nsg"]}}},
            api=api,
        )
        assert r.status == 201, r
        self.done(r)
        r = self.call(
            "PUT",
            ids["pip"],
            {
                "location": "westeurope",
                "sku": {"name": "Standard"},
                "properties": {"publicIPAllocationMethod": "Static"},
            },
            api=api,
        )
        assert r.status == 201, r
        self.done(r)
        r = self.call("PUT", ids["nic"], nic_body(ids), api=api)
        assert r.status == 201, r
        self.done(r)
        return ids

    def vm(self, ids: dict[str, str], name: str = "vm1", **overrides: Any) -> Response:
        body = vm_body(ids, **overrides)
        vid = f"{self.rg(ids['nic'].split('/')[4])}/providers/Microsoft.Compute/virtualMachines/{name}"
        r = self.call("PUT", vid, body, api="2024-07-01")
        if r.status in (200, 201):
            self.done(r)
            ids["vm"] = vid
        return r


def winrm_rule(source: str = "127.0.0.1", priority: int = 100, access: str = "Allow") -> dict[str, Any]:
    return {
        "name": f"winrm-{priority}",
        "properties": {
            "protocol": "Tcp",
            "sourceAddressPrefix": source,
            "sourcePortRange": "*",
            "destinationAddressPrefix": "*",
            "destinationPortRange": "5986",
            "access": access,
            "priority": priority,
            "direction": "Inbound",
        },
    }


def nic_body(ids: dict[str, str], pip: bool = True) -> dict[str, Any]:
    ipc: dict[str, Any] = {"subnet": {"id": ids["subnet"]}, "primary": True}
    if pip:
        ipc["publicIPAddress"] = {"id": ids["pip"]}
    return {
        "location": "westeurope",
        "properties": {
            "ipConfigurations": [{"name": "ipconfig1", "properties": ipc}],
            "networkSecurityGroup": {"id": ids["nsg"]},
        },
    }


def vm_body(ids: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "location": "westeurope",
        "tags": {"avd-build-id": "t1"},
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D4s_v5"},
            "storageProfile": {
                "imageReference": {
                    "publisher": "MicrosoftWindowsDesktop",
                    "offer": "windows-11",
                    "sku": "win11-24h2-avd",
                    "version": "latest",
                },
                "osDisk": {
                    "createOption": "FromImage",
                    "caching": "ReadWrite",
                    "managedDisk": {"storageAccountType": "Premium_LRS"},
                    "diskSizeGB": 128,
                },
            },
            "osProfile": {
                "computerName": "avdbuild01",
                "adminUsername": "avdadmin",
                "adminPassword": PASSWORD,
            },
            "networkProfile": {"networkInterfaces": [{"id": ids["nic"], "properties": {"primary": True}}]},
            "securityProfile": {
                "securityType": "TrustedLaunch",
                "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True},
            },
            "licenseType": "Windows_Client",
        },
    }
    for path, value in overrides.items():
        node = body
        keys = path.split("__")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        if value is None:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = value
    return body


def issue_token(arm: Arm) -> str:
    """A bearer token from the emulator's own token endpoint, for the generated service principal."""
    c = arm.creds
    form = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": c.client_id,
            "client_secret": c.client_secret,
            "scope": f"{BASE}/.default",
        }
    ).encode()
    req = Request(
        "POST",
        f"/{c.tenant_id}/oauth2/v2.0/token",
        {},
        {"content-type": "application/x-www-form-urlencoded"},
        form,
        BASE,
    )
    with arm.lock:
        resp = arm.handle(req)
    assert resp.status == 200, resp
    return resp.body["access_token"]


def make_emu(state_dir: Path, guest: NullGuestHost | None = None, **kw: Any) -> Emu:
    world = World(state_dir / "state", pki_dir=state_dir / "pki")
    guest = guest if guest is not None else NullGuestHost()
    pool = kw.pop("vm_address_pool", f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.0/24")  # noqa: S311
    arm = create_arm(world, guest, vm_address_pool=pool, probe_bind=False, **kw)
    world.guests = guest
    return Emu(arm, guest, world, issue_token(arm))
