"""ARM errors, translated once at the edge into the operator's own small hierarchy.

This is the only module that looks inside azure-core exceptions. Each class names its reason, whether
it needs a human (Stalled) or is transient (Reconciling), and how soon to retry: FAST (seconds, with
backoff), SLOW (minutes, with backoff: a fixed Secret or role assignment heals it), NEVER (only a spec
change can help), or exactly the server's Retry-After for throttling.
"""

from __future__ import annotations

import contextlib
import enum
import re
from collections.abc import Iterator, Mapping
from typing import ClassVar, Final

from azure.core import exceptions as az

from azbackup.reasons import Reason


class Retry(enum.Enum):
    FAST = "fast"
    SLOW = "slow"
    NEVER = "never"


class AzbackupError(Exception):
    """An Azure (or credential) failure with a stable reason. Messages never carry secrets."""

    reason: ClassVar[Reason] = Reason.AZURE_ERROR
    stalls: ClassVar[bool] = True
    retry: ClassVar[Retry] = Retry.SLOW

    def __init__(self, message: str, *, code: str = "", status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message, self.code, self.status, self.retry_after = message, code, status, retry_after


class Throttled(AzbackupError):
    reason, stalls, retry = Reason.THROTTLED, False, Retry.FAST


class Unavailable(AzbackupError):
    reason, stalls, retry = Reason.AZURE_UNAVAILABLE, False, Retry.FAST


class AuthFailed(AzbackupError):
    reason = Reason.AUTHENTICATION_FAILED


class Forbidden(AzbackupError):
    reason = Reason.AUTHORIZATION_FAILED


class SecretNotFound(AzbackupError):
    reason = Reason.SECRET_NOT_FOUND


class SecretInvalid(AzbackupError):
    reason = Reason.SECRET_INVALID


class NotRegistered(AzbackupError):
    reason = Reason.SUBSCRIPTION_NOT_REGISTERED


class ResourceGroupMissing(AzbackupError):
    reason = Reason.RESOURCE_GROUP_NOT_FOUND


class InvalidSpec(AzbackupError):
    reason, retry = Reason.INVALID_SPEC, Retry.NEVER


class LocationNotSupported(AzbackupError):
    reason, retry = Reason.LOCATION_NOT_SUPPORTED, Retry.NEVER


class StorageRedundancyLocked(AzbackupError):
    reason, retry = Reason.STORAGE_REDUNDANCY_LOCKED, Retry.NEVER


class CrossRegionRestoreRefused(AzbackupError):
    """Azure will not enable cross-region restore: the vault's storage is not (or no longer) geo-redundant."""

    reason, retry = Reason.CROSS_REGION_RESTORE_NEEDS_GEO_REDUNDANCY, Retry.NEVER


class VaultNameUnavailable(AzbackupError):
    reason = Reason.VAULT_NAME_UNAVAILABLE


class DeleteBlocked(AzbackupError):
    reason = Reason.DELETE_BLOCKED


class PolicyInUse(AzbackupError):
    reason = Reason.POLICY_IN_USE


class PolicyEditBudgetExhausted(AzbackupError):
    """Azure refused a policy create/edit: the vault's 50 a day are spent (portal and CLI edits count too)."""

    reason, stalls = Reason.POLICY_EDIT_BUDGET_EXHAUSTED, False


class NotFound(AzbackupError):
    """The resource is absent; callers that observe treat this as 'does not exist'."""

    reason = Reason.AZURE_ERROR


class Conflict(AzbackupError):
    """Another operation is in progress on the resource; retried soon."""

    reason, stalls, retry = Reason.AZURE_UNAVAILABLE, False, Retry.FAST


# One table: ARM error code -> our class. Codes from reference/azure-rest-api.md §4 and §8.
BY_ARM_CODE: Final[Mapping[str, type[AzbackupError]]] = {
    "AuthenticationFailed": AuthFailed,
    "InvalidAuthenticationToken": AuthFailed,
    "InvalidAuthenticationTokenTenant": AuthFailed,
    "ExpiredAuthenticationToken": AuthFailed,
    "AuthorizationFailed": Forbidden,
    "LinkedAuthorizationFailed": Forbidden,
    "SubscriptionRequestsThrottled": Throttled,
    "TooManyRequests": Throttled,
    "RetryableErrorDueToAnotherOperation": Throttled,
    "MissingSubscriptionRegistration": NotRegistered,
    "SubscriptionNotFound": NotRegistered,
    "ResourceGroupNotFound": ResourceGroupMissing,
    "LocationNotAvailableForResourceType": LocationNotSupported,
    "NoRegisteredProviderFound": LocationNotSupported,
    "StorageModelModifyError": StorageRedundancyLocked,
    "BMSUserErrorUnableToEnableCrossRegionRestore": CrossRegionRestoreRefused,
    "CreateResourceFailedDueToInvalidCache": VaultNameUnavailable,
    "VaultNameNotAvailable": VaultNameUnavailable,
    "ServiceResourceNotEmpty": DeleteBlocked,
    "ServiceResourceNotEmptyWithContainerDetails": DeleteBlocked,
    "ServiceResourceNotEmptyWithBackendMessage": DeleteBlocked,
    "BMSUserErrorPolicyInUse": PolicyInUse,
    "BMSUserErrorProtectionPolicyInUse": PolicyInUse,
    "UserErrorPolicyInUse": PolicyInUse,
    "InvalidRestApiParameter": InvalidSpec,
    "BMSUserErrorInvalidInput": InvalidSpec,
    "BMSUserErrorInvalidPolicyInput": InvalidSpec,
    "InvalidParameter": InvalidSpec,
    "InvalidRequestContent": InvalidSpec,
    "BadRequest": InvalidSpec,
    "ResourceNotFound": NotFound,
    "BMSUserErrorDataSourceObjectNotFound": NotFound,
    "BMSUserErrorObjectNotFound": NotFound,
    # Azure's code for the policy-edit budget is unverified; this is the emulator's (docs/emulator.md).
    "UserErrorPolicyOperationQuotaExceeded": PolicyEditBudgetExhausted,
    "AnotherOperationInProgress": Conflict,
    "Conflict": Conflict,
}

_SECRET_LIKE = re.compile(r"(?i)(client_secret|client_assertion|access_token|refresh_token|password)=[^&\s]+")


def _scrub(text: str, limit: int = 400) -> str:
    """First line(s) of an Azure message, without anything that looks like a credential."""
    text = _SECRET_LIKE.sub(r"\1=***", " ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def first_sentence(text: str, limit: int = 160) -> str:
    """The first sentence of a library's message, scrubbed and bounded (for a condition message)."""
    head = " ".join(text.split()).split(". ", 1)[0].rstrip(".")
    return _scrub(head, limit)


def retry_after_of(exc: az.HttpResponseError) -> float | None:
    response = exc.response
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for header in ("Retry-After", "retry-after-ms", "x-ms-retry-after-ms"):
        value = headers.get(header)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            continue
        return seconds / 1000 if header != "Retry-After" else seconds
    return None


def translate(exc: BaseException) -> AzbackupError:
    """Our error for an azure-core / azure-identity exception (the caller chains it with `from`)."""
    if isinstance(exc, AzbackupError):
        return exc
    if isinstance(exc, az.ClientAuthenticationError) and not (exc.error and exc.error.code):
        # azure-identity raises this when the token request itself fails (bad secret, wrong tenant), with
        # Entra's answer attached but not in ARM's error shape: its message carries Entra's error and
        # AADSTS code ("(invalid_client) AADSTS7000215: ..."), which says what to fix; the bare HTTP
        # status ("401: Unauthorized") would not. An ARM 401 has an ARM error code and goes below.
        return AuthFailed(f"Azure rejected the credential: {_scrub(str(exc.message or exc))}",
                          status=exc.status_code)
    if isinstance(exc, (az.ServiceRequestError, az.ServiceResponseError)):
        return Unavailable(f"cannot reach Azure: {_scrub(str(exc))}")
    if isinstance(exc, az.HttpResponseError):
        status = exc.status_code or 0
        code = (exc.error.code if exc.error and exc.error.code else "") or ""
        message = (exc.error.message if exc.error and exc.error.message else "") or exc.reason or str(exc)
        text = f"{code or status}: {_scrub(message)}"
        cls: type[AzbackupError] | None = BY_ARM_CODE.get(code)
        if cls is None:
            if status == 429:
                cls = Throttled
            elif status == 401:
                cls = AuthFailed
            elif status == 403:
                cls = Forbidden
            elif status == 404:
                cls = NotFound
            elif status == 409:
                cls = Conflict
            elif status >= 500 or status in (408, 0):
                cls = Unavailable
            else:
                cls = AzbackupError
        return cls(text, code=code, status=status, retry_after=retry_after_of(exc))
    return AzbackupError(_scrub(f"{type(exc).__name__}: {exc}"))


@contextlib.contextmanager
def guard() -> Iterator[None]:
    """Translate any Azure SDK or azure-identity exception raised inside the block."""
    try:
        yield
    except AzbackupError:
        raise
    except az.AzureError as exc:
        raise translate(exc) from exc
