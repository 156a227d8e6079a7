"""Entra ID (token endpoint, openid-configuration) and the cloud metadata document.

Credentials are generated once per state dir and stored there with mode 600. The token endpoint
accepts only those; ARM accepts only tokens it issued (kept as SHA-256 digests, never in clear).
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qs

from sandbox.arm.errors import ArmError, Unauthorized

TOKEN_LIFETIME = 3599
# The cloud the metadata document describes (not "AzureCloud": azure-cli-core would replace that
# cloud's login endpoint with login.microsoftonline.com).
CLOUD_NAME = "AvdGoldenSandbox"


@dataclass
class Credentials:
    """The one service principal the sandbox knows."""

    tenant_id: str
    client_id: str
    client_secret: str
    subscription_id: str

    @classmethod
    def generate(cls) -> Credentials:
        return cls(
            tenant_id=str(uuid.uuid4()),
            client_id=str(uuid.uuid4()),
            client_secret=secrets.token_urlsafe(32),
            subscription_id=str(uuid.uuid4()),
        )

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def aad_error(status: int, error: str, code: int, description: str) -> ArmError:
    """An Entra ID style error (OAuth2 body, not ARM's)."""
    err = ArmError(status, error, f"AADSTS{code}: {description}")
    err.aad = {
        "error": error,
        "error_description": f"AADSTS{code}: {description}\r\nTrace ID: {uuid.uuid4()}\r\n"
        f"Correlation ID: {uuid.uuid4()}\r\nTimestamp: {time.strftime('%Y-%m-%d %H:%M:%SZ', time.gmtime())}",
        "error_codes": [code],
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        "trace_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
    }
    return err


class Authority:
    """Token issuing and checking."""

    def __init__(self, creds: Credentials, token_digests: dict[str, Any] | None = None):
        self.creds = creds
        # sha256(token) -> [expiry (epoch seconds), client id]. Digests only: a token never
        # touches the disk.
        self.tokens: dict[str, Any] = dict(token_digests or {})
        # Further service principals (sandbox.arm.rbac): client id -> sha256(secret).
        self.clients: dict[str, str] = {}

    def add_client(self) -> dict[str, str]:
        """A new service principal's credentials; only the secret's digest is kept."""
        client_id, secret = str(uuid.uuid4()), secrets.token_urlsafe(32)
        self.clients[client_id] = self._digest(secret)
        return {"client_id": client_id, "client_secret": secret}

    def _secret_ok(self, client_id: str, secret: str) -> bool:
        if client_id == self.creds.client_id:
            return secrets.compare_digest(secret, self.creds.client_secret)
        return secrets.compare_digest(self._digest(secret), self.clients[client_id])

    @staticmethod
    def _digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def openid_configuration(self, base: str, tenant: str) -> dict[str, Any]:
        """The document msal reads for tenant discovery."""
        if tenant not in (self.creds.tenant_id, "organizations", "common"):
            raise aad_error(400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
        root = f"{base}/{tenant}"
        return {
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
            "issuer": f"{base}/{self.creds.tenant_id}/v2.0",
            "jwks_uri": f"{root}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "tenant_region_scope": "EU",
        }

    def token(self, tenant: str, form_body: bytes, audience: str) -> dict[str, Any]:
        """Client-credentials grant; checks tenant, client id, secret and scope."""
        form = {k: v[0] for k, v in parse_qs(form_body.decode("utf-8", "replace")).items()}
        if tenant != self.creds.tenant_id:
            raise aad_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials":
            raise aad_error(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{form.get('grant_type')}'.",
            )
        client_id = form.get("client_id") or ""
        if client_id != self.creds.client_id and client_id not in self.clients:
            raise aad_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{form.get('client_id')}' was not found in the directory "
                f"'{tenant}'.",
            )
        if "client_secret" not in form:
            raise aad_error(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or "
                "'client_secret'.",
            )
        if not self._secret_ok(client_id, form["client_secret"]):
            raise aad_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the "
                "client secret value, not the client secret ID, for a secret added to app "
                f"'{client_id}'.",
            )
        scopes = form.get("scope", "").split()
        allowed = {audience.rstrip("/") + "/.default", audience.rstrip("/") + "//.default"}
        if not scopes or any(s not in allowed for s in scopes):
            raise aad_error(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {form.get('scope')} is not valid. Client credential flows "
                "must have a scope value with /.default suffixed to the resource identifier.",
            )
        token = secrets.token_urlsafe(48)
        now = time.time()
        self.tokens = {d: e for d, e in self.tokens.items() if _expiry(e) > now}
        self.tokens[self._digest(token)] = [now + TOKEN_LIFETIME, client_id]
        return {
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "ext_expires_in": TOKEN_LIFETIME,
            "access_token": token,
        }

    def check(self, authorization: str | None) -> str:
        """401 unless the header carries a live token this authority issued; return its client id."""
        if not authorization:
            raise Unauthorized(
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
            )
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized(
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
            )
        entry = self.tokens.get(self._digest(token.strip()))
        if entry is None:
            raise Unauthorized("InvalidAuthenticationToken", "The access token is invalid.")
        if _expiry(entry) < time.time():
            raise Unauthorized(
                "ExpiredAuthenticationToken",
                "The access token expiry UTC time is earlier than current UTC time.",
            )
        return entry[1] if isinstance(entry, list) else self.creds.client_id


def _expiry(entry: Any) -> float:
    """A token entry's expiry (state files written before tokens named their client hold a float)."""
    return float(entry[0] if isinstance(entry, list) else entry)


def cloud_metadata(base: str) -> list[dict[str, Any]]:
    """The 2022-09-01 metadata document (a list of clouds) azure-cli-core parses.

    The cloud is deliberately not named AzureCloud: azure-cli-core replaces that cloud's login
    endpoint with login.microsoftonline.com.
    """
    return [
        {
            "portal": base,
            "authentication": {
                "loginEndpoint": base,
                "audiences": [base, base.rstrip("/") + "/"],
                "tenant": "common",
                "identityProvider": "AAD",
            },
            "media": base,
            "graphAudience": base,
            "graph": base,
            "name": CLOUD_NAME,
            "suffixes": {
                "azureDataLakeStoreFileSystem": "sandbox.invalid",
                "acrLoginServer": "sandbox.invalid",
                "sqlServerHostname": "sandbox.invalid",
                "azureDataLakeAnalyticsCatalogAndJob": "sandbox.invalid",
                "keyVaultDns": "vault.sandbox.invalid",
                "storage": "sandbox.invalid",
                "azureFrontDoorEndpointSuffix": "sandbox.invalid",
                "storageSyncEndpointSuffix": "sandbox.invalid",
                "mhsmDns": "sandbox.invalid",
                "mysqlServerEndpoint": "sandbox.invalid",
                "postgresqlServerEndpoint": "sandbox.invalid",
                "mariadbServerEndpoint": "sandbox.invalid",
                "synapseAnalytics": "sandbox.invalid",
            },
            "batch": base,
            "resourceManager": base,
            "vmImageAliasDoc": base + "/sandbox/vm-image-aliases",
            "activeDirectoryDataLake": base,
            "sqlManagement": base,
            "microsoftGraphResourceId": base,
            "appInsightsResourceId": base,
            "appInsightsTelemetryChannelResourceId": base,
            "attestationResourceId": base,
            "synapseAnalyticsResourceId": base,
            "logAnalyticsResourceId": base,
            "ossrDbmsResourceId": base,
        }
    ]
