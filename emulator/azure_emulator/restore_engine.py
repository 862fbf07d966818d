"""What the backup service does for a restore: the trigger operation (done at once, its id is the job
id), then the Restore job that, when it ends, creates the VM, its NIC and disks (AlternateLocation)
or only the disks (RestoreDisks) in the emulator's compute and network state.

The checks on the targets run when the job ends, like the backup job's verdict, so a test can change
the world while the job runs. Reference: restore.md §1, §2 and §9.1.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any

from azure_emulator import ids, resource_types
from azure_emulator.backup_model import ProtectedItem, RecoveryPoint, RpDisk, Vault
from azure_emulator.lro import Failure, Job, Operation, Task
from azure_emulator.records import Disk, ManagedDisk, StorageAccount, Vm, Vnet
from azure_emulator.recovery_tiers import Tier, tier_of
from azure_emulator.restore_model import Restore, RestoreRequest
from azure_emulator.restore_request import group_of
from azure_emulator.state import State

DAY = 86400.0

#: `extendedInfo.tasksList` of a Restore job by restore type (CLIREC, restore.md §2.2).
TASKS: dict[str, tuple[Task, ...]] = {
    "RestoreDisks": (Task("Transfer data from vault", 1.0),),
    "AlternateLocation": (Task("Transfer data from vault", 0.8), Task("Create the restored virtual machine", 0.2)),
}
#: `propertyBag["Job Type"]` by restore type.
JOB_TYPES = {"RestoreDisks": "Recover disks", "AlternateLocation": "Recover VM to an alternate location"}


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y%m%d-%H%M%S")


def _hex(*parts: str) -> str:
    return uuid.UUID(ids.stable_uuid(*parts)).hex


# -- checks on the targets (the job's verdict; also the answer of ValidateOperation) --------------


def _failure(code: str, message: str, *recommendations: str) -> Failure:
    return Failure(code, message, code, tuple(recommendations))


def staging_account(state: State, req: RestoreRequest) -> StorageAccount | None:
    account: StorageAccount | None = state.find(resource_types.STORAGE, req.storage_account_id)
    return account


def target_checks(state: State, vault: Vault, rp: RecoveryPoint, req: RestoreRequest, now: float) -> list[Failure]:
    """Why this restore cannot run now (empty: it can). Codes marked in docs/emulator.md where invented."""
    out: list[Failure] = []
    if tier_of(rp, now) is Tier.NONE:
        out.append(
            _failure(
                "UserErrorInstantRpNotFound",
                "Restore failed because the snapshot of the VM was not found. The snapshot could have been "
                "deleted, please check.",
                "Restore the VM from a different restore point.",
            )
        )
    account = staging_account(state, req)
    if account is None:
        out.append(
            _failure(
                "UserErrorStorageAccountNotFound",
                f"The storage account '{req.storage_account_id}' specified for the restore operation was not found.",
            )
        )
    elif account.location != vault.location:
        out.append(
            _failure(
                "UserErrorStorageAccountVaultLocationMismatch",
                "The Recovery Services vault and target storage account are in two different regions.",
                "Make sure the storage account specified in the restore operation is in the same Azure region "
                "as your Recovery Services vault.",
            )
        )
    if req.target_resource_group_id:
        sub_id, rg = group_of(req.target_resource_group_id)
        sub = state.subscriptions.get(ids.key(sub_id))
        if sub is None or ids.key(rg) not in sub.groups:
            out.append(_failure("ResourceGroupNotFound", f"Resource group '{rg}' could not be found."))
    if req.alternate_location:
        ref = ids.parse_resource_id(req.target_vm_id)
        assert ref is not None
        sub = state.subscriptions.get(ids.key(ref.subscription))
        if sub is not None and any(ids.key(vm.name) == ids.key(ref.name) for vm in sub.vms.values()):
            out.append(
                _failure(
                    "UserErrorTargetVmNameAlreadyExists",
                    f"A virtual machine named '{ref.name}' already exists in the subscription; "
                    "a restore never replaces an existing VM.",
                    "Specify a VM name that doesn't exist in the subscription.",
                )
            )
        vnet: Vnet | None = state.find(resource_types.VNETS, req.virtual_network_id)
        subnet_name = req.subnet_id.rstrip("/").rsplit("/", 1)[-1]
        if vnet is None or ids.key(subnet_name) not in vnet.subnets:
            out.append(_failure("UserErrorSubnetNotFound", "The selected subnet doesn't exist."))
        elif vnet.location != vault.location:
            out.append(
                _failure(
                    "UserErrorVnetVaultLocationMismatch",
                    "The target virtual network is not in the region of the Recovery Services vault.",
                    "Restore into a virtual network in the vault's region.",
                )
            )
    return out


# -- the trigger and the job -------------------------------------------------------------------


def _injected(state: State, item: ProtectedItem) -> tuple[Failure, str] | None:
    """Consume an admin-injected Restore fault for the source VM: (failure, Failed | CompletedWithWarnings)."""
    names = {ids.key(item.vm_id), ids.key(item.vm_name), ids.key(f"{item.vm_resource_group}/{item.vm_name}")}
    for fault in state.job_faults:
        if fault.operation == "Restore" and fault.vm in names and fault.count != 0:
            if fault.count is not None:
                fault.count -= 1
            return Failure(fault.code, fault.message, fault.code), fault.result
    return None


def start_restore(
    state: State, vault: Vault, item: ProtectedItem, rp: RecoveryPoint, req: RestoreRequest, now: float
) -> tuple[Operation, Job]:
    """Accept a restore: an operation that has already succeeded, and the Restore job under the same id."""
    rehydrate = req.rehydration_days is not None and tier_of(rp, now) is Tier.VAULT_ARCHIVE
    duration = state.scaled(state.settings.durations.restore_job) + (
        state.scaled(state.settings.durations.rehydration) if rehydrate else 0.0
    )
    job = Job(
        ids.new_id(),
        vault.key,
        "Restore",
        item.vm_name,
        item.vm_id,
        ids.short_container_name(item.vm_resource_group, item.vm_name),
        now,
        duration,
        tasks=TASKS[req.recovery_type],
    )
    state.jobs[job.id] = job
    vault.jobs.append(job.id)
    op = Operation(job.id, "Restore", now, 0.0, vault.key, job_id=job.id, target=item.key)
    op.finish(now)  # CLIREC: the operation answers Succeeded on the first poll, jobId == operation id
    state.operations[op.id] = op
    account = staging_account(state, req)
    restore = Restore(
        job.id,
        vault.key,
        item.key,
        rp.name,
        rp.time,
        item.vm_name,
        vault.subscription,
        req,
        account.name if account else req.storage_account_id.rstrip("/").rsplit("/", 1)[-1],
    )
    state.restores[job.id] = restore
    if rehydrate and req.rehydration_days is not None:
        days = req.rehydration_days

        def rehydrated(at: float) -> None:
            rp.rehydrated_until = at + days * DAY

        state.timeline.schedule(now + state.scaled(state.settings.durations.rehydration), rehydrated)

    def complete(at: float) -> None:
        if job.done:  # cancelled
            return
        injected = _injected(state, item)
        if injected and injected[1] == "Failed":
            job.finish(at, injected[0])
            return
        problems = target_checks(state, vault, rp, req, at)
        if problems:
            job.finish(at, problems[0])
            return
        if req.alternate_location and not injected:
            _create_vm(state, vault, rp, req, restore, at)
        else:
            _create_disks(state, vault, rp, req, restore, at)
        job.finish(at, None, [injected[0]] if injected else [])

    state.timeline.schedule(job.due, complete)
    return op, job


# -- what a completed job creates ---------------------------------------------------------------


def _selected(rp: RecoveryPoint, req: RestoreRequest) -> list[RpDisk]:
    """The OS disk and the data disks of `restoreDiskLunList` (all when absent)."""
    luns = req.restore_disk_luns
    return [d for d in rp.disks if d.lun is None or luns is None or d.lun in luns]


def _disk_name(vm: str, d: RpDisk, at: float) -> str:
    """Emulator choice: `<vm>-osdisk-<yyyymmdd-hhmmss>`, `<vm>-datadisk-<lun>-<yyyymmdd-hhmmss>`."""
    return f"{vm}-osdisk-{_stamp(at)}" if d.lun is None else f"{vm}-datadisk-{d.lun}-{_stamp(at)}"


def _managed(rp: RecoveryPoint, req: RestoreRequest) -> bool:
    return bool(req.target_resource_group_id) and (rp.managed or req.restore_with_managed_disks)


def _vhd_uri(restore: Restore, name: str) -> str:
    container = f"{restore.source_vm_name.lower()}-{_hex(restore.job_id, 'vhds')}"
    return f"https://{restore.staging_account}.blob.core.windows.net/{container}/{name}.vhd"


def _create_disks(
    state: State, vault: Vault, rp: RecoveryPoint, req: RestoreRequest, restore: Restore, at: float
) -> None:
    """RestoreDisks (or an ALR whose VM could not be created): managed disks into the target group,
    else VHDs into the staging account, and (RestoreDisks) the config and template blobs."""
    base = restore.source_vm_name
    if req.alternate_location:
        base = ids.parse_resource_id(req.target_vm_id).name  # type: ignore[union-attr]
    if _managed(rp, req):
        sub_id, rg = group_of(req.target_resource_group_id)
        sub = state.subscription(sub_id)
        rg_name = sub.groups[ids.key(rg)][0]
        for d in _selected(rp, req):
            disk = Disk(_disk_name(base, d, at), d.lun, d.size_gb, True, rg_name, d.sku, create_option="Restore")
            md = ManagedDisk(sub.id, vault.location, disk, os_type=rp.os_type if d.lun is None else None)
            md.tags, md.created = dict(rp.tags), at
            sub.disks.put(rg_name, disk.name, md)
            restore.disk_ids.append(md.id)
    else:
        restore.vhd_uris = [_vhd_uri(restore, _disk_name(base, d, at)) for d in _selected(rp, req)]
    if not req.alternate_location:
        restore.blobs = _blobs(restore)


def _blobs(restore: Restore) -> dict[str, str]:
    """The propertyBag keys of a completed RestoreDisks job (CLIREC, restore.md §2.2)."""
    vm = restore.source_vm_name.lower()
    container = f"{vm}-{_hex(restore.job_id, 'config')}"
    url = f"https://{restore.staging_account}.blob.core.windows.net/{container}"
    name = f"config-{vm}-{restore.job_id}.json"
    return {
        "Config Blob Name": name,
        "Config Blob Container Name": container,
        "Config Blob Uri": f"{url}/{name}",
        "Create VM Template Blob Uri": f"{url}/azuredeploy{restore.job_id}.json",
    }


#: Keys of the source VM's inventory document a restored VM keeps (not its NICs, disks or extensions:
#: a restore creates new ones, and extensions come back "installed, but not enabled").
_KEPT = ("os", "osType", "osName", "osVersion", "image", "agent", "encryption", "provisionVMAgent")


def _create_vm(state: State, vault: Vault, rp: RecoveryPoint, req: RestoreRequest, restore: Restore, at: float) -> None:
    """AlternateLocation: a new VM from the recovery point, with a new NIC in the subnet and new disks."""
    ref = ids.parse_resource_id(req.target_vm_id)
    assert ref is not None
    sub = state.subscription(ref.subscription)
    rg_name = sub.groups[ids.key(group_of(req.target_resource_group_id)[1])][0]
    managed = rp.managed or req.restore_with_managed_disks
    account = staging_account(state, req)

    def disk_doc(d: RpDisk) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": _disk_name(ref.name, d, at), "sizeGB": d.size_gb, "sku": d.sku}
        if d.lun is not None:
            doc["lun"] = d.lun
        if managed:
            doc["resourceGroup"] = rg_name
        else:
            assert account is not None
            doc.update(
                managed=False,
                storageAccount=f"{account.resource_group}/{account.name}",
                vhdUri=_vhd_uri(restore, str(doc["name"])),
            )
        return doc

    disks = _selected(rp, req)
    doc: dict[str, Any] = {k: copy.deepcopy(v) for k, v in rp.source.items() if k in _KEPT}
    doc.update(
        name=ref.name,
        resourceGroup=rg_name,
        location=vault.location,
        size=rp.vm_size,
        zones=list(req.zones or rp.zones),
        tags=dict(rp.tags),
        computerName=rp.computer_name or ref.name[:15],  # the copy keeps the source's hostname
        powerState="running",
        osDisk=next(disk_doc(d) for d in disks if d.lun is None),
        dataDisks=[disk_doc(d) for d in disks if d.lun is not None],
        nics=[{"name": f"{ref.name}RestoredNIC{_hex(restore.job_id, 'nic')}", "subnet": req.subnet_id}],
    )
    vm: Vm = state.add_vm(sub.id, doc)
    vm.time_created = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0+00:00")
    restore.vm_id = vm.id
    for nic_id in vm.nic_ids:
        nic = state.find(resource_types.NICS, nic_id)
        if nic is not None:
            nic.tags = dict(rp.tags)
            restore.nic_ids.append(nic.id)
    for d in vm.disks:
        md = sub.disks.get(d.resource_group, d.name) if d.managed else None
        if md is not None:
            md.tags, md.created = dict(rp.tags), at
            restore.disk_ids.append(md.id)
        elif d.vhd_uri:
            restore.vhd_uris.append(d.vhd_uri)
