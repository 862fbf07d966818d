"""ARM errors, translated once at the edge into the contract's hierarchy of facts (`azbackup.failures`).

This is the only module that looks inside azure-core exceptions. It maps ARM codes and HTTP statuses to
failure classes (data) and decides nothing: what a class means for an object (its reason, whether it
stalls, when to retry) is `failures.MEANING`, read by the loop.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from typing import Final

from azure.core import exceptions as az

from azbackup.failures import ApprovalRequired as ApprovalRequired
from azbackup.failures import AuthFailed as AuthFailed
from azbackup.failures import AzbackupError as AzbackupError
from azbackup.failures import Conflict as Conflict
from azbackup.failures import CrossRegionRestoreRefused as CrossRegionRestoreRefused
from azbackup.failures import DeleteBlocked as DeleteBlocked
from azbackup.failures import Forbidden as Forbidden
from azbackup.failures import InvalidSpec as InvalidSpec
from azbackup.failures import LocationNotSupported as LocationNotSupported
from azbackup.failures import NotFound as NotFound
from azbackup.failures import NotRegistered as NotRegistered
from azbackup.failures import PolicyEditBudgetExhausted as PolicyEditBudgetExhausted
from azbackup.failures import PolicyInUse as PolicyInUse
from azbackup.failures import ResourceGroupMissing as ResourceGroupMissing
from azbackup.failures import Retry as Retry
from azbackup.failures import SecretInvalid as SecretInvalid
from azbackup.failures import SecretNotFound as SecretNotFound
from azbackup.failures import StorageRedundancyLocked as StorageRedundancyLocked
from azbackup.failures import Throttled as Throttled
from azbackup.failures import Unavailable as Unavailable
from azbackup.failures import VaultNameUnavailable as VaultNameUnavailable

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
