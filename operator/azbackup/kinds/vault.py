"""BackupVault: a Recovery Services vault, found by GET and diff, never a blind PUT.

A vault has no references; it owns a worker that runs the periodic pass of every object in it, and
each pass starts by refreshing the shared snapshots of its items and its subscription's fleet.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final, cast

from azure.core.exceptions import ResourceNotFoundError

from azbackup.api import crds, names
from azbackup.api import status as api_status
from azbackup.api.specs import VaultSpec
from azbackup.azure import errors, guard_proxy, lists, operations, vault_body
from azbackup.azure.gateway import Clients
from azbackup.azure.rest import rest
from azbackup.kinds import changes, vault_deletion, vault_diff, vault_guard
from azbackup.kinds import operations as ops
from azbackup.kinds.contract import Context, Kind, Wakes
from azbackup.kinds.references import clients_for_vault
from azbackup.managed import (
    ExternalClient,
    ExtraCondition,
    Hold,
    Observation,
    Operation,
    OperationResult,
    Resource,
)
from azbackup.reasons import Reason


def owner_of(obj: Resource, cluster: str = "") -> str:
    """The owner tag value naming a Kubernetes object (and the cluster, when one is configured)."""
    return f"{cluster + ':' if cluster else ''}{obj.namespace}/{obj.name}"


SECURITY_LEVELS: Final = ("Poor", "Fair", "Good", "Excellent")  # bcdrSecurityLevel, lowest first


def security_condition(level: str | None, minimum: str | None) -> ExtraCondition | None:
    """The warning condition SecurityLevel: Azure's rating against spec.security.minimumLevel."""
    if minimum is None:
        return None
    if level not in SECURITY_LEVELS:
        return ExtraCondition("SecurityLevel", "Unknown", Reason.SECURITY_LEVEL_UNKNOWN,
                              f"Azure reports no bcdrSecurityLevel; the spec asks at least {minimum}")
    if SECURITY_LEVELS.index(level) < SECURITY_LEVELS.index(minimum):
        return ExtraCondition("SecurityLevel", "False", Reason.SECURITY_LEVEL_BELOW_MINIMUM,
                              f"Azure rates the vault {level}, below the minimum {minimum}: always-on soft delete, "
                              "immutability (Locked counts most) and multi-user authorization raise it")
    return ExtraCondition("SecurityLevel", "True", Reason.SECURITY_LEVEL_MET,
                          f"Azure rates the vault {level} (minimum {minimum})")


class VaultClient:
    deterministic_names = True  # the vault name comes from the spec: a repeated PUT is an update

    def __init__(self, clients: Clients, spec: VaultSpec, owner: str, now: dt.datetime | None = None,
                 poll: float = 15.0, recheck: float = 3600.0) -> None:
        self.clients, self.spec, self.owner = clients, spec, owner
        self.now, self.poll_interval, self.recheck = now or dt.datetime.now(dt.UTC), poll, recheck

    async def _get(self) -> dict[str, Any] | None:
        try:
            with errors.guard():
                return rest(await self.clients.vaults.vaults.get(self.spec.resource_group, self.spec.vault_name))
        except errors.NotFound as exc:
            if exc.code == "ResourceGroupNotFound":
                raise errors.ResourceGroupMissing(exc.message, code=exc.code, status=exc.status) from exc
            return None
        except ResourceNotFoundError:  # pragma: no cover - guard translates it; kept for clarity
            return None

    async def _redundancy_locked(self) -> bool:
        with errors.guard():
            config = rest(await self.clients.backup.backup_resource_storage_configs_non_crr.get(
                self.spec.vault_name, self.spec.resource_group))
        return (config.get("properties") or {}).get("storageTypeState") == "Locked"

    async def observe(self, obj: Resource) -> Observation:
        actual = await self._get()
        if actual is None:
            return Observation(exists=False)
        have = ((actual.get("properties") or {}).get("redundancySettings") or {}).get("standardTierStorageRedundancy")
        # Only ask whether redundancy is locked when it would matter: one read per real difference.
        locked = await self._redundancy_locked() if have != self.spec.storage_redundancy else None
        diff = vault_diff.compare(self.spec, self.owner, actual, locked)
        guard = await vault_guard.observe(self.clients, self.spec, obj.status)
        diffs = diff.diffs + vault_guard.diff(self.spec, guard)
        props = actual.get("properties") or {}
        security = props.get("securitySettings") or {}
        status: api_status.VaultStatus = {
            "vaultId": actual.get("id"), "vaultName": actual.get("name"), "location": actual.get("location"),
            "provisioningState": props.get("provisioningState"), "storageRedundancy": have,
            "identityPrincipalId": (actual.get("identity") or {}).get("principalId"),
            "bcdrSecurityLevel": props.get("bcdrSecurityLevel"),
            "immutability": (security.get("immutabilitySettings") or {}).get("state") or "Disabled",
            "softDeleteState": (security.get("softDeleteSettings") or {}).get("softDeleteState"),
        }
        if locked is not None:
            status["storageRedundancyLocked"] = locked
        if guard.read:
            status["resourceGuard"] = guard.guard
        if diff.owner_conflict:
            if obj.deleting:
                return Observation(exists=False)  # someone else's vault: deleting this object leaves it alone
            return Observation(exists=True, status=status, blocked=Hold(
                Reason.OWNED_BY_ANOTHER_OBJECT,
                f"vault {self.spec.vault_name} is tagged as owned by {diff.owner_conflict}; it is left alone. "
                "Point this object at another vault, or remove the azbackup.dev-owner tag in Azure to hand it over"))
        if obj.deleting:
            return await self._observe_deletion(actual, status)
        level = security_condition(props.get("bcdrSecurityLevel"), self.spec.minimum_security_level)
        return Observation(
            exists=True, up_to_date=not diffs, usable=props.get("provisioningState") == "Succeeded",
            diff=diffs, status=status, limitation=_one_way(diff.limitation),
            conditions=(level,) if level is not None else (),
            pending=(Reason.PROVISIONING, f"vault provisioningState is {props.get('provisioningState')}"))

    async def _observe_deletion(self, actual: dict[str, Any], status: api_status.VaultStatus) -> Observation:
        """What still holds the vault back from deletion, step by step (kinds/vault_deletion.py)."""
        if self.keeps_azure_on_delete_spec():
            return Observation(exists=True, status=status)
        sub, rg, name = self.spec.subscription_id, self.spec.resource_group, self.spec.vault_name
        items = [i.get("properties") or {} for i in await lists.collect(
            self.clients.backup.send_request, lists.vault_collection(sub, rg, name, "backupProtectedItems",
                                                                    lists.IAAS_VM_ITEMS))]
        proxies = await lists.collect(self.clients.backup.send_request,
                                      lists.vault_collection(sub, rg, name, "backupResourceGuardProxies"))
        endpoints = len((actual.get("properties") or {}).get("privateEndpointConnections") or ())
        plan = vault_deletion.steps(items, endpoints, len(proxies))
        status = {**status, "deletion": {"steps": [s.to_status() for s in plan]}}
        hold = vault_deletion.hold(plan, self.now, self.poll_interval, self.recheck)
        return Observation(exists=True, status=status, blocked=hold)

    def keeps_azure_on_delete_spec(self) -> bool:
        return self.spec.deletion_policy != "Delete"

    async def create(self, obj: Resource, seen: Observation) -> Operation | None:
        capture = operations.HeaderCapture()
        body = cast(Any, vault_body.desired_body(self.spec, self.owner))
        with errors.guard():
            await self.clients.vaults.vaults.begin_create_or_update(
                self.spec.resource_group, self.spec.vault_name, body, polling=False, raw_response_hook=capture)
        return ops.started(capture, "CreateVault", obj.generation)

    async def update(self, obj: Resource, seen: Observation) -> Operation | None:
        actual = await self._get()
        if actual is None:
            return await self.create(obj, seen)
        locked = bool(seen.status.get("storageRedundancyLocked"))
        guard = await vault_guard.converge(
            self.clients, self.spec, await vault_guard.observe(self.clients, self.spec, seen.status))
        patch = vault_diff.compare(self.spec, self.owner, actual, locked).patch
        if not patch:
            return None
        guard = await vault_guard.before_critical(self.clients, self.spec, patch, actual, guard)
        critical = vault_guard.critical_operation(patch, actual, guard)
        if critical is not None:
            patch = vault_guard.with_request(patch, critical, guard)
        capture = operations.HeaderCapture()
        with guard_proxy.guarded(critical, guard.guard or "") if critical else errors.guard():
            await self.clients.vaults.vaults.begin_update(
                self.spec.resource_group, self.spec.vault_name, cast(Any, patch), polling=False,
                raw_response_hook=capture)
        return ops.started(capture, "UpdateVault", obj.generation)

    async def delete(self, obj: Resource, seen: Observation) -> Operation | None:
        capture = operations.HeaderCapture()
        with errors.guard():
            await self.clients.vaults.vaults.begin_delete(
                self.spec.resource_group, self.spec.vault_name, polling=False, raw_response_hook=capture)
        return ops.started(capture, "DeleteVault", obj.generation)

    async def poll(self, obj: Resource, operation: Operation) -> OperationResult:
        return await ops.poll(self.clients.vaults.send_request, operation)

    def keeps_azure_on_delete(self, obj: Resource) -> bool:
        return self.spec.deletion_policy != "Delete"

    def failed_operation(self, obj: Resource, operation: Operation, result: OperationResult) -> Hold:
        reason = Reason.DELETE_BLOCKED if operation.kind == "DeleteVault" else Reason.AZURE_ERROR
        return Hold(reason, f"{operation.kind} failed in Azure: {result.code}: {result.message}")


def _one_way(rule: vault_diff.OneWayRule | None) -> Hold | None:
    # Azure refuses the change for good: a human must choose (a new vault, or the spec back).
    return Hold(rule.reason, rule.message) if rule is not None else None


async def client(obj: Resource, ctx: Context) -> ExternalClient:
    spec = VaultSpec.parse(obj.name, obj.spec)
    s = ctx.settings
    return VaultClient(await clients_for_vault(obj, ctx), spec, owner_of(obj, s.cluster_name),
                       dt.datetime.fromtimestamp(ctx.clock(), dt.UTC), s.poll_interval, s.recheck_interval)


async def refresh_snapshots(obj: Resource, ctx: Context) -> None:
    """A full pass reads Azure afresh: the vault's items and its subscription's fleet."""
    spec = VaultSpec.parse(obj.name, obj.spec)
    ctx.inventory.invalidate_vault(str(obj.status.get("vaultId") or spec.vault_id))
    # Vaults of one subscription share its fleet: the first pass of a period re-reads it for all.
    ctx.inventory.invalidate_subscription(spec.subscription_id, older_than=ctx.settings.sync_period / 2)


def subscription_of(obj: Resource) -> str | None:
    """A vault's shard: its subscription, whose ARM budget one replica then has to itself."""
    return str(obj.spec.get("subscriptionId") or "").lower() or None


KIND = Kind(names.VAULT, client, crds.backup_vault, api_status.VaultStatus,
            full_pass=refresh_snapshots, follow=changes.follow,
            wakes=Wakes(azure_id=changes.vault_id), shard=subscription_of)
