"""VMBackupSelector: handlers call the generic runtime; its vault's worker re-plans its children every pass."""

from __future__ import annotations

from typing import Any

import kopf

from azbackup.controllers.common import GROUP, VERSION, on_change, on_delete, on_event, policy_changed

PLURAL = "vmbackupselectors"


@kopf.on.event(GROUP, VERSION, PLURAL)
async def vm_backup_selector_event(event: Any, body: Any, memo: Any, **_: Any) -> None:
    on_event(event, body, memo)


@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL, field="spec")
async def vm_backup_selector_changed(body: Any, memo: Any, **_: Any) -> None:
    await on_change(body, memo)


@kopf.on.update(GROUP, VERSION, PLURAL, field="metadata.annotations")
async def vm_backup_selector_annotated(body: Any, memo: Any, old: Any, new: Any, **_: Any) -> None:
    if policy_changed(old, new):
        await on_change(body, memo)


@kopf.on.delete(GROUP, VERSION, PLURAL)
async def vm_backup_selector_deleted(body: Any, memo: Any, **_: Any) -> None:
    await on_delete(body, memo)
