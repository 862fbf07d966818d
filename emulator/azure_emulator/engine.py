"""The backup service's behaviour: what starts when a request is accepted and what happens when
the operation or job completes (evaluated with `verdicts` at completion time, so a VM fact changed
through the admin API while a job runs is seen by that job).
"""

from __future__ import annotations

import bisect
import copy
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from azure_emulator import ids, immutability, limits, verdicts
from azure_emulator.backup_model import DeletedVault, Policy, ProtectedItem, RecoveryPoint, RpDisk, Vault
from azure_emulator.lro import BACKUP_TASKS, Failure, Job, Operation
from azure_emulator.records import Extension, Vm
from azure_emulator.state import State

DAY = 86400.0


def day_of(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d")


def new_item(vault: Vault, vm: Vm, policy: str | None, exclusion: dict[str, Any] | None, now: float) -> ProtectedItem:
    data_id = str(int(hashlib.sha256(ids.key(vm.id).encode()).hexdigest()[:15], 16))
    return ProtectedItem(
        vault.key,
        vm.resource_group,
        vm.name,
        vm.id,
        vm.location,
        policy=policy,
        exclusion=exclusion,
        data_id=data_id,
        created=now,
    )


def add_recovery_point(
    item: ProtectedItem,
    vm: Vm,
    facts: verdicts.VmFacts,
    at: float,
    expiry: float | None = None,
    *,
    instant_days: float = 2.0,
    rp_type: str | None = None,
    created: float | None = None,
) -> RecoveryPoint:
    """A new recovery point of the VM as it is now (kept in time order; restores rebuild it from here)."""
    name = str(int(at * 1000)) + str(len(item.recovery_points) % 10)
    rp = RecoveryPoint(
        name,
        at,
        rp_type or verdicts.recovery_point_type(facts),
        expiry or at + 30 * DAY,
        vm.size,
        encrypted=vm.encryption is not None,
        managed=all(d.managed for d in vm.disks),
        zones=list(vm.zones),
        os_type=vm.os_type,
        tags=dict(vm.tags),
        source=copy.deepcopy(vm.doc),
        disks=[RpDisk(d.lun, d.name, d.size_gb, d.sku, d.managed) for d in vm.disks],
        computer_name=vm.computer_name,
        instant_until=at + instant_days * DAY,
        created=at if created is None else created,
    )
    bisect.insort(item.recovery_points, rp, key=lambda r: r.time)
    return rp


def instant_days(policy: Policy | None) -> float:
    """How long the policy keeps the snapshot tier (`instantRpRetentionRangeInDays`, default 2)."""
    days = policy.properties.get("instantRpRetentionRangeInDays") if policy else None
    return float(days) if isinstance(days, int | float) and days > 0 else 2.0


# -- operations and jobs ---------------------------------------------------------------------


def _job(
    state: State,
    vault: Vault,
    operation: str,
    vm_id: str,
    friendly: str,
    rg: str,
    duration: float,
    now: float,
    *,
    user: bool = True,
) -> Job:
    job = Job(
        ids.new_id(),
        vault.key,
        operation,
        friendly,
        vm_id,
        ids.short_container_name(rg, friendly),
        now,
        state.scaled(duration),
        is_user_triggered=user,
    )
    if operation == "Backup":
        job.tasks = BACKUP_TASKS
    state.jobs[job.id] = job
    vault.jobs.append(job.id)
    return job


def _operation(
    state: State,
    kind: str,
    vault: Vault,
    duration: float,
    now: float,
    *,
    job: Job | None = None,
    target: str | None = None,
) -> Operation:
    op = Operation(
        ids.new_id(), kind, now, state.scaled(duration), vault.key, job_id=job.id if job else None, target=target
    )
    state.operations[op.id] = op
    return op


def _injected(state: State, vm: Vm | None, vm_id: str, operation: str) -> Failure | None:
    """Consume an admin-injected job failure for this VM and operation, if there is one."""
    names = {ids.key(vm_id)} | ({ids.key(vm.name), ids.key(f"{vm.resource_group}/{vm.name}")} if vm else set())
    for fault in state.job_faults:
        if fault.operation.lower() == operation.lower() and fault.vm in names and fault.count != 0:
            if fault.count is not None:
                fault.count -= 1
            return Failure(fault.code, fault.message, fault.code)
    return None


def _finish(
    op: Operation | None, job: Job | None, at: float, failure: Failure | None, warnings: tuple[Failure, ...] = ()
) -> None:
    if job:
        job.finish(at, failure, warnings)
    if op:
        op.finish(at, failure)


def _at_due(state: State, due: float, action: Callable[[float], None]) -> None:
    state.timeline.schedule(due, action)


def start_refresh(state: State, vault: Vault, now: float) -> Operation:
    """Discovery: at completion the vault has seen every VM of its subscription and region."""
    op = _operation(state, "RefreshContainers", vault, state.settings.durations.refresh_containers, now)

    def complete(at: float) -> None:
        sub = state.subscription(vault.subscription)
        vault.discovered = {ids.key(vm.id) for vm in sub.vms.values() if vm.location == vault.location}
        op.finish(at)

    _at_due(state, op.due, complete)
    return op


def start_configure(
    state: State,
    vault: Vault,
    vm: Vm | None,
    item: ProtectedItem | None,
    *,
    policy: Policy,
    exclusion: dict[str, Any] | None,
    change: verdicts.Change,
    now: float,
) -> Operation:
    """Enable, resume or modify protection of a VM (the ConfigureBackup job behind the item PUT)."""
    if vm is not None:
        vm_id, rg, name = vm.id, vm.resource_group, vm.name
    elif item is not None:
        vm_id, rg, name = item.vm_id, item.vm_resource_group, item.vm_name
    else:
        raise ValueError("start_configure needs a VM or an existing item")
    duration = (
        state.settings.durations.configure_protection
        if change is not verdicts.Change.MODIFY
        else state.settings.durations.modify_protection
    )
    job = _job(state, vault, "ConfigureBackup", vm_id, name, rg, duration, now)
    op = _operation(
        state, "ConfigureProtection", vault, duration, now, job=job, target=ids.key(ids.item_name(rg, name))
    )

    def complete(at: float) -> None:
        current = state.vm_by_id(vm_id)
        owner = state.protection.get(ids.key(vm_id))
        other = owner[0] if owner and owner[0] != vault.key else None
        facts = state.facts(current, vm_id)
        request = verdicts.ProtectionRequest(
            vault.location,
            change,
            other,
            policy.policy_type,
            exclusion is not None,
            verdicts.excluded_luns(facts, exclusion),
        )
        failure = (
            _injected(state, current, vm_id, "ConfigureBackup")
            or verdicts.configure_protection(facts, request)
            or _quota_failure(vault, ids.key(ids.item_name(rg, name)), policy)
        )
        if failure is None and ids.key(vault.id) not in state.vaults_by_id:
            failure = Failure("BMSUserErrorVaultNotFound", "The vault was deleted.")
        if failure:
            _finish(op, job, at, failure)
            return
        assert current is not None
        target = vault.items.get(ids.key(ids.item_name(rg, name)))
        if target is None:
            target = new_item(vault, current, policy.name, exclusion, at)
            vault.items[target.key] = target
        else:
            # The item keeps its recovery points whatever the policy change (a migration included).
            target.policy, target.exclusion = policy.name, exclusion
            if change is verdicts.Change.RESUME:
                target.state = "Protected" if target.recovery_points else "IRPending"
        state.protection[ids.key(vm_id)] = (vault.key, target.key)
        _finish(op, job, at, None)
        if change is verdicts.Change.MIGRATE:
            # "Migration operations trigger a backup job as part of the migration process"
            # (backup-azure-vm-migrate-enhanced-policy): a scheduled-style job, not user-triggered.
            start_backup(state, vault, target, at, user=False)

    _at_due(state, op.due, complete)
    return op


def _quota_failure(vault: Vault, item_key: str, policy: Policy) -> Failure | None:
    """The vault's 1000 VMs and the policy's 1000 items, counted when the job completes; an item that is
    already registered (or already on this policy) takes no new place. Soft-deleted items do not count
    (emulator choice)."""
    registered = [i for i in vault.items.values() if not i.soft_deleted]
    if item_key not in {i.key for i in registered}:
        failure = limits.vault_quota(len(registered))
        if failure:
            return failure
    # A stopped item keeps its policy's name (as Azure shows it) but no longer counts against the policy.
    on_policy = [
        i
        for i in registered
        if i.policy and ids.key(i.policy) == ids.key(policy.name) and i.state != "ProtectionStopped"
    ]
    if item_key in {i.key for i in on_policy}:
        return None
    return limits.policy_quota(len(on_policy))


def start_stop(state: State, vault: Vault, item: ProtectedItem, target_state: str, now: float) -> Operation:
    """Stop protection and retain data (`ProtectionStopped`) or suspend backups (`BackupsSuspended`)."""
    job = _job(
        state,
        vault,
        "DisableBackup",
        item.vm_id,
        item.vm_name,
        item.vm_resource_group,
        state.settings.durations.modify_protection,
        now,
    )
    op = _operation(
        state, "StopProtection", vault, state.settings.durations.modify_protection, now, job=job, target=item.key
    )

    def complete(at: float) -> None:
        # The item keeps its policy (policyId/policyName) even when the request sends `policyId: ""`, as
        # Azure's StopProtection example answers and as `az backup protection resume` relies on.
        item.state = target_state
        _finish(op, job, at, None)

    _at_due(state, op.due, complete)
    return op


def start_undelete(state: State, vault: Vault, item: ProtectedItem, now: float) -> Operation:
    """Re-hydrate a soft-deleted item: it comes back with protection stopped and its recovery points."""
    job = _job(
        state,
        vault,
        "Undelete",
        item.vm_id,
        item.vm_name,
        item.vm_resource_group,
        state.settings.durations.modify_protection,
        now,
    )
    op = _operation(state, "Undelete", vault, state.settings.durations.modify_protection, now, job=job, target=item.key)

    def complete(at: float) -> None:
        item.soft_deleted, item.deleted_at, item.state = False, None, "ProtectionStopped"
        state.protection.setdefault(ids.key(item.vm_id), (vault.key, item.key))
        _finish(op, job, at, None)

    _at_due(state, op.due, complete)
    return op


def release_protection(state: State, vault: Vault, item: ProtectedItem) -> None:
    owner = state.protection.get(ids.key(item.vm_id))
    if owner == (vault.key, item.key):
        del state.protection[ids.key(item.vm_id)]


def purge_item(state: State, vault: Vault, item: ProtectedItem) -> None:
    vault.items.pop(item.key, None)
    release_protection(state, vault, item)


def purge_expired(state: State, vault: Vault, now: float) -> None:
    """Soft-deleted items whose retention has run out are gone for good."""
    for item in list(vault.items.values()):
        due = immutability.purge_at(vault, item)
        if due is not None and due <= now:
            purge_item(state, vault, item)


def start_delete(state: State, vault: Vault, item: ProtectedItem, now: float) -> Operation:
    """Stop protection and delete data: soft-deleted when the vault has soft delete on, else purged."""
    job = _job(
        state,
        vault,
        "DeleteBackupData",
        item.vm_id,
        item.vm_name,
        item.vm_resource_group,
        state.settings.durations.delete_protection,
        now,
    )
    op = _operation(state, "DeleteProtection", vault, state.settings.durations.delete_protection, now, job=job)

    def complete(at: float) -> None:
        if immutability.immutable(vault) and immutability.unexpired_points(item, at):
            # Accepted, then failed: the code comes from the operation, as Azure answers it (AVM module #214).
            _finish(op, job, at, Failure(*immutability.delete_on_immutable_item(item)))
            return
        if vault.soft_delete_state in ("Enabled", "AlwaysON") and not item.soft_deleted:
            item.soft_deleted, item.deleted_at, item.state = True, at, "ProtectionStopped"
            if immutability.frees_the_vm(vault):
                # Enhanced soft delete: the VM may be protected again, here or in another vault.
                release_protection(state, vault, item)
        else:
            purge_item(state, vault, item)
        _finish(op, job, at, None)

    _at_due(state, op.due, complete)
    return op


def backup_running(state: State, vault: Vault, item: ProtectedItem) -> bool:
    for job_id in reversed(vault.jobs[-200:]):
        job = state.jobs.get(job_id)
        if job and job.operation == "Backup" and not job.done and ids.key(job.vm_id) == ids.key(item.vm_id):
            return True
    return False


def start_backup(
    state: State, vault: Vault, item: ProtectedItem, now: float, *, user: bool = True, expiry: float | None = None
) -> tuple[Operation | None, Job]:
    """A Backup job (on demand: with its trigger operation). The job's verdict is taken when it ends."""
    job = _job(
        state,
        vault,
        "Backup",
        item.vm_id,
        item.vm_name,
        item.vm_resource_group,
        state.settings.durations.backup_job,
        now,
        user=user,
    )
    op = None
    if user:
        op = _operation(
            state, "TriggerBackup", vault, state.settings.durations.trigger_backup, now, job=job, target=item.key
        )
        _at_due(state, op.due, op.finish)

    def complete(at: float) -> None:
        if job.done:  # cancelled
            return
        vm = state.vm_by_id(item.vm_id)
        facts = state.facts(vm, item.vm_id)
        policy = vault.policies.get(ids.key(item.policy)) if item.policy else None
        policy_type = policy.policy_type if policy else "V1"
        excluded = verdicts.excluded_luns(facts, item.exclusion)
        failure = _injected(state, vm, item.vm_id, "Backup") or verdicts.backup(
            facts,
            actively_protected=item.active,
            excludes_disks=item.excludes_disks,
            policy_type=policy_type,
            excluded=excluded,
        )
        if failure:
            job.finish(at, failure)
            item.last_backup_status, item.health_status = "Failed", "ActionRequired"
            item.health_details = [
                {
                    "code": verdicts.numeric_code(failure.code),
                    "title": failure.title,
                    "message": failure.message,
                    "recommendations": list(failure.recommendations),
                }
            ]
            if item.recovery_points and item.state == "Protected":
                item.state = "ProtectionError"
            return
        assert vm is not None
        rp = add_recovery_point(item, vm, facts, at, expiry, instant_days=instant_days(policy))
        job.recovery_point = rp.name
        job.finish(at, None, verdicts.backup_warnings(facts, policy_type=policy_type, excluded=excluded))
        item.last_backup_status, item.last_backup_time = "Completed", at
        item.health_status, item.health_details = "Passed", []
        if item.state in ("IRPending", "ProtectionError"):
            item.state = "Protected"
        if facts.running and not any(e.type.startswith("VMSnapshot") for e in vm.extensions):
            linux = vm.os_type == "Linux"
            vm.extensions.append(
                Extension(
                    "VMSnapshotLinux" if linux else "VMSnapshot",
                    "Microsoft.Azure.RecoveryServices",
                    "VMSnapshotLinux" if linux else "VMSnapshot",
                    "1.0",
                )
            )

    _at_due(state, job.due, complete)
    return op, job


def run_scheduled(state: State, now: float, vault_id: str | None = None) -> list[str]:
    """Start the scheduled backup of every active item (of one vault, or of all)."""
    started = []
    vaults = [state.vaults_by_id[ids.key(vault_id)]] if vault_id else list(state.vaults_by_id.values())
    for vault in vaults:
        for item in list(vault.items.values()):
            if item.active and item.policy:
                _, job = start_backup(state, vault, item, now, user=False)
                started.append(job.id)
    return started


def cancel_job(state: State, job: Job, now: float) -> None:
    job.cancel(now)


def start_vault_create(state: State, vault: Vault, now: float) -> Operation:
    """A new vault answers `Provisioning` until its creation operation completes (emulator choice)."""
    vault.provisioning_state = "Provisioning"
    op = _operation(state, "VaultCreate", vault, state.settings.durations.vault_create, now)

    def complete(at: float) -> None:
        if vault.provisioning_state == "Provisioning":
            vault.provisioning_state = "Succeeded"
        op.finish(at)

    _at_due(state, op.due, complete)
    return op


def start_vault_delete(state: State, vault: Vault, now: float) -> Operation:
    """Delete an empty vault; it becomes a deleted vault for 14 days (callers check emptiness)."""
    vault.provisioning_state = "Deleting"
    op = _operation(state, "VaultDelete", vault, state.settings.durations.vault_delete, now)

    def complete(at: float) -> None:
        sub = state.subscription(vault.subscription)
        sub.vaults.pop(vault.resource_group, vault.name)
        state.vaults_by_id.pop(vault.key, None)
        for job_id in vault.jobs:
            state.jobs.pop(job_id, None)
        vault.jobs.clear()
        vault.provisioning_state = "Succeeded"
        sub.deleted_vaults[(vault.location, ids.key(vault.name))] = DeletedVault(
            sub.id, vault.location, vault.name, vault, at, at + 14 * DAY
        )
        op.finish(at)

    _at_due(state, op.due, complete)
    return op


def start_vault_undelete(state: State, deleted: DeletedVault, now: float) -> Operation:
    vault = deleted.vault
    op = _operation(state, "VaultUndelete", vault, state.settings.durations.vault_undelete, now)

    def complete(at: float) -> None:
        sub = state.subscription(deleted.subscription)
        sub.deleted_vaults.pop((deleted.location, ids.key(deleted.name)), None)
        if sub.vaults.get(vault.resource_group, vault.name) is None:
            state.ensure_group(sub, vault.resource_group, vault.location)
            sub.vaults.put(vault.resource_group, vault.name, vault)
            state.vaults_by_id[vault.key] = vault
            op.finish(at)
        else:
            op.finish(at, Failure("VaultAlreadyExists", "A vault with the same name exists in the resource group."))

    _at_due(state, op.due, complete)
    return op
