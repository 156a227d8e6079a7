"""Azure-shaped errors: ``{"error": {"code", "message", "target"?, "details"?}}``."""

from __future__ import annotations

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

    def body(self) -> dict[str, Any]:
        """The JSON error document."""
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            err["target"] = self.target
        if self.details:
            err["details"] = self.details
        return {"error": err}


class Unmodelled(ArmError):
    """The request is valid Azure but the sandbox does not model it: 501, recorded, never faked."""

    def __init__(self, message: str, target: str | None = None):
        super().__init__(501, "SandboxNotModelled", message, target)


def not_found(rtype: str, name: str, rg: str | None = None) -> ArmError:
    """ARM's 404 for a missing resource."""
    where = f" under resource group '{rg}'" if rg else ""
    return ArmError(404, "ResourceNotFound", f"The Resource '{rtype}/{name}'{where} was not found.")


def bad_request(code: str, message: str, target: str | None = None) -> ArmError:
    """A 400 with the given ARM code."""
    return ArmError(400, code, message, target)
