"""ProtectedVM: the guide's checks first, then protection of one VM in a vault.

Observe reads only from the shared snapshots (the subscription's fleet, the vault's protected items),
so a vault pass over a thousand ProtectedVMs costs a handful of list calls. A failing blocking check
means no write at all; the next pass re-reads the facts, so a fixed VM is protected without any action.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from azbackup import checks
from azbackup.api import crds, names
from azbackup.api import status as api_status
from azbackup.api.specs import ProtectedVMSpec, VaultSpec
from azbackup.azure import configure_jobs, errors, guard_proxy, operations
from azbackup.azure import protection_body as pb
from azbackup.azure.gateway import Clients
from azbackup.azure.inventory import item_key
from azbackup.azure.rest import all_items
from azbackup.checks import facts as f
from azbackup.checks import gather
from azbackup.kinds import migration, protectedvm_metrics, protection_diff, retained
from azbackup.kinds import operations as ops
from azbackup.kinds.contract import Context, FleetInventory, Kind, Wakes
from azbackup.kinds.places import Places
from azbackup.kinds.protectedvm_conditions import (
    backup_healthy,
    item_status,
    prerequisites_condition,
    protected_condition,
    remediable,
)
from azbackup.kinds.references import (
    DEFAULT_POLICY,
    POLICY_REF,
    VAULT_REF,
    PolicyRef,
    clients_for_vault,
    resolve_policy,
    resolve_vault,
)
from azbackup.limits import capacity
from azbackup.managed import (
    ExternalClient,
    ExtraCondition,
    Hold,
    Observation,
    Operation,
    OperationResult,
    OperationState,
    Resource,
    Waiting,
)
from azbackup.reasons import Reason


@dataclass(frozen=True)
class Freshness:
    """How old a shared snapshot may be for each purpose (seconds)."""

    items: float = 15.0  # protected items: progress of operations shows here
    fleet: float = 300.0  # VM facts: a fixed VM is noticed within this
    protection: float = 3600.0  # backupStatus of VMs not protected by this vault
    discovery: float = 30.0  # refreshContainers at most this often per vault
    tags: float = 86400.0  # service-tag prefixes change rarely


REMEDIATION_KIND = "EnableExtensionOperations"
MIGRATION_KIND = "MigrateToEnhancedPolicy"  # the item PUT that moves a Standard item to an Enhanced policy
ENABLE_EXTENSION_OPERATIONS = ("VM osProfile.allowExtensionOperations is false and spec.remediation."
                               "allowExtensionOperations asks the operator to set it")


class ProtectedVMClient:
    deterministic_names = True  # container and item names derive from the VM id

    def __init__(self, clients: Clients, inventory: FleetInventory, vault: VaultSpec,
                 vault_status: api_status.VaultStatus,
                 policy: PolicyRef, spec: ProtectedVMSpec, freshness: Freshness, now: dt.datetime,
                 policy_types: Mapping[str, f.PolicyType] | None = None, *, places: Places | None = None) -> None:
        self.clients, self.inventory, self.vault, self.vault_status = clients, inventory, vault, vault_status
        self.places = places if places is not None else Places()  # the process's (Context.places)
        self.policy, self.spec, self.freshness, self.now = policy, spec, freshness, now
        # The vault's policies by lower-cased Azure name, for an item that does not report its policyType.
        self.policy_types = policy_types or migration.policy_types({})
        self.ref = pb.VmRef.parse(spec.vm_id)
        self.vault_id = str(vault_status.get("vaultId") or vault.vault_id)

    @property
    def policy_id(self) -> str:
        return f"{self.vault.vault_id}/backupPolicies/{self.policy.name}"

    async def _item(self, max_age: float | None = None) -> Mapping[str, Any] | None:
        flight = self.inventory.vault_items(self.clients, self.vault_id, self.vault.vault_name,
                                            self.vault.resource_group)
        if max_age is None:  # an item the change feed just read again is fresh in an older list
            max_age = self.inventory.max_age(item_key(self.vault_id, self.spec.vm_id), self.freshness.items)
        items = await flight.get(max_age)
        return items.for_vm(self.spec.vm_id)

    # -- observe ------------------------------------------------------------------------------------
    async def observe(self, obj: Resource) -> Observation:
        item = await self._item()
        state = pb.ItemState.of(item)
        if obj.deleting:
            return await self._observe_deleting(obj, state, item)
        status = item_status(item, self.vault_id)
        if self.ref.subscription_id != self.vault.subscription_id.lower():
            return Observation(exists=state.exists, status=status, blocked=Hold(
                Reason.SUBSCRIPTION_MISMATCH,
                f"the VM is in subscription {self.ref.subscription_id} and the vault in "
                f"{self.vault.subscription_id}; Azure VM Backup protects VMs of the vault's own subscription only"))
        fleet = await self.inventory.fleet(self.clients).get(self.inventory.max_age(self.spec.vm_id,
                                                                                   self.freshness.fleet))
        vm = fleet.get(self.spec.vm_id)
        if vm is None:
            return Observation(exists=state.exists, status=status, blocked=Hold(
                Reason.VM_NOT_FOUND, f"VM {self.spec.vm_id} does not exist (or the identity cannot read it)",
                retry_in=self.freshness.fleet))
        status["vmName"] = vm.name
        vm, prefixes = await gather.complete(vm, lambda vm: self._protection(vm, item), self._prefixes)
        results = checks.evaluate(vm, self._context(vm, prefixes))
        status["checks"] = [{"name": r.name, "result": str(r.result), "reason": str(r.reason), "message": r.message}
                            for r in results]
        prereq = prerequisites_condition(results)
        conditions = [prereq, protected_condition(item, self.spec), backup_healthy(item, self.policy, self.now)]
        if prereq.status != "True":
            if remediable(results, self.spec):
                # The one blocker is a VM setting the user allowed us to fix: the fix is the "update".
                return Observation(exists=True, up_to_date=False, diff=(ENABLE_EXTENSION_OPERATIONS,),
                                   status=status, conditions=conditions)
            failures = checks.blocking_failures(results) or checks.blocking_unknowns(results)
            return Observation(exists=state.exists, status=status, conditions=conditions, blocked=Hold(
                prereq.reason, prereq.message, stalls=prereq.status == "False", retry_in=self.freshness.fleet
                if failures else None))
        if self.spec.state == "BackupsSuspended" and self.vault.immutability == "Disabled":
            return Observation(exists=state.exists, status=status, conditions=conditions, blocked=Hold(
                Reason.SUSPEND_NEEDS_IMMUTABLE_VAULT,
                f"state BackupsSuspended needs an immutable vault; BackupVault {self.vault.vault_name} has "
                "immutability Disabled. Set its immutability to Unlocked, or use state ProtectionStopped"))
        # Before the capacity count, which reserves a place: a refused move must take none.
        move = await self._policy_move(state, item, vm)
        if move is not None and move.refusal is not None:
            return Observation(exists=True, status=status, conditions=conditions, blocked=move.refusal)
        # Azure allows 1000 VMs per vault and per policy: counted before any configure-protection write.
        refusal = await self._capacity(state, item)
        if refusal is not None:
            return Observation(exists=state.exists, status=status, conditions=conditions, blocked=Hold(
                refusal.reason, refusal.message, retry_in=self.freshness.fleet))
        diffs = protection_diff.differences(self.spec, self.policy.name, item or {}) if state.exists else ()
        if (not state.exists or diffs) and await self._configure_running():
            # An earlier PUT (its answer lost, or its operation never saved) is still being applied:
            # wait for its job instead of sending a second PUT.
            return Observation(exists=True, usable=False, status=status, conditions=conditions, pending=(
                Reason.WAITING_FOR_OPERATION, "a configure-protection job started earlier is still running in "
                "Azure; waiting for it instead of sending the request again"))
        if not state.exists:
            if await self._appeared_since_jobs_read():
                return Observation(exists=True, usable=False, status=status, conditions=conditions, pending=(
                    Reason.PROTECTION_PENDING, "the protected item has just appeared in Azure"))
            return Observation(exists=False, status=status, conditions=conditions)
        protected = state.state in pb.PROTECTED_STATES
        ready = {"protected": (Reason.PROTECTED, "Azure reports the VM protected"),
                 "protectionstopped": (Reason.PROTECTION_STOPPED, "protection is stopped; recovery points are kept"),
                 "backupssuspended": (Reason.BACKUPS_SUSPENDED, "backups are suspended; points kept per policy")}
        return Observation(
            exists=True, up_to_date=not diffs, diff=diffs, status=status, conditions=conditions,
            usable=protected or self.spec.state != "Protected",
            pending=(Reason.PROTECTION_PENDING, f"Azure reports protectionState {state.state or 'none'}"),
            ready=ready[self.spec.state.lower()])

    async def _policy_move(self, state: pb.ItemState, item: Mapping[str, Any] | None,
                           vm: f.VMFacts) -> migration.Decision | None:
        """What moving the item to the spec's policy is (kinds/migration.py), when the spec moves it."""
        if (not state.exists or state.soft_deleted or self.spec.state == "ProtectionStopped"
                or not state.policy_name or state.policy_name == self.policy.name.lower()):
            return None
        current = self._current_type(item)

        def decide(running: bool) -> migration.Decision:
            return migration.decide(current, self.policy.policy_type, vm, backup_running=running,
                                    policy=self.policy.name, retry_in=self.freshness.fleet)

        decision = decide(False)
        # The running backups are read only for a migration that nothing else refuses: one jobs list.
        if decision.migrates and await self._backup_running():
            decision = decide(True)
        return decision

    def _current_type(self, item: Mapping[str, Any] | None) -> f.PolicyType | None:
        """The type of the policy the item is on: as the item reports it, else as the vault's policies say."""
        props = (item or {}).get("properties") or {}
        return migration.item_policy_type(props.get("policyType")) or self.policy_types.get(
            str(props.get("policyName") or "").lower())

    async def _backup_running(self) -> bool:
        running = await configure_jobs.load_running(self.clients, self.vault.vault_name, self.vault.resource_group,
                                                    configure_jobs.RUNNING_BACKUPS)
        return configure_jobs.is_running(running, self.ref.resource_group, self.ref.name)

    def operation_reason(self, operation: Operation) -> Reason | None:
        """While the migration job runs, status says so (the loop shows this instead of WaitingForOperation)."""
        return Reason.MIGRATING_TO_ENHANCED_POLICY if operation.kind == MIGRATION_KIND else None

    async def _capacity(self, state: pb.ItemState, item: Mapping[str, Any] | None) -> capacity.Refusal | None:
        """Whether a configure-protection that would give the VM a (new) place in the vault or the policy
        fits (limits/capacity.py); when it does, the place is reserved before the write is sent, so the
        concurrent passes of one vault never decide on the same free place."""
        policy_name = str(((item or {}).get("properties") or {}).get("policyName") or "")
        takes_place = not state.exists or state.soft_deleted or policy_name.lower() != self.policy.name.lower()
        if self.spec.state == "ProtectionStopped" or not takes_place:
            return None
        flight = self.inventory.vault_items(self.clients, self.vault_id, self.vault.vault_name,
                                            self.vault.resource_group)
        listed = (await flight.get(self.freshness.items)).capacity_items()
        reserved = self.places.reserved(self.vault_id, self.inventory.clock())
        counts = capacity.count(listed, reserved, self.spec.vm_id, self.policy.name)
        refusal = capacity.decide(counts, self.vault.vault_name, self.policy.name)
        if refusal is None:
            self.places.reserve(self.vault_id, self.spec.vm_id, self.policy.name, self.inventory.clock())
        return refusal

    async def _observe_deleting(self, obj: Resource, state: pb.ItemState,
                                item: Mapping[str, Any] | None) -> Observation:
        """Whether the item is stopped or deleted as onDelete asks; once it is, one last pass reports what
        Azure keeps and until when (status and an Event) before the object goes (kinds/retained.py)."""
        if not state.exists:
            return Observation(exists=False)
        vault = self.vault.vault_name
        if state.soft_deleted:
            soft_delete = self.vault_status.get("softDeleteState")
            return self._report(obj, *retained.soft_deleted(item or {}, vault, soft_delete))
        if self.spec.on_delete == "DeleteData":
            if state.state == "backupssuspended" and self._immutable():
                return self._report(obj, *retained.suspended(vault, await self._points()))
            return Observation(exists=True)
        if state.state != "protectionstopped":
            return Observation(exists=True)
        # "Already stopped" ends the object without a write, so it is read from Azure, not from a shared
        # list up to a few seconds old; and while a configure job (a resume sent by an earlier pass) may
        # still protect the item again, it is not stopped yet: stop it (again) rather than let the job win.
        if await self._configure_running():
            return Observation(exists=True)
        fresh = pb.ItemState.of(await self._item(max_age=0))
        if not fresh.exists or fresh.soft_deleted:
            return Observation(exists=False)
        if fresh.state != "protectionstopped":
            return Observation(exists=True)
        return self._report(obj, *retained.stopped(vault))

    @staticmethod
    def _report(obj: Resource, hold: Hold, record: Mapping[str, Any]) -> Observation:
        if obj.status.get(retained.STATUS):
            return Observation(exists=False)  # reported in the pass before: the object may go
        # Protected turning False is a transition, so the report is also an Event, which outlives the object.
        return Observation(exists=True, status={retained.STATUS: {k: v for k, v in record.items() if v is not None}},
                           blocked=hold, conditions=(ExtraCondition("Protected", "False", hold.reason, hold.message),))

    def _immutable(self) -> bool:
        return str(self.vault_status.get("immutability") or self.vault.immutability) in ("Unlocked", "Locked")

    async def _points(self) -> list[dict[str, Any]]:
        return await all_items(self.clients.backup.recovery_points.list(
            self.vault.vault_name, self.vault.resource_group, pb.FABRIC, self.ref.container, self.ref.item))

    async def _protectable(self, *, discover: bool) -> frozenset[str]:
        args = (self.clients, self.vault_id, self.vault.vault_name, self.vault.resource_group)
        listed = await self.inventory.protectable(*args).get(self.freshness.fleet)
        if self.spec.vm_id.lower() not in listed and discover:
            await self.inventory.discover(*args, cooldown=self.freshness.discovery)
            listed = await self.inventory.protectable(*args).get(self.freshness.fleet)
        return listed

    async def _protection(self, vm: f.VMFacts, item: Mapping[str, Any] | None) -> f.Protection:
        """Which vault protects the VM, from batched lists where they can tell.

        Our own items say "this vault"; discovery's protectable list holds exactly the VMs no vault
        protects (in the vault's subscription and region). Only a VM in neither list costs a
        backupStatus call of its own.
        """
        if item is not None and not pb.ItemState.of(item).soft_deleted:
            return f.Protection("Protected", self.vault_id)
        same_region = f.normalize_region(vm.region or "") == f.normalize_region(self.vault.location)
        if same_region and self.spec.vm_id.lower() in await self._protectable(discover=True):
            return f.Protection("NotProtected", None)
        answer = await self.inventory.protection(self.clients, vm.id, vm.region or self.vault.location,
                                                 self.freshness.protection)
        return gather.protection(answer.protection_status, answer.vault_id)

    async def _prefixes(self, region: str) -> tuple[str, ...] | None:
        return await self.inventory.storage_prefixes(self.clients, region).get(self.freshness.tags)

    def _context(self, vm: f.VMFacts, prefixes: tuple[str, ...] | None) -> checks.CheckContext:
        d = self.spec.disks
        return checks.CheckContext(
            vault_id=self.vault_id, vault_region=self.vault.location, policy_type=self.policy.policy_type,
            disk_selection=f.DiskSelection(d.include_luns, d.exclude_luns, d.os_disk_only),
            http_proxy=self.spec.http_proxy, storage_prefixes=prefixes)

    # -- writes -------------------------------------------------------------------------------------
    async def _configure_running(self) -> bool:
        flight = self.inventory.running_configures(self.clients, self.vault_id, self.vault.vault_name,
                                                   self.vault.resource_group)
        return configure_jobs.is_running(await flight.get(self.freshness.items), self.ref.resource_group,
                                         self.ref.name)

    async def _appeared_since_jobs_read(self) -> bool:
        """Whether the item exists in a list read after the running-jobs list: a configure job that ended
        between the two reads is in neither, and would be sent again. One re-read per jobs-list refresh."""
        running = self.inventory.running_configures(self.clients, self.vault_id, self.vault.vault_name,
                                                    self.vault.resource_group)
        items = self.inventory.vault_items(self.clients, self.vault_id, self.vault.vault_name,
                                           self.vault.resource_group)
        if items.loaded_at >= running.loaded_at:
            return False
        return (await items.get(max(0.0, running.age))).for_vm(self.spec.vm_id) is not None

    async def _put(self, body: Mapping[str, Any], kind: str, obj: Resource,
                   guard: tuple[str, str] | None = None) -> Operation | None:
        """The protected-item PUT; `guard` (the Resource Guard and its request) when the write is guarded."""
        capture = operations.HeaderCapture()
        if guard is not None:
            body = {**body, "properties": {**body["properties"], "resourceGuardOperationRequests": [guard[1]]}}
        try:
            with guard_proxy.guarded(guard_proxy.UPDATE_ITEM, guard[0]) if guard else errors.guard():
                # retry_total=0: a PUT re-sent by azure-core after a dropped connection may start a second
                # configure job; after a failure the next pass looks for the first one (configure_jobs).
                await self.clients.backup.protected_items.begin_create_or_update(
                    self.vault.vault_name, self.vault.resource_group, pb.FABRIC, self.ref.container,
                    self.ref.item, cast(Any, body), polling=False, raw_response_hook=capture, retry_total=0)
        except errors.AzbackupError:
            # The outcome is unknown: the next look for a running configure job must read Azure afresh.
            self.inventory.running_configures(self.clients, self.vault_id, self.vault.vault_name,
                                              self.vault.resource_group).invalidate()
            raise
        self.inventory.invalidate_vault(self.vault_id)
        self.inventory.forget_protection(self.spec.vm_id)
        return ops.started(capture, kind, obj.generation)

    async def create(self, obj: Resource, seen: Observation) -> Operation | None:
        await self._discover()
        if self.spec.state == "ProtectionStopped":
            return None  # nothing to protect, and nothing to stop
        return await self._put(pb.protect_body(self.spec, self.policy_id), "ConfigureProtection", obj)

    async def update(self, obj: Resource, seen: Observation) -> Operation | None:
        if ENABLE_EXTENSION_OPERATIONS in seen.diff:
            return await self._enable_extension_operations(obj)
        item = await self._item(max_age=0)
        state = pb.ItemState.of(item)
        if state.soft_deleted:
            return await self._put(pb.protect_body(self.spec, self.policy_id, rehydrate=True), "Rehydrate", obj)
        if self.spec.state == "ProtectionStopped":
            return await self._put(pb.stop_body(self.spec), "StopProtection", obj)
        body = pb.protect_body(self.spec, self.policy_id, had_selection=pb.has_selection(item))
        current = self._current_type(item)
        # The same PUT as any policy change (az backup item set-policy sends it too); Azure runs it as the
        # "Configure backup (Migrate policy)" job, and the kind names it so that status says so.
        migrating = migration.move_of(current, self.policy.policy_type) is migration.Move.MIGRATION
        # On a guarded vault the change names the guard's request, as `az backup item set-policy` does; Azure
        # asks for the approval only when the new policy keeps less (Modify protection, reduced retention).
        guard = (await guard_proxy.request_for(self.clients, self.vault.resource_group, self.vault.vault_name,
                                               guard_proxy.UPDATE_ITEM) if self.vault_status.get("resourceGuard")
                 else None)
        return await self._put(body, MIGRATION_KIND if migrating else "ConfigureProtection", obj, guard)

    async def delete(self, obj: Resource, seen: Observation) -> Operation | None:
        if self.spec.on_delete == "DeleteData" and self._immutable():
            # An immutable vault refuses the delete (UserErrorDeleteBackupItemOnImmutableItem, every time):
            # suspend backups instead, so the points expire as the policy says, and report it.
            return await self._put(pb.stop_body(self.spec, "BackupsSuspended"), "SuspendBackups", obj)
        if self.spec.on_delete == "DeleteData":
            if self.vault_status.get("resourceGuard"):
                # Stop protection with delete data is a critical operation: no approval, no delete.
                await guard_proxy.unlock_item_delete(self.clients, self.vault.resource_group, self.vault.vault_name,
                                                     f"{self.vault_id}/backupFabrics/{pb.FABRIC}/protectionContainers"
                                                     f"/{self.ref.container}/protectedItems/{self.ref.item}")
            capture = operations.HeaderCapture()
            with errors.guard():
                await self.clients.backup.protected_items.delete(
                    self.vault.vault_name, self.vault.resource_group, pb.FABRIC, self.ref.container, self.ref.item,
                    raw_response_hook=capture)
            self.inventory.invalidate_vault(self.vault_id)
            return ops.started(capture, "DeleteBackupData", obj.generation)
        return await self._put(pb.stop_body(self.spec), "StopProtection", obj)

    async def _enable_extension_operations(self, obj: Resource) -> Operation | None:
        """The opt-in remediation: osProfile.allowExtensionOperations true on the VM, by a PATCH.

        The guide's ProvisionGuestAgent is the classic-VM switch; for Resource Manager VMs Azure documents
        this flag after a manual agent install (provisionVMAgent itself cannot change after creation).
        """
        capture = operations.HeaderCapture()
        with errors.guard():
            await self.clients.compute.virtual_machines.begin_update(
                self.ref.resource_group, self.ref.name, cast(Any, pb.ENABLE_EXTENSION_OPERATIONS_BODY),
                polling=False, raw_response_hook=capture)
        self.inventory.invalidate_subscription(self.vault.subscription_id)
        return ops.started(capture, REMEDIATION_KIND, obj.generation)

    async def _discover(self) -> None:
        """The VM must be discoverable in the vault before it can be protected (one refresh per vault)."""
        if self.spec.vm_id.lower() not in await self._protectable(discover=True):
            # Not an Azure error: discovery has not listed the VM yet (a new VM takes a while). Wait
            # for the next discovery instead of stalling: nothing was written.
            raise Waiting(Hold(Reason.VM_NOT_DISCOVERABLE,
                               f"Azure Backup's discovery does not list VM {self.ref.name} for vault "
                               f"{self.vault.vault_name} yet; looking again after the next discovery",
                               stalls=False, retry_in=self.freshness.discovery))

    async def poll(self, obj: Resource, operation: Operation) -> OperationResult:
        """Done only once the vault's shared item list, read after the operation finished, can show it.

        Otherwise the next observe could read a list from before the change and send the write again.
        Waiting for the next shared read costs one list per vault per poll interval, instead of a
        list (or a GET) per object.
        """
        if operation.kind == REMEDIATION_KIND:  # a Compute operation: done when Azure says so
            result = await ops.poll(self.clients.send_request, operation)
            if result.state is OperationState.SUCCEEDED:
                self.inventory.invalidate_subscription(self.vault.subscription_id)
            return result
        done_at = self.places.done_at(operation.url)
        if done_at is None:
            result = await ops.poll(self.clients.backup.send_request, operation)
            if result.state is not OperationState.SUCCEEDED:
                return result
            done_at = self.places.seen_done(operation.url, self.inventory.clock())
        flight = self.inventory.vault_items(self.clients, self.vault_id, self.vault.vault_name,
                                            self.vault.resource_group)
        await flight.get(self.freshness.items)
        if flight.loaded_at < done_at:
            return OperationResult(OperationState.RUNNING)
        self.places.forget(operation.url)
        self.places.release(self.vault_id, self.spec.vm_id)  # the list counts the item from now on
        return OperationResult(OperationState.SUCCEEDED)

    def keeps_azure_on_delete(self, obj: Resource) -> bool:
        return self.spec.on_delete == "Orphan"

    def failed_operation(self, obj: Resource, operation: Operation, result: OperationResult) -> Hold:
        if operation.kind == REMEDIATION_KIND:
            return Hold(Reason.REMEDIATION_FAILED,
                        f"setting osProfile.allowExtensionOperations on the VM failed in Azure with {result.code}: "
                        f"{result.message}", retry_in=self.freshness.fleet)
        self.places.release(self.vault_id, self.spec.vm_id)  # no place taken in Azure
        return Hold(Reason.CONFIGURE_PROTECTION_FAILED,
                    f"{operation.kind} failed in Azure with {result.code}: {result.message}",
                    retry_in=self.freshness.fleet)




def claimed_vm(obj: Resource) -> str | None:
    """The VM a ProtectedVM manages: only one object may manage a VM."""
    vm = obj.spec.get("vm")
    return str(vm).lower() if vm else None


async def client(obj: Resource, ctx: Context) -> ExternalClient:
    spec = ProtectedVMSpec.parse(obj.spec)
    first = ctx.objects.first_claim(spec.vm_id.lower())
    if first is not None and first.key != obj.key:
        raise Waiting(Hold(Reason.DUPLICATE_PROTECTED_VM,
                           f"ProtectedVM {first.namespace}/{first.name} already manages this VM; this object "
                           "writes nothing to Azure. Delete one of the two"))
    vault = resolve_vault(obj, ctx, need_ready=not obj.deleting)
    policy = resolve_policy(obj, vault, ctx) if not obj.deleting else DEFAULT_POLICY
    s = ctx.settings
    freshness = Freshness(items=max(1.0, s.poll_interval), fleet=s.recheck_interval, protection=s.sync_period,
                          discovery=max(2.0 * s.poll_interval, s.fast_retry))
    known = {p.spec.get("policyName") or p.name: p.spec.get("policyType") for p in
             ctx.objects.of_kind(names.POLICY.kind, obj.namespace) if VAULT_REF.name(p) == vault.name}
    return ProtectedVMClient(await clients_for_vault(vault, ctx), ctx.inventory,
                             VaultSpec.parse(vault.name, vault.spec),
                             api_status.read(vault.status, api_status.VaultStatus), policy, spec, freshness,
                             dt.datetime.fromtimestamp(ctx.clock(), dt.UTC), migration.policy_types(known),
                             places=ctx.places)


KIND = Kind(names.PROTECTED_VM, client, crds.protected_vm, api_status.ProtectedVMStatus,
            vault=VAULT_REF, waits_for=(VAULT_REF, POLICY_REF),
            claim=claimed_vm, wakes=Wakes(vm=claimed_vm), metrics=protectedvm_metrics.METRICS)
