"""Inventory loading: defaults, shorthands, errors, the sample fleet and synthetic inventories."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from azure_emulator import inventory, verdicts, world
from azure_emulator.inventory import InventoryError
from azure_emulator.settings import Settings
from azure_emulator.state import State
from azure_emulator.verdicts import Agent, ProtectionRequest

SUB = "00000000-0000-0000-0000-000000000001"


def state_of(doc: dict[str, Any]) -> State:
    return world.build_state(inventory.parse_inventory(doc), Settings())


def one_vm(**vm: Any) -> dict[str, Any]:
    return {"subscriptions": [{"id": SUB, "vms": [{"name": "vm1", "resourceGroup": "rg1", **vm}]}]}


def test_minimal_vm_is_healthy_with_defaults() -> None:
    state = state_of(one_vm(location="West Europe"))
    sub = state.subscription(SUB)
    vm = sub.vms.get("RG1", "VM1")
    assert vm is not None
    assert (vm.location, vm.os_type, vm.agent, vm.power_state, vm.provision_vm_agent) == (
        "westeurope",
        "Linux",
        Agent.READY,
        "running",
        True,
    )
    assert len(sub.nics) == 1
    assert len(sub.vnets) == 1
    assert len(sub.disks) == 1
    assert verdicts.configure_protection(state.facts(vm), ProtectionRequest("westeurope")) is None
    assert state.identity(inventory.DEFAULT_TENANT_ID, inventory.DEFAULT_CLIENT_ID) is not None


def test_shorthands_expand() -> None:
    state = state_of(
        one_vm(os="windows2022", dataDisks=3, agent="NotReady", osDisk={"managed": False, "storageAccount": "stvhds"})
    )
    sub = state.subscription(SUB)
    vm = sub.vms.get("rg1", "vm1")
    assert vm is not None
    assert [d.lun for d in vm.data_disks] == [0, 1, 2]
    assert vm.os_type == "Windows"
    assert vm.image["offer"] == "WindowsServer"
    assert vm.agent is Agent.NOT_READY
    assert vm.os_disk.vhd_uri == "https://stvhds.blob.core.windows.net/vhds/vm1_OsDisk_1.vhd"
    assert sub.storage.get("rg1", "stvhds") is not None  # referenced account is created


def test_not_installed_agent_implies_no_provisioning_flag() -> None:
    vm = state_of(one_vm(agent={"status": "NotInstalled"})).subscription(SUB).vms.get("rg1", "vm1")
    assert vm is not None
    assert (vm.provision_vm_agent, vm.allow_extension_operations) == (False, False)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        pytest.param(
            {"subscriptions": [{"id": SUB, "vms": [{"resourceGroup": "rg"}]}]}, "'name' is required", id="no-name"
        ),
        pytest.param(
            {"subscriptions": [{"id": SUB, "vms": [{"name": "v"}]}]}, "'resourceGroup' is required", id="no-rg"
        ),
        pytest.param(one_vm(os="beos"), "unknown os preset", id="unknown-os"),
        pytest.param(one_vm(agent={"status": "Sleepy"}), "agent.status", id="bad-agent"),
        pytest.param(one_vm(encryption={"method": "LUKS"}), "encryption.method", id="bad-encryption"),
        pytest.param([1, 2], "is a mapping", id="not-a-mapping"),
    ],
)
def test_invalid_inventories_name_the_problem(doc: Any, message: str) -> None:
    with pytest.raises(InventoryError, match=message):
        state_of(doc)


def test_merge_replaces_lists_and_deletes_with_none() -> None:
    base = {"a": {"b": 1, "c": 2}, "l": [1, 2], "x": 1}
    assert inventory.merge(base, {"a": {"b": 9}, "l": [3], "x": None}) == {"a": {"b": 9, "c": 2}, "l": [3]}
    assert base == {"a": {"b": 1, "c": 2}, "l": [1, 2], "x": 1}


#: What every limitation VM of the sample fleet gets from configure-protection and from a backup.
SAMPLE_VERDICTS = {
    "vm-neu-app": ("UserErrorVmVaultLocationMismatch", None),
    "vm-legacy-erp": ("VirtualMachineAlreadyProtected", None),
    "vm-retired": ("VirtualMachineAlreadyProtected", None),
    "vm-noagent": ("UserErrorGuestAgentStatusUnavailable", "UserErrorGuestAgentStatusUnavailable"),
    "vm-agent-down": ("UserErrorGuestAgentStatusUnavailable", "UserErrorGuestAgentStatusUnavailable"),
    "vm-win-oldagent": ("UserErrorGuestAgentStatusUnavailable", "UserErrorGuestAgentStatusUnavailable"),
    "vm-stopped": (None, None),
    "vm-locked-down": ("UserErrorVMInternetConnectivityIssue", "ExtensionSnapshotFailedNoNetwork"),
    "vm-coreos": ("UserErrorUnsupportedOperatingSystem", None),
    "vm-win2003": ("UserErrorUnsupportedOperatingSystem", None),
    "vm-bigdata": ("UserErrorBCMUnsupportedDiskCount", "UserErrorBCMUnsupportedDiskCount"),
    "vm-sap-hana": ("UserErrorWAEnabledDisksNotSupported", "UserErrorWAEnabledDisksNotSupported"),
    "vm-ade-switched": ("UserErrorInvalidVMEncryptionInfo", "UserErrorInvalidVMEncryptionInfo"),
    "vm-classic-disks": (None, "UserErrorStorageAccountFirewallBlocksBackup"),
    "vm-cluster-1": (None, None),
    "vm-multi-nic": (None, None),
    # since the guide (a Standard policy, every disk backed up)
    "vm-ultra-db": ("UserErrorUnsupportedDiskTypeForStandardPolicy", "UserErrorUnsupportedDiskTypeForStandardPolicy"),
    "vm-pv2-app": ("UserErrorUnsupportedDiskTypeForStandardPolicy", "UserErrorUnsupportedDiskTypeForStandardPolicy"),
    "vm-ephemeral": ("UserErrorEphemeralOSDiskNotSupported", "UserErrorEphemeralOSDiskNotSupported"),
    "vm-entra-disk": (None, "UserErrorDiskDataAccessAuthModeNotSupported"),
    "vm-confidential": (
        "UserErrorConfidentialVMNotSupportedWithStandardPolicy",
        "UserErrorConfidentialVMNotSupportedWithStandardPolicy",
    ),
    "vm-trusted": (None, None),
}


def test_sample_fleet_has_a_vm_for_every_limitation() -> None:
    state = world.build_state(inventory.load_inventory(), Settings())
    sub = state.subscription(SUB)
    got = {}
    for vm in sub.vms.values():
        owner = state.protection.get(vm.id.lower())
        facts = state.facts(vm)
        configure = verdicts.configure_protection(
            facts, ProtectionRequest("westeurope", other_vault=owner[0] if owner else None)
        )
        backup = verdicts.backup(facts)
        got[vm.name] = (configure.code if configure else None, backup.code if backup else None)
    assert {name: got[name] for name in SAMPLE_VERDICTS} == SAMPLE_VERDICTS
    healthy = [n for n, v in got.items() if v == (None, None) and n not in SAMPLE_VERDICTS]
    assert len(healthy) >= 4
    assert {vm.location for vm in sub.vms.values()} == {"westeurope", "northeurope"}
    tagged = [vm for vm in sub.vms.values() if vm.tags.get("backup") == "daily" and vm.tags.get("env") == "prod"]
    assert len(tagged) >= 4
    shared = sub.disks.get("rg-data", "disk-cluster-shared")
    assert shared is not None
    assert len(shared.vm_ids) == 2
    assert shared.disk.max_shares == 2
    multi = sub.vms.get("rg-web", "vm-multi-nic")
    assert multi is not None
    assert len(multi.nic_ids) == 2
    assert verdicts.backup_warnings(state.facts(sub.vms.get("rg-apps", "vm-stopped")))[0].code == "AzureVmOffline"


def test_sample_fleet_seeds_a_vault_with_a_soft_deleted_item() -> None:
    state = world.build_state(inventory.load_inventory(), Settings())
    vault = state.subscription(SUB).vaults.get("rg-legacy", "rsv-legacy")
    assert vault is not None
    assert vault.storage_locked
    assert vault.redundancy == "LocallyRedundant"
    states = {i.vm_name: (i.state, i.soft_deleted, len(i.recovery_points)) for i in vault.items.values()}
    assert states == {"vm-legacy-erp": ("Protected", False, 3), "vm-retired": ("ProtectionStopped", True, 2)}
    assert set(vault.policies) == {"defaultpolicy", "enhancedpolicy", "legacy-daily"}


def test_sample_file_is_plain_yaml_and_loads_from_a_path(tmp_path: Any) -> None:
    doc = yaml.safe_load(inventory.sample_fleet_path().read_text())
    path = tmp_path / "fleet.json"
    path.write_text(__import__("json").dumps(doc))
    assert len(inventory.load_inventory(path).subscriptions[0].vms) == len(doc["subscriptions"][0]["vms"])


def test_synthetic_inventory_spreads_vms_over_groups() -> None:
    doc = inventory.synthetic(1000, 20)
    state = state_of(doc)
    sub = state.subscription(inventory.DEFAULT_SUBSCRIPTION_ID)
    assert len(sub.vms) == 1000
    assert len(sub.vms.in_group("rg-007")) == 50
    assert sum(1 for vm in sub.vms.values() if vm.os_type == "Windows") == 200
    assert sub.vaults.get("rg-backup", "rsv-bench") is not None
    assert all(
        verdicts.configure_protection(state.facts(vm), ProtectionRequest("westeurope")) is None
        for vm in sub.vms.in_group("rg-000")
    )


def test_synthetic_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="n_resource_groups"):
        inventory.synthetic(10, 0)
