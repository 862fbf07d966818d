"""What Azure added since the 2018 guide: the inventory's new facts in Azure's shapes, their verdicts by
policy type and disk exclusion, and the vault's limits (1000 VMs, 1000 per policy, 50 policy writes a day)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure_emulator import inventory, limits, verdicts, world
from azure_emulator.arm import compute
from azure_emulator.server import EmulatorProcess
from azure_emulator.settings import Settings
from azure_emulator.verdicts import Change, DiskFacts, ProtectionRequest, VmFacts
from emulator_support import SUB, Azure
from test_emulator_backup_flow import RG, create_vault, policy_id, protect, refresh

ULTRA = DiskFacts(1, 1024, sku="UltraSSD_LRS")
PV2 = DiskFacts(0, 256, sku="PremiumV2_LRS")


def vm(*data: DiskFacts, **changes: Any) -> VmFacts:
    """A healthy running Linux VM in westeurope with these data disks."""
    base = VmFacts(
        vm_id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm",
        location="westeurope",
        os_name="ubuntu",
        os_version="22.04",
        agent_version="2.10.0.8",
        disks=(DiskFacts(None, 30), *data),
    )
    return dataclasses.replace(base, **changes)


def req(policy: str, *excluded: int, change: Change = Change.ENABLE) -> ProtectionRequest:
    return ProtectionRequest(
        "westeurope", change, policy_type=policy, excludes_disks=bool(excluded), excluded_luns=frozenset(excluded)
    )


EPHEMERAL = dataclasses.replace(vm(), disks=(DiskFacts(None, 30, ephemeral=True),))


@pytest.mark.parametrize(
    ("facts", "request_", "want"),
    [
        pytest.param(
            vm(ULTRA), req("V1"), "UserErrorUnsupportedDiskTypeForStandardPolicy", id="ultra-disk-with-standard-fails"
        ),
        pytest.param(
            vm(PV2), req("V1"), "UserErrorUnsupportedDiskTypeForStandardPolicy", id="premium-ssd-v2-with-standard-fails"
        ),
        pytest.param(vm(ULTRA), req("V2"), None, id="ultra-disk-with-enhanced-passes"),
        pytest.param(vm(ULTRA), req("V1", 1), None, id="ultra-disk-excluded-from-standard-passes"),
        pytest.param(
            vm(ULTRA),
            req("V1", change=Change.MODIFY),
            "UserErrorUnsupportedDiskTypeForStandardPolicy",
            id="moving-an-ultra-disk-vm-to-standard-fails",
        ),
        pytest.param(EPHEMERAL, req("V2"), "UserErrorEphemeralOSDiskNotSupported", id="ephemeral-os-disk-fails-always"),
        pytest.param(
            vm(security_type="ConfidentialVM"),
            req("V1"),
            "UserErrorConfidentialVMNotSupportedWithStandardPolicy",
            id="confidential-vm-with-standard-fails",
        ),
        pytest.param(vm(security_type="ConfidentialVM"), req("V2"), None, id="confidential-vm-with-enhanced-passes"),
        pytest.param(
            vm(security_type="TrustedLaunch"), req("V1"), None, id="trusted-launch-with-standard-passes-today"
        ),
        pytest.param(
            vm(DiskFacts(0, 128, data_access_auth=True)),
            req("V1"),
            None,
            id="data-access-authentication-is-accepted-at-configure",
        ),
    ],
)
def test_configure_protection_by_policy_type(facts: VmFacts, request_: ProtectionRequest, want: str | None) -> None:
    got = verdicts.configure_protection(facts, request_)
    assert (got.code if got else None) == want


@pytest.mark.parametrize(
    ("facts", "policy", "excluded", "want"),
    [
        pytest.param(
            vm(DiskFacts(0, 128, data_access_auth=True)),
            "V2",
            (),
            "UserErrorDiskDataAccessAuthModeNotSupported",
            id="data-access-authentication-fails-the-backup",
        ),
        pytest.param(
            vm(DiskFacts(0, 128, data_access_auth=True)),
            "V1",
            (0,),
            None,
            id="data-access-authentication-disk-excluded-backs-up",
        ),
        pytest.param(
            dataclasses.replace(vm(), disks=(DiskFacts(None, 30, data_access_auth=True),)),
            "V2",
            (),
            "UserErrorDiskDataAccessAuthModeNotSupported",
            id="os-disk-with-data-access-auth-cannot-be-excluded",
        ),
        pytest.param(
            vm(ULTRA), "V1", (), "UserErrorUnsupportedDiskTypeForStandardPolicy", id="ultra-disk-standard-job"
        ),
        pytest.param(EPHEMERAL, "V2", (), "UserErrorEphemeralOSDiskNotSupported", id="ephemeral-os-disk-job"),
    ],
)
def test_backup_by_policy_type(facts: VmFacts, policy: str, excluded: tuple[int, ...], want: str | None) -> None:
    got = verdicts.backup(facts, policy_type=policy, excluded=frozenset(excluded), excludes_disks=bool(excluded))
    assert (got.code if got else None) == want


SHARED = DiskFacts(0, 1024, shared=True)


@pytest.mark.parametrize(
    ("policy", "excluded", "want"),
    [
        pytest.param("V1", (), ["UserErrorSharedDiskBackedUpWithoutConsistency"], id="shared-disk-standard-warns"),
        pytest.param(
            "V1",
            (0,),
            ["UserErrorSharedDiskBackedUpWithoutConsistency"],
            id="shared-disk-standard-cannot-exclude-it-warns",
        ),
        pytest.param(
            "V2", (), ["UserErrorSharedDiskBackedUpWithoutConsistency"], id="shared-disk-enhanced-included-warns"
        ),
        pytest.param("V2", (0,), [], id="shared-disk-enhanced-excluded-is-fine"),
    ],
)
def test_shared_disk_warnings(policy: str, excluded: tuple[int, ...], want: list[str]) -> None:
    got = verdicts.backup_warnings(vm(SHARED), policy_type=policy, excluded=frozenset(excluded))
    assert [w.code for w in got] == want


@pytest.mark.parametrize(
    ("exclusion", "want"),
    [
        pytest.param(None, set(), id="no-selection-excludes-nothing"),
        pytest.param({"diskLunList": [1], "isInclusionList": False}, {1}, id="exclusion-list"),
        pytest.param({"diskLunList": [0], "isInclusionList": True}, {1}, id="inclusion-list-excludes-the-rest"),
        pytest.param({"diskLunList": [], "isInclusionList": True}, {0, 1}, id="os-disk-only"),
    ],
)
def test_excluded_luns(exclusion: dict[str, Any] | None, want: set[int]) -> None:
    assert verdicts.excluded_luns(vm(DiskFacts(0, 128), ULTRA), exclusion) == want


def test_compute_answers_carry_the_new_facts_in_azures_shapes() -> None:
    state = world.build_state(inventory.load_inventory(), Settings())
    sub = state.subscription(SUB)

    def vm_json(rg: str, name: str) -> dict[str, Any]:
        found = sub.vms.get(rg, name)
        assert found is not None
        return compute.vm_json(state, found, 0.0)

    ephemeral = vm_json("rg-dev", "vm-ephemeral")["properties"]["storageProfile"]["osDisk"]
    assert ephemeral["diffDiskSettings"] == {"option": "Local", "placement": "CacheDisk"}
    assert ephemeral["caching"] == "ReadOnly"
    assert sub.disks.get("rg-dev", ephemeral["name"]) is None, "an ephemeral OS disk is no disk resource"
    assert vm_json("rg-apps", "vm-confidential")["properties"]["securityProfile"]["securityType"] == "ConfidentialVM"
    assert vm_json("rg-apps", "vm-trusted")["properties"]["securityProfile"]["securityType"] == "TrustedLaunch"
    assert "securityProfile" not in vm_json("rg-web", "vm-web-01")["properties"]
    ultra = vm_json("rg-data", "vm-ultra-db")["properties"]["storageProfile"]["dataDisks"][1]
    assert (ultra["lun"], ultra["managedDisk"]["storageAccountType"]) == (1, "UltraSSD_LRS")
    disks = {md.disk.name: compute.disk_json(state, md) for md in sub.disks.values()}
    assert disks[ultra["name"]]["sku"] == {"name": "UltraSSD_LRS", "tier": "Ultra"}
    assert disks["vm-pv2-app_DataDisk_0"]["sku"]["name"] == "PremiumV2_LRS"
    assert disks["vm-entra-disk_DataDisk_0"]["properties"]["dataAccessAuthMode"] == "AzureActiveDirectory"
    assert "dataAccessAuthMode" not in disks["vm-web-01_OsDisk_1"]["properties"]


@pytest.mark.parametrize(
    ("doc", "error"),
    [
        pytest.param({"osDisk": {"sku": "UltraSSD_LRS"}}, "an OS disk cannot be UltraSSD_LRS", id="ultra-os-disk"),
        pytest.param({"dataDisks": [{"ephemeral": True}]}, "only the OS disk can be ephemeral", id="ephemeral-data"),
        pytest.param({"securityType": "Quantum"}, "securityType must be", id="unknown-security-type"),
        pytest.param({"dataDisks": [{"dataAccessAuthMode": "Kerberos"}]}, "dataAccessAuthMode", id="unknown-auth-mode"),
    ],
)
def test_inventory_rejects_what_azure_cannot_build(doc: dict[str, Any], error: str) -> None:
    with pytest.raises(inventory.InventoryError, match=error):
        inventory.build_vm({"name": "vm", "resourceGroup": "rg", **doc}, SUB, default_location="westeurope")


@pytest.mark.parametrize(
    ("count", "want"),
    [
        pytest.param(999, None, id="999-vms-leave-room"),
        pytest.param(1000, "UserErrorProtectionQuotaExceeded", id="a-vault-at-1000-refuses"),
    ],
)
def test_vault_quota(count: int, want: str | None) -> None:
    got = limits.vault_quota(count)
    assert (got.code if got else None) == want


@pytest.mark.parametrize(
    ("count", "want"),
    [
        pytest.param(999, None, id="999-items-leave-room"),
        pytest.param(1000, "UserErrorPolicyProtectionQuotaExceeded", id="a-policy-at-1000-refuses"),
    ],
)
def test_policy_quota(count: int, want: str | None) -> None:
    got = limits.policy_quota(count)
    assert (got.code if got else None) == want


@pytest.mark.parametrize(
    ("times", "want"),
    [
        pytest.param([100.0] * 49, None, id="the-50th-write-goes-ahead"),
        pytest.param([100.0] * 50, "UserErrorPolicyOperationQuotaExceeded", id="the-51st-write-is-refused"),
        pytest.param([100.0 - limits.DAY] * 50, None, id="writes-older-than-24h-do-not-count"),
    ],
)
def test_policy_write_budget(times: list[float], want: str | None) -> None:
    got = limits.policy_write_refusal(times, 101.0)
    assert (got.code if got else None) == want


def full_vault_inventory(n: int = 1000) -> dict[str, Any]:
    """1002 healthy VMs, of which a vault protects `n` (seeded: no reconcile needed)."""
    doc = inventory.synthetic(1002, vault=False)
    sub = doc["subscriptions"][0]
    sub["vaults"] = [
        {
            "name": "rsv-full",
            "resourceGroup": "rg-backup",
            "protectedItems": [f"{v['resourceGroup']}/{v['name']}" for v in sub["vms"][:n]],
        }
    ]
    return doc


async def test_a_vault_at_1000_vms_fails_the_next_configure_protection() -> None:
    emu = EmulatorProcess.start_thread(full_vault_inventory(), time_scale=0.01)
    azure = Azure(emu)
    try:
        await refresh(azure, "rsv-full")
        last = inventory.synthetic(1002, vault=False)["subscriptions"][0]["vms"][1001]
        with pytest.raises(HttpResponseError) as caught:
            await protect(azure, last["resourceGroup"], last["name"], vault="rsv-full")
        assert caught.value.error is not None
        assert caught.value.error.code == "UserErrorProtectionQuotaExceeded"
        policy = await azure.backup.protection_policies.get("rsv-full", "rg-backup", "DefaultPolicy")
        assert policy.properties.protected_items_count == 1000
    finally:
        await azure.close()
        emu.stop()


async def test_the_51st_policy_write_of_a_day_is_refused(emu: EmulatorProcess, azure: Azure) -> None:
    await create_vault(azure)
    # Only the properties, as a client writing a policy sends them (id, name and type are read-only).
    body = {
        "properties": (await azure.backup.protection_policies.get("rsv-prod", RG, "DefaultPolicy")).as_dict()[
            "properties"
        ]
    }
    for n in range(50):
        await azure.backup.protection_policies.create_or_update("rsv-prod", RG, f"p{n:02d}", body)
    with pytest.raises(HttpResponseError) as caught:
        await azure.backup.protection_policies.create_or_update("rsv-prod", RG, "p50", body)
    assert caught.value.status_code == 400
    assert caught.value.error is not None
    assert caught.value.error.code == "UserErrorPolicyOperationQuotaExceeded"
    emu.admin.advance_clock(limits.DAY)
    later = Azure(emu)  # a day later the first token has expired: a new credential
    try:
        created = await later.backup.protection_policies.create_or_update("rsv-prod", RG, "p50", body)
        assert created.id.lower() == policy_id("p50").lower()
    finally:
        await later.close()


@pytest.mark.parametrize(
    ("doc", "want"),
    [
        pytest.param({"osDisk": {"managed": False, "storageAccount": "st"}}, "deallocated", id="unmanaged-os-disk"),
        pytest.param(
            {"powerState": "running", "dataDisks": [{"managed": False, "storageAccount": "st"}]},
            "deallocated",
            id="unmanaged-data-disk-even-when-the-inventory-says-running",
        ),
        pytest.param({}, "running", id="managed-disks-run"),
        pytest.param({"powerState": "deallocated"}, "deallocated", id="managed-disks-keep-the-inventorys-state"),
    ],
)
def test_a_vm_with_unmanaged_disks_stays_deallocated_since_their_retirement(doc: dict[str, Any], want: str) -> None:
    built = inventory.build_vm({"name": "vm", "resourceGroup": "rg", **doc}, SUB, default_location="westeurope")
    assert built.vm.power_state == want


async def test_starting_a_vm_with_unmanaged_disks_is_refused_as_retired(emu: EmulatorProcess, azure: Azure) -> None:
    for name, rg in (("vm-appvhd", "rg-apps"), ("vm-classic-disks", "rg-legacy")):
        view = await azure.compute.virtual_machines.instance_view(rg, name)
        assert [s.code for s in view.statuses if s.code.startswith("PowerState/")] == ["PowerState/deallocated"]
        poller = azure.compute.virtual_machines.begin_start(rg, name)
        with pytest.raises(HttpResponseError) as caught:
            await (await poller).result()
        assert caught.value.status_code == 400
        assert caught.value.error is not None
        assert (caught.value.error.code, caught.value.error.message) == ("BadRequest", compute.UNMANAGED_RETIRED)


async def test_starting_a_deallocated_vm_with_managed_disks_runs_it(emu: EmulatorProcess, azure: Azure) -> None:
    await (await azure.compute.virtual_machines.begin_start("rg-apps", "vm-stopped")).result()
    view = await azure.compute.virtual_machines.instance_view("rg-apps", "vm-stopped")
    assert [s.code for s in view.statuses if s.code.startswith("PowerState/")] == ["PowerState/running"]
