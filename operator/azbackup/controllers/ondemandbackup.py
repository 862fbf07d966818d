"""OnDemandBackup: one backup, followed like a Job; its target's vault worker runs its requeues."""

from __future__ import annotations

from typing import Any

import kopf

from azbackup.controllers.common import GROUP, VERSION, on_change, on_delete, on_event, policy_changed

PLURAL = "ondemandbackups"


@kopf.on.event(GROUP, VERSION, PLURAL)
async def on_demand_backup_event(event: Any, body: Any, memo: Any, **_: Any) -> None:
    on_event(event, body, memo)


@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL, field="spec")
async def on_demand_backup_changed(body: Any, memo: Any, **_: Any) -> None:
    await on_change(body, memo)


@kopf.on.update(GROUP, VERSION, PLURAL, field="metadata.annotations")
async def on_demand_backup_annotated(body: Any, memo: Any, old: Any, new: Any, **_: Any) -> None:
    if policy_changed(old, new):
        await on_change(body, memo)


@kopf.on.delete(GROUP, VERSION, PLURAL)
async def on_demand_backup_deleted(body: Any, memo: Any, **_: Any) -> None:
    await on_delete(body, memo)
