"""After a non-idempotent call whose outcome is unknown: adopt what it may have started, or call again.

A backup trigger starts another backup every time it reaches Azure, so it is never retried blindly:
not by azure-core (the call is sent with retries off), not by the loop. Its outcome is unknown when the
answer is lost after the request may have left (a 5xx, a timeout, a dropped connection), or when the
operator stopped between the journal's pending record and the answer. Then the kind's observe looks
for what the call may have started (reads only: the job list by item, operation and time window) and
adopts it. This module decides, purely, what happens when that look finds nothing: look again while
such a job could still appear, or, once Azure has shown none for a whole window after the pending
record, call again (the earlier call never arrived). A person is needed in neither case.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass

from azbackup.azure import errors
from azbackup.managed import unrefused_trigger
from azbackup.toolkit import times


class Outcome(enum.Enum):
    REJECTED = "rejected"  # Azure refused the call: it started nothing, so recording a failure is safe
    UNKNOWN = "unknown"  # the call may have started something: look before calling again


# Failures that happen before the request reaches the resource provider (token, RBAC, throttling).
_NEVER_ARRIVED = (errors.AuthFailed, errors.Forbidden, errors.SecretNotFound, errors.SecretInvalid,
                  errors.Throttled)


def outcome_of(err: errors.AzbackupError) -> Outcome:
    """Whether a failed non-idempotent call may still have taken effect.

    A 4xx is Azure's refusal of the request, except 408 (the server gave up: it may have acted) and 409
    (for a backup, `UserErrorBackupOperationInProgress`: the running backup may be this very call, whose
    first answer was lost). A 5xx, or no answer at all, says nothing about what happened.
    """
    if isinstance(err, _NEVER_ARRIVED):
        return Outcome.REJECTED
    if err.status is not None and 400 <= err.status < 500 and err.status not in (408, 409):
        return Outcome.REJECTED
    return Outcome.UNKNOWN


class Next(enum.Enum):
    CALL = "call"  # nothing is in doubt (or the doubt has expired): make the call
    LOOK = "look"  # a call may have started something: look for it again later, do not call


@dataclass(frozen=True)
class Decision:
    next: Next
    retry_in: float | None = None  # LOOK: seconds until the window closes


def when_nothing_found(annotations: Mapping[str, str], now: dt.datetime, window: float) -> Decision:
    """What to do when observe found nothing the journaled call could have started.

    `window`: how long after the pending record a call that did reach Azure could still be unseen
    (in flight, or not yet listed); past it, Azure's silence means the call never arrived.
    """
    # Never called, or Azure refused the last call (it started nothing), or an unreadable record.
    pending = times.parse(unrefused_trigger(annotations))
    if pending is None:
        return Decision(Next.CALL)
    age = (now - pending).total_seconds()
    if age < window:
        return Decision(Next.LOOK, max(window - age, 0.0))
    return Decision(Next.CALL)
