"""The Activity Log as the admin API shows it, and the entries a person's change in the portal writes.

A change that stands for a person's change in the portal (a VM added, changed or removed, NSG rules,
storage network rules) is recorded as that person's ARM writes (`caller`, default
`admin@contoso.com`, from the body's `caller` or the query's); a change of what only the guest agent
reports (the VM's instance view) is no ARM write and records nothing, as in Azure."""

from __future__ import annotations

import uuid
from collections.abc import MutableMapping
from typing import TYPE_CHECKING

from aiohttp import web

from azure_emulator import activity_log, apiversions, ids
from azure_emulator.admin_base import AdminError, AdminRoute, Answer

if TYPE_CHECKING:
    from azure_emulator.app import Emulator


def caller_of(request: web.Request, doc: MutableMapping[str, object]) -> str | None:
    """The person a portal change stands for (taken out of the body, so it is not part of the change)."""
    who = doc.pop("caller", None) or request.query.get("caller")
    return str(who) if who else None


def portal_write(
    emu: Emulator, request: web.Request, who: str | None, resource_id: str, operation: str, status: int
) -> None:
    """Record a person's write in the portal: `operation` is `Namespace/type/write` or `.../delete`."""
    ref = ids.parse_resource_id(resource_id)
    sub = emu.state.subscriptions.get(ids.key(ref.subscription)) if ref else None
    if sub is None:
        return
    now = emu.clock.now()
    method = "DELETE" if operation.endswith("/delete") else "PUT"
    change = activity_log.Change(
        subscription=sub.id,
        tenant_id=emu.state.tenant_id,
        resource_id=resource_id,
        resource_type=apiversions.resource_type(resource_id) or operation.rsplit("/", 1)[0],
        operation_name=operation,
        method=method,
        uri=f"https://{request.host}{resource_id}",
        caller=activity_log.person(who or activity_log.DEFAULT_PERSON, emu.state.tenant_id, now),
        correlation_id=str(uuid.uuid4()),
        client_request_id=str(uuid.uuid4()),
        client_ip=request.remote or "",
        service_request_id=str(uuid.uuid4()),
    )
    emu.state.activity.record_change(change, http_status=status, at=now, delay=emu.settings.activity_log_delay)


async def get_activity_log(emu: Emulator, request: web.Request) -> Answer:
    """Every entry, visible or not, newest first (`?subscription=` one subscription's)."""
    now = emu.state.settle()
    sub = request.query.get("subscription")
    if sub and ids.key(sub) not in emu.state.subscriptions:
        raise AdminError(404, f"no subscription {sub}")
    events = emu.state.activity.entries(sub)
    return {
        "now": activity_log.timestamp(now),
        "delay": emu.settings.activity_log_delay,
        "value": [e.to_json() for e in events],
        "visible": sum(1 for e in events if e.visible_at <= now),
    }


async def clear_activity_log(emu: Emulator, request: web.Request) -> Answer:
    emu.state.activity.clear()
    return None


ROUTES = [
    AdminRoute("GET", "/_admin/activity-log", get_activity_log),
    AdminRoute("DELETE", "/_admin/activity-log", clear_activity_log),
]
