"""OnDemandBackup: one backup of a protected VM, followed like a Kubernetes Job.

The trigger is the one non-idempotent call of the operator. The loop journals it (intent saved before
the POST, outcome after) and azure-core never retries it. Whenever a trigger may have been sent and no
job id is known (the operator died mid-call, the answer was a 5xx or a dropped connection), observe
looks for the job it may have started (the vault's job list by VM, operation Backup, started since the
pending record) and adopts it: it is followed, never triggered twice. When none shows up within the
loop's adopt window, the trigger never arrived and the loop sends a new one (`reconcile.adoption`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from azbackup.api import crds, names
from azbackup.api.names import KubeAccess
from azbackup.api.specs import OnDemandSpec, VaultSpec
from azbackup.azure import errors, operations
from azbackup.azure import protection_body as pb
from azbackup.azure.gateway import Clients
from azbackup.azure.inventory import collect
from azbackup.azure.rest import rest
from azbackup.kinds import operations as ops
from azbackup.kinds import ttl
from azbackup.kinds.contract import Context, Kind
from azbackup.kinds.references import PROTECTED_VM_REF, clients_for_vault, is_ready, resolve_protected_vm, resolve_vault
from azbackup.managed import (
    JOURNAL_FAILED,
    JOURNAL_PENDING,
    ExternalClient,
    Hold,
    Observation,
    Operation,
    OperationResult,
    OperationState,
    Resource,
    Waiting,
)
from azbackup.reasons import Reason

log = logging.getLogger("azbackup.ondemand")
RUNNING = {"inprogress", "cancelling"}
SUCCEEDED = {"completed", "completedwithwarnings"}
DEFAULT_RETENTION_DAYS = 30  # Azure's default when no expiry is given (backup-azure-arm-userestapi)


@dataclass(frozen=True)
class Target:
    vm_id: str
    vm_name: str


def _iso(value: Any) -> str | None:
    parsed = pb.parse_time(value)
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ") if parsed else None


def job_status(job: Mapping[str, Any]) -> dict[str, Any]:
    props = job.get("properties") or {}
    details = (props.get("errorDetails") or [{}])[0] if props.get("errorDetails") else {}
    raw = str(props.get("status", ""))
    phase = "Running" if raw.lower() in RUNNING else "Succeeded" if raw.lower() in SUCCEEDED else "Failed"
    return {
        "jobId": job.get("name"), "phase": phase, "startTime": _iso(props.get("startTime")),
        "completionTime": _iso(props.get("endTime")) if phase != "Running" else None,
        "duration": str(props.get("duration")) if props.get("duration") and phase != "Running" else None,
        # The emulator and the docs pair a string code (errorTitle) with a numeric one (errorCode).
        "errorCode": (str(details.get("errorTitle") or details.get("errorCode") or "") or None)
        if phase == "Failed" else None,
        "errorMessage": (str(details.get("errorString") or "") or None) if phase == "Failed" else None,
    }


class OnDemandClient:
    deterministic_names = False  # every POST starts another backup: the loop journals the trigger
    unknown_outcome_reason = Reason.TRIGGER_OUTCOME_UNKNOWN

    def __init__(self, clients: Clients, vault: VaultSpec, target: Target, spec: OnDemandSpec,
                 now: dt.datetime) -> None:
        self.clients, self.vault, self.target, self.spec, self.now = clients, vault, target, spec, now
        self.ref = pb.VmRef.parse(target.vm_id)

    def retain_until(self, obj: Resource) -> str:
        """From the object's creation, so every pass (and a restarted operator) computes the same expiry."""
        if self.spec.retain_until:
            return self.spec.retain_until
        days = self.spec.retention_days or DEFAULT_RETENTION_DAYS
        start = pb.parse_time(obj.created) or self.now
        return (start + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")

    async def _job(self, job_id: str) -> dict[str, Any]:
        with errors.guard():
            return rest(await self.clients.backup.job_details.get(self.vault.vault_name, self.vault.resource_group,
                                                                 job_id))

    async def _find_job(self, since: str) -> dict[str, Any] | None:
        """The user-triggered backup job of this VM started at or after `since` (after a crash)."""
        jobs = await collect(self.clients.backup.backup_jobs.list(
            self.vault.vault_name, self.vault.resource_group,
            filter=f"operation eq 'Backup' and backupManagementType eq 'AzureIaasVM' "
                   f"and entityFriendlyName eq '{self.target.vm_name}'"))
        floor = pb.parse_time(since)
        for job in jobs:
            props = job.get("properties") or {}
            started = pb.parse_time(props.get("startTime"))
            if props.get("isUserTriggered") is not False and (floor is None or started is None
                                                             or started >= floor - dt.timedelta(minutes=1)):
                return job
        return None

    async def _recovery_point(self, started: str | None) -> str | None:
        points = await collect(self.clients.backup.recovery_points.list(
            self.vault.vault_name, self.vault.resource_group, pb.FABRIC, self.ref.container, self.ref.item))
        floor = pb.parse_time(started)
        best: tuple[dt.datetime, str] | None = None
        for point in points:
            when = pb.parse_time((point.get("properties") or {}).get("recoveryPointTime"))
            if when is None or (floor is not None and when < floor - dt.timedelta(seconds=5)):
                continue
            if best is None or when > best[0]:
                best = (when, str(point.get("name")))
        return best[1] if best else None

    async def observe(self, obj: Resource) -> Observation:
        job_id = obj.status.get("jobId")
        if job_id and obj.status.get("phase") in ("Succeeded", "Failed"):
            return self._finished(obj)  # a finished job never changes: no call
        pending = obj.annotations.get(JOURNAL_PENDING, "")
        if not job_id and pending and pending > obj.annotations.get(JOURNAL_FAILED, ""):
            # A trigger may have reached Azure (its answer, or our record of it, was lost): adopt its job.
            found = await self._find_job(pending)
            if found is None:
                return Observation(exists=False, status={"phase": "Pending"}, pending=(
                    Reason.TRIGGER_OUTCOME_UNKNOWN,
                    f"a backup trigger was sent at {pending} without a confirmed answer; looking for the job "
                    "it may have started instead of sending another"))
            job_id = found.get("name")
            log.info("%s/%s: adopting backup job %s, started by an earlier trigger", obj.namespace, obj.name,
                     job_id)
        if not job_id:
            return Observation(exists=False, status={"phase": "Pending"})
        status = job_status(await self._job(str(job_id)))
        if status["phase"] == "Running":
            return Observation(exists=True, usable=False, status=status,
                               pending=(Reason.BACKUP_TRIGGERED, f"backup job {job_id} is running in Azure"))
        if status["phase"] == "Failed":
            return Observation(exists=True, status=status, limitation=Hold(
                Reason.BACKUP_FAILED, f"backup job {job_id} failed: {status['errorCode']}: {status['errorMessage']}"))
        status["recoveryPoint"] = obj.status.get("recoveryPoint") or await self._recovery_point(status["startTime"])
        return Observation(exists=True, status=status, ready=(
            Reason.BACKUP_SUCCEEDED, f"backup job {job_id} completed; recovery point {status['recoveryPoint']}"))

    def _finished(self, obj: Resource) -> Observation:
        status = dict(obj.status)
        message = f"backup job {status.get('jobId')}"
        if status.get("phase") == "Failed":
            return Observation(exists=True, limitation=Hold(
                Reason.BACKUP_FAILED, f"{message} failed: {status.get('errorCode')}: {status.get('errorMessage')}"))
        return Observation(exists=True, ready=(
            Reason.BACKUP_SUCCEEDED, f"{message} completed; recovery point {status.get('recoveryPoint')}"))

    async def create(self, obj: Resource, seen: Observation) -> Operation | None:
        log.info("%s/%s: triggering a backup of VM %s", obj.namespace, obj.name, self.target.vm_name)
        capture = operations.HeaderCapture()
        body = {"properties": {"objectType": "IaasVMBackupRequest",
                               "recoveryPointExpiryTimeInUTC": self.retain_until(obj)}}
        with errors.guard():
            # retry_total=0: azure-core would re-send the POST after a 5xx or a dropped connection, and
            # every POST that arrives starts another backup; the loop decides instead (reconcile.adoption).
            await self.clients.backup.backups.trigger(
                self.vault.vault_name, self.vault.resource_group, pb.FABRIC, self.ref.container, self.ref.item,
                cast(Any, body), raw_response_hook=capture, retry_total=0)
        return ops.started(capture, "TriggerBackup", obj.generation)

    async def update(self, obj: Resource, seen: Observation) -> Operation | None:
        return None  # a backup is never changed after the fact; the spec is immutable

    async def delete(self, obj: Resource, seen: Observation) -> Operation | None:
        return None

    async def poll(self, obj: Resource, operation: Operation) -> OperationResult:
        result = await ops.poll(self.clients.backup.send_request, operation)
        if result.state is OperationState.SUCCEEDED and result.status.get("jobId"):
            return OperationResult(result.state, status={"jobId": result.status["jobId"],
                                                         "retainUntil": self.retain_until(obj)})
        return result

    def keeps_azure_on_delete(self, obj: Resource) -> bool:
        return True  # deleting the object never deletes the recovery point it made

    def failed_operation(self, obj: Resource, operation: Operation, result: OperationResult) -> Hold:
        return Hold(Reason.BACKUP_FAILED, f"the backup trigger failed: {result.code}: {result.message}")


async def client(obj: Resource, ctx: Context) -> ExternalClient:
    spec = OnDemandSpec.parse(obj.spec)
    target = resolve_protected_vm(obj, ctx)
    # Any trigger on record (even one whose outcome is unknown) means the backup has started: follow it.
    started = bool(obj.status.get("jobId") or obj.status.get("operation") or obj.annotations.get(JOURNAL_PENDING))
    state = str(target.status.get("protectionState") or "").lower()
    if not started and not (is_ready(target) and state in ("protected", "irpending")):
        raise Waiting(Hold(Reason.TARGET_NOT_PROTECTED,
                           f"ProtectedVM {target.name} is not protected yet (protectionState "
                           f"{state or 'none'}); the backup starts once it is", stalls=False))
    vault = resolve_vault(target, ctx, need_ready=False)
    vm_id = str(target.spec["vm"])
    name = str(target.status.get("vmName") or vm_id.rstrip("/").rsplit("/", 1)[-1])
    return OnDemandClient(await clients_for_vault(vault, ctx), VaultSpec.parse(vault.name, vault.spec),
                          Target(vm_id, name), spec, dt.datetime.fromtimestamp(ctx.clock(), dt.UTC))


# Its vault is its ProtectedVM's; it goes as soon as that VM turns Ready (protected).
KIND = Kind(names.ON_DEMAND, client, crds.on_demand_backup, vault=PROTECTED_VM_REF, waits_for=(PROTECTED_VM_REF,),
            after=ttl.expire,
            writes=(KubeAccess(names.ON_DEMAND, ("delete",),
                               "An OnDemandBackup deletes itself ttlSecondsAfterFinished after it finished."),))
