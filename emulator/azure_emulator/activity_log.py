"""Azure's Activity Log: one in-memory log per subscription of `EventData` entries, and its `$filter`.

Every write ARM serves (PUT, PATCH, DELETE, POST) becomes a `BeginRequest`/`Started` entry and an
`EndRequest` entry (`Succeeded`, `Accepted` or `Failed`); a long-running write gets its final
`EndRequest` (`Succeeded`/`Failed`, same correlationId) when its operation completes. The admin API
records the entries of a person's change in the portal the same way (`record_change`).

An entry is visible to `ActivityLogs_List` only from `visible_at` (its eventTimestamp plus the
`activityLogDelay` setting when it was recorded; that is its submissionTimestamp).

Shapes: `EventData` of `monitor/.../Microsoft.Insights/stable/2015-04-01/activityLogs_API.json` and its
example `GetActivityLogsFiltered.json`. Pure: no I/O; times are the emulator clock's seconds.
"""

from __future__ import annotations

import http
import itertools
import json
import re
import uuid
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from azure_emulator.lro import Operation, OpStatus

RETENTION = 90 * 86400.0  #: Azure keeps Activity Log events 90 days
MAX_PER_SUBSCRIPTION = 100_000  #: the emulator's bound on one subscription's log (oldest dropped first)
_TICKS_AT_EPOCH = 621_355_968_000_000_000  #: .NET ticks (100 ns since 0001-01-01) at 1970-01-01
#: the Azure portal's application id (the `appid` claim of a person's portal session)
PORTAL_APP_ID = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
DEFAULT_PERSON = "admin@contoso.com"  #: the caller of the example GetActivityLogsFiltered.json
_OID = "http://schemas.microsoft.com/identity/claims/objectidentifier"
_TID = "http://schemas.microsoft.com/identity/claims/tenantid"
_UPN = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
_NAME = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"


# -- who ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """Who made a change: `caller` (UPN of a person, object id of a service principal) and `claims`."""

    name: str
    claims: Mapping[str, str]


def service_principal(
    *, client_id: str, object_id: str, tenant_id: str, audience: str, expires: float, lifetime: float
) -> Caller:
    """A service principal's token: `caller` is its object id, `claims` carry `appid` and the object id."""
    issued = int(expires - lifetime)
    return Caller(
        object_id,
        {
            "aud": audience,
            "iss": f"https://sts.windows.net/{tenant_id}/",
            "iat": str(issued),
            "nbf": str(issued),
            "exp": str(int(expires)),
            "ver": "1.0",
            "appid": client_id,
            "appidacr": "1",
            _OID: object_id,
            _TID: tenant_id,
        },
    )


def person(upn: str, tenant_id: str, now: float) -> Caller:
    """A person signed in to the portal (a stable object id per UPN)."""
    oid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"user:{upn.lower()}"))
    issued = int(now) - 300
    return Caller(
        upn,
        {
            "aud": "https://management.core.windows.net/",
            "iss": f"https://sts.windows.net/{tenant_id}/",
            "iat": str(issued),
            "nbf": str(issued),
            "exp": str(issued + 3900),
            "ver": "1.0",
            "http://schemas.microsoft.com/claims/authnmethodsreferences": "pwd",
            "appid": PORTAL_APP_ID,
            "appidacr": "2",
            _OID: oid,
            _TID: tenant_id,
            _UPN: upn,
            _NAME: upn,
            "name": upn.split("@", 1)[0],
            "http://schemas.microsoft.com/identity/claims/scope": "user_impersonation",
            "http://schemas.microsoft.com/claims/authnclassreference": "1",
        },
    )


# -- what -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One write as the log sees it: the request and who sent it (an ARM request or a portal change)."""

    subscription: str
    tenant_id: str
    resource_id: str  #: the resource written (an action's resource, without the action segment)
    resource_type: str  #: `Namespace/type[/child...]`
    operation_name: str  #: `Microsoft.Compute/virtualMachines/write`, `.../delete`, `.../backup/action`
    method: str
    uri: str
    caller: Caller
    correlation_id: str
    client_request_id: str
    client_ip: str = ""
    service_request_id: str = ""

    @property
    def provider(self) -> str:
        return self.resource_type.split("/", 1)[0]


@dataclass
class Event:
    """One `EventData` entry."""

    change: Change
    operation_id: str
    event_name: str  #: BeginRequest or EndRequest
    status: str  #: Started, Accepted, Succeeded or Failed
    http_status: int | None  #: the subStatus (None: no HTTP answer yet, as for Started)
    timestamp: float
    visible_at: float
    seq: int
    failure: Mapping[str, Any] | None = None  #: the error body of a failed write
    event_data_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def resource_group(self) -> str | None:
        segs = self.change.resource_id.split("/")
        low = [s.lower() for s in segs]
        return segs[low.index("resourcegroups") + 1] if "resourcegroups" in low[:4] and len(segs) > 4 else None

    def to_json(self) -> dict[str, Any]:
        c = self.change
        ticks = _ticks(self.timestamp)
        properties: dict[str, str] = {
            "eventCategory": "Administrative",
            "entity": c.resource_id,
            "message": c.operation_name,
        }
        if self.http_status is not None:
            properties["statusCode"] = _reason(self.http_status)
            if c.service_request_id:
                properties["serviceRequestId"] = c.service_request_id
        if self.failure is not None:
            properties["statusMessage"] = json.dumps(self.failure)
        body: dict[str, Any] = {
            "authorization": {"action": c.operation_name, "scope": c.resource_id},
            "caller": c.caller.name,
            "claims": dict(c.caller.claims),
            "correlationId": c.correlation_id,
            "description": "",
            "eventDataId": self.event_data_id,
            "eventName": _localized(
                self.event_name, "Begin request" if self.event_name == "BeginRequest" else "End request"
            ),
            "category": _localized("Administrative"),
            "httpRequest": {
                "clientRequestId": c.client_request_id,
                "clientIpAddress": c.client_ip,
                "method": c.method,
                "uri": c.uri,
            },
            "id": f"{c.resource_id}/events/{self.event_data_id}/ticks/{ticks}",
            "level": "Error" if self.status == "Failed" else "Informational",
            "resourceGroupName": self.resource_group,
            "resourceProviderName": _localized(c.provider),
            "resourceId": c.resource_id,
            "resourceType": _localized(c.resource_type),
            "operationId": self.operation_id,
            "operationName": _localized(c.operation_name),
            "properties": properties,
            "status": _localized(self.status),
            "subStatus": _localized("", "")
            if self.http_status is None
            else _localized(
                _reason(self.http_status), f"{_phrase(self.http_status)} (HTTP Status Code: {self.http_status})"
            ),
            "eventTimestamp": timestamp(self.timestamp),
            "submissionTimestamp": timestamp(self.visible_at),
            "subscriptionId": c.subscription,
            "tenantId": c.tenant_id,
        }
        if body["resourceGroupName"] is None:
            del body["resourceGroupName"]
        return body


def _localized(value: str, localized: str | None = None) -> dict[str, str]:
    return {"value": value, "localizedValue": value if localized is None else localized}


def _reason(status: int) -> str:
    """`Created`, `OK`, `NoContent`, `BadRequest`: the HTTP reason without spaces, as Azure writes it."""
    return _phrase(status).replace(" ", "").replace("-", "")


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return str(status)


def _ticks(t: float) -> int:
    return _TICKS_AT_EPOCH + round(t * 10_000_000)


def timestamp(t: float) -> str:
    """`2015-01-21T22:14:26.9792776Z`: seconds with seven decimals, as the Activity Log writes them."""
    ticks = _ticks(t) - _TICKS_AT_EPOCH
    whole = datetime.fromtimestamp(ticks // 10_000_000, UTC)
    return f"{whole:%Y-%m-%dT%H:%M:%S}.{ticks % 10_000_000:07d}Z"


# -- $filter --------------------------------------------------------------------------------------


class FilterError(ValueError):
    """A `$filter` the Activity Log does not accept."""


#: the one-field clauses the spec allows after the time range, and the field of the entry each compares
_FIELDS = {
    "resourcegroupname": "resourceGroupName",
    "resourceuri": "resourceId",
    "resourceid": "resourceId",  # what `az monitor activity-log list --resource-id` sends
    "resourceprovider": "resourceProviderName",
    "correlationid": "correlationId",
}
#: clauses `az monitor activity-log list` adds beside one of the above (`--caller`, `--status`)
_EXTRA = {"caller": "caller", "status": "status"}
_CLAUSE = re.compile(r"\s*(\w+)\s+(ge|le|eq)\s+(?:'((?:[^']|'')*)'|([^\s']+))\s*", re.I)
_AND = re.compile(r"and(?=\s)", re.I)


@dataclass(frozen=True)
class Query:
    """A parsed `$filter`: the time range (inclusive) and the field clauses `(field, value)`."""

    start: float
    end: float | None = None
    fields: tuple[tuple[str, str], ...] = ()

    def matches(self, event: Event) -> bool:
        if event.timestamp < self.start or (self.end is not None and event.timestamp > self.end):
            return False
        return all(_field(event, name).lower() == value.lower() for name, value in self.fields)


def _field(event: Event, name: str) -> str:
    c = event.change
    return {
        "resourceGroupName": event.resource_group or "",
        "resourceId": c.resource_id,
        "resourceProviderName": c.provider,
        "correlationId": c.correlation_id,
        "caller": c.caller.name,
        "status": event.status,
    }[name]


def parse_time(text: str) -> float:
    """An ISO 8601 time; without a zone it is UTC (az sends `datetime.utcnow().isoformat()`)."""
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise FilterError(f"cannot read the time '{text}'") from exc
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()


def parse_filter(text: str | None) -> Query:
    """The patterns of the spec: `eventTimestamp ge 'T1' [and eventTimestamp le 'T2']
    [and resourceGroupName|resourceUri|resourceProvider|correlationId eq 'V']`, with what az sends
    besides (unquoted times, `resourceId eq`, `caller eq`, `status eq`). Anything else: FilterError."""
    if not text or not text.strip():
        raise FilterError("a $filter with eventTimestamp ge is required")
    clauses: list[tuple[str, str, str]] = []
    pos = 0
    while True:
        m = _CLAUSE.match(text, pos)
        if m is None:
            raise FilterError(f"cannot read the $filter at '{text[pos:]}'")
        value = m.group(3).replace("''", "'") if m.group(3) is not None else m.group(4)
        clauses.append((m.group(1).lower(), m.group(2).lower(), value))
        pos = m.end()
        if pos == len(text):
            break
        a = _AND.match(text, pos)
        if a is None:
            raise FilterError(f"cannot read the $filter at '{text[pos:]}'")
        pos = a.end()
    start: float | None = None
    end: float | None = None
    fields: list[tuple[str, str]] = []
    for name, op, value in clauses:
        if name == "eventtimestamp" and op == "ge" and start is None:
            start = parse_time(value)
        elif name == "eventtimestamp" and op == "le" and end is None and start is not None:
            end = parse_time(value)
        elif start is None:
            raise FilterError("the $filter must begin with eventTimestamp ge")
        elif op == "eq" and name in _FIELDS and not any(f in _FIELDS.values() for f, _ in fields):
            fields.append((_FIELDS[name], value))
        elif op == "eq" and name in _EXTRA and all(f != _EXTRA[name] for f, _ in fields):
            fields.append((_EXTRA[name], value))
        else:
            raise FilterError(f"the clause '{name} {op}' is not allowed here")
    if start is None:
        raise FilterError("a $filter with eventTimestamp ge is required")
    return Query(start, end, tuple(fields))


def select(body: Mapping[str, Any], names: str | None) -> dict[str, Any]:
    """`$select`: only the named properties (names compared without regard to case; unknown ones ignored)."""
    if not names or not names.strip():
        return dict(body)
    wanted = {n.strip().lower() for n in names.split(",") if n.strip()}
    return {k: v for k, v in body.items() if k.lower() in wanted}


# -- the log --------------------------------------------------------------------------------------


def _end_status(http_status: int, long_running: bool) -> str:
    if http_status >= 400:
        return "Failed"
    return "Accepted" if long_running else "Succeeded"


@dataclass
class _Pending:
    change: Change
    operation_id: str
    operations: list[Operation]
    delay: float


class ActivityLog:
    """The entries of every subscription, oldest first, and the long-running writes still to finish."""

    def __init__(self) -> None:
        self._subs: dict[str, deque[Event]] = {}
        self._pending: list[_Pending] = []
        self._seq = itertools.count()

    def _append(self, event: Event) -> None:
        log = self._subs.setdefault(event.change.subscription.lower(), deque(maxlen=MAX_PER_SUBSCRIPTION))
        log.append(event)
        horizon = event.timestamp - RETENTION
        while log and log[0].timestamp < horizon:
            log.popleft()

    def _event(
        self,
        change: Change,
        operation_id: str,
        name: str,
        status: str,
        http_status: int | None,
        at: float,
        delay: float,
        failure: Mapping[str, Any] | None = None,
    ) -> None:
        self._append(Event(change, operation_id, name, status, http_status, at, at + delay, next(self._seq), failure))

    def record_write(
        self,
        change: Change,
        *,
        http_status: int,
        long_running: bool,
        at: float,
        delay: float,
        failure: Mapping[str, Any] | None = None,
        operations: Sequence[Operation] = (),
    ) -> None:
        """A write ARM answered: Started, then its EndRequest; a long-running one's final entry comes
        when `operations` (the operations it started) are done, or at once when it started none."""
        operation_id = str(uuid.uuid4())
        self._event(change, operation_id, "BeginRequest", "Started", None, at, delay)
        status = _end_status(http_status, long_running)
        self._event(change, operation_id, "EndRequest", status, http_status, at, delay, failure)
        if status != "Accepted":
            return
        if operations:
            self._pending.append(_Pending(change, operation_id, list(operations), delay))
        else:
            self._event(change, operation_id, "EndRequest", "Succeeded", 200, at, delay)

    def record_change(self, change: Change, *, http_status: int, at: float, delay: float) -> None:
        """A change made in the portal (admin API): Started and Succeeded."""
        self.record_write(change, http_status=http_status, long_running=False, at=at, delay=delay)

    def settle(self) -> None:
        """Record the final entry of every long-running write whose operations are all done."""
        still: list[_Pending] = []
        for p in self._pending:
            if not all(op.done for op in p.operations):
                still.append(p)
                continue
            failed = next((op for op in p.operations if op.status is not OpStatus.SUCCEEDED), None)
            ended = max(op.ended or op.due for op in p.operations)
            if failed is None:
                self._event(p.change, p.operation_id, "EndRequest", "Succeeded", 200, ended, p.delay)
            else:
                error = {"code": failed.failure.code, "message": failed.failure.message} if failed.failure else None
                self._event(p.change, p.operation_id, "EndRequest", "Failed", None, ended, p.delay, error)
        self._pending = still

    def entries(self, subscription: str | None = None) -> list[Event]:
        """Every entry (visible or not) of one subscription or all, newest first."""
        self.settle()
        logs: Iterable[deque[Event]] = (
            [self._subs.get(subscription.lower(), deque())] if subscription else list(self._subs.values())
        )
        return sorted((e for log in logs for e in log), key=lambda e: (e.timestamp, e.seq), reverse=True)

    def query(self, subscription: str, query: Query, as_of: float) -> list[Event]:
        """The entries visible at `as_of` that match the filter, newest first."""
        return [e for e in self.entries(subscription) if e.visible_at <= as_of and query.matches(e)]

    def clear(self) -> None:
        self._subs.clear()
        self._pending.clear()
