"""The real Azure CLI (az, from its own venv: `make az-cli`) works against the sandbox with the
environment `.sandbox/env` exports: service-principal login, then `az group list`, `az vm list`
and `az sig image-version list` see what was created through REST.

The emulator runs in process (NullGuestHost, no Windows side) behind the real HTTPS front end;
the resources, up to a generalized VM captured into a gallery image version, are created
through its REST API, as a build would leave them."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox import pki
from sandbox.arm.server import SandboxServer, env_lines
from tests.support.arm_emulator import Emu, make_emu
from tests.support.paths import REPO

AZ = REPO / ".venv-az" / "bin" / "az"
READY = "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Emu, dict[str, str]]]:
    # make test installs it (make az-cli); a missing CLI is a failure, not a skip.
    assert AZ.exists(), "the Azure CLI venv is missing: run `make az-cli`"
    tmp = tmp_path_factory.mktemp("azcli")
    emu = make_emu(tmp)
    tls = pki.issue_server_cert(
        emu.world.ca, tmp / "tls" / "arm.pem", tmp / "tls" / "arm.key", "127.0.0.1", ips=["127.0.0.1"]
    )
    server = SandboxServer(emu.arm, 0, tls)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    (emu.world.state_dir / "azure-config").mkdir(exist_ok=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AZURE_", "ARM_", "MSAL_", "IDENTITY_")) and k not in ("REQUESTS_CA_BUNDLE",)
    }
    env.update(env_lines(emu.world, emu.arm, server.base_url))
    try:
        yield emu, env
    finally:
        server.shutdown()
        server.server_close()


def az(env: dict[str, str], *args: str) -> Any:
    r = subprocess.run(
        [str(AZ), *args, "--output", "json", "--only-show-errors"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert r.returncode == 0, f"az {args[:3]}: rc {r.returncode}\n{r.stderr}"
    return json.loads(r.stdout) if r.stdout.strip() else None


def _build_like(emu: Emu) -> dict[str, str]:
    """RG, network, VM, deallocate, (sysprep shortcut), generalize, gallery, definition, version."""
    ids = emu.network()
    assert emu.vm(ids).status in (200, 201)
    vm = ids["vm"]
    emu.done(emu.call("POST", f"{vm}/deallocate", api="2024-07-01"))
    emu.guest.image_states[vm.lower()] = READY
    assert emu.call("POST", f"{vm}/generalize", api="2024-07-01").status == 200
    g = emu.put_gallery()
    image = g + "/images/img1"
    props = {
        "osType": "Windows",
        "osState": "Generalized",
        "hyperVGeneration": "V2",
        "identifier": {"publisher": "Contoso", "offer": "avd", "sku": "base"},
        "features": [{"name": "SecurityType", "value": "TrustedLaunch"}],
    }
    r = emu.call("PUT", image, {"location": "westeurope", "properties": props}, api="2022-03-03")
    assert r.status == 201, r.body
    emu.done(r)
    body = {
        "location": "westeurope",
        "properties": {
            "storageProfile": {"source": {"virtualMachineId": vm}},
            "publishingProfile": {
                "targetRegions": [
                    {"name": "westeurope", "regionalReplicaCount": 1, "storageAccountType": "Standard_LRS"}
                ]
            },
        },
    }
    r = emu.call("PUT", image + "/versions/1.0.0", body, api="2023-07-03")
    assert r.status == 201, r.body
    emu.done(r)
    return ids


def test_az_login_and_lists_against_the_sandbox(served: tuple[Emu, dict[str, str]]) -> None:
    emu, env = served
    _build_like(emu)
    c = emu.arm.creds
    accounts = az(
        env,
        "login",
        "--service-principal",
        "--username",
        c.client_id,
        "--password",
        c.client_secret,
        "--tenant",
        c.tenant_id,
    )
    assert [(a["id"], a["tenantId"], a["state"], a["user"]["type"]) for a in accounts] == [
        (c.subscription_id, c.tenant_id, "Enabled", "servicePrincipal")
    ]
    assert accounts[0]["cloudName"] == "AvdGoldenSandbox"

    groups = az(env, "group", "list")
    assert [(g["name"], g["location"], g["properties"]["provisioningState"]) for g in groups] == [
        ("rg1", "westeurope", "Succeeded")
    ]
    vms = az(env, "vm", "list")
    assert [(v["name"], v["resourceGroup"], v["hardwareProfile"]["vmSize"]) for v in vms] == [
        ("vm1", "rg1", "Standard_D4s_v5")
    ]
    versions = az(
        env,
        "sig",
        "image-version",
        "list",
        "--resource-group",
        "rg1",
        "--gallery-name",
        "gal1",
        "--gallery-image-definition",
        "img1",
    )
    assert [(v["name"], v["provisioningState"]) for v in versions] == [("1.0.0", "Succeeded")]
    assert (
        versions[0]["storageProfile"]["source"]["virtualMachineId"].lower()
        == emu.arm.get(f"{emu.rg()}/providers/Microsoft.Compute/virtualMachines/vm1")["id"].lower()
    )
    # Nothing went elsewhere: every request az made was answered by a modelled route.
    assert emu.arm.unmodelled == []
    refused = [e for e in emu.arm.request_log if e["status"] >= 300]
    assert refused == []
