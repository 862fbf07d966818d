"""The bulk reads send exactly what the pinned SDKs' own typed list operations would send."""

from __future__ import annotations

import azure.mgmt.compute.operations._operations as compute
import azure.mgmt.network.operations._operations as network
import azure.mgmt.recoveryservicesbackup.operations._operations as backup
import azure.mgmt.storage.operations._operations as storage
import pytest
from azbackup.azure import lists
from azure.core.rest import HttpRequest

SUB = "00000000-0000-0000-0000-000000000001"


@pytest.mark.parametrize(("ours", "sdk"), [
    pytest.param(lists.vms(SUB), compute.build_virtual_machines_list_all_request(SUB, expand="instanceView"),
                 id="vms-with-instance-view"),
    pytest.param(lists.disks(SUB), compute.build_disks_list_request(SUB), id="disks"),
    pytest.param(lists.network(SUB, "networkInterfaces"), network.build_network_interfaces_list_all_request(SUB),
                 id="nics"),
    pytest.param(lists.network(SUB, "networkSecurityGroups"),
                 network.build_network_security_groups_list_all_request(SUB), id="nsgs"),
    pytest.param(lists.network(SUB, "virtualNetworks"), network.build_virtual_networks_list_all_request(SUB),
                 id="vnets"),
    pytest.param(lists.service_tags(SUB, "westeurope"),
                 network.build_service_tags_list_request("westeurope", SUB), id="service-tags"),
    pytest.param(lists.storage_accounts(SUB), storage.build_storage_accounts_list_request(SUB), id="storage"),
    pytest.param(lists.vault_collection(SUB, "rg", "v", "backupProtectedItems", lists.IAAS_VM_ITEMS),
                 backup.build_backup_protected_items_list_request("v", "rg", SUB, filter=lists.IAAS_VM_ITEMS),
                 id="protected-items"),
    pytest.param(lists.vault_collection(SUB, "rg", "v", "backupProtectableItems", lists.IAAS_VM),
                 backup.build_backup_protectable_items_list_request("v", "rg", SUB, filter=lists.IAAS_VM),
                 id="protectable-items"),
])
def test_bulk_read_matches_the_sdk_request(ours: str, sdk: HttpRequest) -> None:
    assert (sdk.method, ours) == ("GET", sdk.url)


@pytest.mark.parametrize(("resource_id", "expected"), [
    pytest.param("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
                 f"?api-version={lists.COMPUTE_VMS}&$expand=instanceView", id="a VM reads with its instance view"),
    pytest.param("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg",
                 f"?api-version={lists.NETWORK}", id="an NSG reads at the network version"),
    pytest.param("/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v/backupFabrics/"
                 "Azure/protectionContainers/IaasVMContainer;iaasvmcontainerv2;rg;vm1/protectedItems/"
                 "VM;iaasvmcontainerv2;rg;vm1", f"?api-version={lists.BACKUP}", id="a protected item, semicolons kept"),
])
def test_one_resource_reads_by_id_as_its_collection_lists_it(resource_id: str, expected: str) -> None:
    assert lists.resource(resource_id) == resource_id + expected


def test_a_type_the_fleet_does_not_read_has_no_url() -> None:
    assert lists.resource("/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv") is None
    assert lists.resource_type("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/"
                               "extensions/ext") == "microsoft.compute/virtualmachines/extensions"
