"""`{vault}/backupResourceGuardProxies`: the Resource Guard a vault is associated with (multi-user
authorization). The Azure CLI lists them before every critical operation (soft delete settings,
`policy set`, `item set-policy`, `protection disable`); a vault without a guard lists none.

Associating a guard (PUT) is not itself guarded; removing it is: the caller first unlocks the delete
(`unlockDelete` with the guard's `deleteResourceGuardProxyRequests`, which needs an approval on the guard),
then DELETEs the proxy while the unlock lasts. The same unlock opens the delete of a protected item
(`deleteProtectedItemRequests`). Shapes: bms.json `ResourceGuardProxyBaseResource`, `UnlockDeleteRequest`,
and the examples ResourceGuardProxyCRUD/{Get,Put,UnlockDelete}ResourceGuardProxy.json (docs/emulator.md).
"""

from __future__ import annotations

from typing import Any

from azure_emulator import errors, ids, mua
from azure_emulator.arm.base import Call, Reply, iso, page, route, same
from azure_emulator.arm.vaults import VAULT, find_vault
from azure_emulator.backup_model import Vault
from azure_emulator.errors import ArmError

PROXY_NAME = "VaultProxy"  #: the name the Azure CLI and portal give the one proxy of a vault
_GUARD_ID = "/providers/Microsoft.DataProtection/resourceGuards/"


def proxy_id(vault: Vault) -> str:
    return f"{vault.id}/backupResourceGuardProxies/{PROXY_NAME}"


def proxy_json(call: Call, vault: Vault) -> dict[str, Any]:
    guard_id = str(vault.resource_guard)
    guard = call.state.mua.guard(guard_id)
    return {
        "id": proxy_id(vault),
        "name": PROXY_NAME,
        "type": "Microsoft.RecoveryServices/vaults/backupResourceGuardProxies",
        "properties": {
            "resourceGuardResourceId": guard_id,
            # As the examples show it: the request type as `vaultCriticalOperation`, and the request to name.
            "resourceGuardOperationDetails": [
                {
                    "vaultCriticalOperation": f"Microsoft.DataProtection/resourceGuards/{op}",
                    "defaultResourceRequest": mua.request_id(guard_id, op),
                }
                for op, _ in mua.OPERATIONS
                if guard.protects(op)
            ],
            "lastUpdatedTime": iso(vault.guard_linked or vault.created),
            "description": guard.description,
        },
    }


def _proxy(call: Call) -> Vault:
    vault = find_vault(call)
    if not vault.resource_guard or not same(call.params["proxy"], PROXY_NAME):
        raise errors.backup_resource_not_found("resource guard proxy", call.params["proxy"])
    return vault


def list_proxies(call: Call) -> Reply:
    vault = find_vault(call)
    return page(call, iter([vault] if vault.resource_guard else []), lambda v: proxy_json(call, v))


def get_proxy(call: Call) -> Reply:
    return Reply(200, proxy_json(call, _proxy(call)))


def put_proxy(call: Call) -> Reply:
    vault = find_vault(call)
    if not same(call.params["proxy"], PROXY_NAME):
        raise errors.invalid_input(f"The resource guard proxy must be named '{PROXY_NAME}'.")
    guard_id = str((call.json_body().get("properties") or {}).get("resourceGuardResourceId") or "")
    if _GUARD_ID.lower() not in guard_id.lower() or ids.parse_resource_id(guard_id) is None:
        raise errors.invalid_parameter("resourceGuardResourceId", "It must be the id of a Resource Guard.")
    if vault.resource_guard and not same(vault.resource_guard, guard_id):
        # Moving to another guard would drop the current one's protection without its approval.
        raise errors.invalid_input(
            f"The vault is already associated with the Resource Guard '{vault.resource_guard}'. "
            "Remove that association first."
        )
    if not vault.resource_guard:
        vault.resource_guard, vault.guard_linked = guard_id, call.now
    return Reply(200, proxy_json(call, vault))


def unlock_delete(call: Call) -> Reply:
    vault = _proxy(call)
    body = call.json_body()
    target = str(body.get("resourceToBeDeleted") or "")
    if not target:
        raise errors.invalid_input("resourceToBeDeleted is required.")
    requests = body.get("resourceGuardOperationRequests") or []
    operation = mua.DELETE_PROXY if same(target, proxy_id(vault)) else mua.DELETE_ITEM
    mua.check(call, vault, operation, requests)
    until = call.now + mua.UNLOCK_SECONDS
    call.state.mua.unlocked[ids.key(target)] = until
    return Reply(200, {"unlockDeleteExpiryTime": iso(until)})


def require_unlocked(call: Call, vault: Vault, resource_id: str, operation: str) -> None:
    """A guarded delete goes through only while an unlockDelete of that resource lasts."""
    if not vault.resource_guard or not call.state.mua.guard(vault.resource_guard).protects(operation):
        return
    until = call.state.mua.unlocked.get(ids.key(resource_id))
    if until is not None and call.now < until:
        return
    raise ArmError(
        400,
        "UserErrorResourceGuardUnlockDeleteRequired",
        f"The delete of '{resource_id}' is protected by the Resource Guard '{vault.resource_guard}'. Unlock the "
        "delete through the vault's resource guard proxy (unlockDelete) first, then retry within its expiry time.",
    )


def delete_proxy(call: Call) -> Reply:
    vault = find_vault(call)
    if not vault.resource_guard or not same(call.params["proxy"], PROXY_NAME):
        return Reply(204)
    require_unlocked(call, vault, proxy_id(vault), mua.DELETE_PROXY)
    call.state.mua.unlocked.pop(ids.key(proxy_id(vault)), None)
    vault.resource_guard, vault.guard_linked = None, None
    return Reply(200)


_A = "Microsoft.RecoveryServices/vaults/backupResourceGuardProxies"
_PROXY = VAULT + "/backupResourceGuardProxies/{proxy}"

ROUTES = [
    route("GET", VAULT + "/backupResourceGuardProxies", "ResourceGuardProxies_Get", f"{_A}/read", list_proxies),
    route("GET", _PROXY, "ResourceGuardProxy_Get", f"{_A}/read", get_proxy),
    route("PUT", _PROXY, "ResourceGuardProxy_Put", f"{_A}/write", put_proxy),
    route("DELETE", _PROXY, "ResourceGuardProxy_Delete", f"{_A}/delete", delete_proxy),
    route("POST", _PROXY + "/unlockDelete", "ResourceGuardProxy_UnlockDelete", f"{_A}/unlockDelete/action",
          unlock_delete),
]
