"""Answers where the emulator follows what Azure's specs and examples show: a vault creation as a
long-running operation, settings kept as sent, the vault's security level, NIC addresses inside their
subnet's range."""

from __future__ import annotations

import ipaddress
import time

import pytest
from azure.mgmt.recoveryservices import models as rsm
from azure_emulator.arm.vaults import vault_json
from azure_emulator.backup_model import Vault
from azure_emulator.records import IpConfig, Nic
from azure_emulator.server import EmulatorProcess
from azure_emulator.vmspec import place_in_subnet
from emulator_support import SUB, Azure
from test_emulator_errors import wire

VAULT = f"/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/rsv-new"


async def test_a_new_vault_answers_201_provisioning_with_an_async_operation_then_succeeds(
    emu: EmulatorProcess,
) -> None:
    emu.admin.set_settings(durations={"vaultCreate": 1000})  # 1000 s at the test time scale: 2 s
    status, body, headers = await wire(
        emu, "PUT", VAULT, body={"location": "westeurope", "sku": {"name": "Standard"}, "properties": {}}
    )
    assert (status, body["properties"]["provisioningState"]) == (201, "Provisioning")
    assert body["sku"] == {"name": "Standard", "tier": "Standard"}
    operation = headers["Azure-AsyncOperation"].split("?")[0]
    assert operation.startswith(f"{emu.url}{VAULT}/operationStatus/")
    assert headers["Location"].split("?")[0].startswith(f"{emu.url}{VAULT}/operationResults/")
    assert int(headers["Retry-After"]) >= 1
    deadline = time.monotonic() + 10
    while (await wire(emu, "GET", operation.removeprefix(emu.url)))[1]["status"] != "Succeeded":
        assert time.monotonic() < deadline, "the creation never finished"
    assert (await wire(emu, "GET", VAULT))[1]["properties"]["provisioningState"] == "Succeeded"
    status, body, _ = await wire(emu, "PUT", VAULT, body={"location": "westeurope", "tags": {"a": "b"}})
    assert (status, body["properties"]["provisioningState"]) == (200, "Succeeded"), "an update is synchronous"


async def test_the_sdk_poller_waits_for_the_creation(emu: EmulatorProcess, azure: Azure) -> None:
    poller = await azure.vaults.vaults.begin_create_or_update(
        "rg-backup", "rsv-new", rsm.Vault(location="westeurope", sku=rsm.Sku(name="Standard"))
    )
    vault = await poller.result()
    assert vault.properties is not None
    assert vault.properties.provisioning_state == "Succeeded"


async def test_cost_management_settings_are_kept_on_put_and_patch(emu: EmulatorProcess) -> None:
    settings = {"granularityLevel": "ProtectedItemLevel"}
    _, body, _ = await wire(
        emu, "PUT", VAULT, body={"location": "westeurope", "properties": {"costManagementSettings": settings}}
    )
    assert body["properties"]["costManagementSettings"] == settings
    _, body, _ = await wire(emu, "PATCH", VAULT, body={"tags": {"x": "y"}})
    assert body["properties"]["costManagementSettings"] == settings, "a PATCH without it keeps it"
    _, body, _ = await wire(
        emu, "PATCH", VAULT, body={"properties": {"costManagementSettings": {"granularityLevel": "VaultLevel"}}}
    )
    assert body["properties"]["costManagementSettings"] == {"granularityLevel": "VaultLevel"}


@pytest.mark.parametrize(
    ("soft_delete", "immutability", "level"),
    [
        pytest.param("Enabled", "Disabled", "Poor", id="reversible soft delete alone is Poor, as Azure's example"),
        pytest.param("Disabled", "Disabled", "Poor", id="nothing on is Poor"),
        pytest.param("AlwaysON", "Disabled", "Fair", id="always-on soft delete is Fair"),
        pytest.param("Enabled", "Unlocked", "Fair", id="unlocked immutability is Fair"),
        pytest.param("Enabled", "Locked", "Good", id="locked immutability is Good"),
        pytest.param("AlwaysON", "Unlocked", "Good", id="always-on soft delete and immutability is Good"),
        pytest.param("AlwaysON", "Locked", "Excellent", id="always-on soft delete, locked immutability: Excellent"),
    ],
)
def test_bcdr_security_level(soft_delete: str, immutability: str, level: str) -> None:
    vault = Vault(SUB, "rg", "rsv", "westeurope", 0.0, soft_delete_state=soft_delete, immutability=immutability)
    assert vault_json(vault)["properties"]["bcdrSecurityLevel"] == level


@pytest.mark.parametrize(
    ("prefix", "seed", "address"),
    [
        pytest.param("10.10.0.0/24", 0, "10.10.0.4", id="the first address after the four Azure keeps"),
        pytest.param("10.10.0.0/24", 251, "10.10.0.4", id="wraps before the broadcast address"),
        pytest.param("10.10.1.0/28", 13, "10.10.1.6", id="a small subnet"),
    ],
)
def test_a_nic_address_is_placed_inside_its_subnet(prefix: str, seed: int, address: str) -> None:
    nic = Nic(SUB, "rg", "nic", "westeurope", "subnet-id", ip_configs=[IpConfig("ipconfig1", "1.2.3.4", seed=seed)])
    place_in_subnet(nic, prefix)
    assert nic.ip_configs[0].private_ip == address


def test_an_address_from_the_inventory_is_kept() -> None:
    nic = Nic(SUB, "rg", "nic", "westeurope", "subnet-id", ip_configs=[IpConfig("ipconfig1", "10.9.9.9")])
    place_in_subnet(nic, "10.10.0.0/24")
    assert nic.ip_configs[0].private_ip == "10.9.9.9"


async def test_every_sample_fleet_nic_address_is_inside_its_subnet(emu: EmulatorProcess, azure: Azure) -> None:
    subnets = {
        s.id.lower(): ipaddress.ip_network(s.address_prefix)
        async for v in azure.network.virtual_networks.list_all()
        for s in (v.properties.subnets or [])  # type: ignore[union-attr]
    }
    nics = [n async for n in azure.network.network_interfaces.list_all()]
    assert nics
    addresses = set()
    for nic in nics:
        for config in nic.properties.ip_configurations or []:  # type: ignore[union-attr]
            address = ipaddress.ip_address(config.properties.private_ip_address)  # type: ignore[union-attr]
            assert address in subnets[config.properties.subnet.id.lower()], (nic.name, str(address))  # type: ignore[union-attr]
            addresses.add((nic.name, str(address)))
    second = {a for n, a in addresses if n == "vm-multi-nic-nic1"}
    assert len(second) == 2, "each IP configuration has its own address"
