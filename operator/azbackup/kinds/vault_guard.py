"""Multi-User Authorization for a BackupVault: keep the vault's Resource Guard link as the spec says, and
name the guard's request on the critical operations it protects.

The Resource Guard belongs to someone else (a security admin): the operator only links the vault to it
(`backupResourceGuardProxies/VaultProxy`), never creates or edits the guard. Linking adds protection and
needs no approval; unlinking, and turning soft delete off while linked, are critical operations that Azure
lets through only with an approval on the guard. A refusal is `ApprovalRequired`, which the loop reports
as AwaitingMUAApproval and retries at a fixed interval, never in a hot loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from azbackup.api.specs import VaultSpec
from azbackup.azure import guard_proxy
from azbackup.azure.gateway import Clients
from azbackup.toolkit.json import dig


@dataclass(frozen=True)
class GuardSeen:
    proxy: dict[str, Any] | None  # the vault's proxy as Azure returned it, None without a guard
    read: bool  # False when nothing needed reading (no guard in the spec, none remembered in status)

    @property
    def guard(self) -> str | None:
        return guard_proxy.guard_of(self.proxy)


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").lower() == (b or "").lower()  # ARM ids compare without regard to case


async def observe(clients: Clients, spec: VaultSpec, status: Mapping[str, Any]) -> GuardSeen:
    """The vault's proxy, read only when the spec names a guard or the last status saw one: a vault that
    never had MUA costs no extra read per pass."""
    if not spec.resource_guard and not status.get("resourceGuard"):
        return GuardSeen(None, read=False)
    return GuardSeen(await guard_proxy.read(clients, spec.resource_group, spec.vault_name), read=True)


def diff(spec: VaultSpec, seen: GuardSeen) -> tuple[str, ...]:
    if not seen.read or _same(seen.guard, spec.resource_guard):
        return ()
    return (f"resourceGuard: Azure {seen.guard!r}, spec {spec.resource_guard!r}",)


async def converge(clients: Clients, spec: VaultSpec, seen: GuardSeen) -> GuardSeen:
    """Link or unlink the guard as the spec says; unlinking waits for the guard's approval."""
    if _same(seen.guard, spec.resource_guard) or not seen.read:
        return seen
    proxy = seen.proxy
    if proxy is not None:
        # Removing MUA (or moving to another guard) is itself guarded: no approval, no change.
        await guard_proxy.unlink(clients, spec.resource_group, spec.vault_id, spec.vault_name, proxy)
        proxy = None
    if spec.resource_guard:
        await guard_proxy.link(clients, spec.resource_group, spec.vault_name, spec.resource_guard)
        proxy = await guard_proxy.read(clients, spec.resource_group, spec.vault_name)
    return GuardSeen(proxy, read=True)


def turns_soft_delete_off(patch: Mapping[str, Any], actual: Mapping[str, Any]) -> bool:
    want = dig(patch, "properties", "securitySettings", "softDeleteSettings", "softDeleteState")
    have = dig(actual, "properties", "securitySettings", "softDeleteSettings", "softDeleteState")
    return bool(want == "Disabled" and have != "Disabled")


async def before_critical(clients: Clients, spec: VaultSpec, patch: Mapping[str, Any], actual: Mapping[str, Any],
                          seen: GuardSeen) -> GuardSeen:
    """The proxy, read before a critical PATCH even when neither the spec nor the status named a guard: a
    guard linked outside this spec (by its owner, in the portal) protects the vault all the same."""
    if seen.read or not turns_soft_delete_off(patch, actual):
        return seen
    return GuardSeen(await guard_proxy.read(clients, spec.resource_group, spec.vault_name), read=True)


def critical_operation(patch: Mapping[str, Any], actual: Mapping[str, Any], seen: GuardSeen) -> str | None:
    """The guarded operation a vault PATCH performs (turning soft delete off), None if it performs none
    or the vault has no guard."""
    if seen.proxy is not None and turns_soft_delete_off(patch, actual):
        return guard_proxy.DISABLE_SOFT_DELETE
    return None


def with_request(patch: dict[str, Any], operation: str, seen: GuardSeen) -> dict[str, Any]:
    """The PATCH naming the guard's request for the operation (the proxy's defaultResourceRequest)."""
    guard = seen.guard or ""
    request = guard_proxy.default_request(seen.proxy or {}, operation) or guard_proxy.request_id(guard, operation)
    return {**patch, "properties": {**(patch.get("properties") or {}), "resourceGuardOperationRequests": [request]}}
