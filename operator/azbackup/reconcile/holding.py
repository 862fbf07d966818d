"""Readiness changes on evidence, not on a failed read: a Ready object holds while a transient error
(throttling, a 5xx, a dropped connection) is retried.

One 429 or a few 503s on a vault read used to turn the vault Ready=False/AzureUnavailable, and with it
every ProtectedVM of the vault VaultNotReady and back: hundreds of status writes and Events while
nothing changed in Azure. A transient failure says nothing about the resource, so an object that is
Ready for its current generation keeps its last known state (no status write, no Event) while the
error is retried, for up to `LoopSettings.transient_grace` seconds of consecutive failures; past that
the failure is reported as before. Errors a human must fix (credential, permission, spec) are
reported at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azbackup.azure import errors
from azbackup.failures import Retry
from azbackup.toolkit import conditions


def ready_for(status: Mapping[str, Any], generation: int) -> bool:
    return conditions.is_ready(status, generation)


def holds_last_known(status: Mapping[str, Any], generation: int, err: errors.AzbackupError,
                     failing_for: float, grace: float) -> bool:
    """True when the failure is retried quietly: transient, on a Ready object, within the grace period."""
    # A wait on a person's approval is news to report at once, not noise to sit out.
    waits_on_person = err.meaning.retry is Retry.APPROVAL
    return not err.meaning.stalls and not waits_on_person and ready_for(status, generation) and failing_for < grace
