"""BackupVault: handlers call the generic runtime; a daemon per vault runs its periodic pass."""

from __future__ import annotations

from typing import Any

import kopf

from azbackup.controllers.common import GROUP, VERSION, on_change, on_delete, on_event, policy_changed, runtime_of

PLURAL = "backupvaults"


@kopf.on.event(GROUP, VERSION, PLURAL)
async def backup_vault_event(event: Any, body: Any, memo: Any, **_: Any) -> None:
    on_event(event, body, memo)


@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL, field="spec")
async def backup_vault_changed(body: Any, memo: Any, **_: Any) -> None:
    await on_change(body, memo)


@kopf.on.update(GROUP, VERSION, PLURAL, field="metadata.annotations")
async def backup_vault_annotated(body: Any, memo: Any, old: Any, new: Any, **_: Any) -> None:
    if policy_changed(old, new):
        await on_change(body, memo)


@kopf.on.delete(GROUP, VERSION, PLURAL)
async def backup_vault_deleted(body: Any, memo: Any, **_: Any) -> None:
    await on_delete(body, memo)


@kopf.daemon(GROUP, VERSION, PLURAL, cancellation_timeout=5.0)
async def backup_vault_worker(body: Any, memo: Any, stopped: Any, **_: Any) -> None:
    """The vault's worker: a full pass of the vault and its objects every sync period, and due requeues."""
    runtime = runtime_of(memo)
    runtime.registry.upsert(body)
    await runtime.run_worker((body["metadata"]["namespace"], body["metadata"]["name"]), stopped)
