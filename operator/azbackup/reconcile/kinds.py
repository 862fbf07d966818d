"""Per-kind wiring: which external client reconciles an object, and which vault's worker runs it.

References resolve in the object's own namespace only, so a tenant cannot attach anything to another
namespace's vault. A reference that is missing or not Ready yet is a waiting reason (`Waiting`),
never an error storm: the vault's next pass (or its creation) picks the object up again.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from azbackup.api.specs import OnDemandSpec, PolicySpec, ProtectedVMSpec, SelectorSpec, VaultSpec
from azbackup.azure import errors
from azbackup.azure.credentials import CredentialSource
from azbackup.azure.gateway import Clients
from azbackup.azure.ondemand import OnDemandClient, Target
from azbackup.azure.policy import PolicyClient
from azbackup.azure.protection import Freshness, PolicyRef, ProtectedVMClient
from azbackup.azure.vault import VaultClient, owner_of
from azbackup.checks.facts import PolicyType
from azbackup.limits import policy_budget
from azbackup.managed import ExternalClient, Hold, Resource, create_incomplete
from azbackup.reasons import Reason
from azbackup.reconcile.registry import Registry, VaultKey

if TYPE_CHECKING:
    from azbackup.reconcile.runtime import Runtime


def _ref(obj: Resource, field: str) -> str | None:
    ref = obj.spec.get(field)
    return str(ref["name"]) if isinstance(ref, dict) and ref.get("name") else None


def vault_of(obj: Resource, registry: Registry) -> VaultKey | None:
    """The vault whose worker runs this object's requeues and periodic passes."""
    if obj.kind == "BackupVault":
        return None
    if obj.kind == "OnDemandBackup":
        target = _ref(obj, "protectedVMRef")
        pvm = registry.get(("ProtectedVM", obj.namespace, target)) if target else None
        vault = _ref(pvm, "vaultRef") if pvm else None
    else:
        vault = _ref(obj, "vaultRef")
    return (obj.namespace, vault) if vault else None


def is_ready(obj: Resource) -> bool:
    if obj.deleting:
        return False
    for condition in obj.status.get("conditions") or ():
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True" and condition.get("observedGeneration") == obj.generation)
    return False


async def clients_for_vault(vault: Resource, runtime: Runtime) -> Clients:
    """The management clients of a vault's subscription, with its credentialRef identity (or the default)."""
    spec = VaultSpec.parse(vault.name, vault.spec)
    source = CredentialSource.default()
    if spec.credential_secret:
        data = await runtime.secret(vault.namespace, spec.credential_secret)
        if data is None:
            raise errors.SecretNotFound(
                f"Secret {vault.namespace}/{spec.credential_secret} named by credentialRef does not exist")
        source = CredentialSource.from_secret(vault.namespace, spec.credential_secret, data)
    clients: Clients = runtime.gateway.clients(spec.subscription_id, source)
    return clients


def resolve_vault(obj: Resource, runtime: Runtime, *, need_ready: bool = True) -> Resource:
    """The referenced BackupVault, or `Waiting` with the reason it cannot be used yet."""
    from azbackup.reconcile.runtime import Waiting

    name = _ref(obj, "vaultRef")
    vault = runtime.registry.get(("BackupVault", obj.namespace, name)) if name else None
    if vault is None:
        raise Waiting(Hold(Reason.VAULT_NOT_FOUND,
                           f"no BackupVault {name} in namespace {obj.namespace}; waiting for it to be created",
                           stalls=False))
    if need_ready and not is_ready(vault):
        raise Waiting(Hold(Reason.VAULT_NOT_READY, f"BackupVault {name} is not Ready yet; waiting", stalls=False))
    return vault


class VaultBinding:
    kind = "BackupVault"

    async def client(self, obj: Resource, runtime: Runtime) -> ExternalClient:
        spec = VaultSpec.parse(obj.name, obj.spec)
        return VaultClient(await clients_for_vault(obj, runtime), spec, owner_of(obj, runtime.settings.cluster_name))


class PolicyBinding:
    kind = "BackupPolicy"

    async def client(self, obj: Resource, runtime: Runtime) -> ExternalClient:
        vault = resolve_vault(obj, runtime, need_ready=not obj.deleting)
        # Issue 14: the vault's policy-edit budget is counted over the writes every BackupPolicy of this vault
        # recorded in its status (limits/policy_budget.py decides).
        writes = [w for p in runtime.registry.of_kind("BackupPolicy", obj.namespace)
                  if _ref(p, "vaultRef") == vault.name for w in policy_budget.parse_all(p.status.get("policyWrites"))]
        return PolicyClient(await clients_for_vault(vault, runtime), VaultSpec.parse(vault.name, vault.spec),
                            PolicySpec.parse(obj.name, obj.spec), writes,
                            dt.datetime.fromtimestamp(runtime.clock(), dt.UTC))


DEFAULT_POLICY = PolicyRef("DefaultPolicy", PolicyType.STANDARD, "Daily", 24)


def resolve_policy(obj: Resource, vault: Resource, runtime: Runtime) -> PolicyRef:
    """The referenced BackupPolicy (Ready, in the same vault), or the vault's built-in DefaultPolicy."""
    from azbackup.reconcile.runtime import Waiting

    name = _ref(obj, "policyRef")
    if name is None:
        return DEFAULT_POLICY
    policy = runtime.registry.get(("BackupPolicy", obj.namespace, name))
    if policy is None:
        raise Waiting(Hold(Reason.POLICY_NOT_FOUND, f"no BackupPolicy {name} in namespace {obj.namespace}; "
                           "waiting for it to be created", stalls=False))
    spec = PolicySpec.parse(policy.name, policy.spec)
    if spec.vault != vault.name:
        raise Waiting(Hold(Reason.POLICY_VAULT_MISMATCH,
                           f"BackupPolicy {name} belongs to vault {spec.vault}, not {vault.name}: a VM is "
                           "protected with a policy of its own vault"))
    if not is_ready(policy):
        raise Waiting(Hold(Reason.POLICY_NOT_READY, f"BackupPolicy {name} is not Ready yet; waiting", stalls=False))
    sched = spec.schedule
    hours = sched.hourly.interval_hours if sched.hourly else (168 if sched.frequency == "Weekly" else 24)
    return PolicyRef(spec.policy_name, PolicyType(spec.policy_type), sched.frequency, hours)


class ProtectedVMBinding:
    kind = "ProtectedVM"

    async def client(self, obj: Resource, runtime: Runtime) -> ExternalClient:
        from azbackup.reconcile.runtime import Waiting

        spec = ProtectedVMSpec.parse(obj.spec)
        first = runtime.registry.first_claim(spec.vm_id)
        if first is not None and first.key != obj.key:
            raise Waiting(Hold(Reason.DUPLICATE_PROTECTED_VM,
                               f"ProtectedVM {first.namespace}/{first.name} already manages this VM; this object "
                               "writes nothing to Azure. Delete one of the two"))
        vault = resolve_vault(obj, runtime, need_ready=not obj.deleting)
        policy = resolve_policy(obj, vault, runtime) if not obj.deleting else DEFAULT_POLICY
        loop = runtime.settings.loop
        freshness = Freshness(items=max(1.0, loop.poll_interval), fleet=runtime.settings.recheck_interval,
                              protection=runtime.settings.sync_period,
                              discovery=max(2.0 * loop.poll_interval, loop.fast_retry))
        return ProtectedVMClient(await clients_for_vault(vault, runtime), runtime.inventory,
                                 VaultSpec.parse(vault.name, vault.spec), vault.status, policy, spec, freshness,
                                 dt.datetime.fromtimestamp(runtime.clock(), dt.UTC))


def _parse_time(value: object) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


class OnDemandBinding:
    kind = "OnDemandBackup"

    async def client(self, obj: Resource, runtime: Runtime) -> ExternalClient:
        from azbackup.reconcile.runtime import Waiting

        spec = OnDemandSpec.parse(obj.spec)
        target = runtime.registry.get(("ProtectedVM", obj.namespace, spec.protected_vm))
        if target is None:
            raise Waiting(Hold(Reason.TARGET_NOT_FOUND, f"no ProtectedVM {spec.protected_vm} in namespace "
                               f"{obj.namespace}; waiting for it", stalls=False))
        started = bool(obj.status.get("jobId") or obj.status.get("operation") or create_incomplete(obj.annotations))
        state = str(target.status.get("protectionState") or "").lower()
        if not started and not (is_ready(target) and state in ("protected", "irpending")):
            raise Waiting(Hold(Reason.TARGET_NOT_PROTECTED,
                               f"ProtectedVM {target.name} is not protected yet (protectionState "
                               f"{state or 'none'}); the backup starts once it is", stalls=False))
        vault = resolve_vault(target, runtime, need_ready=False)
        vm_id = str(target.spec["vm"])
        name = str(target.status.get("vmName") or vm_id.rstrip("/").rsplit("/", 1)[-1])
        return OnDemandClient(await clients_for_vault(vault, runtime), VaultSpec.parse(vault.name, vault.spec),
                              Target(vm_id, name), spec, dt.datetime.fromtimestamp(runtime.clock(), dt.UTC))

    async def after(self, obj: Resource, runtime: Runtime) -> None:
        """ttlSecondsAfterFinished: delete the object once it has been finished long enough (like a Job)."""
        ttl = obj.spec.get("ttlSecondsAfterFinished")
        finished = _parse_time(obj.status.get("completionTime"))
        if ttl is None or obj.status.get("phase") not in ("Succeeded", "Failed") or finished is None:
            return
        remaining = finished.timestamp() + float(ttl) - runtime.clock()
        if remaining <= 0:
            await runtime.kube.delete(obj.kind, obj.namespace, obj.name)
        else:
            runtime.requeue(obj.key, remaining)


class SelectorBinding:
    kind = "VMBackupSelector"

    async def client(self, obj: Resource, runtime: Runtime) -> ExternalClient:
        from azbackup.reconcile.selector import SelectorClient

        vault = resolve_vault(obj, runtime, need_ready=not obj.deleting)
        if not obj.deleting:
            resolve_policy(obj, vault, runtime)  # children would only wait for it: wait here, once
        return SelectorClient(runtime, await clients_for_vault(vault, runtime), VaultSpec.parse(vault.name, vault.spec),
                              SelectorSpec.parse(obj.spec))
