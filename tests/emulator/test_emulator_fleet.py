"""Compute, Network and Storage as the operator reads them: one list_all per subscription with the
instance view, disks, NICs, NSGs, effective rules, service tags, storage firewalls, VM remediation."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.mgmt.compute import models as cm
from azure_emulator.server import EmulatorProcess
from emulator_support import SUB, Azure


async def test_list_all_with_instance_view_reads_the_whole_fleet(azure: Azure) -> None:
    vms = {vm.name: vm async for vm in azure.compute.virtual_machines.list_all(expand="instanceView")}
    assert len(vms) == 31
    ready = vms["vm-web-01"].properties.instance_view
    assert ready.vm_agent.statuses[0].display_status == "Ready"
    assert ready.vm_agent.vm_agent_version == "2.10.0.8"
    assert ready.statuses[1].code == "PowerState/running"
    assert vms["vm-agent-down"].properties.instance_view.vm_agent.statuses[0].display_status == "Not Ready"
    assert vms["vm-noagent"].properties.instance_view.vm_agent is None
    assert vms["vm-noagent"].properties.os_profile.linux_configuration.provision_vm_agent is False
    assert vms["vm-stopped"].properties.instance_view.statuses[1].code == "PowerState/deallocated"
    assert vms["vm-win-oldagent"].properties.instance_view.vm_agent.vm_agent_version == "2.6.1100.0"
    assert vms["vm-coreos"].properties.storage_profile.image_reference.publisher == "CoreOS"
    assert len(vms["vm-bigdata"].properties.storage_profile.data_disks) == 33
    assert vms["vm-sap-hana"].properties.storage_profile.data_disks[0].write_accelerator_enabled is True
    assert vms["vm-classic-disks"].properties.storage_profile.os_disk.vhd.uri.startswith("https://stlegacyvhds.")
    assert vms["vm-neu-app"].location == "northeurope"
    assert vms["vm-web-01"].tags == {"backup": "daily", "env": "prod", "app": "shop"}
    switched = vms["vm-ade-switched"].properties.storage_profile.os_disk.encryption_settings
    assert switched.enabled is True
    assert len(vms["vm-multi-nic"].properties.network_profile.network_interfaces) == 2


async def test_lists_page_with_next_link(emu: EmulatorProcess, azure: Azure) -> None:
    emu.admin.set_settings(pageSize=4)
    names = [vm.name async for vm in azure.compute.virtual_machines.list_all(expand="instanceView")]
    assert len(names) == len(set(names)) == 31
    assert emu.admin.count("VirtualMachines_ListAll") == 8  # 31 VMs, 4 a page


async def test_vm_reads(azure: Azure) -> None:
    vm = await azure.compute.virtual_machines.get("rg-data", "vm-ade-ok", expand="instanceView")
    assert vm.properties.instance_view.disks[0].encryption_settings[0].enabled is True
    view = await azure.compute.virtual_machines.instance_view("RG-DATA", "VM-ADE-OK")  # names are case-insensitive
    assert view.os_name == "ubuntu"
    in_group = [v.name async for v in azure.compute.virtual_machines.list("rg-dev")]
    assert sorted(in_group) == ["vm-dev-01", "vm-dev-02", "vm-ephemeral"]
    neu = [v.name async for v in azure.compute.virtual_machines.list_by_location("northeurope")]
    assert neu == ["vm-neu-app"]
    extensions = [e.name for e in (await azure.compute.virtual_machine_extensions.list("rg-data", "vm-ade-ok")).value]
    assert extensions == ["AzureDiskEncryptionForLinux"]
    ext = await azure.compute.virtual_machine_extensions.get("rg-data", "vm-ade-ok", "AzureDiskEncryptionForLinux")
    assert ext.properties.publisher == "Microsoft.Azure.Security"


async def test_managed_disks(azure: Azure) -> None:
    disks = {d.name: d async for d in azure.compute.disks.list()}
    shared = disks["disk-cluster-shared"]
    assert shared.properties.max_shares == 2
    assert len(shared.managed_by_extended) == 2
    encrypted = disks["vm-ade-ok_DataDisk_0"].properties.encryption_settings_collection
    assert (encrypted.enabled, encrypted.encryption_settings_version) == (True, "1.1")
    assert "vm-classic-disks_OsDisk_1" not in disks  # unmanaged
    one = await azure.compute.disks.get("rg-data", "vm-bigdata_DataDisk_32")
    assert one.properties.disk_size_gb == 128
    assert len([d async for d in azure.compute.disks.list_by_resource_group("rg-dev")]) == 2


async def test_allow_extension_operations_is_the_agent_remediation(emu: EmulatorProcess, azure: Azure) -> None:
    emu.admin.update_vm(SUB, "rg-apps", "vm-noagent", {"agent": {"status": "Ready"}})  # agent installed by hand
    update = cm.VirtualMachineUpdate(
        properties=cm.VirtualMachineProperties(os_profile=cm.OSProfile(allow_extension_operations=True))
    )
    vm = await (await azure.compute.virtual_machines.begin_update("rg-apps", "vm-noagent", update)).result()
    assert vm.properties.os_profile.allow_extension_operations is True
    change_flag = cm.VirtualMachineUpdate(
        properties=cm.VirtualMachineProperties(
            os_profile=cm.OSProfile(linux_configuration=cm.LinuxConfiguration(provision_vm_agent=True))
        )
    )
    with pytest.raises(ResourceExistsError) as refused:
        await (await azure.compute.virtual_machines.begin_update("rg-apps", "vm-noagent", change_flag)).result()
    assert refused.value.error is not None
    assert (refused.value.error.code, refused.value.error.target) == (
        "PropertyChangeNotAllowed",
        "linuxConfiguration.provisionVMAgent",
    )


async def test_vm_put_keeps_facts_and_cannot_create(azure: Azure) -> None:
    vm = await azure.compute.virtual_machines.get("rg-web", "vm-web-02")
    vm.tags = {"backup": "weekly"}
    updated = await (await azure.compute.virtual_machines.begin_create_or_update("rg-web", "vm-web-02", vm)).result()
    assert updated.tags == {"backup": "weekly"}
    with pytest.raises(HttpResponseError) as refused:
        await (await azure.compute.virtual_machines.begin_create_or_update("rg-web", "vm-new", vm)).result()
    assert refused.value.error is not None
    assert refused.value.error.code == "OperationNotAllowed"


async def test_network_interfaces_security_groups_and_vnets(azure: Azure) -> None:
    nics = {n.name: n async for n in azure.network.network_interfaces.list_all()}
    assert len(nics) == 32
    primary = nics["vm-multi-nic-nic"].properties
    assert (
        primary.ip_configurations[0]
        .properties.load_balancer_backend_address_pools[0]
        .id.endswith("/loadBalancers/lb-web/backendAddressPools/backend")
    )
    assert primary.ip_configurations[0].properties.public_ip_address.id.endswith(
        "/publicIPAddresses/vm-multi-nic-nic-pip"
    )
    assert primary.network_security_group.id.endswith("/networkSecurityGroups/nsg-web")
    assert len(nics["vm-multi-nic-nic1"].properties.ip_configurations) == 2
    nic = await azure.network.network_interfaces.get("rg-data", "vm-locked-down-nic")
    assert nic.properties.virtual_machine.id.endswith("/virtualMachines/vm-locked-down")
    assert [n.name async for n in azure.network.network_interfaces.list("rg-dev")] == [
        "vm-dev-01-nic",
        "vm-dev-02-nic",
        "vm-ephemeral-nic",
    ]

    nsg = await azure.network.network_security_groups.get("rg-network", "nsg-deny-storage")
    assert [r.name for r in nsg.properties.default_security_rules] == [
        "AllowVnetInBound",
        "AllowAzureLoadBalancerInBound",
        "DenyAllInBound",
        "AllowVnetOutBound",
        "AllowInternetOutBound",
        "DenyAllOutBound",
    ]
    assert [r.name for r in nsg.properties.security_rules] == ["deny-storage-out", "deny-internet-out"]
    assert len([n async for n in azure.network.network_security_groups.list_all()]) == 3
    rules = [r.name async for r in azure.network.security_rules.list("rg-network", "nsg-no-internet")]
    assert rules == ["allow-storage-out", "deny-internet-out"]
    default = await azure.network.default_security_rules.get("rg-web", "nsg-web", "DenyAllOutBound")
    assert default.properties.priority == 65500

    vnets = {v.name: v async for v in azure.network.virtual_networks.list_all()}
    restricted = next(s for s in vnets["vnet-weu"].properties.subnets if s.name == "restricted")
    assert restricted.properties.network_security_group.id.endswith("/nsg-no-internet")
    subnet = await azure.network.subnets.get("rg-network", "vnet-weu", "restricted")
    assert subnet.properties.address_prefix == "10.10.1.0/24"


@pytest.mark.parametrize(
    "asynchronous", [pytest.param(False, id="answered-200"), pytest.param(True, id="answered-202")]
)
async def test_effective_network_security_groups(emu: EmulatorProcess, azure: Azure, asynchronous: bool) -> None:
    emu.admin.set_settings(effectiveNsgAsync=asynchronous)
    poller = await azure.network.network_interfaces.begin_list_effective_network_security_groups(
        "rg-data", "vm-locked-down-nic"
    )
    result = await poller.result()
    [group] = result.value
    assert group.association.network_interface.id.endswith("/vm-locked-down-nic")
    first = group.effective_security_rules[0]
    assert (first.name, first.access, first.destination_address_prefix, first.destination_port_range) == (
        "securityRules/deny-storage-out",
        "Deny",
        "Storage",
        "443-443",
    )
    assert first.expanded_destination_address_prefix
    hana = await (
        await azure.network.network_interfaces.begin_list_effective_network_security_groups(
            "rg-data", "vm-sap-hana-nic"
        )
    ).result()
    assert hana.value[0].association.subnet.id.endswith("/subnets/restricted")
    assert emu.admin.count("NetworkOperationResults_Get") == (2 if asynchronous else 0)


async def test_nsg_rules_change_at_run_time(emu: EmulatorProcess, azure: Azure) -> None:
    emu.admin.set_nsg_rules(
        SUB,
        "rg-network",
        "nsg-deny-storage",
        [{"name": "allow-storage", "priority": 100, "access": "Allow", "destination": "Storage", "port": "443"}],
    )
    nsg = await azure.network.network_security_groups.get("rg-network", "nsg-deny-storage")
    assert [r.name for r in nsg.properties.security_rules] == ["allow-storage"]
    state = emu.admin.vm(SUB, "rg-data", "vm-locked-down")
    assert state["name"] == "vm-locked-down"


async def test_service_tags_include_the_backup_tags(azure: Azure) -> None:
    tags = await azure.network.service_tags.list("westeurope")
    by_name = {v.name: v for v in tags.values_property}
    for name in ("Storage", "Storage.WestEurope", "AzureBackup", "AzureActiveDirectory"):
        assert by_name[name].properties.address_prefixes
    assert by_name["Storage.WestEurope"].properties.region == "westeurope"


async def test_storage_account_firewalls(emu: EmulatorProcess, azure: Azure) -> None:
    accounts = {a.name: a async for a in azure.storage.storage_accounts.list()}
    legacy = accounts["stlegacyvhds"].properties.network_rule_set
    assert (legacy.default_action, legacy.bypass) == ("Deny", "None")
    got = await azure.storage.storage_accounts.get_properties("rg-apps", "stappvhds")
    assert got.properties.network_rule_set.bypass == "AzureServices"
    emu.admin.set_storage_network_rules(SUB, "rg-legacy", "stlegacyvhds", bypass="AzureServices")
    fixed = await azure.storage.storage_accounts.get_properties("rg-legacy", "stlegacyvhds")
    assert fixed.properties.network_rule_set.bypass == "AzureServices"
    assert [a.name async for a in azure.storage.storage_accounts.list_by_resource_group("rg-apps")] == ["stappvhds"]


async def test_vms_can_be_added_changed_and_removed_at_run_time(emu: EmulatorProcess, azure: Azure) -> None:
    emu.admin.add_vm({"name": "vm-new", "resourceGroup": "rg-dev", "tags": {"env": "dev"}})
    emu.admin.update_vm(SUB, "rg-dev", "vm-new", {"powerState": "stopped"})
    view = await azure.compute.virtual_machines.instance_view("rg-dev", "vm-new")
    assert view.statuses[1].code == "PowerState/stopped"
    emu.admin.remove_vm(SUB, "rg-dev", "vm-new")
    assert len([vm async for vm in azure.compute.virtual_machines.list("rg-dev")]) == 3
