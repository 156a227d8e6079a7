"""Azure-shaped errors: ``{"error": {"code", "message", "target"?, "details"?}}``.

Raise one of the named classes (by HTTP status, or by ARM code for the codes many handlers use) or
a constructor function below for an error whose wording is shared; the code is then at the call
site for a grep. ``ArmError`` itself is for statuses chosen at run time (injected faults).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class ArmError(Exception):
    """An error ARM would answer; raised anywhere in a handler and rendered by the server."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        target: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.details = details
        self.headers = headers or {}
        self.aad: dict[str, Any] | None = None  # an Entra ID (OAuth2) body instead of ARM's

    def body(self) -> dict[str, Any]:
        """The JSON error document."""
        if self.aad is not None:
            return self.aad
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            err["target"] = self.target
        if self.details:
            err["details"] = self.details
        return {"error": err}


# --- by HTTP status ---------------------------------------------------------------------------------
class BadRequest(ArmError):
    """400 with the given ARM code."""

    def __init__(self, code: str, message: str, target: str | None = None, **kw: Any):
        super().__init__(400, code, message, target, **kw)


class Unauthorized(ArmError):
    """401 with the given ARM code."""

    def __init__(self, code: str, message: str, target: str | None = None):
        super().__init__(401, code, message, target)


class NotFound(ArmError):
    """404 with the given ARM code."""

    def __init__(self, code: str, message: str, target: str | None = None):
        super().__init__(404, code, message, target)


class Conflict(ArmError):
    """409 with the given ARM code."""

    def __init__(self, code: str, message: str, target: str | None = None):
        super().__init__(409, code, message, target)


class Unmodelled(ArmError):
    """The request is valid Azure but the sandbox does not model it: 501, recorded, never faked."""

    def __init__(self, message: str, target: str | None = None):
        super().__init__(501, "SandboxNotModelled", message, target)


class SandboxInternalError(ArmError):
    """A sandbox bug: 500, recorded with the unmodelled requests so tests fail on it."""

    def __init__(self, message: str):
        super().__init__(500, "SandboxInternalError", message)


# --- by ARM code (the codes many handlers raise) ----------------------------------------------------
class InvalidParameter(BadRequest):
    def __init__(self, message: str, target: str | None = None):
        super().__init__("InvalidParameter", message, target)


class InvalidRequestContent(BadRequest):
    def __init__(self, message: str, target: str | None = None, **kw: Any):
        super().__init__("InvalidRequestContent", message, target, **kw)


class InvalidRequestFormat(BadRequest):
    def __init__(self, message: str, target: str | None = None):
        super().__init__("InvalidRequestFormat", message, target)


class OperationNotAllowed(Conflict):
    def __init__(self, message: str, target: str | None = None):
        super().__init__("OperationNotAllowed", message, target)


class PropertyChangeNotAllowed(Conflict):
    """409 for a property that cannot change after creation."""

    def __init__(self, prop: str, target: str | None = None, message: str | None = None):
        super().__init__(
            "PropertyChangeNotAllowed", message or f"Changing property '{prop}' is not allowed.", target
        )


# --- shared wording ---------------------------------------------------------------------------------
def missing_parameter(name: str, target: str | None = None, code: str = "InvalidParameter") -> ArmError:
    """400 "Required parameter 'x' is missing (null)."."""
    return BadRequest(code, f"Required parameter '{name}' is missing (null).", target)


def json_object_required() -> ArmError:
    return InvalidRequestContent("The request content was invalid: a JSON object is required.")


def missing_api_version() -> ArmError:
    return BadRequest(
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
    )


def subscription_not_found(sub: str) -> ArmError:
    return NotFound("SubscriptionNotFound", f"The subscription '{sub}' could not be found.")


def resource_group_not_found(name: str) -> ArmError:
    return NotFound("ResourceGroupNotFound", f"Resource group '{name}' could not be found.")


def resource_not_found(rid: str) -> ArmError:
    """ARM's 404 for a missing resource; a nested resource is named type/name/child/name."""
    parts = rid.split("/")
    names = parts[7::2]
    return NotFound(
        "ResourceNotFound",
        f"The Resource '{parts[6]}/{'/'.join(parts[7:])}' under resource group '{parts[4]}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
        target="/".join(parts[6:]) if len(names) > 1 else None,
    )


def parent_not_found(parent_name: str) -> ArmError:
    return NotFound(
        "ParentResourceNotFound",
        f"Can not perform requested operation on nested resource. Parent resource '{parent_name}' not found.",
    )


def another_operation_in_progress(name: str, operation: str | None = None) -> ArmError:
    what = f"Operation '{operation}' on" if operation else "Operation on"
    return Conflict(
        "AnotherOperationInProgress",
        f"{what} resource '{name}' is not allowed because another operation is in progress.",
    )


def invalid_resource_reference(rid: Any, by: str, target: str | None = None) -> ArmError:
    return BadRequest(
        "InvalidResourceReference",
        f"Resource {rid} referenced by resource {by} was not found. Please make sure that the "
        "referenced resource exists, and that both resources are in the same region.",
        target=target,
    )


def location_required() -> ArmError:
    return BadRequest("LocationRequired", "The location property is required for this definition.")


def location_not_available(location: str, known: Iterable[str], target: str = "location") -> ArmError:
    return BadRequest(
        "LocationNotAvailableForResourceType",
        f"The provided location '{location}' is not available for resource type. List of available "
        f"regions is '{','.join(known)}'.",
        target=target,
    )


def nested_resources_exist(rid: str) -> ArmError:
    return Conflict(
        "CannotDeleteResource", "Can not delete resource before nested resources are deleted.", target=rid
    )


def subnet_in_use(subnet: str, user: str) -> ArmError:
    return BadRequest(
        "InUseSubnetCannotBeDeleted",
        f"Subnet {subnet} is in use by {user} and cannot be deleted. In order to delete the subnet, delete "
        "all the resources within the subnet. See aka.ms/deletesubnet.",
    )


def invalid_fault(message: str) -> ArmError:
    return BadRequest("InvalidFault", message)
