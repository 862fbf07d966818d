"""The operator's in-memory view of its objects, fed by the watch streams (kopf `on.event`).

It answers "what does this object look like now" and "which objects belong to this vault" without an
API call, so a vault's periodic pass can reconcile all of its objects from memory. Status written by
the operator is applied here at once (write-through), so a pass never acts on a status it has
already replaced, even before the watch echoes the change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from azbackup.managed import Resource
from azbackup.reconcile.status import compact

Key = tuple[str, str, str]  # (kind, namespace, name)
_DROPPED_ANNOTATIONS = ("kopf.", "kubectl.kubernetes.io/")  # framework bookkeeping the operator never reads


def _slim(obj: Resource) -> Resource:
    """What the registry keeps of an object: heavy status fields as digests, no framework annotations."""
    light, digests = compact(obj.status)
    annotations = {k: v for k, v in obj.annotations.items() if not k.startswith(_DROPPED_ANNOTATIONS)}
    return replace(obj, status=light, digests=digests, annotations=annotations)
VaultKey = tuple[str, str]  # (namespace, BackupVault name)


class Registry:
    def __init__(self, vault_of: Callable[[Resource, Registry], VaultKey | None]) -> None:
        self._objects: dict[Key, Resource] = {}
        self._vault_of = vault_of
        self._members: dict[VaultKey, set[Key]] = defaultdict(set)
        self._member_of: dict[Key, VaultKey] = {}
        self._claims: dict[str, set[Key]] = defaultdict(set)  # lower-cased VM id -> ProtectedVMs naming it

    def upsert(self, body: Mapping[str, Any]) -> Resource:
        obj = _slim(Resource.from_body(body))
        old = self._objects.get(obj.key)
        # A late watch event must not undo a status we wrote after it was produced.
        if (old is not None and old.uid == obj.uid and old.resource_version.isdigit()
                and obj.resource_version.isdigit() and int(old.resource_version) > int(obj.resource_version)):
            return old
        self._objects[obj.key] = obj
        self._index(obj)
        if obj.kind == "ProtectedVM" and (old is None or old.spec.get("vaultRef") != obj.spec.get("vaultRef")):
            # On-demand backups belong to their target's vault: index them again when it appears or moves.
            self.reindex(o.key for o in self.of_kind("OnDemandBackup", obj.namespace)
                         if (o.spec.get("protectedVMRef") or {}).get("name") == obj.name)
        return obj

    def _index(self, obj: Resource) -> None:
        if obj.kind == "ProtectedVM" and obj.spec.get("vm"):
            self._claims[str(obj.spec["vm"]).lower()].add(obj.key)
        vault = self._vault_of(obj, self)
        previous = self._member_of.pop(obj.key, None)
        if previous is not None:
            self._members[previous].discard(obj.key)
        if vault is not None:
            self._members[vault].add(obj.key)
            self._member_of[obj.key] = vault

    def remove(self, key: Key) -> None:
        obj = self._objects.pop(key, None)
        if obj is not None and obj.spec.get("vm"):
            self._claims[str(obj.spec["vm"]).lower()].discard(key)
        vault = self._member_of.pop(key, None)
        if vault is not None:
            self._members[vault].discard(key)

    def get(self, key: Key) -> Resource | None:
        return self._objects.get(key)

    def of_kind(self, kind: str, namespace: str | None = None) -> list[Resource]:
        return [o for o in self._objects.values() if o.kind == kind and namespace in (None, o.namespace)]

    def members(self, vault: VaultKey) -> list[Key]:
        """Keys of the objects whose work runs in this vault's worker (not the vault itself)."""
        return sorted(self._members.get(vault, ()))

    def claimants(self, vm_id: str) -> list[Resource]:
        """Every ProtectedVM naming this VM."""
        return [o for k in self._claims.get(vm_id.lower(), ()) if (o := self._objects.get(k))]

    def first_claim(self, vm_id: str) -> Resource | None:
        """The ProtectedVM that claimed a VM first (oldest, then by namespace/name): the one that acts."""
        return min(self.claimants(vm_id), key=lambda o: (o.created, o.namespace, o.name), default=None)

    def vault_of(self, key: Key) -> VaultKey | None:
        if key[0] == "BackupVault":
            return (key[1], key[2])
        return self._member_of.get(key)

    def reindex(self, keys: Iterable[Key]) -> None:
        for key in keys:
            if (obj := self._objects.get(key)) is not None:
                self._index(obj)

    def apply_status(self, key: Key, status: Mapping[str, Any], resource_version: str | None = None) -> None:
        """Write-through after the operator patched an object's status."""
        obj = self._objects.get(key)
        if obj is not None:
            light, digests = compact(status)
            self._objects[key] = replace(obj, status=light, digests={**obj.digests, **digests},
                                         resource_version=resource_version or obj.resource_version)

    def apply_annotations(self, key: Key, annotations: Mapping[str, str], resource_version: str) -> None:
        obj = self._objects.get(key)
        if obj is not None:
            self._objects[key] = replace(obj, annotations=dict(annotations), resource_version=resource_version)

    def objects(self) -> list[Resource]:
        return list(self._objects.values())

    def __len__(self) -> int:
        return len(self._objects)
