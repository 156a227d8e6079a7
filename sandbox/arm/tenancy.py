"""ARM's tenant-level routes: ``GET /subscriptions``, ``GET /subscriptions/{id}`` and
``GET /tenants`` (what ``az login --service-principal`` and ``az account`` ask), and the checks
ARM makes on a subscription id before routing anything under it.

Shapes follow the Subscriptions API (azure-rest-api-specs
``Microsoft.Resources/stable/2022-12-01/subscriptions.json``): the one subscription the sandbox
has, in its one tenant, as the generated service principal sees it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sandbox.arm import apiversions
from sandbox.arm.errors import BadRequest, Unmodelled, subscription_not_found
from sandbox.arm.values import Request, Response

if TYPE_CHECKING:
    from sandbox.arm.core import Arm

# The api-versions of the Subscriptions API the sandbox answers (azure-cli 2.91 and the
# azure-mgmt-resource the collection pins both send 2022-12-01).
MODELLED = ("2022-12-01", "2022-09-01", "2021-01-01", "2020-01-01", "2019-11-01", "2016-06-01")
DISPLAY_NAME = "AVD golden image sandbox"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def check_subscription(arm: Arm, sub: str) -> None:
    """400 for an id that is not a GUID, 404 for a GUID that is not the sandbox's subscription."""
    if not GUID.match(sub):
        raise BadRequest(
            "InvalidSubscriptionId", f"The provided subscription identifier '{sub}' is malformed or invalid."
        )
    if sub.lower() != arm.sub.lower():
        raise subscription_not_found(sub)


def _check_api(req: Request) -> None:
    if req.method != "GET":
        raise Unmodelled(f"{req.method} {req.path} is not modelled")
    if req.api_version not in MODELLED:
        apiversions.refuse_unknown(apiversions.ARM, req.api_version)
        raise Unmodelled(f"api-version '{req.api_version}' of the Subscriptions API is not modelled")


def subscription(arm: Arm) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{arm.sub}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": arm.sub,
        "tenantId": arm.creds.tenant_id,
        "displayName": DISPLAY_NAME,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
        "tags": {},
    }


def list_subscriptions(arm: Arm, req: Request) -> Response:
    _check_api(req)
    return Response(200, {"value": [subscription(arm)], "count": {"type": "Total", "value": 1}})


def get_subscription(arm: Arm, req: Request, sub: str) -> Response:
    _check_api(req)
    check_subscription(arm, sub)
    return Response(200, subscription(arm))


def list_tenants(arm: Arm, req: Request) -> Response:
    _check_api(req)
    tid = arm.creds.tenant_id
    return Response(
        200,
        {
            "value": [
                {
                    "id": f"/tenants/{tid}",
                    "tenantId": tid,
                    "countryCode": "NL",
                    "displayName": DISPLAY_NAME,
                    "domains": ["sandbox.invalid"],
                    "tenantCategory": "Home",
                    "defaultDomain": "sandbox.invalid",
                    "tenantType": "AAD",
                    "tenantBrandingLogoUrl": None,
                }
            ],
            "count": {"type": "Total", "value": 1},
        },
    )
