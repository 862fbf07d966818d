"""A duplicate hand-over: deleting the acting one of two objects with the same claim (two ProtectedVMs
for one VM) moves the claim, not what Azure does.

The acting object's `onDelete` (RetainData by default) would stop protection (`DisableBackup`) just
before the next object claims the VM and protects it again: a gap in backups for a bookkeeping change.
When another object, not being deleted, makes the same claim in the same vault, it takes over the Azure
resource as it is (its own spec then updates what differs, e.g. the policy), and the deleted object
leaves Azure alone. A claimant in another vault does not count: protection must stop in this vault
before that vault can protect the VM.
"""

from __future__ import annotations

from azbackup.managed import ReconcilePolicy, Resource
from azbackup.reconcile.registry import Registry


def successor(obj: Resource, registry: Registry) -> Resource | None:
    """The object that takes over this one's claim in the same vault, or None (then onDelete applies)."""
    claim = registry.claim_of(obj.key)
    if claim is None or obj.policy is not ReconcilePolicy.MANAGE:
        return None
    vault = registry.vault_of(obj.key)
    heirs = [o for o in registry.claimants(claim)
             if o.key != obj.key and not o.deleting and o.policy is ReconcilePolicy.MANAGE
             and vault is not None and registry.vault_of(o.key) == vault]
    return min(heirs, key=lambda o: (o.created, o.namespace, o.name), default=None)
