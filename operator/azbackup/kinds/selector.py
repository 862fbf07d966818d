"""The VMBackupSelector's "external" side: its ProtectedVM children, planned from the fleet snapshot.

It reads the same batched fleet as the ProtectedVMs (no extra Azure call), and writes only to
Kubernetes: children are created with an owner reference (so deleting the selector deletes them, and
each child's onDelete decides what happens in Azure), re-specced when the selector changes, and
deleted when their VM stops matching or disappears.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from kubernetes.client.exceptions import ApiException

from azbackup.api import crds, names
from azbackup.api import status as api_status
from azbackup.api.names import KubeAccess
from azbackup.api.specs import SelectorSpec, VaultSpec
from azbackup.azure.gateway import Clients
from azbackup.kinds import selection
from azbackup.kinds.contract import Context, Kind, Wakes
from azbackup.kinds.references import (
    POLICY_REF,
    VAULT_REF,
    children,
    clients_for_vault,
    resolve_policy,
    resolve_vault,
)
from azbackup.managed import ExternalClient, Hold, Observation, Operation, Resource
from azbackup.reasons import Reason
from azbackup.toolkit import conditions

ELSEWHERE = "AlreadyProtectedByOtherVault"


def _ready(obj: Resource) -> Mapping[str, Any]:
    return conditions.ready(obj.status)


def _settled(obj: Resource) -> bool:
    status = api_status.read(obj.status, api_status.ProtectedVMStatus)
    if status.get("observedGeneration") != obj.generation or not _ready(obj):
        return False
    return not any(c.get("type") == "Reconciling" and c.get("status") == "True"
                   for c in status.get("conditions") or ())


class SelectorClient:
    deterministic_names = True

    def __init__(self, ctx: Context, clients: Clients, vault: VaultSpec, spec: SelectorSpec) -> None:
        self.ctx, self.clients, self.vault, self.spec = ctx, clients, vault, spec

    def _children(self, obj: Resource) -> dict[str, Resource]:
        return children(obj, names.PROTECTED_VM.kind, self.ctx)

    async def _plan(self, obj: Resource) -> tuple[selection.Plan, dict[str, Resource]]:
        settings = self.ctx.settings
        # With the change feed on, VMs created, re-tagged or deleted are applied to the snapshot as they
        # happen (kinds.changes): it is as fresh as the feed, and the full pass re-reads it every period.
        max_age = settings.sync_period if settings.feed_interval else settings.recheck_interval
        fleet = await self.ctx.inventory.fleet(self.clients).get(max_age)
        vms = [selection.Candidate.from_vm(raw) for raw in fleet.raw.values()]
        children = self._children(obj)
        plan = selection.plan(obj.name, obj.uid, obj.namespace, self.spec, self.vault.location, vms,
                              {name: child.spec for name, child in children.items()})
        return plan, children

    async def observe(self, obj: Resource) -> Observation:
        plan, children = await self._plan(obj)
        kept = [c for name, c in children.items() if name not in plan.delete]
        ready = [c for c in kept if _ready(c).get("status") == "True"]
        blocked = [c for c in kept if _settled(c) and _ready(c).get("status") != "True"]
        by_reason = Counter(str(_ready(c).get("reason")) for c in blocked)
        status: api_status.SelectorStatus = {
            "matched": plan.matched, "protected": len(ready), "blocked": len(blocked), "excluded": plan.excluded,
            "blockedByReason": dict(sorted(by_reason.items())) or None,
            "protectedElsewhere": sorted(str(c.spec.get("vm")) for c in blocked
                                         if _ready(c).get("reason") == ELSEWHERE)[:100] or None,
            # Issue 14: matches left out because the vault or the policy holds Azure's limit of 1000 VMs.
            "notFitted": sum(by_reason.get(str(r), 0) for r in (Reason.VAULT_CAPACITY_REACHED,
                                                                Reason.POLICY_CAPACITY_REACHED)) or None,
        }
        if obj.deleting:
            return Observation(exists=False)
        summary = f"{len(ready)} of {plan.matched} matched VMs protected"
        working = len(kept) - len(ready) - len(blocked)
        limitation = None
        if blocked and working == 0 and len(kept) == plan.matched:  # report once every child has settled
            # Sorted by count, then name: a stable message, so an unchanged fleet never rewrites status.
            reasons = ", ".join(f"{n} {r}" for r, n in sorted(by_reason.items(), key=lambda rn: (-rn[1], rn[0])))
            limitation = Hold(Reason.SOME_BLOCKED, f"{summary}; {len(blocked)} blocked ({reasons}): see their "
                                                   "ProtectedVM objects")
        return Observation(
            exists=True, up_to_date=plan.empty, usable=working == 0 and len(kept) == plan.matched,
            diff=tuple([*(f"create {m['metadata']['name']}" for m in plan.create),
                        *(f"update {name}" for name, _ in plan.update), *(f"delete {n}" for n in plan.delete)]),
            status=status, limitation=limitation, pending=(Reason.SELECTING, f"{summary}; {working} in progress"),
            ready=(Reason.ALL_PROTECTED, summary))

    async def update(self, obj: Resource, seen: Observation) -> Operation | None:
        plan, _ = await self._plan(obj)
        kube = self.ctx.kube
        for manifest in plan.create:
            try:
                await kube.create(manifest)
            except ApiException as exc:
                if exc.status != 409:  # already there (a previous pass, or a restart): fine
                    raise
        for name, spec in plan.update:
            patch: dict[str, Any] = {"spec": dict(spec)}
            if "policyRef" not in spec:
                patch["spec"]["policyRef"] = None
            await kube.patch(names.PROTECTED_VM.kind, obj.namespace, name, patch)
        for name in plan.delete:
            await kube.delete(names.PROTECTED_VM.kind, obj.namespace, name)
        return None

    async def create(self, obj: Resource, seen: Observation) -> Operation | None:
        return await self.update(obj, seen)

    async def delete(self, obj: Resource, seen: Observation) -> Operation | None:
        return None  # children go with their owner (garbage collection); each applies its onDelete

    def keeps_azure_on_delete(self, obj: Resource) -> bool:
        return True

async def client(obj: Resource, ctx: Context) -> ExternalClient:
    vault = resolve_vault(obj, ctx, need_ready=not obj.deleting)
    if not obj.deleting:
        resolve_policy(obj, vault, ctx)  # children would only wait for it: wait here, once
    return SelectorClient(ctx, await clients_for_vault(vault, ctx), VaultSpec.parse(vault.name, vault.spec),
                          SelectorSpec.parse(obj.spec))


KIND = Kind(names.SELECTOR, client, crds.vm_backup_selector, api_status.SelectorStatus,
            vault=VAULT_REF, waits_for=(VAULT_REF, POLICY_REF),
            wakes=Wakes(membership=True),
            writes=(KubeAccess(names.PROTECTED_VM, ("create", "delete"),
                               "A VMBackupSelector creates and deletes its ProtectedVM children."),))
