"""The one generic reconcile loop: observe -> decide -> act, for every kind.

A kind plugs in an external client (`azbackup.managed.ExternalClient`); this module decides whether to
create, update, delete, wait or report, and turns the outcome into a `Verdict`. It never writes
status itself (see `status.py`) and never sleeps: waiting is a `retry_in` on the verdict, which the
caller turns into a requeue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from azbackup import failures
from azbackup.azure import errors
from azbackup.managed import (
    ExternalClient,
    Hold,
    Observation,
    Operation,
    OperationClient,
    OperationState,
    ReconcilePolicy,
    Resource,
    TriggerClient,
)
from azbackup.reasons import Reason
from azbackup.reconcile import adoption
from azbackup.reconcile.journal import Journal
from azbackup.reconcile.verdict import Verdict
from azbackup.toolkit import times


@dataclass(frozen=True)
class LoopSettings:
    """Timing of the loop. Defaults suit real Azure; tests and benchmarks shorten them."""

    poll_interval: float = 15.0
    """Seconds between polls of a running Azure operation."""
    fast_retry: float = 10.0
    """First delay after a transient error (5xx, connection); doubles per attempt."""
    slow_retry: float = 120.0
    """First delay after an error a human must fix (credential, permission); doubles per attempt."""
    max_retry: float = 1800.0
    """Cap of the doubling delays."""
    approval_retry: float = 120.0
    """Seconds between tries of an operation waiting for Multi-User Authorization approval. Fixed, never
    doubled: an approval (a PIM activation on the Resource Guard) lasts a bounded window, which a doubled
    delay could sleep through. Each try is one refused write, so waiting costs one write per interval."""
    transient_grace: float = 300.0
    """How long a Ready object keeps its Ready state through consecutive transient errors (429, 5xx,
    connection) before the failure is reported: a condition changes on evidence, not on a failed read."""
    record_backoff_over: float = 60.0
    """A backoff at least this long is recorded in status.backoff, so restarts and periodic passes honour
    it; shorter ones stay in memory (recording them would cost a status write per transient error)."""
    waiting_grace: float = 30.0
    """How long a new object may wait for a dependency (its vault or policy, applied with it) before the wait
    is written to its status: one `kubectl apply` of a vault and its VMs then costs no status write and no
    Event per VM for a wait of seconds (crossplane's creation grace period plays the same part)."""
    adopt_window: float = 300.0
    """After a non-idempotent create whose outcome is unknown (a lost answer, a restart mid-call), how long
    the operator keeps looking for what it may have started before it concludes the call never arrived
    and calls again. Longer than a request can stay in flight (azure-core's read timeout is 300 s)."""


def backoff(first: float, attempts: int, cap: float) -> float:
    return float(min(cap, first * (2 ** min(attempts, 16))))


def verdict_for_error(err: errors.AzbackupError, attempts: int, settings: LoopSettings,
                      status: dict[str, object] | None = None) -> Verdict:
    """An Azure failure as a verdict: Stalled or Reconciling, and when to try again (never a storm)."""
    meaning = err.meaning  # the contract's table (failures.MEANING): the gateway only states facts
    if isinstance(err, errors.Throttled) and err.retry_after:
        retry_in: float | None = max(err.retry_after, 1.0)  # the server said when; obey it exactly
    elif meaning.retry is failures.Retry.FAST:
        retry_in = backoff(settings.fast_retry, attempts, settings.max_retry)
    elif meaning.retry is failures.Retry.SLOW:
        retry_in = backoff(settings.slow_retry, attempts, settings.max_retry)
    elif meaning.retry is failures.Retry.APPROVAL:
        retry_in = settings.approval_retry
    else:
        retry_in = None  # only a spec change helps; the periodic sync still re-reads Azure
    make = Verdict.stalled if meaning.stalls else Verdict.progressing
    return make(meaning.reason, err.message, retry_in, status=status or {})


def _hold(hold: Hold, seen: Observation) -> Verdict:
    make = Verdict.stalled if hold.stalls else Verdict.progressing
    return make(hold.reason, hold.message, hold.retry_in, status=seen.status, conditions=seen.conditions)


def _drift_message(seen: Observation) -> str:
    shown = "; ".join(seen.diff[:5]) + (f"; and {len(seen.diff) - 5} more" if len(seen.diff) > 5 else "")
    return f"Azure differs from the spec: {shown}" if shown else "Azure differs from the spec"


async def reconcile(obj: Resource, client: ExternalClient, journal: Journal, now: str,
                    settings: LoopSettings) -> Verdict:
    """One pass for an object that is not being deleted. Raises `errors.AzbackupError` on Azure failures."""
    if obj.policy is ReconcilePolicy.SKIP:
        return Verdict.paused()

    cleared: dict[str, object] = {}
    # An owner of children starts no Azure operation: only an OperationClient has one to follow.
    if isinstance(client, OperationClient) and (operation := Operation.from_status(obj.status.get("operation"))):
        result = await client.poll(obj, operation)
        if result.state is OperationState.RUNNING:
            return Verdict.progressing(_running_reason(client, operation), _running_message(operation),
                                       settings.poll_interval)
        cleared = {"operation": None, **result.status}
        if result.state is OperationState.FAILED:
            hold = client.failed_operation(obj, operation, result)
            make = Verdict.stalled if hold.stalls else Verdict.progressing
            return make(hold.reason, hold.message, hold.retry_in, status=cleared)
        # What the finished operation reported (e.g. a job id) is part of the object from here on.
        obj = replace(obj, status={k: v for k, v in {**obj.status, **cleared}.items() if v is not None})

    seen = await client.observe(obj)
    status = {**cleared, **seen.status}
    if seen.blocked is not None:
        return _hold(seen.blocked, seen).with_status(**status)

    if not seen.exists:
        if not client.deterministic_names:
            # A non-idempotent create (a backup trigger) whose earlier call may have started something
            # that observe has not found yet: look again, never call blindly (see adoption.py).
            doubt = adoption.when_nothing_found(obj.annotations, _parse_now(now), settings.adopt_window)
            if doubt.next is adoption.Next.LOOK:
                reason, message = seen.pending or (
                    _doubt_reason(client),
                    "a create was sent to Azure but its outcome is unknown; looking for what it started")
                look_in = min(settings.poll_interval, doubt.retry_in) if doubt.retry_in else settings.poll_interval
                return Verdict.progressing(reason, message, look_in, status=status)
        if obj.policy is ReconcilePolicy.OBSERVE:
            return Verdict.stalled(Reason.NOT_FOUND_IN_AZURE,
                                   "the Azure resource does not exist; reconcile-policy observe creates nothing",
                                   status=status, conditions=seen.conditions)
        if not client.deterministic_names:
            obj = await journal.mark_pending(obj, now)
        try:
            operation = await client.create(obj, seen)
        except errors.AzbackupError as err:
            if client.deterministic_names:
                raise
            if adoption.outcome_of(err) is adoption.Outcome.REJECTED:
                await journal.mark_failed(obj, now)
                raise
            # The call may have started something: keep the pending record (no failure written, so no
            # second call) and look for it, from the next pass on.
            return Verdict.progressing(
                _doubt_reason(client),
                f"the answer to the create was lost ({err.message}); looking for what it started "
                "instead of sending another", settings.poll_interval, status=status)
        if not client.deterministic_names:
            await journal.mark_succeeded(obj, now)
        return _after_write(client, operation, Reason.CREATING, "creating in Azure", status, seen, settings)

    if not seen.up_to_date:
        if obj.policy is ReconcilePolicy.OBSERVE:
            return Verdict.stalled(Reason.DRIFT_DETECTED, _drift_message(seen),
                                   status={**status, "drift": list(seen.diff)}, conditions=seen.conditions)
        operation = await client.update(obj, seen)
        return _after_write(client, operation, Reason.UPDATING, _drift_message(seen) + "; updating",
                            status, seen, settings)

    status.setdefault("drift", None)
    if seen.limitation is not None:
        return _hold(seen.limitation, seen).with_status(**status)
    if not seen.usable:
        reason, message = seen.pending or (Reason.PROVISIONING, "Azure is still provisioning the resource")
        return Verdict.progressing(reason, message, settings.poll_interval, status=status,
                                   conditions=seen.conditions)
    reason, message = seen.ready or (Reason.AVAILABLE, "Azure matches the spec")
    return Verdict.ready(reason, message, status=status, conditions=seen.conditions)


def _doubt_reason(client: ExternalClient) -> Reason:
    """The reason shown while looking for what an unknown-outcome create started (a kind may name its own)."""
    return client.unknown_outcome_reason if isinstance(client, TriggerClient) else Reason.CREATE_OUTCOME_UNKNOWN


def _running_reason(client: ExternalClient, operation: Operation) -> Reason:
    """The reason shown while an operation runs: a kind may name its own (a policy migration), else the
    generic one. Optional, so kinds without one need nothing."""
    name = getattr(client, "operation_reason", None)
    reason = name(operation) if callable(name) else None
    return reason if isinstance(reason, Reason) else Reason.WAITING_FOR_OPERATION


def _running_message(operation: Operation) -> str:
    """The same words from the write that started it to its end: a poll that finds the operation still
    running leaves status as it is, so it costs no status write."""
    return f"{operation.kind} is running in Azure (started {operation.started_at})"


def _parse_now(now: str) -> dt.datetime:
    parsed = times.parse(now)
    assert parsed is not None, now  # the runtime's clock, never a stored value
    return parsed


def _after_write(client: ExternalClient, operation: Operation | None, reason: Reason, message: str,
                 status: dict[str, object], seen: Observation, settings: LoopSettings) -> Verdict:
    if operation is not None:
        # Saved in status before anyone waits on it: a restarted operator polls this URL instead of
        # sending the write again.
        status = {**status, "operation": operation.to_status()}
        return Verdict.progressing(_running_reason(client, operation), _running_message(operation),
                                   settings.poll_interval, status=status, conditions=seen.conditions)
    # A synchronous write: look again right away, so a finished create or update reports Ready now.
    return Verdict.progressing(reason, message, 0.0, status=status, conditions=seen.conditions)


@dataclass(frozen=True)
class Finalization:
    done: bool
    verdict: Verdict | None = None


async def finalize(obj: Resource, client: ExternalClient, now: str, settings: LoopSettings) -> Finalization:
    """One pass of deletion. done=True means the finalizer may go. Raises `errors.AzbackupError`."""
    if obj.policy is not ReconcilePolicy.MANAGE or client.keeps_azure_on_delete(obj):
        return Finalization(True)
    # An owner of children starts no Azure operation: only an OperationClient has one to follow.
    if isinstance(client, OperationClient) and (operation := Operation.from_status(obj.status.get("operation"))):
        result = await client.poll(obj, operation)
        if result.state is OperationState.RUNNING:
            return Finalization(False, Verdict.progressing(
                Reason.DELETING, _running_message(operation), settings.poll_interval))
        if result.state is OperationState.FAILED:
            hold = client.failed_operation(obj, operation, result)
            return Finalization(False, Verdict.stalled(hold.reason, hold.message,
                                                       hold.retry_in or settings.slow_retry,
                                                       status={"operation": None}))
    seen = await client.observe(obj)
    if not seen.exists:
        return Finalization(True)
    if seen.blocked is not None:
        # Azure will not delete it yet (a vault holding soft-deleted data until its purge date), or the
        # kind has something to report first: status says why, and the delete is not sent in vain.
        return Finalization(False, _hold(seen.blocked, seen).with_status(**seen.status))
    operation = await client.delete(obj, seen)
    if operation is None:
        seen = await client.observe(obj)
        if not seen.exists:
            return Finalization(True)
        return Finalization(False, Verdict.progressing(Reason.DELETING, "deleting in Azure", settings.poll_interval))
    return Finalization(False, Verdict.progressing(
        Reason.DELETING, _running_message(operation), settings.poll_interval,
        status={"operation": operation.to_status()}))
