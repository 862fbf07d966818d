"""VMRestore: one restore of a protected VM to a new VM or to disks, followed like a Kubernetes Job.

The trigger (`Restores_Trigger`) is not idempotent: a second POST starts a second restore. The loop
journals it (intent saved before the POST, outcome after, as for OnDemandBackup); if the operator dies
in between, observe looks for the Restore job by its target (the job's propertyBag names the target
VM) and adopts it. The restore is done when the *job* is, never when the trigger's operation is
(that one succeeds at once, restore.md §0). Before the trigger, the choice of point and the checks in
restore_checks.py run on reads only: a failing check sends nothing to Azure. The source VM is only
read, never written.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, cast

from azbackup.api import crds, names
from azbackup.api import status as api_status
from azbackup.api.names import KubeAccess
from azbackup.api.specs import VaultSpec, VMRestoreSpec
from azbackup.azure import errors, lists, operations
from azbackup.azure import protection_body as pb
from azbackup.azure.gateway import Clients
from azbackup.azure.rest import all_items
from azbackup.checks import facts as cf
from azbackup.checks.restore_network_config import restore_network_config
from azbackup.checks.result import Result
from azbackup.kinds import jobs, restore_checks, restore_points, ttl
from azbackup.kinds import operations as ops
from azbackup.kinds.contract import Context, Kind
from azbackup.kinds.references import PROTECTED_VM_REF, clients_for_vault, resolve_protected_vm, resolve_vault
from azbackup.managed import (
    ExternalClient,
    Hold,
    Observation,
    Operation,
    OperationResult,
    Resource,
)
from azbackup.reasons import Reason
from azbackup.toolkit import ids, times

log = logging.getLogger("azbackup.vmrestore")
WORDS = jobs.Words("restore", "Restore job", Reason.RESTORE_TRIGGERED, Reason.RESTORE_FAILED)
CLI_TIME = "%Y-%m-%d %I:%M:%S %p"  # how az CLI writes $filter times (restore.md §3.3)
POINT_WINDOW = dt.timedelta(days=3650)  # recovery points are listed over a range; ten years covers them all
NOT_FOUND_RETRY = 60.0
RETRY_REFUSALS = frozenset({Reason.RECOVERY_POINT_NOT_FOUND, Reason.NO_HEALTHY_RECOVERY_POINT})
MAX_SKIPPED = 10  # status keeps the newest points passed over (the CRD's maxItems)


def job_status(job: Mapping[str, Any], wants_vm: bool) -> api_status.VMRestoreStatus:
    """A Restore job as status. CompletedWithWarnings restored the disks but not the VM: when a VM was
    asked for, that is a failure (restore.md §2.3); for a disk restore it is a success."""
    raw = (job.get("properties") or {}).get("status")
    status = cast(api_status.VMRestoreStatus,  # its own fields are all optional
                  jobs.job_status(job, {"completed"} if wants_vm else {"completed", "completedwithwarnings"}))
    if status.get("phase") is jobs.JobPhase.FAILED and str(raw).lower() == "completedwithwarnings":
        status["errorCode"] = status.get("errorCode") or "CompletedWithWarnings"
    status["jobStatus"] = raw
    return status


def property_bag(job: Mapping[str, Any]) -> Mapping[str, Any]:
    return ((job.get("properties") or {}).get("extendedInfo") or {}).get("propertyBag") or {}


_last = ids.name


def disk_stamp(name: str, prefix: str) -> str | None:
    """The `<yyyymmdd-hhmmss>` of a restored disk `<prefix>-osdisk-<stamp>` / `<prefix>-datadisk-<lun>-<stamp>`."""
    low, pre = name.lower(), prefix.lower()
    if not (low.startswith(pre + "-osdisk-") or low.startswith(pre + "-datadisk-")):
        return None
    stamp = "-".join(name.rsplit("-", 2)[-2:])
    return stamp if len(stamp) == 15 and stamp[8] == "-" else None


@dataclass(frozen=True)
class Source:
    vm_id: str
    vm_name: str
    facts: cf.VMFacts | None  # from the fleet snapshot; None when the source VM no longer exists


class RestoreClient(jobs.JobClient):
    words = WORDS

    def __init__(self, clients: Clients, vault: VaultSpec, source: Source, spec: VMRestoreSpec,
                 now: dt.datetime) -> None:
        super().__init__(clients, vault, source.vm_id, now)
        self.source, self.spec = source, spec
        self.warnings: list[str] = []

    # -- names ---------------------------------------------------------------------------------------
    @property
    def wants_vm(self) -> bool:
        return self.spec.mode == "NewVM"

    def group_id(self) -> str:
        return f"/subscriptions/{self.vault.subscription_id}/resourceGroups/{self.spec.target.resource_group}"

    def target_vm_id(self) -> str:
        return f"{self.group_id()}/providers/Microsoft.Compute/virtualMachines/{self.spec.target.vm_name}"

    def disk_prefix(self) -> str:
        # A new VM's disks are named after it; restored disks after the source VM (docs/emulator.md).
        return str(self.spec.target.vm_name) if self.wants_vm else self.source.vm_name

    # -- reads ---------------------------------------------------------------------------------------
    async def _get(self, resource_id: str, api_version: str) -> dict[str, Any] | None:
        try:
            return await lists.get(self.clients.send_request, f"{resource_id}?api-version={api_version}")
        except (errors.NotFound, errors.ResourceGroupMissing):
            return None

    async def _points(self) -> list[restore_points.Point]:
        end = pb.parse_time(self.spec.point.before) or self.now
        end = max(end, self.now) + dt.timedelta(days=1)
        start = end - POINT_WINDOW
        listed = await all_items(self.clients.backup.recovery_points.list(
            self.vault.vault_name, self.vault.resource_group, pb.FABRIC, self.ref.container, self.ref.item,
            filter=f"startDate eq '{start.strftime(CLI_TIME)}' and endDate eq '{end.strftime(CLI_TIME)}'"))
        return [p for p in (restore_points.Point.parse(raw) for raw in listed) if p is not None]

    def _disks_url(self) -> str:
        return f"{self.group_id()}/providers/Microsoft.Compute/disks?api-version={lists.COMPUTE_DISKS}"

    async def _group_exists(self) -> bool:
        # Listing the group's disks answers ResourceGroupNotFound for a missing group: one read with the
        # compute permissions a restore needs anyway (no Microsoft.Resources read).
        try:
            await lists.get(self.clients.send_request, self._disks_url())
        except (errors.NotFound, errors.ResourceGroupMissing):
            return False
        return True

    async def _facts(self) -> restore_checks.RestoreFacts:
        target = self.spec.target
        group = await self._group_exists()
        staging = await self._get(target.staging_account_id, lists.STORAGE)
        subnet_region: restore_checks.Located | None = None
        vm_exists = False
        if self.wants_vm:
            vm_exists = await self._get(self.target_vm_id(), lists.COMPUTE_VMS) is not None
            vnet = await self._get(target.vnet_id, lists.NETWORK) if target.vnet_id else None
            subnet = await self._get(target.subnet_id, lists.NETWORK) if vnet and target.subnet_id else None
            subnet_region = restore_checks.Located(subnet is not None, str((vnet or {}).get("location", "")))
        source_region = (self.source.facts.region if self.source.facts else None) or self.vault.location
        return restore_checks.RestoreFacts(
            self.spec.mode, self.source.vm_name, source_region, self.vault.location, target.resource_group,
            group,
            restore_checks.Located(staging is not None, str((staging or {}).get("location", ""))),
            target.vm_name, vm_exists, subnet_region)

    def _network_warnings(self) -> list[str]:
        """What a restored VM lacks, from the facts behind the RestoreNetworkConfig check."""
        if not self.wants_vm or self.source.facts is None:
            return []
        ctx = cf.CheckContext(self.vault.vault_id, self.vault.location, None)
        checked = restore_network_config(self.source.facts, ctx)
        return [checked.message] if checked.result is Result.WARNING else []

    async def _find_job(self, since: str) -> dict[str, Any] | None:
        """The Restore job this object's trigger started (after a crash between the POST and its record)."""
        floor = (pb.parse_time(since) or self.now) - dt.timedelta(minutes=5)
        end = self.now + dt.timedelta(days=1)
        listed_jobs = await all_items(self.clients.backup.backup_jobs.list(
            self.vault.vault_name, self.vault.resource_group,
            filter=f"operation eq 'Restore' and startTime eq '{floor.strftime(CLI_TIME)}' "
                   f"and endTime eq '{end.strftime(CLI_TIME)}'"))
        for listed in listed_jobs:
            job = await self.job.get(str(listed.get("name")))  # the list may omit extendedInfo
            bag = property_bag(job)
            props = job.get("properties") or {}
            if str(props.get("entityFriendlyName", "")).lower() != self.source.vm_name.lower():
                continue
            if self.wants_vm and str(bag.get("Target VM Name", "")).lower() == str(self.spec.target.vm_name).lower():
                return job
            if not self.wants_vm and str(bag.get("Target resource group", "")).lower() == \
                    self.spec.target.resource_group.lower():
                return job
        return None

    async def _created(self, status: api_status.VMRestoreStatus) -> api_status.Created:
        """What the restore made, read back from compute (the job names no resource id)."""
        out: api_status.Created = {"networkInterfaces": [], "disks": []}
        if self.wants_vm:
            vm = await self._get(self.target_vm_id(), lists.COMPUTE_VMS)
            if vm is not None:
                props = vm.get("properties") or {}
                out["virtualMachine"] = str(vm.get("id") or self.target_vm_id())
                out["networkInterfaces"] = [str(n["id"]) for n in (props.get("networkProfile") or {})
                                            .get("networkInterfaces") or () if n.get("id")]
                storage = props.get("storageProfile") or {}
                disks = [storage.get("osDisk") or {}, *(storage.get("dataDisks") or ())]
                out["disks"] = [str(d["managedDisk"]["id"]) for d in disks if (d.get("managedDisk") or {}).get("id")]
                return out
        # Disks only (asked for, or all a CompletedWithWarnings left): the target group's disks named
        # after the restore, stamped while its job ran.
        start, end = pb.parse_time(status.get("startTime")), pb.parse_time(status.get("completionTime"))
        low = (start - dt.timedelta(minutes=2)).strftime("%Y%m%d-%H%M%S") if start else ""
        high = (end + dt.timedelta(minutes=2)).strftime("%Y%m%d-%H%M%S") if end else "99999999-999999"
        try:
            disks = await lists.collect(self.clients.send_request, self._disks_url())
        except (errors.NotFound, errors.ResourceGroupMissing):
            disks = []
        for disk in disks:
            stamp = disk_stamp(str(disk.get("name", "")), self.disk_prefix())
            if stamp is not None and low <= stamp <= high:
                out["disks"].append(str(disk.get("id")))
        out["disks"].sort()
        return out

    # -- the managed-resource contract ---------------------------------------------------------------
    async def observe(self, obj: Resource) -> Observation:
        if obj.deleting:
            return await self._observe_deleting(obj)
        if (finished := self.job.finished(obj, api_status.VMRestoreStatus, self._ready)) is not None:
            return finished
        job_id = await self.job.locate(obj, self._find_job)
        if isinstance(job_id, Observation):
            # The loop looks again until its adopt window closes, then triggers anew (reconcile.adoption):
            # the point is chosen now for that case; the checks are not (the target may be our own VM).
            chosen = restore_points.choose(await self._points(), self.spec.point)
            return replace(job_id, plan=chosen if isinstance(chosen, restore_points.Chosen) else None)
        if job_id is None:
            return await self._before_trigger(obj)
        status = job_status(await self.job.get(job_id), self.wants_vm)
        if status["phase"] is jobs.JobPhase.RUNNING:
            return self.job.running(status)
        status["created"] = await self._created(status)
        if status["phase"] is jobs.JobPhase.FAILED:
            return self.job.failed(status)
        return Observation(exists=True, status=status, ready=self._ready(status))

    def _ready(self, status: api_status.VMRestoreStatus) -> tuple[Reason, str]:
        return Reason.RESTORE_SUCCEEDED, self._success(status)

    def _success(self, status: api_status.VMRestoreStatus) -> str:
        created: api_status.Created = status.get("created") or {}
        what = (f"VM {_last(created['virtualMachine'])}" if created.get("virtualMachine")
                else f"{len(created.get('disks') or ())} disks")
        return (f"restore job {status.get('jobId')} completed: {what} in resource group "
                f"{self.spec.target.resource_group} from recovery point {status.get('recoveryPoint')}")

    async def _before_trigger(self, obj: Resource) -> Observation:
        chosen = restore_points.choose(await self._points(), self.spec.point)
        skipped = [p.evidence() for p in chosen.skipped[:MAX_SKIPPED]] or None
        if isinstance(chosen, restore_points.Refused):
            # A point may still arrive (a backup, or a scan that clears one): look again in a while.
            retry = NOT_FOUND_RETRY if chosen.reason in RETRY_REFUSALS else None
            return Observation(exists=False, status={"phase": jobs.JobPhase.PENDING, "skippedRecoveryPoints": skipped},
                               blocked=Hold(chosen.reason, chosen.message, retry_in=retry))
        failure = restore_checks.check(await self._facts())
        if failure is not None:
            return Observation(exists=False, status={"phase": jobs.JobPhase.PENDING},
                               blocked=Hold(failure.reason, failure.message, retry_in=NOT_FOUND_RETRY))
        point = chosen.point
        return Observation(exists=False, plan=chosen, status={
            "phase": jobs.JobPhase.PENDING, "recoveryPoint": point.name, "recoveryPointType": point.type or None,
            "recoveryPointTime": times.rfc3339(point.time), "rehydrated": chosen.rehydrate or None,
            "recoveryPointThreatStatus": point.threat, "skippedRecoveryPoints": skipped,
            "warnings": self._network_warnings() or None})

    def request(self, chosen: restore_points.Chosen) -> dict[str, Any]:
        """The IaasVMRestoreRequest the CLI would send for this restore (restore.md §1.3)."""
        target, point = self.spec.target, chosen.point
        body: dict[str, Any] = {
            "objectType": "IaasVMRestoreWithRehydrationRequest" if chosen.rehydrate else "IaasVMRestoreRequest",
            "recoveryPointId": point.name,
            "recoveryType": "AlternateLocation" if self.wants_vm else "RestoreDisks",
            "sourceResourceId": self.source.vm_id,
            "storageAccountId": target.staging_account_id,
            "targetResourceGroupId": self.group_id(),
            "region": self.vault.location,
            "createNewCloudService": False,
            "originalStorageAccountOption": False,
        }
        if self.wants_vm:
            body.update(targetVirtualMachineId=self.target_vm_id(), virtualNetworkId=target.vnet_id,
                        subnetId=target.subnet_id)
        if target.zones:
            body["zones"] = list(target.zones)
        if chosen.rehydrate:
            body["recoveryPointRehydrationInfo"] = {
                "rehydrationRetentionDuration": f"P{self.spec.point.rehydration_days}D",
                "rehydrationPriority": self.spec.point.rehydration_priority}
        return {"properties": body}

    async def create(self, obj: Resource, seen: Observation) -> Operation | None:
        chosen = seen.plan  # chosen by observe, in the same pass
        if not isinstance(chosen, restore_points.Chosen):  # the adopt window closed, and no point is left
            raise errors.InvalidSpec("no recovery point can be restored for this spec any more", status=400)
        log.info("%s/%s: triggering a restore of VM %s from recovery point %s", obj.namespace, obj.name,
                 self.source.vm_name, chosen.point.name)
        capture = operations.HeaderCapture()
        with errors.guard():
            await self.clients.backup.restores.begin_trigger(
                self.vault.vault_name, self.vault.resource_group, pb.FABRIC, self.ref.container, self.ref.item,
                chosen.point.name, cast(Any, self.request(chosen)), polling=False, raw_response_hook=capture,
                # retry_total=0: azure-core would re-send the POST after a 5xx or a dropped connection, and
                # every POST that arrives starts another restore; the loop decides instead (reconcile.adoption).
                retry_total=0)
        return ops.started(capture, "TriggerRestore", obj.generation)

    # -- deletion (cleanup: Delete) ------------------------------------------------------------------
    def _owned(self, obj: Resource) -> list[tuple[str, str]]:
        created: api_status.Created = api_status.read(obj.status, api_status.VMRestoreStatus).get("created") or {}
        out = [(str(created["virtualMachine"]), lists.COMPUTE_VMS)] if created.get("virtualMachine") else []
        out += [(str(n), lists.NETWORK) for n in created.get("networkInterfaces") or ()]
        out += [(str(d), lists.COMPUTE_DISKS) for d in created.get("disks") or ()]
        return out

    async def _observe_deleting(self, obj: Resource) -> Observation:
        left = [rid for rid, version in self._owned(obj) if await self._get(rid, version) is not None]
        return Observation(exists=bool(left), status={"remaining": left or None})

    async def delete(self, obj: Resource, seen: Observation) -> Operation | None:
        """Delete exactly what the restore created: the VM first, then (once it is gone) its NICs and disks."""
        from azure.core.rest import HttpRequest

        remaining = set(api_status.read(seen.status, api_status.VMRestoreStatus).get("remaining") or ())
        owned = [(rid, v) for rid, v in self._owned(obj) if rid in remaining]
        vm = [(rid, v) for rid, v in owned if "/virtualmachines/" in rid.lower()]
        for rid, version in vm or owned:
            log.info("%s/%s: cleanup: deleting %s", obj.namespace, obj.name, rid)
            with errors.guard():
                response = await self.clients.send_request(HttpRequest("DELETE", f"{rid}?api-version={version}"))
                if response.status_code >= 400 and response.status_code != 404:
                    response.raise_for_status()
        return None

    async def poll(self, obj: Resource, operation: Operation) -> OperationResult:
        return await self.job.poll(operation, {"phase": jobs.JobPhase.RUNNING})

    def keeps_azure_on_delete(self, obj: Resource) -> bool:
        return self.spec.cleanup != "Delete"  # by default the restored VM or disks outlive the object



async def client(obj: Resource, ctx: Context) -> ExternalClient:
    spec = VMRestoreSpec.parse(obj.spec)
    target = resolve_protected_vm(obj, ctx)
    vault = resolve_vault(target, ctx, need_ready=False)
    clients = await clients_for_vault(vault, ctx)
    vm_id = str(target.spec["vm"])
    name = str(target.status.get("vmName") or _last(vm_id))
    facts = None
    if not obj.deleting and not obj.status.get("jobId"):
        fleet = await ctx.inventory.fleet(clients).get(ctx.settings.recheck_interval)
        facts = fleet.get(vm_id)
    return RestoreClient(clients, VaultSpec.parse(vault.name, vault.spec), Source(vm_id, name, facts), spec,
                         dt.datetime.fromtimestamp(ctx.clock(), dt.UTC))


# Its vault is its ProtectedVM's; deleting it leaves what it created unless cleanup says Delete.
KIND = Kind(names.VM_RESTORE, client, crds.vm_restore, api_status.VMRestoreStatus,
            vault=PROTECTED_VM_REF, waits_for=(PROTECTED_VM_REF,),
            after=ttl.expire,
            writes=(KubeAccess(names.VM_RESTORE, ("delete",),
                               "A VMRestore deletes itself ttlSecondsAfterFinished after it finished."),))
