"""OnDemandBackup: one backup of a protected VM, followed like a Kubernetes Job.

Triggered once, adopted after an unknown outcome, followed to its end by `kinds.jobs`; after a lost
answer, its job is the vault's user-triggered Backup job of the VM started since the pending record.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from azbackup.api import crds, names
from azbackup.api import status as api_status
from azbackup.api.names import KubeAccess
from azbackup.api.specs import OnDemandSpec, VaultSpec
from azbackup.azure import errors, operations
from azbackup.azure import protection_body as pb
from azbackup.azure.gateway import Clients
from azbackup.azure.rest import all_items
from azbackup.kinds import jobs, ttl
from azbackup.kinds import operations as ops
from azbackup.kinds.contract import Context, Kind
from azbackup.kinds.references import PROTECTED_VM_REF, clients_for_vault, is_ready, resolve_protected_vm, resolve_vault
from azbackup.managed import (
    JOURNAL_PENDING,
    ExternalClient,
    Hold,
    Observation,
    Operation,
    OperationResult,
    Resource,
    Waiting,
)
from azbackup.reasons import Reason
from azbackup.toolkit import ids, times

log = logging.getLogger("azbackup.ondemand")
SUCCEEDED = frozenset({"completed", "completedwithwarnings"})
WORDS = jobs.Words("backup", "job", Reason.BACKUP_TRIGGERED, Reason.BACKUP_FAILED)
DEFAULT_RETENTION_DAYS = 30  # Azure's default when no expiry is given (backup-azure-arm-userestapi)


@dataclass(frozen=True)
class Target:
    vm_id: str
    vm_name: str


def job_status(job: Mapping[str, Any]) -> api_status.OnDemandStatus:
    return cast(api_status.OnDemandStatus, jobs.job_status(job, SUCCEEDED))  # its own fields are all optional


class OnDemandClient(jobs.JobClient):
    words = WORDS

    def __init__(self, clients: Clients, vault: VaultSpec, target: Target, spec: OnDemandSpec,
                 now: dt.datetime) -> None:
        super().__init__(clients, vault, target.vm_id, now)
        self.target, self.spec = target, spec

    def retain_until(self, obj: Resource) -> str:
        """From the object's creation, so every pass (and a restarted operator) computes the same expiry."""
        if self.spec.retain_until:
            return self.spec.retain_until
        days = self.spec.retention_days or DEFAULT_RETENTION_DAYS
        start = pb.parse_time(obj.created) or self.now
        return times.rfc3339(start + dt.timedelta(days=days))

    async def _find_job(self, since: str) -> dict[str, Any] | None:
        """The user-triggered backup job of this VM started at or after `since` (after a crash)."""
        jobs = await all_items(self.clients.backup.backup_jobs.list(
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
        points = await all_items(self.clients.backup.recovery_points.list(
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
        if (finished := self.job.finished(obj, api_status.OnDemandStatus, _ready)) is not None:
            return finished
        job_id = await self.job.locate(obj, self._find_job)
        if isinstance(job_id, Observation):
            return job_id
        if job_id is None:
            return Observation(exists=False, status={"phase": jobs.JobPhase.PENDING})
        status = job_status(await self.job.get(job_id))
        if status["phase"] is jobs.JobPhase.RUNNING:
            return self.job.running(status)
        if status["phase"] is jobs.JobPhase.FAILED:
            return self.job.failed(status)
        status["recoveryPoint"] = (api_status.read(obj.status, api_status.OnDemandStatus).get("recoveryPoint")
                                   or await self._recovery_point(status.get("startTime")))
        return Observation(exists=True, status=status, ready=_ready(status))

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

    async def delete(self, obj: Resource, seen: Observation) -> Operation | None:
        return None

    async def poll(self, obj: Resource, operation: Operation) -> OperationResult:
        return await self.job.poll(operation, {"retainUntil": self.retain_until(obj)})

    def keeps_azure_on_delete(self, obj: Resource) -> bool:
        return True  # deleting the object never deletes the recovery point it made


def _ready(status: api_status.OnDemandStatus) -> tuple[Reason, str]:
    return (Reason.BACKUP_SUCCEEDED,
            f"backup job {status.get('jobId')} completed; recovery point {status.get('recoveryPoint')}")


async def client(obj: Resource, ctx: Context) -> ExternalClient:
    spec = OnDemandSpec.parse(obj.spec)
    target = resolve_protected_vm(obj, ctx)
    # Any trigger on record (even one whose outcome is unknown) means the backup has started: follow it.
    started = bool(obj.status.get("jobId") or obj.status.get("operation") or obj.annotations.get(JOURNAL_PENDING))
    state = str(target.status.get("protectionState") or "").lower()
    if not started and not (is_ready(target) and state in pb.PROTECTED_STATES):
        raise Waiting(Hold(Reason.TARGET_NOT_PROTECTED,
                           f"ProtectedVM {target.name} is not protected yet (protectionState "
                           f"{state or 'none'}); the backup starts once it is", stalls=False))
    vault = resolve_vault(target, ctx, need_ready=False)
    vm_id = str(target.spec["vm"])
    name = str(target.status.get("vmName") or ids.name(vm_id))
    return OnDemandClient(await clients_for_vault(vault, ctx), VaultSpec.parse(vault.name, vault.spec),
                          Target(vm_id, name), spec, dt.datetime.fromtimestamp(ctx.clock(), dt.UTC))


# Its vault is its ProtectedVM's; it goes as soon as that VM turns Ready (protected).
KIND = Kind(names.ON_DEMAND, client, crds.on_demand_backup, api_status.OnDemandStatus,
            vault=PROTECTED_VM_REF, waits_for=(PROTECTED_VM_REF,),
            after=ttl.expire,
            writes=(KubeAccess(names.ON_DEMAND, ("delete",),
                               "An OnDemandBackup deletes itself ttlSecondsAfterFinished after it finished."),))
