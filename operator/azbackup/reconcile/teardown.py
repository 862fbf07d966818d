"""Deleting a vault while its ProtectedVMs are being protected.

The vault's worker stops with the vault's deletion, so nothing would follow the configure operations
its members started (they stayed WaitingForOperation), and with `deletionPolicy: Delete` the vault was
deleted in Azure while members kept sending configure PUTs to it. Now the vault's deletion first
follows its members' operations to their end, and every member gets a reason (`VaultNotReady`: the
vault is being deleted, nothing more is written to it); only then does the vault's own clean-up run.
"""

from __future__ import annotations

from azbackup.reconcile.registry import Key, Registry, VaultKey


def in_flight(registry: Registry, vault: VaultKey) -> list[Key]:
    """The vault's members following an Azure operation they started."""
    return [key for key in registry.members(vault)
            if (obj := registry.get(key)) is not None and obj.status.get("operation")]
