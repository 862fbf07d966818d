"""A duplicate hand-over: deleting the acting one of two ProtectedVMs for one VM moves the claim, not
the protection.

The acting object's `onDelete` (RetainData by default) would stop protection (`DisableBackup`) just
before the next object claims the VM and protects it again: a gap in backups for a bookkeeping change.
When another, not deleting, ProtectedVM of the same namespace names the same VM in the same vault, it
takes over the protected item as it is (its own spec then updates the policy if it differs), and the
deleted object leaves Azure alone. A successor in another vault does not count: protection must stop
in this vault before that vault can protect the VM.
"""

from __future__ import annotations

from azbackup.managed import ReconcilePolicy, Resource
from azbackup.reconcile.registry import Registry


def _vault(obj: Resource) -> str | None:
    ref = obj.spec.get("vaultRef")
    return str(ref.get("name")) if isinstance(ref, dict) and ref.get("name") else None


def successor(obj: Resource, registry: Registry) -> Resource | None:
    """The ProtectedVM that takes over this one's VM in the same vault, or None (then onDelete applies)."""
    if obj.kind != "ProtectedVM" or obj.policy is not ReconcilePolicy.MANAGE or not obj.spec.get("vm"):
        return None
    heirs = [o for o in registry.claimants(str(obj.spec["vm"]))
             if o.key != obj.key and not o.deleting and o.namespace == obj.namespace and _vault(o) == _vault(obj)
             and o.policy is ReconcilePolicy.MANAGE]
    return min(heirs, key=lambda o: (o.created, o.namespace, o.name), default=None)
