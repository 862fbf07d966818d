"""The ARM error envelope and the error codes the emulator answers with.

Every non-2xx ARM answer is `{"error": {"code", "message", "target", "details", "additionalInfo"}}`
(without `additionalInfo` under Microsoft.Compute and Microsoft.Network, whose error schemas lack it),
which azure-core parses into `HttpResponseError.error.code` (ODataV4 format).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any


class ArmError(Exception):
    """An ARM error answer: HTTP status plus the envelope's code and message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        details: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.details = list(details)
        self.headers = dict(headers or {})

    def envelope(self) -> dict[str, Any]:
        return envelope(self.code, self.message, target=self.target, details=self.details)


def envelope(
    code: str, message: str, *, target: str | None = None, details: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "target": target,
            "details": [dict(d) for d in details],
            "additionalInfo": [],
        }
    }


#: Resource providers whose error schema has no `additionalInfo` (Compute's `ApiError`: details,
#: innererror, code, target, message; Network's `CloudErrorBody`: code, message, target, details), so
#: their errors leave it out as those providers do.
_WITHOUT_ADDITIONAL_INFO = re.compile(r"/providers/Microsoft\.(Compute|Network)/", re.I)


def for_path(path: str, body: dict[str, Any]) -> dict[str, Any]:
    """An error envelope in the shape of the resource provider that `path` addresses."""
    error = body.get("error")
    if isinstance(error, dict) and _WITHOUT_ADDITIONAL_INFO.search(path):
        return {**body, "error": {k: v for k, v in error.items() if k != "additionalInfo"}}
    return body


def bad_request(code: str, message: str, *, target: str | None = None) -> ArmError:
    return ArmError(400, code, message, target=target)


def invalid_input(message: str) -> ArmError:
    """The backup service's generic refusal (verified code), with a message that says why."""
    return ArmError(400, "BMSUserErrorInvalidInput", f"Input provided for the call is invalid. {message}")


def invalid_configure_protection(detail: str = "") -> ArmError:
    msg = (
        "Input for configure protection is not in proper format\r\n"
        "Please ensure that container exists and other parameters are in valid format"
    )
    return ArmError(400, "BMSUserErrorInvalidConfigureProtectionRequest", msg + (f". {detail}" if detail else ""))


def invalid_parameter(name: str, why: str = "") -> ArmError:
    """The Recovery Services resource provider's answer for a bad request parameter."""
    msg = f"{name} parameter is invalid.\r\nPlease provide a valid {name}"
    return ArmError(400, "InvalidRestApiParameter", msg + (f". {why}" if why else ""), target=name)


def subscription_not_found(sub: str) -> ArmError:
    return ArmError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")


def resource_group_not_found(rg: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")


def resource_not_found(type_path: str, name: str, rg: str) -> ArmError:
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{type_path}/{name}' under resource group '{rg}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def item_not_found() -> ArmError:
    return ArmError(
        404,
        "BMSUserErrorDataSourceObjectNotFound",
        "Item not found.\r\nSelected item might have been deleted. Please check if item is registered to the vault.",
    )


def backup_resource_not_found(what: str, name: str) -> ArmError:
    """Policies, jobs, containers, recovery points and operations that do not exist (emulator choice)."""
    return ArmError(404, "ResourceNotFound", f"The {what} '{name}' was not found.")


def missing_api_version() -> ArmError:
    return ArmError(
        400,
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
    )


def unsupported_route(method: str, path: str) -> ArmError:
    return ArmError(
        404,
        "InvalidResourceType",
        f"The resource type of '{path}' could not be found, or the emulator does not serve {method} on it.",
    )


def invalid_json(detail: str) -> ArmError:
    return ArmError(
        400, "InvalidRequestContent", f"The request content was invalid and could not be deserialized: {detail}"
    )
