"""Azure's Activity Log in the emulator: an entry for every write ARM serves (none for reads or refusals
before the resource provider), the admin API's portal changes as a person's writes, the visibility
delay, `ActivityLogs_List`'s `$filter`, `$select` and paging, and the shape of Azure's example."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from azure.core.rest import HttpRequest
from azure_emulator import activity_log
from azure_emulator.inventory import DEFAULT_CLIENT_ID
from azure_emulator.lro import Failure, Operation, OpStatus
from azure_emulator.server import EmulatorProcess
from emulator_schema import element_paths, missing_from
from emulator_support import SUB, Azure, vault_id, vm_id

LIST = f"/subscriptions/{SUB}/providers/microsoft.insights/eventtypes/management/values"
SINCE = "eventTimestamp ge '2000-01-01T00:00:00Z'"
VM = vm_id("rg-web", "vm-web-01")
COMPUTE = "api-version=2026-04-01"
EXAMPLE = Path(__file__).parent / "data" / "arm-examples" / "monitor__GetActivityLogsFiltered.json"


async def send(
    azure: Azure,
    method: str,
    path: str,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    query: str = "",
) -> Any:
    """One request through the SDK's pipeline (bearer token, `x-ms-client-request-id`), never retried."""
    url = f"{azure.emu.url}{path}{'&' if '?' in path else '?'}{query}" if query else f"{azure.emu.url}{path}"
    request = HttpRequest(method, url, json=body, headers=headers or {})
    return await azure.vaults.send_request(request, retry_total=0)


async def list_page(azure: Azure, query: str = f"$filter={SINCE}", *, url: str | None = None) -> Any:
    response = await azure.vaults.send_request(
        HttpRequest("GET", url or f"{azure.emu.url}{LIST}?api-version=2015-04-01&{query}"), retry_total=0
    )
    return response


def entries(emu: EmulatorProcess, **match: str) -> list[dict[str, Any]]:
    """The whole log (admin view), oldest first, keeping entries whose fields equal `match`."""
    out = list(reversed(emu.admin.activity_log(SUB)))
    for key, value in match.items():
        out = [e for e in out if _get(e, key) == value]
    return out


def _get(entry: dict[str, Any], key: str) -> Any:
    value: Any = entry
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def statuses(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["eventName"]["value"], e["status"]["value"]) for e in events]


async def patch_vm_tags(azure: Azure, **kw: Any) -> Any:
    return await send(azure, "PATCH", f"{VM}?{COMPUTE}", {"tags": {"touched": "yes"}}, **kw)


# -- $filter and $select: pure ---------------------------------------------------------------------

T1, T2 = "2014-07-16T04:36:37.6407898Z", "2014-07-20T04:36:37.6407898Z"


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        pytest.param(f"eventTimestamp ge '{T1}' and eventTimestamp le '{T2}'", (), id="a time range"),
        pytest.param(
            f"eventTimestamp ge '{T1}' and eventTimestamp le '{T2}' and resourceGroupName eq 'rg-web'",
            (("resourceGroupName", "rg-web"),),
            id="a time range and a resource group",
        ),
        pytest.param(
            f"eventTimestamp ge '{T1}' and eventTimestamp le '{T2}' and resourceUri eq '{VM}'",
            (("resourceId", VM),),
            id="a time range and a resource",
        ),
        pytest.param(
            f"eventTimestamp ge '{T1}' and eventTimestamp le '{T2}' and resourceProvider eq 'Microsoft.Compute'",
            (("resourceProviderName", "Microsoft.Compute"),),
            id="a time range and a resource provider",
        ),
        pytest.param(
            f"eventTimestamp ge '{T1}' and eventTimestamp le '{T2}' and correlationId eq 'c-1'",
            (("correlationId", "c-1"),),
            id="a time range and a correlation id",
        ),
        pytest.param(f"eventTimestamp ge '{T1}'", (), id="only the start, which Azure's docs require"),
        pytest.param(
            "eventTimestamp ge 2014-07-16T04:36:37.640789 and eventTimestamp le 2014-07-20T04:36:37 "
            f"and resourceId eq '{VM}' and caller eq 'admin@contoso.com' and status eq 'Succeeded'",
            (("resourceId", VM), ("caller", "admin@contoso.com"), ("status", "Succeeded")),
            id="what az monitor activity-log list sends: unquoted times, resourceId, caller and status",
        ),
        pytest.param(
            f"EventTimestamp GE '{T1}' AND eventTimestamp le '{T2}'", (), id="names and operators in any case"
        ),
    ],
)
def test_the_filter_patterns_azure_allows_are_read(text: str, fields: tuple[tuple[str, str], ...]) -> None:
    query = activity_log.parse_filter(text)
    assert query.start == activity_log.parse_time(T1)
    assert query.fields == fields


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(None, id="no filter"),
        pytest.param(f"eventTimestamp le '{T2}'", id="no start"),
        pytest.param(f"eventTimestamp gt '{T1}'", id="another comparison"),
        pytest.param(f"resourceGroupName eq 'rg' and eventTimestamp ge '{T1}'", id="the time range not first"),
        pytest.param(
            f"eventTimestamp ge '{T1}' and resourceGroupName eq 'a' and resourceProvider eq 'b'", id="two scopes"
        ),
        pytest.param(f"eventTimestamp ge '{T1}' or resourceGroupName eq 'a'", id="or"),
        pytest.param(f"eventTimestamp ge '{T1}' and level eq 'Error'", id="a field the spec does not list"),
        pytest.param("eventTimestamp ge 'yesterday'", id="a time that is no time"),
        pytest.param(f"eventTimestamp ge '{T1}' and eventTimestamp ge '{T1}'", id="the start twice"),
    ],
)
def test_other_filters_are_refused(text: str | None) -> None:
    with pytest.raises(activity_log.FilterError):
        activity_log.parse_filter(text)


@pytest.mark.parametrize(
    ("names", "keys"),
    [
        pytest.param(None, {"caller", "status", "eventTimestamp"}, id="no select: every property"),
        pytest.param("caller,status", {"caller", "status"}, id="a comma-separated list"),
        pytest.param("Caller , STATUS ", {"caller", "status"}, id="names in any case, with spaces"),
        pytest.param("caller,nosuch", {"caller"}, id="unknown names ignored"),
    ],
)
def test_select_keeps_only_the_named_properties(names: str | None, keys: set[str]) -> None:
    body = {"caller": "x", "status": {"value": "Started"}, "eventTimestamp": "t"}
    assert set(activity_log.select(body, names)) == keys


def _change(resource_id: str = VM) -> activity_log.Change:
    return activity_log.Change(
        subscription=SUB,
        tenant_id="t",
        resource_id=resource_id,
        resource_type="Microsoft.Compute/virtualMachines",
        operation_name="Microsoft.Compute/virtualMachines/write",
        method="PUT",
        uri=f"https://emulator{resource_id}",
        caller=activity_log.person("admin@contoso.com", "t", 0.0),
        correlation_id="c",
        client_request_id="r",
    )


def _operation(status: OpStatus | None, ended: float = 5.0) -> Operation:
    op = Operation("op", "ConfigureBackup", 0.0, 5.0, "vault")
    if status is OpStatus.SUCCEEDED:
        op.finish(ended)
    elif status is OpStatus.FAILED:
        op.finish(ended, Failure("UserErrorVmNotFound", "gone"))
    return op


@pytest.mark.parametrize(
    ("http_status", "long_running", "operations", "expected"),
    [
        pytest.param(200, False, [], ["Started", "Succeeded"], id="a synchronous write: Started, Succeeded"),
        pytest.param(404, False, [], ["Started", "Failed"], id="a refused write: Started, Failed"),
        pytest.param(
            202,
            True,
            [_operation(OpStatus.SUCCEEDED)],
            ["Started", "Accepted", "Succeeded"],
            id="a long-running write whose operation succeeded",
        ),
        pytest.param(
            202,
            True,
            [_operation(OpStatus.FAILED)],
            ["Started", "Accepted", "Failed"],
            id="a long-running write whose operation failed",
        ),
        pytest.param(
            202, True, [_operation(None)], ["Started", "Accepted"], id="a long-running write still running: no end yet"
        ),
        pytest.param(
            201,
            True,
            [],
            ["Started", "Accepted", "Succeeded"],
            id="a long-running write with no operation: ends at once",
        ),
    ],
)
def test_the_entries_of_one_write(
    http_status: int, long_running: bool, operations: list[Operation], expected: list[str]
) -> None:
    log = activity_log.ActivityLog()
    log.record_write(
        _change(), http_status=http_status, long_running=long_running, at=1.0, delay=60.0, operations=operations
    )
    events = list(reversed(log.entries(SUB)))
    assert [e.status for e in events] == expected
    assert {e.operation_id for e in events} == {events[0].operation_id}
    assert [e.visible_at - e.timestamp for e in events] == [60.0] * len(events)
    if expected[-1] == "Failed" and long_running:
        assert json.loads(events[-1].to_json()["properties"]["statusMessage"])["code"] == "UserErrorVmNotFound"
        assert events[-1].timestamp == 5.0


def test_entries_older_than_the_retention_are_dropped() -> None:
    log = activity_log.ActivityLog()
    log.record_change(_change("/old"), http_status=200, at=0.0, delay=0.0)
    log.record_change(_change("/new"), http_status=200, at=activity_log.RETENTION + 1, delay=0.0)
    assert {e.change.resource_id for e in log.entries(SUB)} == {"/new"}


def test_an_entry_id_carries_its_time_in_ticks() -> None:
    """As in Azure's example (635574752669792776 ticks = 2015-01-21T22:14:26.9792776Z): .NET ticks, 100 ns since
    0001-01-01 (here a time a float holds exactly)."""
    log = activity_log.ActivityLog()
    at = activity_log.parse_time("2015-01-21T22:14:26.5Z")
    log.record_change(_change(), http_status=201, at=at, delay=13.0)
    entry = log.entries(SUB)[0].to_json()
    assert entry["eventTimestamp"] == "2015-01-21T22:14:26.5000000Z"
    assert entry["submissionTimestamp"] == "2015-01-21T22:14:39.5000000Z"
    assert entry["id"].endswith(f"/events/{entry['eventDataId']}/ticks/635574752665000000")
    assert entry["subStatus"] == {"value": "Created", "localizedValue": "Created (HTTP Status Code: 201)"}


# -- entries for writes, none for reads and refusals -----------------------------------------------


async def test_a_write_is_logged_with_the_callers_request_ids(emu: EmulatorProcess, azure: Azure) -> None:
    sent: dict[str, str] = {}

    def keep(request: Any) -> None:
        sent.update({k.lower(): v for k, v in request.http_request.headers.items()})

    await azure.compute.virtual_machines.begin_update(
        "rg-web", "vm-web-01", {"tags": {"a": "b"}}, raw_request_hook=keep
    )
    events = entries(emu, resourceId=VM)
    assert statuses(events) == [("BeginRequest", "Started"), ("EndRequest", "Succeeded")]
    end = events[-1]
    assert end["httpRequest"]["clientRequestId"] == sent["x-ms-client-request-id"]
    assert end["httpRequest"]["method"] == "PATCH"
    assert end["operationName"]["value"] == "Microsoft.Compute/virtualMachines/write"
    assert end["resourceType"]["value"] == "Microsoft.Compute/virtualMachines"
    assert end["resourceProviderName"]["value"] == "Microsoft.Compute"
    assert end["resourceGroupName"] == "rg-web"
    assert (end["subStatus"]["value"], end["properties"]["statusCode"]) == ("OK", "OK")
    assert end["id"].startswith(f"{VM}/events/{end['eventDataId']}/ticks/")
    assert end["claims"]["appid"] == DEFAULT_CLIENT_ID
    assert end["caller"] == end["claims"]["http://schemas.microsoft.com/identity/claims/objectidentifier"]
    assert end["tenantId"] == emu.tenant_id
    assert end["subscriptionId"] == SUB
    assert events[0]["operationId"] == end["operationId"]
    assert events[0]["correlationId"] == end["correlationId"]


async def test_the_correlation_id_is_the_requests_or_the_answered_one(emu: EmulatorProcess, azure: Azure) -> None:
    mine = str(uuid.uuid4())
    await patch_vm_tags(azure, headers={"x-ms-correlation-request-id": mine})
    answer = await patch_vm_tags(azure)
    logged = [e["correlationId"] for e in entries(emu, resourceId=VM, **{"eventName.value": "EndRequest"})]
    assert logged == [mine, answer.headers["x-ms-correlation-request-id"]]


def _unauthenticated(emu: EmulatorProcess) -> None:
    request = urllib.request.Request(
        f"{emu.url}{VM}?{COMPUTE}", data=b'{"tags": {}}', method="PATCH", headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, context=ssl.create_default_context(cafile=emu.ca_bundle), timeout=10)
    assert refused.value.code == 401


REFUSALS: dict[str, tuple[Callable[[EmulatorProcess], None], int]] = {
    "throttled (429)": (
        lambda emu: emu.admin.set_settings(
            throttling=True, limits={"writes": {"capacity": 0.5, "refillPerSecond": 0.001}}
        ),
        429,
    ),
    "an injected fault (500)": (lambda emu: emu.admin.add_fault(operation="VirtualMachines_Update", status=500), 500),
    "not authorized (403)": (
        lambda emu: emu.admin.set_authorization(DEFAULT_CLIENT_ID, ["Microsoft.Compute/virtualMachines/write"]),
        403,
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS), ids=[f"a write refused before the provider: {c}" for c in REFUSALS])
async def test_a_write_refused_before_the_provider_is_not_logged(emu: EmulatorProcess, azure: Azure, case: str) -> None:
    arrange, status = REFUSALS[case]
    arrange(emu)
    answer = await patch_vm_tags(azure)
    assert answer.status_code == status
    assert entries(emu) == []


async def test_a_write_answered_by_a_fault_after_it_was_made_is_logged_as_made(
    emu: EmulatorProcess, azure: Azure
) -> None:
    emu.admin.add_fault(operation="VirtualMachines_Update", phase="after", status=503)
    assert (await patch_vm_tags(azure)).status_code == 503
    assert statuses(entries(emu, resourceId=VM)) == [("BeginRequest", "Started"), ("EndRequest", "Succeeded")]


async def test_an_unauthenticated_write_and_reads_are_not_logged(emu: EmulatorProcess, azure: Azure) -> None:
    await asyncio.to_thread(_unauthenticated, emu)
    await azure.compute.virtual_machines.get("rg-web", "vm-web-01")
    _ = [v async for v in azure.compute.virtual_machines.list_all()]
    assert (await list_page(azure)).status_code == 200
    assert entries(emu) == []


async def test_a_failed_write_is_logged_as_failed(emu: EmulatorProcess, azure: Azure) -> None:
    path = f"{vault_id('rg-legacy', 'no-such-vault')}/backupPolicies/p?api-version=2026-10-01"
    answer = await send(azure, "PUT", path, {"properties": {"backupManagementType": "AzureIaasVM"}})
    assert answer.status_code >= 400
    events = entries(emu)
    assert statuses(events) == [("BeginRequest", "Started"), ("EndRequest", "Failed")]
    assert events[-1]["level"] == "Error"
    assert events[-1]["subStatus"]["localizedValue"].endswith(f"(HTTP Status Code: {answer.status_code})")
    assert json.loads(events[-1]["properties"]["statusMessage"])["code"] == answer.json()["error"]["code"]


async def test_a_long_running_write_gets_its_final_entry_when_it_completes(emu: EmulatorProcess, azure: Azure) -> None:
    answer = await send(
        azure,
        "POST",
        f"{vault_id('rg-legacy', 'rsv-legacy')}/backupFabrics/Azure/refreshContainers?api-version=2026-10-01",
    )
    assert answer.status_code == 202
    fabric = f"{vault_id('rg-legacy', 'rsv-legacy')}/backupFabrics/Azure"
    deadline = time.monotonic() + 10
    while len(events := entries(emu, resourceId=fabric)) < 3:
        assert time.monotonic() < deadline, f"no final entry: {statuses(events)}"
        await asyncio.sleep(0.02)
    assert statuses(events) == [("BeginRequest", "Started"), ("EndRequest", "Accepted"), ("EndRequest", "Succeeded")]
    assert len({e["correlationId"] for e in events}) == 1
    assert (
        events[0]["operationName"]["value"]
        == "Microsoft.RecoveryServices/vaults/backupFabrics/refreshContainers/action"
    )
    assert events[1]["eventTimestamp"] < events[2]["eventTimestamp"]


# -- the visibility delay ----------------------------------------------------------------------------


async def test_an_entry_is_listed_only_after_the_delay(emu: EmulatorProcess, azure: Azure) -> None:
    emu.admin.set_settings(activityLogDelay=60)
    await patch_vm_tags(azure)
    logged = entries(emu)
    assert len(logged) == 2
    assert emu.admin.activity_log(SUB, visible_only=True) == []
    assert (await list_page(azure)).json()["value"] == []
    emu.admin.advance_clock(61)
    listed = (await list_page(azure)).json()["value"]
    assert [e["eventDataId"] for e in listed] == [e["eventDataId"] for e in reversed(logged)]  # newest first
    event, submitted = (activity_log.parse_time(listed[0][k]) for k in ("eventTimestamp", "submissionTimestamp"))
    assert submitted - event == pytest.approx(60, abs=0.001)


# -- ActivityLogs_List ---------------------------------------------------------------------------------


async def test_the_list_filters_by_time_and_scope(emu: EmulatorProcess, azure: Azure) -> None:
    emu.admin.set_settings(activityLogDelay=0)
    await patch_vm_tags(azure)
    emu.admin.set_storage_network_rules(SUB, "rg-legacy", "stlegacyvhds", bypass="AzureServices")

    async def ids(query: str) -> set[str]:
        answer = await list_page(azure, f"$filter={query}")
        assert answer.status_code == 200, answer.text()
        return {e["resourceId"] for e in answer.json()["value"]}

    storage = f"/subscriptions/{SUB}/resourceGroups/rg-legacy/providers/Microsoft.Storage/storageAccounts/stlegacyvhds"
    assert await ids(SINCE) == {VM, storage}
    assert await ids(f"{SINCE} and resourceGroupName eq 'RG-WEB'") == {VM}
    assert await ids(f"{SINCE} and resourceUri eq '{storage}'") == {storage}
    assert await ids(f"{SINCE} and resourceProvider eq 'microsoft.storage'") == {storage}
    assert await ids("eventTimestamp ge '2000-01-01T00:00:00Z' and eventTimestamp le '2001-01-01T00:00:00Z'") == set()
    vm_end = entries(emu, resourceId=VM)[-1]
    assert await ids(f"{SINCE} and correlationId eq '{vm_end['correlationId']}'") == {VM}


async def test_the_list_refuses_other_filters_and_api_versions(emu: EmulatorProcess, azure: Azure) -> None:
    bad = await list_page(azure, "$filter=eventTimestamp gt '2020-01-01'")
    assert (bad.status_code, bad.json()) == (
        400,
        {"code": "BadRequest", "message": "$filter searching parameters invalid"},
    )
    assert (await list_page(azure, "")).status_code == 400
    other = await azure.vaults.send_request(
        HttpRequest("GET", f"{emu.url}{LIST}?api-version=2017-03-01-preview&$filter={SINCE}"), retry_total=0
    )
    assert (other.status_code, other.json()["error"]["code"]) == (400, "NoRegisteredProviderFound")
    assert emu.admin.count("ActivityLogs_List") == 3


async def test_select_returns_only_the_named_properties(emu: EmulatorProcess, azure: Azure) -> None:
    emu.admin.set_settings(activityLogDelay=0)
    await patch_vm_tags(azure)
    answer = await list_page(azure, f"$filter={SINCE}&$select=eventTimestamp,resourceId,httpRequest")
    assert [set(e) for e in answer.json()["value"]] == [{"eventTimestamp", "resourceId", "httpRequest"}] * 2


async def test_the_list_pages_with_a_skiptoken(emu: EmulatorProcess, azure: Azure) -> None:
    emu.admin.set_settings(activityLogDelay=0, pageSize=3)
    for _ in range(4):
        await patch_vm_tags(azure)
    seen: list[str] = []
    page = (await list_page(azure)).json()
    while True:
        seen += [e["eventDataId"] for e in page["value"]]
        if "nextLink" not in page:
            break
        assert page["nextLink"].startswith(f"{emu.url}{LIST}?api-version=2015-04-01&")
        assert "$skiptoken=" in page["nextLink"]
        await patch_vm_tags(azure)  # a write between pages does not shift them
        page = (await list_page(azure, url=page["nextLink"])).json()
    assert len(seen) == len(set(seen)) == 8  # the 8 entries of the first page's time, none twice


# -- the admin API's portal changes ----------------------------------------------------------------


async def test_portal_changes_are_a_persons_writes(emu: EmulatorProcess) -> None:
    vm = emu.admin.add_vm({"name": "vm-new", "resourceGroup": "rg-dev", "tags": {"backup": "daily"}})
    created = entries(emu, **{"eventName.value": "EndRequest"})
    assert [e["operationName"]["value"] for e in created] == [
        *["Microsoft.Network/networkInterfaces/write"] * len(vm["nics"]),
        "Microsoft.Compute/virtualMachines/write",
    ]
    assert {e["caller"] for e in created} == {"admin@contoso.com"}
    assert created[-1]["claims"]["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"] == "admin@contoso.com"
    assert created[-1]["httpRequest"]["clientRequestId"]

    emu.admin.clear_activity_log()
    emu.admin.update_vm(SUB, "rg-dev", "vm-new", {"tags": {"backup": "weekly"}, "caller": "ops@contoso.com"})
    tagged = entries(emu, **{"eventName.value": "EndRequest"})
    assert [(e["operationName"]["value"], e["resourceId"], e["caller"]) for e in tagged] == [
        ("Microsoft.Compute/virtualMachines/write", vm["id"], "ops@contoso.com")
    ]

    emu.admin.clear_activity_log()
    emu.admin.remove_vm(SUB, "rg-dev", "vm-new")
    removed = [e["operationName"]["value"] for e in entries(emu, **{"eventName.value": "EndRequest"})]
    assert removed[0] == "Microsoft.Compute/virtualMachines/delete"
    assert "Microsoft.Network/networkInterfaces/delete" in removed


@pytest.mark.parametrize(
    "patch",
    [
        pytest.param({"agent": {"status": "NotReady"}}, id="the agent stops reporting"),
        pytest.param({"powerState": "stopped"}, id="the power state the agent reports"),
    ],
)
async def test_a_change_only_the_guest_agent_reports_is_not_logged(emu: EmulatorProcess, patch: dict[str, Any]) -> None:
    emu.admin.update_vm(SUB, "rg-web", "vm-web-01", patch)
    assert entries(emu) == []


async def test_nsg_and_storage_changes_in_the_portal_are_logged(emu: EmulatorProcess) -> None:
    nsg = emu.admin.set_nsg_rules(
        SUB,
        "rg-network",
        "nsg-deny-storage",
        [{"name": "allow-storage", "priority": 100, "access": "Allow", "destination": "Storage", "port": "443"}],
    )
    ops = {(e["operationName"]["value"], e["resourceId"]) for e in entries(emu, **{"eventName.value": "EndRequest"})}
    assert (
        "Microsoft.Network/networkSecurityGroups/securityRules/write",
        f"{nsg['id']}/securityRules/allow-storage",
    ) in ops
    assert any(op.endswith("securityRules/delete") for op, _ in ops)  # the rules it replaced
    emu.admin.clear_activity_log()
    account = emu.admin.set_storage_network_rules(SUB, "rg-legacy", "stlegacyvhds", bypass="AzureServices")
    ends = entries(emu, **{"eventName.value": "EndRequest"})
    assert [(e["operationName"]["value"], e["resourceId"]) for e in ends] == [
        ("Microsoft.Storage/storageAccounts/write", account["id"])
    ]
    emu.admin.set_storage_network_rules(SUB, "rg-legacy", "stlegacyvhds", bypass="AzureServices")  # no change
    assert len(entries(emu)) == 2


# -- Azure's example -------------------------------------------------------------------------------

#: keys of the example's entry the emulator does not give, and why
NOT_GIVEN = {
    "authorization.role": "the emulator's identities have deny lists, not role assignments",
    "claims.puid": "a person's Microsoft account id: the emulator's people have none",
    "claims.groups": "a person's group ids: the emulator's people have none",
    "claims.http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": "no pairwise subject id",
    "claims.http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname": "people are known by their UPN only",
    "claims.http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname": "people are known by their UPN only",
}


async def test_every_key_of_azures_example_is_in_the_answers(emu: EmulatorProcess, azure: Azure) -> None:
    emu.admin.set_settings(activityLogDelay=0, pageSize=2)
    emu.admin.update_vm(SUB, "rg-web", "vm-web-01", {"tags": {"owner": "portal"}})
    await patch_vm_tags(azure)
    pages = [(await list_page(azure)).json()]
    while "nextLink" in pages[-1]:
        pages.append((await list_page(azure, url=pages[-1]["nextLink"])).json())
    assert len(pages) == 2  # the service principal's Started and Succeeded, then the person's
    example = json.loads(EXAMPLE.read_text())["responses"]["200"]["body"]
    assert missing_from(example, [element_paths(page) for page in pages], NOT_GIVEN) == []


async def test_the_monitor_sdk_lists_and_reads_the_entries(emu: EmulatorProcess, azure: Azure) -> None:
    emu.admin.set_settings(activityLogDelay=0, pageSize=1)
    await patch_vm_tags(azure)
    events = [e async for e in azure.monitor.activity_logs.list(filter=SINCE)]  # two pages, through nextLink
    assert [(e.event_name.value, e.status.value) for e in events] == [
        ("EndRequest", "Succeeded"),
        ("BeginRequest", "Started"),
    ]
    assert events[0].resource_id == VM
    assert events[0].event_timestamp.timestamp() == pytest.approx(events[0].submission_timestamp.timestamp())
    chosen = [e async for e in azure.monitor.activity_logs.list(filter=SINCE, select="resourceId,status")]
    assert {(e.resource_id, e.caller, e.event_timestamp) for e in chosen} == {(VM, None, None)}
