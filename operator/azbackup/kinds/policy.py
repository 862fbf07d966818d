"""BackupPolicy: an AzureIaasVM protection policy in the vault its vaultRef names."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, cast

from azbackup.api import crds, names
from azbackup.api import status as api_status
from azbackup.api.specs import PolicySpec, VaultSpec
from azbackup.azure import errors, guard_proxy, operations, policy_body
from azbackup.azure.gateway import Clients
from azbackup.azure.inventory import lower_id
from azbackup.azure.rest import rest
from azbackup.kinds import operations as ops
from azbackup.kinds import policy_diff, retention
from azbackup.kinds.contract import Context, Kind, Wakes
from azbackup.kinds.references import VAULT_REF, clients_for_vault, resolve_vault
from azbackup.limits import policy_budget
from azbackup.managed import ExternalClient, Hold, Observation, Operation, OperationResult, Resource
from azbackup.reasons import Reason

# Status field where each BackupPolicy records the creates/edits the operator sent (last 24 hours).
WRITES = "policyWrites"


def _status(obj: Resource) -> api_status.PolicyStatus:
    return api_status.read(obj.status, api_status.PolicyStatus)


class PolicyClient:
    deterministic_names = True

    def __init__(self, clients: Clients, vault: VaultSpec, spec: PolicySpec,
                 vault_writes: Sequence[policy_budget.Write] = (), now: dt.datetime | None = None,
                 vault_immutability: str | None = None, vault_guard: str | None = None) -> None:
        self.clients, self.vault, self.spec = clients, vault, spec
        # Azure's immutability state as the vault last read it (its spec's until it has been read).
        self.immutability = vault_immutability or vault.immutability
        self.vault_guard = vault_guard  # the Resource Guard the vault's status last saw linked
        # The writes every BackupPolicy of this vault recorded (the vault's budget of 50 a day), and the clock.
        self.vault_writes, self.now = vault_writes, now or dt.datetime.now(dt.UTC)

    async def _get(self) -> dict[str, Any] | None:
        try:
            with errors.guard():
                return rest(await self.clients.backup.protection_policies.get(
                    self.vault.vault_name, self.vault.resource_group, self.spec.policy_name))
        except errors.NotFound:
            return None

    async def observe(self, obj: Resource) -> Observation:
        actual = await self._get()
        if actual is None:
            return self._budgeted(obj, Observation(exists=False), creating=True)
        props = actual.get("properties") or {}
        have_type = policy_body.SPEC_TYPE.get(props.get("policyType") or "V1", "Standard")
        status: api_status.PolicyStatus = {
                  "policyId": actual.get("id"), "policyName": actual.get("name"), "vaultId": self.vault.vault_id,
                  "policyType": have_type, "protectedItemsCount": props.get("protectedItemsCount")}
        if obj.deleting:
            return Observation(exists=True, status=status)
        if have_type != self.spec.policy_type:
            how = ("Azure migrates a Standard policy's items to an Enhanced policy per item, keeping their "
                   "recovery points; create a new Enhanced BackupPolicy and set the ProtectedVMs' policyRef to "
                   "it: the operator migrates each (README: Standard to Enhanced)"
                   if self.spec.policy_type == "Enhanced" else
                   "Azure cannot turn an Enhanced policy back into a Standard one; create a new Standard BackupPolicy")
            return Observation(exists=True, status=status, blocked=Hold(
                Reason.POLICY_TYPE_CHANGE_REQUIRES_MIGRATION,
                f"policy {self.spec.policy_name} is {have_type} in Azure and the spec asks for "
                f"{self.spec.policy_type}: {how}. Nothing was changed"))
        diffs = policy_diff.compare(self.spec, actual)
        cut = retention.cuts(props, policy_body.desired_body(self.spec)["properties"]) if diffs else ()
        if cut and self.immutability in retention.IMMUTABLE:
            # Azure would refuse the edit (points may not expire earlier in an immutable vault): say so
            # before sending it, and spend none of the vault's policy-edit budget.
            return Observation(exists=True, status=status, blocked=Hold(
                Reason.RETENTION_CUT_ON_IMMUTABLE_VAULT,
                f"the spec shortens retention ({'; '.join(cut)}) and vault {self.vault.vault_name} is immutable "
                f"({self.immutability}): Azure keeps every recovery point until it expires, so it refuses the edit. "
                "Nothing was sent. Keep the retention, or use a new policy for new items"
                + (" (Locked is permanent)" if self.immutability == "Locked" else
                   " (or set the vault's immutability Disabled first)")))
        seen = Observation(exists=True, up_to_date=not diffs, diff=diffs, status=status)
        return self._budgeted(obj, seen, creating=False) if diffs else seen

    def _budgeted(self, obj: Resource, seen: Observation, *, creating: bool) -> Observation:
        """A write is coming: refuse it past the vault's budget or for drift that keeps returning
        (limits/policy_budget.py), else record it in status before it is sent, so a restart counts it."""
        own = policy_budget.parse_all(_status(obj).get("policyWrites"))
        if obj.deleting:
            return seen
        refusal = policy_budget.decide(self.vault_writes, own, obj.generation, self.now, policy=self.spec.policy_name,
                                       vault_name=self.vault.vault_name, creating=creating)
        if refusal is not None:
            wait = max(60.0, (refusal.retry_at - self.now).total_seconds())
            status = {**seen.status, WRITES: [w.to_status() for w in policy_budget.recent(own, self.now)] or None}
            return Observation(exists=seen.exists, status=status, blocked=Hold(
                refusal.reason, refusal.message, stalls=refusal.reason is Reason.DRIFT_KEEPS_RETURNING,
                retry_in=wait))
        sent = policy_budget.recent([*own, policy_budget.Write(self.now, obj.generation)], self.now)
        return Observation(exists=seen.exists, up_to_date=seen.up_to_date, diff=seen.diff,
                           status={**seen.status, WRITES: [w.to_status() for w in sent]})

    async def _put(self) -> None:
        body = policy_body.desired_body(self.spec)
        # On a guarded vault every edit names the guard's request, as `az backup policy set` does; Azure asks
        # for the approval only when the edit cuts retention (and the guard protects policy edits).
        found = (await guard_proxy.request_for(self.clients, self.vault.resource_group, self.vault.vault_name,
                                               guard_proxy.UPDATE_POLICY) if self.vault_guard else None)
        if found is not None:
            body["properties"]["resourceGuardOperationRequests"] = [found[1]]
        with guard_proxy.guarded(guard_proxy.UPDATE_POLICY, found[0]) if found else errors.guard():
            await self.clients.backup.protection_policies.create_or_update(
                self.vault.vault_name, self.vault.resource_group, self.spec.policy_name, cast(Any, body))

    async def create(self, obj: Resource, seen: Observation) -> Operation | None:
        await self._put()
        return None

    async def update(self, obj: Resource, seen: Observation) -> Operation | None:
        await self._put()
        return None

    async def delete(self, obj: Resource, seen: Observation) -> Operation | None:
        capture = operations.HeaderCapture()
        with errors.guard():
            await self.clients.backup.protection_policies.begin_delete(
                self.vault.vault_name, self.vault.resource_group, self.spec.policy_name,
                polling=False, raw_response_hook=capture)
        return ops.started(capture, "DeletePolicy", obj.generation)

    async def poll(self, obj: Resource, operation: Operation) -> OperationResult:
        return await ops.poll(self.clients.backup.send_request, operation)

    def keeps_azure_on_delete(self, obj: Resource) -> bool:
        return self.spec.deletion_policy != "Delete"

    def failed_operation(self, obj: Resource, operation: Operation, result: OperationResult) -> Hold:
        reason = Reason.POLICY_IN_USE if "inuse" in result.code.lower().replace("_", "") else Reason.AZURE_ERROR
        return Hold(reason, f"{operation.kind} failed in Azure: {result.code}: {result.message}")


def _vault_field(status: Mapping[str, object], name: str) -> str | None:
    value = status.get(name)
    return value if isinstance(value, str) and value else None


async def client(obj: Resource, ctx: Context) -> ExternalClient:
    vault = resolve_vault(obj, ctx, need_ready=not obj.deleting)
    # Issue 14: the vault's policy-edit budget is counted over the writes every BackupPolicy of this vault
    # recorded in its status (limits/policy_budget.py decides).
    writes = [w for p in ctx.objects.of_kind(names.POLICY.kind, obj.namespace) if VAULT_REF.name(p) == vault.name
              for w in policy_budget.parse_all(_status(p).get("policyWrites"))]
    return PolicyClient(await clients_for_vault(vault, ctx), VaultSpec.parse(vault.name, vault.spec),
                        PolicySpec.parse(obj.name, obj.spec), writes, dt.datetime.fromtimestamp(ctx.clock(), dt.UTC),
                        _vault_field(vault.status, "immutability"), _vault_field(vault.status, "resourceGuard"))


KIND = Kind(names.POLICY, client, crds.backup_policy, api_status.PolicyStatus, vault=VAULT_REF,
            waits_for=(VAULT_REF,),
            wakes=Wakes(azure_id=lambda obj: lower_id(_status(obj).get("policyId")) or None))
