"""The sandbox as a process: HTTPS with the test CA, Entra ID token endpoint, cloud metadata, env
file, control endpoint, restart persistence and secrets on disk (a real `python -m sandbox serve`)."""

from __future__ import annotations

import socket
import ssl
import urllib.parse
from collections.abc import Iterator

import pytest

from tests.support.arm_emulator import PASSWORD, nic_body, vm_body, winrm_rule
from tests.support.sandbox_process import Sandbox

NET = "2024-03-01"


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path_factory.mktemp("sandbox") / "state")
    box.start()
    try:
        yield box
    finally:
        box.close()


def _token_form(sb: Sandbox, **override: str) -> bytes:
    c = sb.credentials
    form = {
        "grant_type": "client_credentials",
        "client_id": c["client_id"],
        "client_secret": c["client_secret"],
        "scope": f"{sb.url}/.default",
    }
    form.update(override)
    return urllib.parse.urlencode(form).encode()


def _token(sb: Sandbox, tenant: str | None = None, **override: str):
    return sb.request(
        "POST",
        f"/{tenant or sb.credentials['tenant_id']}/oauth2/v2.0/token",
        raw=_token_form(sb, **override),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=False,
    )


def test_tls_certificate_is_issued_by_the_test_ca(sb: Sandbox) -> None:
    ctx = ssl.create_default_context(cafile=str(sb.ca))
    for host in ("127.0.0.1", "localhost"):
        with (
            socket.create_connection(("127.0.0.1", sb.info["port"]), timeout=5) as raw,
            ctx.wrap_socket(raw, server_hostname=host) as tls,
        ):
            assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_cloud_metadata_and_openid_configuration(sb: Sandbox) -> None:
    meta = sb.request("GET", "/metadata/endpoints?api-version=2022-09-01", auth=False)
    assert meta.status == 200
    cloud = meta.body[0]
    assert cloud["resourceManager"] == sb.url
    assert cloud["authentication"]["loginEndpoint"] == sb.url
    assert cloud["name"] != "AzureCloud"  # azure-cli-core would replace its login endpoint
    tenant = sb.credentials["tenant_id"]
    oidc = sb.request("GET", f"/{tenant}/v2.0/.well-known/openid-configuration", auth=False).body
    assert oidc["token_endpoint"] == f"{sb.url}/{tenant}/oauth2/v2.0/token"


def test_token_endpoint_checks_the_configured_credentials(sb: Sandbox) -> None:
    ok = _token(sb)
    assert ok.status == 200
    assert ok.body["token_type"] == "Bearer"
    bad_secret = _token(sb, client_secret="wrong")
    assert bad_secret.status == 401
    assert bad_secret.body["error"] == "invalid_client"
    assert "AADSTS7000215" in bad_secret.body["error_description"]
    bad_client = _token(sb, client_id="00000000-0000-0000-0000-000000000000")
    assert (bad_client.status, bad_client.body["error"]) == (400, "unauthorized_client")
    assert _token(sb, tenant="11111111-1111-1111-1111-111111111111").status == 400
    assert _token(sb, scope="https://management.azure.com/.default").body["error"] == "invalid_scope"
    # A token from the endpoint works on ARM; no token or a made-up one does not.
    rg = f"/subscriptions/{sb.subscription_id}/resourcegroups/none?api-version=2022-09-01"
    assert sb.request("GET", rg, headers={"Authorization": f"Bearer {ok.body['access_token']}"}).status == 404
    assert sb.request("GET", rg, auth=False).status == 401
    r = sb.request("GET", rg, headers={"Authorization": "Bearer forged"})
    assert (r.status, r.body["error"]["code"]) == (401, "InvalidAuthenticationToken")


def test_env_file_and_sandbox_json(sb: Sandbox) -> None:
    env_path = sb.state_dir / "env"
    assert env_path.stat().st_mode & 0o777 == 0o600
    text = env_path.read_text()
    for key in (
        "ARM_CLOUD_METADATA_URL",
        "AZURE_CLOUD_ENVIRONMENT",
        "AZURE_DISABLE_INSTANCE_DISCOVERY",
        "AZURE_CONFIG_DIR",
        "REQUESTS_CA_BUNDLE",
        "SSL_CERT_FILE",
        "AZURE_SUBSCRIPTION_ID",
        "AZURE_CLIENT_ID",
        "AZURE_SECRET",
        "AZURE_TENANT",
        "AZURE_CLIENT_SECRET",
        "AZURE_TENANT_ID",
        "AZURE_AUTHORITY_HOST",
        "AVD_SANDBOX_URL",
    ):
        assert f"export {key}=" in text
    assert sb.env["AVD_SANDBOX_URL"] == f"{sb.url}/_sandbox"
    assert sb.info["url"] == sb.url and sb.info["pid"] == sb.proc.pid  # type: ignore[union-attr]


def test_unmodelled_is_recorded_and_reset_clears_it(sb: Sandbox) -> None:
    sb.reset()
    r = sb.request(
        "GET", f"/subscriptions/{sb.subscription_id}/providers/Microsoft.Web/sites?api-version=2023-01-01"
    )
    assert r.status == 501
    assert [u["path"] for u in sb.unmodelled()] == [
        f"/subscriptions/{sb.subscription_id}/providers/Microsoft.Web/sites"
    ]
    sb.reset()
    assert sb.unmodelled() == []
    assert sb.state()["resources"] == {}


def test_fault_over_http(sb: Sandbox) -> None:
    sb.reset()
    sb.fault(target="arm", method="GET", path="resourcegroups/x$", kind="throttle", count=1, retry_after=2)
    path = f"/subscriptions/{sb.subscription_id}/resourcegroups/x?api-version=2022-09-01"
    r = sb.request("GET", path)
    assert r.status == 429
    assert r.headers["Retry-After"] == "2"
    assert sb.request("GET", path).status == 404
    sb.clear_faults()


def test_restart_keeps_state_port_and_secrets_off_disk(sb: Sandbox) -> None:
    sb.reset()
    sub = sb.subscription_id
    rg = f"/subscriptions/{sub}/resourceGroups/rg1"
    assert sb.request("PUT", f"{rg}?api-version=2022-09-01", {"location": "westeurope"}).status == 201
    net = f"{rg}/providers/Microsoft.Network"
    ids = {
        "vnet": f"{net}/virtualNetworks/vnet1",
        "nsg": f"{net}/networkSecurityGroups/n",
        "subnet": f"{net}/virtualNetworks/vnet1/subnets/s",
        "pip": f"{net}/publicIPAddresses/p",
        "nic": f"{net}/networkInterfaces/nic",
    }
    bodies = [
        (
            ids["vnet"],
            {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/24"]}}},
        ),
        (ids["nsg"], {"location": "westeurope", "properties": {"securityRules": [winrm_rule()]}}),
        (ids["subnet"], {"properties": {"addressPrefix": "10.0.0.0/26"}}),
        (ids["pip"], {"location": "westeurope", "sku": {"name": "Standard"}}),
        (ids["nic"], nic_body(ids)),
    ]
    for rid, body in bodies:
        r = sb.request("PUT", f"{rid}?api-version={NET}", body)
        assert r.status == 201, r.body
    vm = f"{rg}/providers/Microsoft.Compute/virtualMachines/vm1"
    r = sb.request("PUT", f"{vm}?api-version=2024-07-01", vm_body(ids))
    assert r.status == 201, r.body
    poll = sb.request("GET", r.headers["Azure-AsyncOperation"])
    while poll.body["status"] == "InProgress":
        poll = sb.request("GET", r.headers["Azure-AsyncOperation"])
    assert poll.body["status"] == "Succeeded"
    port = sb.info["port"]
    before = sb.state()["resources"]
    sb.restart()
    assert sb.info["port"] == port
    after = sb.state()["resources"]
    assert set(after) == set(before)
    assert after[vm.lower()]["properties"]["provisioningState"] == "Succeeded"
    # Tokens issued before the restart still work (digests are persisted), new ones too.
    assert sb.request("GET", f"{vm}?api-version=2024-07-01").status == 200
    assert sb.unmodelled() == []
    leaks = []
    for path in sb.state_dir.rglob("*"):
        if path.is_file() and PASSWORD in path.read_text(errors="replace"):
            leaks.append(path.name)
    assert leaks == []
    log = sb.requests()
    assert any(e["path"].endswith("/vm1") and e["method"] == "PUT" for e in log)
    assert PASSWORD not in str(log)
