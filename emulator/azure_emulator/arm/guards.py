"""`{vault}/backupResourceGuardProxies`: the Resource Guard a vault is associated with (multi-user
authorization). The Azure CLI lists them before every critical operation (soft delete settings,
`policy set`, `item set-policy`, `protection disable`); a vault without a guard lists none.
"""

from __future__ import annotations

from typing import Any

from azure_emulator import errors
from azure_emulator.arm.base import Call, Reply, iso, page, route, same
from azure_emulator.arm.vaults import VAULT, find_vault
from azure_emulator.backup_model import Vault

PROXY_NAME = "VaultProxy"  #: the name the Azure CLI and portal give the one proxy of a vault
#: The critical operations a Resource Guard protects, as backupResourceGuardProxies report them (bms.json
#: `ResourceGuardOperationDetail`): the vault action and the guard's request it needs.
CRITICAL = (
    ("Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/delete", "deleteProtection"),
    ("Microsoft.RecoveryServices/vaults/backupconfig/write", "disableSoftDelete"),
    ("Microsoft.RecoveryServices/vaults/backupPolicies/write", "updatePolicy"),
    ("Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/write", "updateProtection"),
)


def proxy_json(vault: Vault) -> dict[str, Any]:
    guard = str(vault.resource_guard)
    return {
        "id": f"{vault.id}/backupResourceGuardProxies/{PROXY_NAME}",
        "name": PROXY_NAME,
        "type": "Microsoft.RecoveryServices/vaults/backupResourceGuardProxies",
        "properties": {
            "resourceGuardResourceId": guard,
            "resourceGuardOperationDetails": [
                {"vaultCriticalOperation": op, "defaultResourceRequest": f"{guard}/{request}/default"}
                for op, request in CRITICAL
            ],
            "lastUpdatedTime": iso(vault.created),
            "description": "",
        },
    }


def list_proxies(call: Call) -> Reply:
    vault = find_vault(call)
    return page(call, iter([vault] if vault.resource_guard else []), proxy_json)


def get_proxy(call: Call) -> Reply:
    vault = find_vault(call)
    if not vault.resource_guard or not same(call.params["proxy"], PROXY_NAME):
        raise errors.backup_resource_not_found("resource guard proxy", call.params["proxy"])
    return Reply(200, proxy_json(vault))


_A = "Microsoft.RecoveryServices/vaults/backupResourceGuardProxies/read"

ROUTES = [
    route("GET", VAULT + "/backupResourceGuardProxies", "ResourceGuardProxies_Get", _A, list_proxies),
    route("GET", VAULT + "/backupResourceGuardProxies/{proxy}", "ResourceGuardProxy_Get", _A, get_proxy),
]
