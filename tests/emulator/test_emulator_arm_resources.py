"""ARM's own routes around the backup work: the cloud metadata document (no token), subscriptions,
resource groups (restore targets), providers and their registration, Resource Guard proxies and public
IP addresses, through the real SDK clients where one exists."""

from __future__ import annotations

import ssl
from typing import Any

import aiohttp
import pytest
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.mgmt.recoveryservices import models as rsm
from azure.mgmt.resource.resources import models as resm
from azure_emulator.inventory import sample_fleet_path
from azure_emulator.server import EmulatorProcess, running_emulator
from emulator_support import SUB, TIME_SCALE, Azure
from test_emulator_errors import wire

GROUPS = f"/subscriptions/{SUB}/resourcegroups"


async def anonymous_get(emu: EmulatorProcess, path_and_query: str) -> tuple[int, Any]:
    ctx = ssl.create_default_context(cafile=emu.ca_bundle)
    async with aiohttp.ClientSession() as session, session.get(f"{emu.url}{path_and_query}", ssl=ctx) as resp:
        return resp.status, await resp.json(content_type=None)


async def test_the_cloud_metadata_needs_no_token_and_points_at_the_emulator(emu: EmulatorProcess) -> None:
    status, doc = await anonymous_get(emu, "/metadata/endpoints?api-version=2022-09-01")
    assert status == 200
    assert doc["resourceManager"] == emu.url + "/"
    assert doc["authentication"]["loginEndpoint"] == emu.url
    assert doc["authentication"]["audiences"][0] == "https://management.core.windows.net/"
    status, clouds = await anonymous_get(emu, "/metadata/endpoints?api-version=2019-05-01")
    assert (status, [c["resourceManager"] for c in clouds]) == (200, [emu.url + "/"])


@pytest.mark.parametrize(
    ("query", "code"),
    [
        pytest.param("", "MissingApiVersionParameter", id="without an api-version"),
        pytest.param("?api-version=2099-01-01", "InvalidApiVersionParameter", id="with an unpublished api-version"),
    ],
)
async def test_the_cloud_metadata_refuses_like_arm(emu: EmulatorProcess, query: str, code: str) -> None:
    status, body = await anonymous_get(emu, "/metadata/endpoints" + query)
    assert (status, body["error"]["code"]) == (400, code)


async def test_subscriptions_are_listed_and_read_with_their_tenant(azure: Azure) -> None:
    subs = [s async for s in azure.subscriptions.subscriptions.list()]
    assert [(s.subscription_id, s.state, s.tenant_id) for s in subs] == [
        (SUB, "Enabled", "11111111-1111-1111-1111-111111111111")
    ]
    one = await azure.subscriptions.subscriptions.get(SUB)
    assert one.display_name == "Contoso Production"
    with pytest.raises(ResourceNotFoundError):
        await azure.subscriptions.subscriptions.get("99999999-0000-0000-0000-000000000000")


async def test_a_restore_target_group_is_created_read_and_deleted(azure: Azure) -> None:
    groups = azure.resources.resource_groups
    assert not await groups.check_existence("rg-restore")
    made = await groups.create_or_update("rg-restore", resm.ResourceGroup(location="westeurope", tags={"k": "v"}))
    assert (made.name, made.location, made.tags, made.properties.provisioning_state) == (
        "rg-restore",
        "westeurope",
        {"k": "v"},
        "Succeeded",
    )
    assert await groups.check_existence("rg-restore")
    assert "rg-restore" in [g.name async for g in groups.list()]
    with pytest.raises(ResourceExistsError) as moved:
        await groups.create_or_update("rg-restore", resm.ResourceGroup(location="northeurope"))
    assert moved.value.error is not None
    assert moved.value.error.code == "InvalidResourceGroupLocation"
    await (await groups.begin_delete("rg-restore")).result()
    with pytest.raises(ResourceNotFoundError):
        await groups.get("rg-restore")


async def test_a_group_that_holds_resources_is_not_deleted(emu: EmulatorProcess) -> None:
    status, body, _ = await wire(emu, "DELETE", f"{GROUPS}/rg-web", query="api-version=2025-04-01")
    assert (status, body["error"]["code"]) == (409, "ResourceGroupDeletionBlocked")


async def test_providers_report_their_types_and_versions(azure: Azure) -> None:
    rs = await azure.resources.providers.get("Microsoft.RecoveryServices")
    assert rs.registration_state == "Registered"
    vaults = next(t for t in rs.resource_types or [] if t.resource_type == "vaults")
    assert "2026-11-01" in (vaults.api_versions or [])
    assert {p.namespace async for p in azure.resources.providers.list()} >= {
        "Microsoft.RecoveryServices",
        "Microsoft.Compute",
        "Microsoft.Network",
    }


async def test_an_unregistered_namespace_refuses_writes_until_it_is_registered() -> None:
    """ARM's 409 MissingSubscriptionRegistration names the namespace; once registered, the write passes.

    (azure-mgmt-core's auto-registration policy does not help the aio LRO clients: their initial
    request is streamed, so the policy cannot read the 409 body; see docs/emulator.md.)
    """
    import yaml

    doc = yaml.safe_load(sample_fleet_path().read_text())
    doc["subscriptions"][0]["unregisteredProviders"] = ["Microsoft.RecoveryServices"]
    vaults = f"/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults"
    with running_emulator(doc, time_scale=TIME_SCALE) as emu:
        status, _, _ = await wire(emu, "GET", vaults)
        assert status == 200, "reads pass"
        status, body, _ = await wire(emu, "PUT", f"{vaults}/rsv-new", body={"location": "westeurope"})
        assert (status, body["error"]["code"]) == (409, "MissingSubscriptionRegistration")
        assert "namespace 'Microsoft.RecoveryServices'" in body["error"]["message"]
        azure = Azure(emu)
        try:
            state = (await azure.resources.providers.get("Microsoft.RecoveryServices")).registration_state
            assert state == "NotRegistered"
            registered = await azure.resources.providers.register("Microsoft.RecoveryServices")
            assert registered.registration_state == "Registered"
            vault = rsm.Vault(location="westeurope", sku=rsm.Sku(name="Standard"))
            made = await (await azure.vaults.vaults.begin_create_or_update("rg-backup", "rsv-new", vault)).result()
            assert made.name == "rsv-new"
        finally:
            await azure.close()


async def test_a_vault_lists_its_resource_guard_proxy_only_when_it_has_a_guard(
    emu: EmulatorProcess, azure: Azure
) -> None:
    assert [p async for p in azure.backup.resource_guard_proxies.get("rsv-legacy", "rg-legacy")] == []
    guard = f"/subscriptions/{SUB}/resourceGroups/rg-sec/providers/Microsoft.DataProtection/resourceGuards/guard"
    assert emu.emulator is not None
    vault = emu.emulator.state.subscription(SUB).vaults.get("rg-legacy", "rsv-legacy")
    assert vault is not None
    vault.resource_guard = guard
    proxies = [p async for p in azure.backup.resource_guard_proxies.get("rsv-legacy", "rg-legacy")]
    assert [(p.name, p.properties.resource_guard_resource_id) for p in proxies] == [("VaultProxy", guard)]
    one = await azure.backup.resource_guard_proxy.get("rsv-legacy", "rg-legacy", "VaultProxy")
    assert one.properties.resource_guard_operation_details


async def test_a_nic_public_ip_reference_resolves_to_the_address(azure: Azure) -> None:
    nic = await azure.network.network_interfaces.get("rg-web", "vm-web-01-nic")
    ref = nic.ip_configurations[0].public_ip_address.id
    pip = await azure.network.public_ip_addresses.get("rg-web", ref.rsplit("/", 1)[1])
    assert pip.id == ref
    assert pip.ip_configuration.id == nic.ip_configurations[0].id
    assert pip.ip_address
    assert ref in [p.id async for p in azure.network.public_ip_addresses.list_all()]
    with pytest.raises(ResourceNotFoundError):
        await azure.network.public_ip_addresses.get("rg-web", "nope-pip")
