"""BackupPolicy: an AzureIaasVM protection policy in the vault its vaultRef names."""

from __future__ import annotations

from typing import Any, cast

from azbackup.api import names
from azbackup.api.specs import PolicySpec, VaultSpec
from azbackup.azure import errors, operations, policy_body
from azbackup.azure.gateway import Clients
from azbackup.azure.rest import rest
from azbackup.kinds import operations as ops
from azbackup.kinds.contract import Context, Kind
from azbackup.kinds.references import VAULT_REF, clients_for_vault, resolve_vault
from azbackup.managed import ExternalClient, Hold, Observation, Operation, OperationResult, Resource
from azbackup.reasons import Reason


class PolicyClient:
    deterministic_names = True

    def __init__(self, clients: Clients, vault: VaultSpec, spec: PolicySpec) -> None:
        self.clients, self.vault, self.spec = clients, vault, spec

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
            return Observation(exists=False)
        props = actual.get("properties") or {}
        have_type = policy_body.SPEC_TYPE.get(props.get("policyType") or "V1", "Standard")
        status = {"policyId": actual.get("id"), "policyName": actual.get("name"), "vaultId": self.vault.vault_id,
                  "policyType": have_type, "protectedItemsCount": props.get("protectedItemsCount")}
        if obj.deleting:
            return Observation(exists=True, status=status)
        if have_type != self.spec.policy_type:
            how = ("Azure migrates a Standard policy's items to an Enhanced policy per item (portal: 'Migrate "
                   "to Enhanced policy'); create a new Enhanced BackupPolicy and move ProtectedVMs to it"
                   if self.spec.policy_type == "Enhanced" else
                   "Azure cannot turn an Enhanced policy back into a Standard one; create a new Standard BackupPolicy")
            return Observation(exists=True, status=status, blocked=Hold(
                Reason.POLICY_TYPE_CHANGE_REQUIRES_MIGRATION,
                f"policy {self.spec.policy_name} is {have_type} in Azure and the spec asks for "
                f"{self.spec.policy_type}: {how}. Nothing was changed"))
        diffs = policy_body.compare(self.spec, actual)
        return Observation(exists=True, up_to_date=not diffs, diff=diffs, status=status)

    async def _put(self) -> None:
        with errors.guard():
            await self.clients.backup.protection_policies.create_or_update(
                self.vault.vault_name, self.vault.resource_group, self.spec.policy_name,
                cast(Any, policy_body.desired_body(self.spec)))

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


async def client(obj: Resource, ctx: Context) -> ExternalClient:
    vault = resolve_vault(obj, ctx, need_ready=not obj.deleting)
    return PolicyClient(await clients_for_vault(vault, ctx), VaultSpec.parse(vault.name, vault.spec),
                        PolicySpec.parse(obj.name, obj.spec))


KIND = Kind(names.POLICY, client, vault=VAULT_REF, waits_for=(VAULT_REF,))
