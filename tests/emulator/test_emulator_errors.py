"""Authentication, authorization, throttling, injected faults and bad requests, seen through the SDK
(its own exceptions and retry policy) and on the wire."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import aiohttp
import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceExistsError
from azure.mgmt.compute.aio import ComputeManagementClient
from azure.mgmt.recoveryservices import models as rsm
from azure_emulator.inventory import DEFAULT_CLIENT_ID
from azure_emulator.server import EmulatorProcess
from emulator_support import READONLY_ID, READONLY_SECRET, SUB, Azure

VAULTS = f"/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults"


class StaticToken:
    """An async credential that always hands out the same (possibly bad) token."""

    def __init__(self, token: str) -> None:
        self.token = token

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, 4102444800)

    async def close(self) -> None:
        return None


async def wire(
    emu: EmulatorProcess,
    method: str,
    path: str,
    *,
    token: str | None = "default",
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: str = "api-version=2026-11-01",
) -> tuple[int, Any, Any]:
    """One raw HTTPS request; returns (status, JSON body or None, headers)."""
    if token == "default":
        token = emu.admin.token(DEFAULT_CLIENT_ID)
    hdrs = dict(headers or {})
    if token is not None:
        hdrs["Authorization"] = f"Bearer {token}"
    ctx = ssl.create_default_context(cafile=emu.ca_bundle)
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{emu.url}{path}?{query}", json=body, headers=hdrs, ssl=ctx) as resp,
    ):
        data = await resp.json(content_type=None) if (await resp.read()) else None
        return resp.status, data, resp.headers


async def vault_get(azure: Azure, name: str = "rsv-legacy", rg: str = "rg-legacy") -> Any:
    return await azure.vaults.vaults.get(rg, name)


@pytest.mark.parametrize(
    ("token", "code"),
    [
        pytest.param(None, "AuthenticationFailed", id="missing-token"),
        pytest.param("not-a-jwt", "InvalidAuthenticationToken", id="garbage-token"),
        pytest.param(
            "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9.c2lnbmF0dXJl",
            "InvalidAuthenticationToken",
            id="forged-signature",
        ),
    ],
)
async def test_requests_without_a_valid_token_get_401(emu: EmulatorProcess, token: str | None, code: str) -> None:
    status, body, headers = await wire(emu, "GET", VAULTS, token=token)
    assert (status, body["error"]["code"]) == (401, code)
    assert set(body["error"]) == {"code", "message", "target", "details", "additionalInfo"}
    assert headers["WWW-Authenticate"].startswith("Bearer authorization_uri=")


async def test_sdk_sees_expired_and_bad_tokens_as_authentication_errors(emu: EmulatorProcess) -> None:
    expired = emu.admin.token(DEFAULT_CLIENT_ID, lifetime=-60)
    for token, code in ((expired, "ExpiredAuthenticationToken"), ("x.y.z", "InvalidAuthenticationToken")):
        client = ComputeManagementClient(
            StaticToken(token),
            SUB,
            base_url=emu.url,  # type: ignore[arg-type]
            credential_scopes=[emu.url + "/.default"],
            connection_verify=emu.ca_bundle,
        )
        async with client:
            with pytest.raises(ClientAuthenticationError) as failed:
                await client.virtual_machines.get("rg-web", "vm-web-01")
        assert failed.value.error is not None
        assert failed.value.error.code == code


async def test_wrong_audience_is_refused(emu: EmulatorProcess) -> None:
    token = emu.admin.token(DEFAULT_CLIENT_ID, audience="https://vault.azure.net")
    status, body, _ = await wire(emu, "GET", VAULTS, token=token)
    assert (status, body["error"]["code"]) == (401, "InvalidAuthenticationTokenAudience")


async def test_wrong_client_secret_fails_at_the_token_endpoint(emu: EmulatorProcess) -> None:
    azure = Azure(emu, secret="wrong")
    try:
        with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
            await vault_get(azure)
    finally:
        await azure.close()


async def test_denied_identity_gets_arm_authorization_failed(emu: EmulatorProcess) -> None:
    azure = Azure(emu, READONLY_ID, READONLY_SECRET)
    try:
        assert (await vault_get(azure)).name == "rsv-legacy"  # reads are allowed
        body = rsm.Vault(location="westeurope", sku=rsm.Sku(name="Standard"))
        with pytest.raises(HttpResponseError) as denied:
            await (await azure.vaults.vaults.begin_create_or_update("rg-backup", "rsv-x", body)).result()
        assert denied.value.status_code == 403
        assert denied.value.error is not None
        assert denied.value.error.code == "AuthorizationFailed"
        object_id = next(i["objectId"] for i in emu.admin.identities() if i["clientId"] == READONLY_ID)
        assert denied.value.error.message == (
            f"The client '{READONLY_ID}' with object id '{object_id}' does not have authorization to perform action "
            f"'Microsoft.RecoveryServices/vaults/write' over scope '{VAULTS}/rsv-x' or the scope is invalid. "
            "If access was recently granted, please refresh your credentials."
        )
        emu.admin.set_authorization(READONLY_ID, [])  # granted at run time
        await (await azure.vaults.vaults.begin_create_or_update("rg-backup", "rsv-x", body)).result()
        emu.admin.set_authorization(READONLY_ID, [{"action": "Microsoft.Compute/*", "scope": f"/subscriptions/{SUB}"}])
        with pytest.raises(HttpResponseError) as compute_denied:
            await azure.compute.virtual_machines.get("rg-web", "vm-web-01")
        assert compute_denied.value.status_code == 403
    finally:
        await azure.close()


async def test_injected_500_is_retried_by_the_sdk(emu: EmulatorProcess, azure: Azure) -> None:
    emu.admin.add_fault(operation="Vaults_Get", status=500, count=1)
    assert (await vault_get(azure)).name == "rsv-legacy"
    counted = emu.admin.counters()["operations"]["Vaults_Get"]["byStatus"]
    assert counted == {"200": 1, "500": 1}


async def test_injected_429_with_retry_after_is_retried(emu: EmulatorProcess, azure: Azure) -> None:
    emu.admin.add_fault(operation="VirtualMachines_ListAll", status=429, retryAfter=1, count=1)
    vms = [vm async for vm in azure.compute.virtual_machines.list_all()]
    assert len(vms) == 31
    counters = emu.admin.counters()
    assert (counters["throttled"], counters["operations"]["VirtualMachines_ListAll"]["byStatus"]) == (
        1,
        {"200": 1, "429": 1},
    )


@pytest.mark.parametrize(
    ("status", "code", "exc"),
    [
        pytest.param(409, "Conflict", ResourceExistsError, id="409-resource-exists"),
        pytest.param(400, "BMSUserErrorInvalidInput", HttpResponseError, id="400-custom-code"),
    ],
)
async def test_injected_errors_surface_as_sdk_exceptions(
    emu: EmulatorProcess, azure: Azure, status: int, code: str, exc: type[HttpResponseError]
) -> None:
    emu.admin.add_fault(operation="ProtectionPolicies_Get", status=status, code=code, message="injected")
    with pytest.raises(exc) as failed:
        await azure.backup.protection_policies.get("rsv-legacy", "rg-legacy", "DefaultPolicy")
    assert (failed.value.status_code, failed.value.error.code) == (status, code)  # type: ignore[union-attr]


async def test_dropped_connection_is_retried(emu: EmulatorProcess, azure: Azure) -> None:
    emu.admin.add_fault(operation="Vaults_Get", drop=True, count=1)
    assert (await vault_get(azure)).name == "rsv-legacy"
    assert emu.admin.counters()["operations"]["Vaults_Get"]["byStatus"] == {"0": 1, "200": 1}


async def test_fault_after_applies_the_change_then_holds_the_answer(emu: EmulatorProcess, azure: Azure) -> None:
    emu.admin.add_fault(operation="Vaults_CreateOrUpdate", phase="after", latency=0.5, count=1)
    body = rsm.Vault(location="westeurope", sku=rsm.Sku(name="Standard"))
    put = asyncio.ensure_future(azure.vaults.vaults.begin_create_or_update("rg-backup", "rsv-held", body))
    for _ in range(100):
        vaults = [v["id"] for s in emu.admin.state()["subscriptions"] for v in s["vaults"]]
        if any(v.endswith("/rsv-held") for v in vaults):
            break
        await asyncio.sleep(0.01)
    assert not put.done()  # Azure has the vault, the client does not know yet
    await (await put).result()


async def test_fault_after_with_an_error_status_still_applies_the_change(emu: EmulatorProcess, azure: Azure) -> None:
    emu.admin.add_fault(operation="Vaults_CreateOrUpdate", phase="after", status=500, count=1)
    body = rsm.Vault(location="westeurope", sku=rsm.Sku(name="Standard"))
    vault = await (await azure.vaults.vaults.begin_create_or_update("rg-backup", "rsv-lost", body)).result()
    assert vault.name == "rsv-lost"
    # the first answer was lost after the vault was created; the SDK's retry saw an update (200)
    assert emu.admin.counters()["operations"]["Vaults_CreateOrUpdate"]["byStatus"] == {"200": 1, "500": 1}


async def test_throttling_answers_429_with_retry_after_and_the_sdk_waits(emu: EmulatorProcess, azure: Azure) -> None:
    # A slow refill: the SDK's own GET must still find the bucket empty on a loaded machine (at 1/s the
    # bucket could refill before it was sent, and the SDK's wait went untested).
    emu.admin.set_settings(throttling=True, limits={"reads": {"capacity": 2, "refillPerSecond": 0.25}})
    status, _, headers = await wire(emu, "GET", VAULTS)
    assert (status, headers["x-ms-ratelimit-remaining-subscription-reads"]) == (200, "1")
    await wire(emu, "GET", VAULTS)
    status, body, headers = await wire(emu, "GET", VAULTS)
    assert (status, body["error"]["code"], headers["Retry-After"]) == (429, "SubscriptionRequestsThrottled", "4")
    assert (await vault_get(azure)).name == "rsv-legacy"  # the SDK honours Retry-After and succeeds
    assert emu.admin.counters()["subscriptions"][SUB]["throttled"] >= 2


async def test_every_answer_carries_request_ids_and_rate_limit_headers(emu: EmulatorProcess) -> None:
    _, _, headers = await wire(emu, "GET", VAULTS, headers={"x-ms-correlation-request-id": "corr-1"})
    assert headers["x-ms-correlation-request-id"] == "corr-1"
    assert headers["x-ms-request-id"]
    assert headers["x-ms-ratelimit-remaining-subscription-reads"]
    _, _, headers = await wire(emu, "DELETE", f"{VAULTS}/rsv-none")
    assert "x-ms-ratelimit-remaining-subscription-deletes" in headers


@pytest.mark.parametrize(
    ("method", "path", "body", "query", "status", "code"),
    [
        pytest.param("GET", VAULTS, None, "", 400, "MissingApiVersionParameter", id="missing-api-version"),
        pytest.param(
            "GET",
            VAULTS,
            None,
            "api-version=2099-01-01",
            400,
            "NoRegisteredProviderFound",
            id="unpublished-api-version",
        ),
        pytest.param(
            "GET",
            f"{VAULTS}/rsv-legacy/backupPolicies",
            None,
            "api-version=2026-11-01",
            400,
            "NoRegisteredProviderFound",
            id="vault-version-on-a-backup-type",
        ),
        pytest.param(
            "GET", VAULTS, None, "api-version=latest", 400, "InvalidApiVersionParameter", id="malformed-api-version"
        ),
        pytest.param(
            "GET",
            f"/subscriptions/{SUB}/resourcegroups",
            None,
            "api-version=2099-01-01",
            400,
            "InvalidApiVersionParameter",
            id="arm-own-type-with-unpublished-version",
        ),
        pytest.param(
            "GET",
            f"/subscriptions/{SUB}/providers/Microsoft.Nothing/things",
            None,
            "api-version=2026-11-01",
            404,
            "InvalidResourceType",
            id="unknown-route",
        ),
        pytest.param(
            "POST", f"{VAULTS}/rsv-legacy", None, "api-version=2026-11-01", 405, "MethodNotAllowed", id="wrong-method"
        ),
        pytest.param(
            "GET",
            "/subscriptions/99999999-0000-0000-0000-000000000000/providers/Microsoft.RecoveryServices/vaults",
            None,
            "api-version=2026-11-01",
            404,
            "SubscriptionNotFound",
            id="unknown-subscription",
        ),
        pytest.param(
            "GET",
            VAULTS.replace("rg-backup", "rg-nope"),
            None,
            "api-version=2026-11-01",
            404,
            "ResourceGroupNotFound",
            id="unknown-resource-group",
        ),
        pytest.param(
            "GET", f"{VAULTS}/rsv-nope", None, "api-version=2026-11-01", 404, "ResourceNotFound", id="unknown-vault"
        ),
        pytest.param(
            "PUT",
            f"{VAULTS}/1bad",
            {"location": "westeurope"},
            "api-version=2026-11-01",
            400,
            "InvalidRestApiParameter",
            id="bad-vault-name",
        ),
        pytest.param(
            "PUT",
            f"{VAULTS}/rsv-mars",
            {"location": "Mars North"},
            "api-version=2026-11-01",
            400,
            "LocationNotAvailableForResourceType",
            id="unsupported-region",
        ),
        pytest.param(
            "PUT", f"{VAULTS}/rsv-noloc", {}, "api-version=2026-11-01", 400, "LocationRequired", id="no-location"
        ),
        pytest.param(
            "PUT",
            f"{VAULTS}/rsv-crr",
            {
                "location": "westeurope",
                "properties": {
                    "redundancySettings": {
                        "standardTierStorageRedundancy": "LocallyRedundant",
                        "crossRegionRestore": "Enabled",
                    }
                },
            },
            "api-version=2026-11-01",
            400,
            "BMSUserErrorUnableToEnableCrossRegionRestore",
            id="crr-needs-geo-redundancy",
        ),
        pytest.param(
            "PUT",
            f"{VAULTS.replace('rg-backup', 'rg-legacy')}/rsv-legacy/backupPolicies/p1",
            {
                "properties": {
                    "backupManagementType": "AzureIaasVM",
                    "schedulePolicy": {"schedulePolicyType": "SimpleSchedulePolicy", "scheduleRunFrequency": "Hourly"},
                    "retentionPolicy": {"retentionPolicyType": "LongTermRetentionPolicy"},
                }
            },
            "api-version=2026-10-01",
            400,
            "BMSUserErrorInvalidInput",
            id="hourly-standard-policy",
        ),
    ],
)
async def test_bad_requests_get_the_arm_codes(
    emu: EmulatorProcess, method: str, path: str, body: Any, query: str, status: int, code: str
) -> None:
    got_status, got, _ = await wire(emu, method, path, body=body, query=query)
    assert (got_status, got["error"]["code"]) == (status, code)


async def test_invalid_json_is_refused(emu: EmulatorProcess) -> None:
    token = emu.admin.token(DEFAULT_CLIENT_ID)
    ctx = ssl.create_default_context(cafile=emu.ca_bundle)
    async with (
        aiohttp.ClientSession() as session,
        session.put(
            f"{emu.url}{VAULTS}/rsv-json?api-version=2026-11-01",
            data=b"{not json",
            headers={"Authorization": f"Bearer {token}"},
            ssl=ctx,
        ) as resp,
    ):
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == "InvalidRequestContent"


@pytest.mark.parametrize(
    ("steps", "second", "code"),
    [
        pytest.param(
            [{"securitySettings": {"softDeleteSettings": {"softDeleteState": "AlwaysON"}}}],
            {"securitySettings": {"softDeleteSettings": {"softDeleteState": "Enabled"}}},
            "BMSUserErrorSoftDeleteStateAlwaysOn",
            id="soft-delete-always-on-is-one-way-BMSUserErrorSoftDeleteStateAlwaysOn",
        ),
        pytest.param(
            [{"securitySettings": {"softDeleteSettings": {"softDeleteState": "AlwaysON"}}}],
            {"securitySettings": {"softDeleteSettings": {"softDeleteState": "Disabled"}}},
            "BMSUserErrorDisablingSoftDeleteStateNotAllowed",
            id="always-on-soft-delete-cannot-be-disabled",
        ),
        pytest.param(
            [
                {"securitySettings": {"immutabilitySettings": {"state": "Unlocked"}}},
                {"securitySettings": {"immutabilitySettings": {"state": "Locked"}}},
            ],
            {"securitySettings": {"immutabilitySettings": {"state": "Unlocked"}}},
            "UserErrorUnsupportedVaultImmutabilityStateChange",
            id="immutability-locked-is-one-way",
        ),
        pytest.param(
            [{}],
            {"securitySettings": {"immutabilitySettings": {"state": "Locked"}}},
            "UserErrorUnsupportedVaultImmutabilityStateChange",
            id="only-an-immutable-vault-can-be-locked",
        ),
        pytest.param(
            [
                {
                    "restoreSettings": {
                        "crossSubscriptionRestoreSettings": {"crossSubscriptionRestoreState": "PermanentlyDisabled"}
                    }
                }
            ],
            {"restoreSettings": {"crossSubscriptionRestoreSettings": {"crossSubscriptionRestoreState": "Enabled"}}},
            "InvalidRestApiParameter",
            id="cross-subscription-restore-permanently-disabled-is-one-way",
        ),
        pytest.param(
            [{"redundancySettings": {"crossRegionRestore": "Enabled"}}],
            {"redundancySettings": {"crossRegionRestore": "Disabled"}},
            "InvalidRestApiParameter",
            id="cross-region-restore-cannot-be-disabled",
        ),
        pytest.param(
            [
                {
                    "encryption": {
                        "keyVaultProperties": {"keyUri": "https://kv.vault.azure.net/keys/k/1"},
                        "kekIdentity": {"useSystemAssignedIdentity": True},
                    }
                }
            ],
            {"encryption": None},
            "InvalidRestApiParameter",
            id="customer-managed-key-cannot-be-removed",
        ),
    ],
)
async def test_one_way_vault_settings(
    emu: EmulatorProcess, steps: list[dict[str, Any]], second: dict[str, Any], code: str
) -> None:
    status, _, _ = await wire(
        emu, "PUT", f"{VAULTS}/rsv-oneway", body={"location": "westeurope", "properties": steps[0]}
    )
    assert status == 201
    for step in steps[1:]:
        status, _, _ = await wire(emu, "PATCH", f"{VAULTS}/rsv-oneway", body={"properties": step})
        assert status == 200
    status, body, _ = await wire(emu, "PATCH", f"{VAULTS}/rsv-oneway", body={"properties": second})
    assert (status, body["error"]["code"]) == (400, code)
