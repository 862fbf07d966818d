"""The facts of today's prerequisites, as the gateway's reads (VM and disk JSON in Azure's shapes) give them."""

from __future__ import annotations

from typing import Any

import pytest
from azbackup.checks import facts as f
from azbackup.checks.gather import Network, compact_disk, vm_facts

SUB = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg"
DISK_ID = f"{SUB}/providers/Microsoft.Compute/disks/data0"


def vm_json(os_disk: dict[str, Any] | None = None, security: dict[str, Any] | None = None,
            sku: str = "Premium_LRS") -> dict[str, Any]:
    props: dict[str, Any] = {"storageProfile": {
        "osDisk": {"osType": "Linux", "name": "os", "managedDisk": {"storageAccountType": "Premium_LRS",
                                                                   "id": f"{SUB}/providers/Microsoft.Compute/disks/os"},
                   **(os_disk or {})},
        "dataDisks": [{"lun": 0, "name": "data0", "managedDisk": {"storageAccountType": sku, "id": DISK_ID}}]}}
    if security is not None:
        props["securityProfile"] = security
    return {"id": f"{SUB}/providers/Microsoft.Compute/virtualMachines/vm", "name": "vm", "properties": props}


def disks(**data0: Any) -> dict[str, dict[str, Any]]:
    os_id = f"{SUB}/providers/Microsoft.Compute/disks/os"
    raw = [{"id": os_id, "properties": {}}, {"id": DISK_ID, "properties": dict(data0)}]
    return {d["id"].lower(): compact_disk(d) for d in raw}


EMPTY = Network((), (), ())


@pytest.mark.parametrize(("vm", "disk_list", "want"), [
    pytest.param(vm_json(), disks(), ("Premium_LRS", False, False, f.SecurityType.STANDARD),
                 id="a-plain-vm-is-standard-with-persistent-disks"),
    pytest.param(vm_json(sku="UltraSSD_LRS"), disks(), ("UltraSSD_LRS", False, False, f.SecurityType.STANDARD),
                 id="storageAccountType-gives-the-disk-type"),
    pytest.param(vm_json(), disks(dataAccessAuthMode="AzureActiveDirectory"),
                 ("Premium_LRS", False, True, f.SecurityType.STANDARD), id="dataAccessAuthMode-from-the-disk-resource"),
    pytest.param(vm_json(security={"securityType": "ConfidentialVM"}), disks(),
                 ("Premium_LRS", False, False, f.SecurityType.CONFIDENTIAL_VM), id="securityProfile-securityType"),
    pytest.param(vm_json(security={"securityType": "QuantumVM"}), disks(), ("Premium_LRS", False, False, None),
                 id="an-unknown-security-type-is-not-known"),
    pytest.param(vm_json(), {}, ("Premium_LRS", False, None, f.SecurityType.STANDARD),
                 id="an-unread-disk-resource-leaves-data-access-unknown"),
])
def test_new_facts(vm: dict[str, Any], disk_list: dict[str, dict[str, Any]],
                   want: tuple[str, bool, bool | None, f.SecurityType | None]) -> None:
    got = vm_facts(vm, disk_list, EMPTY, None)
    assert got.data_disks is not None
    data0 = got.data_disks[0]
    assert (data0.sku, data0.ephemeral, data0.data_access_auth, got.security_type) == want


def test_an_ephemeral_os_disk_has_no_disk_resource_and_is_not_shared() -> None:
    ephemeral = {"diffDiskSettings": {"option": "Local", "placement": "CacheDisk"}}
    got = vm_facts(vm_json(os_disk=ephemeral), {}, EMPTY, None)
    assert got.os_disk is not None
    assert (got.os_disk.ephemeral, got.os_disk.max_shares, got.os_disk.data_access_auth) == (True, 1, False)
