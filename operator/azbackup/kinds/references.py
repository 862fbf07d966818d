"""Reference resolution, crossplane-runtime's own seam: vaultRef, policyRef, and the vault's identity.

References resolve in the object's own namespace only, so a tenant cannot attach anything to another
namespace's vault. A reference that is missing or not Ready yet is a waiting reason (`Waiting`),
never an error storm: the vault's next pass (or the reference turning Ready) picks the object up again.
"""

from __future__ import annotations

from dataclasses import dataclass

from azbackup.api import names
from azbackup.api.specs import PolicySpec, VaultSpec
from azbackup.azure import errors
from azbackup.azure.credentials import CredentialSource
from azbackup.azure.gateway import Clients
from azbackup.checks.facts import PolicyType
from azbackup.kinds.contract import Context, Ref
from azbackup.managed import Hold, Resource, Waiting
from azbackup.reasons import Reason
from azbackup.toolkit import conditions

VAULT_REF = Ref(names.VAULT.kind, "vaultRef")
POLICY_REF = Ref(names.POLICY.kind, "policyRef")
PROTECTED_VM_REF = Ref(names.PROTECTED_VM.kind, "protectedVMRef")


@dataclass(frozen=True)
class PolicyRef:
    """The policy a VM is protected with, as far as protection and health need it."""

    name: str  # the Azure policy name (DefaultPolicy when the spec names none)
    policy_type: PolicyType | None
    frequency: str = "Daily"  # Hourly | Daily | Weekly
    interval_hours: int = 24


DEFAULT_POLICY = PolicyRef("DefaultPolicy", PolicyType.STANDARD, "Daily", 24)


def is_ready(obj: Resource) -> bool:
    return not obj.deleting and conditions.is_ready(obj.status, obj.generation)


def children(owner: Resource, kind: str, ctx: Context) -> dict[str, Resource]:
    """The objects of `kind` that `owner` owns (by owner reference), by name."""
    return {child.name: child for child in ctx.objects.of_kind(kind, owner.namespace)
            if any(ref.get("uid") == owner.uid for ref in child.owner_references)}


async def clients_for_vault(vault: Resource, ctx: Context) -> Clients:
    """The management clients of a vault's subscription, with its credentialRef identity (or the default)."""
    spec = VaultSpec.parse(vault.name, vault.spec)
    source = CredentialSource.default()
    if spec.credential_secret:
        data = await ctx.secret(vault.namespace, spec.credential_secret)
        if data is None:
            raise errors.SecretNotFound(
                f"Secret {vault.namespace}/{spec.credential_secret} named by credentialRef does not exist")
        source = CredentialSource.from_secret(vault.namespace, spec.credential_secret, data)
    return ctx.gateway.clients(spec.subscription_id, source)


def resolve_vault(obj: Resource, ctx: Context, *, need_ready: bool = True) -> Resource:
    """The referenced BackupVault, or `Waiting` with the reason it cannot be used yet."""
    key = VAULT_REF.key(obj)
    vault = ctx.objects.get(key) if key else None
    name = VAULT_REF.name(obj)
    if vault is None:
        raise Waiting(Hold(Reason.VAULT_NOT_FOUND,
                           f"no BackupVault {name} in namespace {obj.namespace}; waiting for it to be created",
                           stalls=False))
    if need_ready and vault.deleting:
        if obj.status.get("operation"):
            return vault  # finish following what was started; the vault's deletion waits for it (teardown)
        raise Waiting(Hold(Reason.VAULT_NOT_READY, f"BackupVault {name} is being deleted; nothing more is written "
                           "to it", stalls=False))
    if need_ready and not is_ready(vault):
        raise Waiting(Hold(Reason.VAULT_NOT_READY, f"BackupVault {name} is not Ready yet; waiting", stalls=False))
    return vault


def resolve_policy(obj: Resource, vault: Resource, ctx: Context) -> PolicyRef:
    """The referenced BackupPolicy (Ready, in the same vault), or the vault's built-in DefaultPolicy."""
    name = POLICY_REF.name(obj)
    if name is None:
        return DEFAULT_POLICY
    policy = ctx.objects.get((names.POLICY.kind, obj.namespace, name))
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
    return PolicyRef(spec.policy_name, PolicyType(spec.policy_type), sched.frequency, sched.interval_hours)


def resolve_protected_vm(obj: Resource, ctx: Context) -> Resource:
    """The ProtectedVM that protectedVMRef names (a backup's or a restore's source), or `Waiting`."""
    name = PROTECTED_VM_REF.name(obj)
    target = ctx.objects.get((names.PROTECTED_VM.kind, obj.namespace, name)) if name else None
    if target is None:
        raise Waiting(Hold(Reason.TARGET_NOT_FOUND, f"no ProtectedVM {name} in namespace {obj.namespace}; "
                           "waiting for it", stalls=False))
    return target
