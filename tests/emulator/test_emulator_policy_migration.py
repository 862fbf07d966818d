"""Standard to Enhanced as Azure's migration, and the way back refused (backup-azure-vm-migrate-enhanced-policy)."""

from __future__ import annotations

import asyncio

import pytest
from azure.core.exceptions import HttpResponseError
from azure_emulator.server import EmulatorProcess
from emulator_support import Azure, container, item
from test_emulator_backup_flow import RG, VAULT, backup_now, code_of, create_vault, get_item, protect, refresh


async def recovery_points(azure: Azure, rg: str, vm: str) -> list[str]:
    return [p.name async for p in azure.backup.recovery_points.list(VAULT, RG, "Azure", container(rg, vm),
                                                                     item(rg, vm))]


async def jobs(azure: Azure, vm: str) -> list[tuple[str, bool]]:
    """(operation, user-triggered) of the VM's jobs, oldest first."""
    found = [j async for j in azure.backup.backup_jobs.list(VAULT, RG, filter=f"entityFriendlyName eq '{vm}'")]
    return [(j.properties.operation, j.properties.is_user_triggered) for j in reversed(found)]


async def test_migration_keeps_the_recovery_points_and_takes_a_backup(emu: EmulatorProcess, azure: Azure) -> None:
    await create_vault(azure)
    await refresh(azure)
    await protect(azure, "rg-web", "vm-web-01", "DefaultPolicy")
    await backup_now(azure, "rg-web", "vm-web-01")
    before = await recovery_points(azure, "rg-web", "vm-web-01")
    assert len(before) == 1
    moved = await protect(azure, "rg-web", "vm-web-01", "EnhancedPolicy")
    assert (moved.properties["policyName"], moved.properties["policyType"]) == ("EnhancedPolicy", "V2")
    assert set(before) <= set(await recovery_points(azure, "rg-web", "vm-web-01"))
    # "Migration operations trigger a backup job as part of the migration process."
    assert (await jobs(azure, "vm-web-01"))[-2:] == [("ConfigureBackup", True), ("Backup", False)]
    for _ in range(400):
        after = await recovery_points(azure, "rg-web", "vm-web-01")
        if len(after) == 2:
            break
        await asyncio.sleep(0.02)
    assert set(before) < set(after)


@pytest.mark.parametrize(("rg", "vm", "code"), [
    pytest.param("rg-apps", "vm-appvhd", "BMSUserErrorInvalidInput", id="unmanaged-disks-refused"),
    pytest.param("rg-data", "vm-cluster-1", "BMSUserErrorInvalidInput", id="shared-disk-attached-refused"),
])
async def test_migration_prerequisites_refused_at_once(azure: Azure, rg: str, vm: str, code: str) -> None:
    await create_vault(azure)
    await refresh(azure)
    await protect(azure, rg, vm, "DefaultPolicy")
    with pytest.raises(HttpResponseError) as refused:
        await protect(azure, rg, vm, "EnhancedPolicy")
    assert code_of(refused.value) == code
    assert (await get_item(azure, rg, vm)).properties["policyName"] == "DefaultPolicy"
    assert [op for op, _ in await jobs(azure, vm)] == ["ConfigureBackup"]


async def test_migration_waits_for_a_running_backup_and_enhanced_never_goes_back(
        emu: EmulatorProcess, azure: Azure) -> None:
    await create_vault(azure)
    await refresh(azure)
    await protect(azure, "rg-web", "vm-web-01", "DefaultPolicy")
    emu.admin.set_settings(durations={"backupJob": 5000})  # still running when the migration is asked for
    emu.admin.run_scheduled_backups()
    with pytest.raises(HttpResponseError) as busy:
        await protect(azure, "rg-web", "vm-web-01", "EnhancedPolicy")
    assert code_of(busy.value) == "UserErrorBackupOperationInProgress"
    emu.admin.set_settings(durations={"backupJob": 20})
    await protect(azure, "rg-data", "vm-db-01", "EnhancedPolicy")
    with pytest.raises(HttpResponseError) as back:
        await protect(azure, "rg-data", "vm-db-01", "DefaultPolicy")
    assert code_of(back.value) == "BMSUserErrorInvalidInput"
    assert "cannot move to a Standard" in str(back.value)
    assert (await get_item(azure, "rg-data", "vm-db-01")).properties["policyType"] == "V2"
