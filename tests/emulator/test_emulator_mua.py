"""Multi-User Authorization on the emulator, through the real SDK: a vault's Resource Guard proxy, the
critical operations it guards, and time-bound approvals granted through the admin API (as PIM would)."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure_emulator.admin import AdminError
from azure_emulator.server import EmulatorProcess
from emulator_support import SUB, Azure
from test_emulator_backup_flow import RG, VAULT, create_vault, policy_id, protect, refresh, set_item

GUARD = f"/subscriptions/{SUB}/resourceGroups/rg-security/providers/Microsoft.DataProtection/resourceGuards/rg-guard"
PROXY = (f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.RecoveryServices/vaults/{VAULT}"
         "/backupResourceGuardProxies/VaultProxy")


def code_of(exc: HttpResponseError) -> tuple[int | None, str | None]:
    return exc.status_code, exc.error.code if exc.error else None


async def guarded_vault(azure: Azure) -> None:
    await create_vault(azure)
    await azure.backup.resource_guard_proxy.put(
        VAULT, RG, "VaultProxy", {"properties": {"resourceGuardResourceId": GUARD}})


async def set_soft_delete(azure: Azure, state: str, requests: list[str] | None = None) -> Any:
    props: dict[str, Any] = {"securitySettings": {"softDeleteSettings": {"softDeleteState": state}}}
    if requests is not None:
        props["resourceGuardOperationRequests"] = requests
    return await (await azure.vaults.vaults.begin_update(RG, VAULT, {"properties": props})).result()


async def test_the_proxy_lists_the_requests_each_guarded_operation_names(emu: EmulatorProcess, azure: Azure) -> None:
    emu.admin.put_resource_guard(GUARD, excluded=["updateProtectionPolicyRequests", "disableSoftDeleteRequests"])
    await guarded_vault(azure)
    proxy = await azure.backup.resource_guard_proxy.get(VAULT, RG, "VaultProxy")
    assert proxy.properties.resource_guard_resource_id == GUARD
    details = {d.vault_critical_operation: d.default_resource_request
               for d in proxy.properties.resource_guard_operation_details}
    # Disabling soft delete is mandatory: excluding it changes nothing. The optional exclusion holds.
    assert details["Microsoft.DataProtection/resourceGuards/disableSoftDeleteRequests"] == (
        f"{GUARD}/disableSoftDeleteRequests/default")
    assert "Microsoft.DataProtection/resourceGuards/updateProtectionPolicyRequests" not in details


async def test_disabling_soft_delete_waits_for_an_approval_that_expires(emu: EmulatorProcess, azure: Azure) -> None:
    await guarded_vault(azure)
    request = [f"{GUARD}/disableSoftDeleteRequests/default"]
    with pytest.raises(HttpResponseError) as refused:
        await set_soft_delete(azure, "Disabled", request)
    assert code_of(refused.value) == (403, "LinkedAuthorizationFailed")
    assert f"{GUARD}/disableSoftDeleteRequests/default" in str(refused.value.error.message)  # type: ignore[union-attr]
    emu.admin.approve(GUARD, "disableSoftDeleteRequests", minutes=10)
    done = await set_soft_delete(azure, "Disabled", request)
    assert done.properties.security_settings.soft_delete_settings.soft_delete_state == "Disabled"
    await set_soft_delete(azure, "Enabled")  # turning it back on is never guarded
    emu.admin.advance_clock(11 * 60)
    with pytest.raises(HttpResponseError) as expired:
        await set_soft_delete(azure, "Disabled", request)
    assert code_of(expired.value) == (403, "LinkedAuthorizationFailed")


async def test_a_request_naming_another_guard_is_invalid(emu: EmulatorProcess, azure: Azure) -> None:
    await guarded_vault(azure)
    emu.admin.approve(GUARD)
    other = GUARD.replace("rg-guard", "other-guard")
    with pytest.raises(HttpResponseError) as refused:
        await set_soft_delete(azure, "Disabled", [f"{other}/disableSoftDeleteRequests/default"])
    assert code_of(refused.value) == (400, "BMSUserErrorInvalidInput")


async def test_removing_the_guard_needs_an_approved_unlock_first(emu: EmulatorProcess, azure: Azure) -> None:
    await guarded_vault(azure)
    with pytest.raises(HttpResponseError) as locked:
        await azure.backup.resource_guard_proxy.delete(VAULT, RG, "VaultProxy")
    assert code_of(locked.value) == (400, "UserErrorResourceGuardUnlockDeleteRequired")
    unlock = {"resourceGuardOperationRequests": [f"{GUARD}/deleteResourceGuardProxyRequests/default"],
              "resourceToBeDeleted": PROXY}
    with pytest.raises(HttpResponseError) as refused:
        await azure.backup.resource_guard_proxy.unlock_delete(VAULT, RG, "VaultProxy", unlock)
    assert code_of(refused.value) == (403, "LinkedAuthorizationFailed")
    emu.admin.approve(GUARD, "deleteResourceGuardProxyRequests", minutes=5)
    answer = await azure.backup.resource_guard_proxy.unlock_delete(VAULT, RG, "VaultProxy", unlock)
    assert answer.unlock_delete_expiry_time
    await azure.backup.resource_guard_proxy.delete(VAULT, RG, "VaultProxy")
    assert [p async for p in azure.backup.resource_guard_proxies.get(VAULT, RG)] == []
    await set_soft_delete(azure, "Disabled")  # no guard, no approval needed


async def test_a_retention_cut_is_guarded_but_a_longer_retention_is_not(emu: EmulatorProcess, azure: Azure) -> None:
    await guarded_vault(azure)
    policy = await azure.backup.protection_policies.get(VAULT, RG, "DefaultPolicy")
    body = {"properties": policy.as_dict()["properties"]}  # a request carries no read-only id, name or type
    daily = body["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]
    daily["count"] += 5
    await azure.backup.protection_policies.create_or_update(VAULT, RG, "DefaultPolicy", body)
    daily["count"] -= 10
    with pytest.raises(HttpResponseError) as refused:
        await azure.backup.protection_policies.create_or_update(VAULT, RG, "DefaultPolicy", body)
    assert code_of(refused.value) == (403, "LinkedAuthorizationFailed")
    emu.admin.approve(GUARD, "updateProtectionPolicyRequests")
    body["properties"]["resourceGuardOperationRequests"] = [f"{GUARD}/updateProtectionPolicyRequests/default"]
    await azure.backup.protection_policies.create_or_update(VAULT, RG, "DefaultPolicy", body)


async def test_moving_an_item_to_a_policy_that_keeps_less_is_guarded(emu: EmulatorProcess, azure: Azure) -> None:
    await guarded_vault(azure)
    default = await azure.backup.protection_policies.get(VAULT, RG, "DefaultPolicy")
    short = {"properties": default.as_dict()["properties"]}
    short["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] = 7
    await azure.backup.protection_policies.create_or_update(VAULT, RG, "short", short)  # a new policy: not guarded
    await refresh(azure)
    await protect(azure, "rg-web", "vm-web-01")
    move = {"policyId": policy_id("short")}
    with pytest.raises(HttpResponseError) as refused:
        await set_item(azure, "rg-web", "vm-web-01", move)
    assert code_of(refused.value) == (403, "LinkedAuthorizationFailed")
    emu.admin.approve(GUARD, "updateProtectedItemRequests")
    moved = await set_item(azure, "rg-web", "vm-web-01",
                           {**move, "resourceGuardOperationRequests": [f"{GUARD}/updateProtectedItemRequests/default"]})
    assert moved.properties["policyName"] == "short"


async def test_deleting_backup_data_needs_an_approved_unlock(emu: EmulatorProcess, azure: Azure) -> None:
    await guarded_vault(azure)
    await refresh(azure)
    await protect(azure, "rg-web", "vm-web-01")
    item = (f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.RecoveryServices/vaults/{VAULT}"
            "/backupFabrics/Azure/protectionContainers/IaasVMContainer;iaasvmcontainerv2;rg-web;vm-web-01"
            "/protectedItems/VM;iaasvmcontainerv2;rg-web;vm-web-01")
    names = ("Azure", "IaasVMContainer;iaasvmcontainerv2;rg-web;vm-web-01", "VM;iaasvmcontainerv2;rg-web;vm-web-01")
    with pytest.raises(HttpResponseError) as locked:
        await azure.backup.protected_items.delete(VAULT, RG, *names)
    assert code_of(locked.value) == (400, "UserErrorResourceGuardUnlockDeleteRequired")
    unlock = {"resourceGuardOperationRequests": [f"{GUARD}/deleteProtectedItemRequests/default"],
              "resourceToBeDeleted": item}
    with pytest.raises(HttpResponseError) as refused:
        await azure.backup.resource_guard_proxy.unlock_delete(VAULT, RG, "VaultProxy", unlock)
    assert code_of(refused.value) == (403, "LinkedAuthorizationFailed")
    emu.admin.approve(GUARD, "deleteProtectedItemRequests")
    await azure.backup.resource_guard_proxy.unlock_delete(VAULT, RG, "VaultProxy", unlock)
    await azure.backup.protected_items.delete(VAULT, RG, *names)


def test_the_admin_api_declares_guards_and_grants_and_revokes_approvals(emu: EmulatorProcess) -> None:
    guard = emu.admin.put_resource_guard(GUARD, excluded=["disableSoftDeleteRequests", "deleteProtectedItemRequests"])
    assert guard["excludedOperations"] == ["deleteProtectedItemRequests"]  # mandatory ones cannot be excluded
    with pytest.raises(AdminError) as unknown:
        emu.admin.put_resource_guard(GUARD, excluded=["deleteEverything"])
    assert unknown.value.status == 400
    emu.admin.approve(GUARD, "disableSoftDeleteRequests", minutes=2, client_id="app-1")
    listed = emu.admin.request("GET", "resource-guards")["value"]
    assert [(a["operation"], a["clientId"]) for a in listed[0]["approvals"]] == [("disableSoftDeleteRequests", "app-1")]
    assert 0 < listed[0]["approvals"][0]["secondsLeft"] <= 120
    emu.admin.revoke_approvals(GUARD)
    assert emu.admin.request("GET", "resource-guards")["value"][0]["approvals"] == []
