"""Azure failures as facts, and what each one means for an object (STYLE §5).

The gateway (`azure/errors.py`) turns azure-core exceptions into these classes by ARM code and HTTP
status, and names no reason. What a failure means — its reason, whether it needs a human (Stalled) or
is transient (Reconciling), and how soon to retry — is the one table `MEANING` here, read by the loop:
FAST (seconds, with backoff), SLOW (minutes, with backoff: a fixed Secret or role assignment heals it),
NEVER (only a spec change can help), or exactly the server's Retry-After for throttling.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from azbackup.reasons import Reason


class Retry(enum.Enum):
    FAST = "fast"
    SLOW = "slow"
    NEVER = "never"
    APPROVAL = "approval"  # at a fixed interval: an approval window opens and closes, a doubled wait could miss it


@dataclass(frozen=True)
class Meaning:
    reason: Reason
    stalls: bool = True
    retry: Retry = Retry.SLOW


class AzbackupError(Exception):
    """An Azure (or credential) failure: facts only. Messages never carry secrets."""

    def __init__(self, message: str, *, code: str = "", status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message, self.code, self.status, self.retry_after = message, code, status, retry_after

    @property
    def meaning(self) -> Meaning:
        return meaning_of(type(self))

    @property
    def reason(self) -> Reason:
        return self.meaning.reason

    @property
    def stalls(self) -> bool:
        return self.meaning.stalls

    @property
    def retry(self) -> Retry:
        return self.meaning.retry


class Throttled(AzbackupError):
    """ARM answered 429 (or a throttling code); `retry_after` says when to come back."""


class Unavailable(AzbackupError):
    """No answer, a 5xx or a 408: says nothing about what happened."""


class AuthFailed(AzbackupError):
    """The credential was refused (by Entra or by ARM)."""


class Forbidden(AzbackupError):
    """The identity lacks a role assignment for the call."""


class SecretNotFound(AzbackupError):
    """The credential Secret named by the spec does not exist."""


class SecretInvalid(AzbackupError):
    """The credential Secret lacks a key or holds an unusable value."""


class NotRegistered(AzbackupError):
    """The subscription is not registered for the resource provider (or does not exist)."""


class ResourceGroupMissing(AzbackupError):
    """The resource group does not exist."""


class InvalidSpec(AzbackupError):
    """Azure refused the request's content."""


class LocationNotSupported(AzbackupError):
    """The resource type is not offered in the location."""


class StorageRedundancyLocked(AzbackupError):
    """The vault's storage redundancy can no longer change (items are protected)."""


class CrossRegionRestoreRefused(AzbackupError):
    """Azure will not enable cross-region restore: the vault's storage is not (or no longer) geo-redundant."""


class VaultNameUnavailable(AzbackupError):
    """The vault name is taken (or was, recently)."""


class DeleteBlocked(AzbackupError):
    """The vault still holds items or registered containers."""


class PolicyInUse(AzbackupError):
    """The policy still protects items."""


class PolicyEditBudgetExhausted(AzbackupError):
    """Azure refused a policy create/edit: the vault's 50 a day are spent (portal and CLI edits count too)."""


class ApprovalRequired(AzbackupError):
    """A critical operation on a vault with a Resource Guard was refused: nobody approved it on the guard yet."""

    def __init__(self, message: str, *, operation: str, guard: str, code: str = "", status: int | None = None) -> None:
        super().__init__(message, code=code, status=status)
        self.operation, self.guard = operation, guard


class NotFound(AzbackupError):
    """The resource is absent; callers that observe treat this as 'does not exist'."""


class Conflict(AzbackupError):
    """Another operation is in progress on the resource; retried soon."""


MEANING: Final[Mapping[type[AzbackupError], Meaning]] = {
    AzbackupError: Meaning(Reason.AZURE_ERROR),
    Throttled: Meaning(Reason.THROTTLED, stalls=False, retry=Retry.FAST),
    Unavailable: Meaning(Reason.AZURE_UNAVAILABLE, stalls=False, retry=Retry.FAST),
    AuthFailed: Meaning(Reason.AUTHENTICATION_FAILED),
    Forbidden: Meaning(Reason.AUTHORIZATION_FAILED),
    SecretNotFound: Meaning(Reason.SECRET_NOT_FOUND),
    SecretInvalid: Meaning(Reason.SECRET_INVALID),
    NotRegistered: Meaning(Reason.SUBSCRIPTION_NOT_REGISTERED),
    ResourceGroupMissing: Meaning(Reason.RESOURCE_GROUP_NOT_FOUND),
    InvalidSpec: Meaning(Reason.INVALID_SPEC, retry=Retry.NEVER),
    LocationNotSupported: Meaning(Reason.LOCATION_NOT_SUPPORTED, retry=Retry.NEVER),
    StorageRedundancyLocked: Meaning(Reason.STORAGE_REDUNDANCY_LOCKED, retry=Retry.NEVER),
    CrossRegionRestoreRefused: Meaning(Reason.CROSS_REGION_RESTORE_NEEDS_GEO_REDUNDANCY, retry=Retry.NEVER),
    VaultNameUnavailable: Meaning(Reason.VAULT_NAME_UNAVAILABLE),
    DeleteBlocked: Meaning(Reason.DELETE_BLOCKED),
    PolicyInUse: Meaning(Reason.POLICY_IN_USE),
    PolicyEditBudgetExhausted: Meaning(Reason.POLICY_EDIT_BUDGET_EXHAUSTED, stalls=False),
    NotFound: Meaning(Reason.AZURE_ERROR),
    ApprovalRequired: Meaning(Reason.AWAITING_MUA_APPROVAL, stalls=False, retry=Retry.APPROVAL),
    Conflict: Meaning(Reason.AZURE_UNAVAILABLE, stalls=False, retry=Retry.FAST),
}


def meaning_of(cls: type[AzbackupError]) -> Meaning:
    """The meaning of a failure class: its own entry, or its nearest ancestor's."""
    for klass in cls.__mro__:
        if klass in MEANING:
            return MEANING[klass]
    raise AssertionError(cls)
