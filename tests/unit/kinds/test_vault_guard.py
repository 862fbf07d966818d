"""Multi-User Authorization on a BackupVault: what differs, which PATCH is a critical operation, the request
it names, and how Azure's refusal for lack of approval becomes a fact the loop waits on."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any, cast

import pytest
from azbackup.api.specs import VaultSpec
from azbackup.azure import errors, guard_proxy
from azbackup.kinds import vault_guard
from azbackup.kinds.vault_guard import GuardSeen
from azbackup.reasons import Reason

GUARD = ("/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-sec/providers/"
         "Microsoft.DataProtection/resourceGuards/guard")
SPEC = VaultSpec.parse("vault-a", {"subscriptionId": "00000000-0000-0000-0000-000000000001",
                                   "resourceGroup": "rg", "location": "westeurope", "resourceGuard": GUARD})
PROXY: dict[str, Any] = {"name": "VaultProxy", "properties": {
    "resourceGuardResourceId": GUARD,
    "resourceGuardOperationDetails": [
        {"vaultCriticalOperation": "Microsoft.DataProtection/resourceGuards/deleteResourceGuardProxyRequests",
         "defaultResourceRequest": f"{GUARD}/deleteResourceGuardProxyRequests/default"},
        {"vaultCriticalOperation": "Microsoft.DataProtection/resourceGuards/disableSoftDeleteRequests",
         "defaultResourceRequest": f"{GUARD}/disableSoftDeleteRequests/default"}]}}
LINKED = GuardSeen(PROXY, read=True)


def soft(state: str) -> dict[str, Any]:
    return {"properties": {"securitySettings": {"softDeleteSettings": {"softDeleteState": state}}}}


@pytest.mark.parametrize(("spec", "seen", "diff"), [
    pytest.param(SPEC, LINKED, (), id="linked-as-the-spec-says"),
    pytest.param(SPEC, GuardSeen({"properties": {"resourceGuardResourceId": GUARD.upper()}}, read=True),
                 (), id="ids-compare-without-case"),
    pytest.param(SPEC, GuardSeen(None, read=True), (f"resourceGuard: Azure None, spec {GUARD!r}",),
                 id="not-linked-yet"),
    pytest.param(replace(SPEC, resource_guard=None), LINKED, (f"resourceGuard: Azure {GUARD!r}, spec None",),
                 id="removed-from-the-spec"),
    pytest.param(replace(SPEC, resource_guard=None), GuardSeen(None, read=False), (), id="never-had-mua"),
])
def test_diff(spec: VaultSpec, seen: GuardSeen, diff: tuple[str, ...]) -> None:
    assert vault_guard.diff(spec, seen) == diff


@pytest.mark.parametrize(("patch", "actual", "seen", "operation"), [
    pytest.param(soft("Disabled"), soft("Enabled"), LINKED, "disableSoftDeleteRequests",
                 id="turning-soft-delete-off-is-critical"),
    pytest.param(soft("Enabled"), soft("Disabled"), LINKED, None, id="turning-it-on-is-not"),
    pytest.param(soft("Disabled"), soft("Enabled"), GuardSeen(None, read=True), None, id="no-guard-no-request"),
    pytest.param({"tags": {"a": "b"}}, soft("Enabled"), LINKED, None, id="other-changes-are-not"),
])
def test_critical_operation(patch: dict[str, Any], actual: dict[str, Any], seen: GuardSeen,
                            operation: str | None) -> None:
    assert vault_guard.critical_operation(patch, actual, seen) == operation


def test_the_patch_names_the_request_the_proxy_gives() -> None:
    patched = vault_guard.with_request(soft("Disabled"), "disableSoftDeleteRequests", LINKED)
    assert patched["properties"]["resourceGuardOperationRequests"] == [f"{GUARD}/disableSoftDeleteRequests/default"]
    assert patched["properties"]["securitySettings"] == soft("Disabled")["properties"]["securitySettings"]


def test_an_operation_the_guard_leaves_open_falls_back_to_the_default_request() -> None:
    assert guard_proxy.default_request(PROXY, "deleteProtectedItemRequests") is None
    want = f"{GUARD}/deleteProtectedItemRequests/default"
    assert guard_proxy.request_id(GUARD, "deleteProtectedItemRequests") == want


@pytest.mark.parametrize(("raised", "want"), [
    pytest.param(errors.Forbidden("403", code="LinkedAuthorizationFailed", status=403), errors.ApprovalRequired,
                 id="linked-scope-refusal-waits-for-approval"),
    pytest.param(errors.Forbidden("403", code="AuthorizationFailed", status=403), errors.Forbidden,
                 id="a-missing-role-on-the-vault-stays-a-permission-problem"),
])
def test_guarded_translates_only_the_guards_refusal(raised: errors.AzbackupError, want: type) -> None:
    with pytest.raises(want) as caught, guard_proxy.guarded("disableSoftDeleteRequests", GUARD):
        raise raised
    assert type(caught.value) is want
    if isinstance(caught.value, errors.ApprovalRequired):
        assert caught.value.reason is Reason.AWAITING_MUA_APPROVAL
        assert (caught.value.operation, caught.value.guard) == ("disableSoftDeleteRequests", GUARD)
        assert f"{GUARD}/disableSoftDeleteRequests/default" in caught.value.message


class _Proxies:
    """The one SDK call `guard_proxy.read` makes, answering with fixed proxies."""

    def __init__(self, proxies: list[dict[str, Any]]) -> None:
        self.proxies, self.reads = proxies, 0

    async def _pages(self) -> Any:
        for p in self.proxies:
            yield p

    def get(self, vault: str, resource_group: str) -> Any:
        self.reads += 1
        return self._pages()


class _Clients:
    def __init__(self, proxies: list[dict[str, Any]]) -> None:
        self.backup = type("Backup", (), {"resource_guard_proxies": _Proxies(proxies)})()


@pytest.mark.parametrize(("patch", "reads", "operation"), [
    pytest.param(soft("Disabled"), 1, "disableSoftDeleteRequests", id="a-guard-linked-outside-the-spec-still-guards"),
    pytest.param({"tags": {"a": "b"}}, 0, None, id="other-changes-read-nothing"),
])
def test_a_critical_patch_looks_for_a_guard_the_spec_does_not_name(patch: dict[str, Any], reads: int,
                                                                   operation: str | None) -> None:
    clients = _Clients([PROXY])
    unnamed = replace(SPEC, resource_guard=None)
    seen = asyncio.run(vault_guard.before_critical(cast(Any, clients), unnamed, patch, soft("Enabled"),
                                                   GuardSeen(None, read=False)))
    assert clients.backup.resource_guard_proxies.reads == reads
    assert vault_guard.critical_operation(patch, soft("Enabled"), seen) == operation
