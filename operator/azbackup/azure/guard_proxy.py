"""A vault's link to its Resource Guard (`backupResourceGuardProxies/VaultProxy`), and the critical
operations the guard protects (Multi-User Authorization).

Shapes: bms.json `ResourceGuardProxyBaseResource` and `UnlockDeleteRequest`, the examples
ResourceGuardProxyCRUD/{Get,Put,UnlockDelete}ResourceGuardProxy.json. A guarded write names the guard's
request (`{guard}/{requestType}/default`, the proxy's `defaultResourceRequest`) in its
`resourceGuardOperationRequests`; ARM refuses it while the caller holds no approval on the guard.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any, Final, cast

from azbackup.azure import errors
from azbackup.azure.gateway import Clients
from azbackup.azure.rest import rest

PROXY: Final = "VaultProxy"  #: the one proxy of a vault, as the portal and the Azure CLI name it
DELETE_PROXY: Final = "deleteResourceGuardProxyRequests"  #: removing MUA (mandatory on every guard)
DISABLE_SOFT_DELETE: Final = "disableSoftDeleteRequests"  #: turning soft delete off (mandatory)
DELETE_ITEM: Final = "deleteProtectedItemRequests"  #: stop protection and delete the data
UPDATE_POLICY: Final = "updateProtectionPolicyRequests"  #: a policy edit that cuts retention
UPDATE_ITEM: Final = "updateProtectedItemRequests"  #: an item moved to a policy that keeps less


def request_id(guard: str, operation: str) -> str:
    """The default operation request of a guard, as `defaultResourceRequest` spells it."""
    return f"{guard}/{operation}/default"


def default_request(proxy: Mapping[str, Any], operation: str) -> str | None:
    """The request a write must name for this operation, from the proxy; None when the guard leaves it open."""
    for detail in (proxy.get("properties") or {}).get("resourceGuardOperationDetails") or ():
        request = str(detail.get("defaultResourceRequest") or "")
        if request.rstrip("/").split("/")[-2:-1] == [operation]:
            return request
    return None


def guard_of(proxy: Mapping[str, Any] | None) -> str | None:
    return str((proxy.get("properties") or {}).get("resourceGuardResourceId") or "") or None if proxy else None


@contextlib.contextmanager
def guarded(operation: str, guard: str) -> Iterator[None]:
    """Translate a refusal for lack of approval on the guard into `ApprovalRequired` (a fact: which
    operation, which guard); any other failure as `errors.guard` does."""
    try:
        with errors.guard():
            yield
    except errors.Forbidden as exc:
        if exc.code != "LinkedAuthorizationFailed":
            raise
        raise errors.ApprovalRequired(
            f"{operation} is protected by the Resource Guard {guard}: Azure refused it until the guard's owner "
            f"approves {request_id(guard, operation)} (a time-bound approval, e.g. a PIM activation); "
            f"Azure said {exc.message}", operation=operation, guard=guard, code=exc.code,
            status=exc.status) from exc


async def read(clients: Clients, resource_group: str, vault: str) -> dict[str, Any] | None:
    """The vault's proxy, or None when the vault has no Resource Guard."""
    with errors.guard():
        proxies = [rest(p) async for p in clients.backup.resource_guard_proxies.get(vault, resource_group)]
    return next((p for p in proxies if str(p.get("name", "")).lower() == PROXY.lower()), None)


async def link(clients: Clients, resource_group: str, vault: str, guard: str) -> None:
    """Associate the guard (not itself guarded: it only adds protection)."""
    body = {"properties": {"resourceGuardResourceId": guard}}
    with errors.guard():
        await clients.backup.resource_guard_proxy.put(vault, resource_group, PROXY, cast(Any, body))


async def unlink(clients: Clients, resource_group: str, vault_id: str, vault: str, proxy: Mapping[str, Any]) -> None:
    """Remove MUA: unlock the proxy's delete with the guard's approval, then delete the proxy."""
    guard = guard_of(proxy) or ""
    request = default_request(proxy, DELETE_PROXY) or request_id(guard, DELETE_PROXY)
    unlock = {"resourceGuardOperationRequests": [request],
              "resourceToBeDeleted": f"{vault_id}/backupResourceGuardProxies/{PROXY}"}
    with guarded(DELETE_PROXY, guard):
        await clients.backup.resource_guard_proxy.unlock_delete(vault, resource_group, PROXY, cast(Any, unlock))
    with errors.guard():
        await clients.backup.resource_guard_proxy.delete(vault, resource_group, PROXY)


async def request_for(clients: Clients, resource_group: str, vault: str, operation: str) -> tuple[str, str] | None:
    """`(guard, request)` a write must name for this operation on the vault; None when the vault has no guard
    or its guard leaves the operation open (the proxy then lists no request for it)."""
    proxy = await read(clients, resource_group, vault)
    request = default_request(proxy, operation) if proxy else None
    return (guard_of(proxy) or "", request) if request else None


async def unlock_item_delete(clients: Clients, resource_group: str, vault: str, item_id: str) -> None:
    """Before deleting a protected item's backup data on a guarded vault: unlock that delete with the
    guard's approval (the example UnlockDeleteResourceGuardProxy.json names deleteProtectedItemRequests)."""
    found = await request_for(clients, resource_group, vault, DELETE_ITEM)
    if found is None:
        return
    guard, request = found
    unlock = {"resourceGuardOperationRequests": [request], "resourceToBeDeleted": item_id}
    with guarded(DELETE_ITEM, guard):
        await clients.backup.resource_guard_proxy.unlock_delete(vault, resource_group, PROXY, cast(Any, unlock))
