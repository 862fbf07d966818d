"""Azure as a test sees it: the real (sync) SDK clients pointed at the emulator, to read state or change
it behind the operator's back."""

from __future__ import annotations

import time
from typing import Any

from azure.identity import ClientSecretCredential
from azure.mgmt.recoveryservices import RecoveryServicesClient
from azure.mgmt.recoveryservicesbackup import RecoveryServicesBackupClient
from azure_emulator.inventory import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_ID
from azure_emulator.server import EmulatorProcess

from tests.integration.harness import SUB


class Arm:
    def __init__(self, emulator: EmulatorProcess, subscription: str = SUB) -> None:
        self.credential = ClientSecretCredential(DEFAULT_TENANT_ID, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
                                                 authority=emulator.url, disable_instance_discovery=True,
                                                 connection_verify=emulator.ca_bundle)
        options: dict[str, Any] = {"base_url": emulator.url, "credential_scopes": [f"{emulator.url}/.default"],
                                   "connection_verify": emulator.ca_bundle, "polling_interval": 0.2}
        self.vaults = RecoveryServicesClient(self.credential, subscription, **options)
        self.backup = RecoveryServicesBackupClient(self.credential, subscription, **options)

    def vault(self, rg: str, name: str) -> dict[str, Any]:
        return dict(self.vaults.vaults.get(rg, name).as_dict())

    def vault_names(self, rg: str) -> list[str]:
        return [v.name for v in self.vaults.vaults.list_by_resource_group(rg)]

    def patch_vault(self, rg: str, name: str, patch: dict[str, Any]) -> None:
        self.vaults.vaults.begin_update(rg, name, patch).result()

    def protect(self, rg: str, vault: str, vm_rg: str, vm: str, policy: str = "DefaultPolicy",
                exclude_luns: tuple[int, ...] = ()) -> dict[str, Any]:
        """Enable protection directly, as a portal user would (refresh, then PUT the item)."""
        captured: dict[str, Any] = {}

        def hook(response: Any) -> None:
            captured.setdefault("location", response.http_response.headers.get("Location"))

        self.backup.protection_containers.refresh(vault, rg, "Azure", raw_response_hook=hook)
        for _ in range(100):
            if self.backup.send_request(_get(captured["location"])).status_code != 202:
                break
            time.sleep(0.1)
        vault_id = f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/vaults/{vault}"
        body = {"properties": {"protectedItemType": "Microsoft.Compute/virtualMachines",
                               "sourceResourceId": vm_id_of(vm_rg, vm),
                               "policyId": f"{vault_id}/backupPolicies/{policy}"}}
        if exclude_luns:
            body["properties"]["extendedProperties"] = {"diskExclusionProperties": {
                "diskLunList": list(exclude_luns), "isInclusionList": False}}
        self.backup.protected_items.begin_create_or_update(
            vault, rg, "Azure", container(vm_rg, vm), item(vm_rg, vm), body).result()
        found = self.backup.protected_items.get(vault, rg, "Azure", container(vm_rg, vm), item(vm_rg, vm))
        return dict(found.as_dict())

    def item(self, rg: str, vault: str, vm_rg: str, vm: str) -> dict[str, Any] | None:
        for found in self.backup.backup_protected_items.list(vault, rg):
            source = str((found.as_dict().get("properties") or {}).get("sourceResourceId", ""))
            if source.lower() == vm_id_of(vm_rg, vm).lower():
                return dict(found.as_dict())
        return None

    def delete_item(self, rg: str, vault: str, vm_rg: str, vm: str) -> None:
        self.backup.protected_items.delete(vault, rg, "Azure", container(vm_rg, vm), item(vm_rg, vm))

    def close(self) -> None:
        self.vaults.close()
        self.backup.close()
        self.credential.close()


def _get(url: str) -> Any:
    from azure.core.rest import HttpRequest

    return HttpRequest("GET", url)


def vm_id_of(rg: str, name: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}"


def container(rg: str, vm: str) -> str:
    return f"IaasVMContainer;iaasvmcontainerv2;{rg};{vm}"


def item(rg: str, vm: str) -> str:
    return f"VM;iaasvmcontainerv2;{rg};{vm}"
