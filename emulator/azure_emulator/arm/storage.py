"""Microsoft.Storage accounts: their firewall (`networkAcls`) matters for VMs with unmanaged disks."""

from __future__ import annotations

from typing import Any

from azure_emulator import errors
from azure_emulator.arm.base import Call, Reply, iso, page, route
from azure_emulator.arm.vaults import SUB
from azure_emulator.records import StorageAccount


def storage_json(a: StorageAccount) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "type": "Microsoft.Storage/storageAccounts",
        "location": a.location,
        "tags": dict(a.tags),
        "kind": a.kind,
        "sku": {"name": a.sku, "tier": "Premium" if a.sku.startswith("Premium") else "Standard"},
        "properties": {
            "provisioningState": "Succeeded",
            "creationTime": iso(1704067200.0),
            "primaryEndpoints": {"blob": f"https://{a.name}.blob.core.windows.net/"},
            "primaryLocation": a.location,
            "statusOfPrimary": "available",
            "networkAcls": {
                "bypass": a.bypass,
                "defaultAction": a.default_action,
                "ipRules": [{"value": ip, "action": "Allow"} for ip in a.ip_rules],
                "virtualNetworkRules": [{"id": v, "action": "Allow"} for v in a.vnet_rules],
            },
            "publicNetworkAccess": "Enabled",
        },
    }


def get_storage_account(call: Call) -> Reply:
    sub = call.sub()
    call.state.group(sub, call.params["rg"])
    account = sub.storage.get(call.params["rg"], call.params["account"])
    if account is None:
        raise errors.resource_not_found("Microsoft.Storage/storageAccounts", call.params["account"], call.params["rg"])
    return Reply(200, storage_json(account))


def list_storage_accounts(call: Call) -> Reply:
    return page(call, call.sub().storage.values(), storage_json)


def list_storage_accounts_by_group(call: Call) -> Reply:
    sub = call.sub()
    call.state.group(sub, call.params["rg"])
    return page(call, iter(sub.storage.in_group(call.params["rg"])), storage_json)


STORAGE = SUB + "/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts"


ROUTES = [
    route(
        "GET",
        STORAGE + "/{account}",
        "StorageAccounts_GetProperties",
        "Microsoft.Storage/storageAccounts/read",
        get_storage_account,
    ),
    route(
        "GET",
        STORAGE,
        "StorageAccounts_ListByResourceGroup",
        "Microsoft.Storage/storageAccounts/read",
        list_storage_accounts_by_group,
    ),
    route(
        "GET",
        SUB + "/providers/Microsoft.Storage/storageAccounts",
        "StorageAccounts_List",
        "Microsoft.Storage/storageAccounts/read",
        list_storage_accounts,
    ),
]
