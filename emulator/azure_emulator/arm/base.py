"""What every ARM handler uses: the request (`Call`), the answer (`Reply`), routes, paging, time formats."""

from __future__ import annotations

import itertools
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from azure_emulator import errors, ids
from azure_emulator.records import Identity
from azure_emulator.state import State, Subscription

T = TypeVar("T")

#: `lastBackupTime` of an item that has never been backed up (seen in real responses).
NEVER = "2001-01-01T00:00:00Z"


@dataclass(frozen=True)
class Principal:
    """Who sent the request, from the verified bearer token."""

    client_id: str
    object_id: str
    tenant_id: str
    identity: Identity | None = None


@dataclass
class Call:
    """One ARM request as handlers see it; path parameters are URL-decoded."""

    state: State
    method: str
    path: str  #: decoded path
    raw_path: str  #: path as sent (keeps %3B), used in nextLink
    params: dict[str, str]
    query: dict[str, str]  #: lower-cased keys
    body: Any
    base: str  #: https://host:port
    now: float
    principal: Principal | None = None

    @property
    def api_version(self) -> str:
        return self.query.get("api-version", "")

    def q(self, name: str) -> str | None:
        return self.query.get(name.lower())

    def url(self, path: str) -> str:
        """An absolute URL on this emulator, carrying the caller's api-version (echoed as ARM does)."""
        return f"{self.base}{path}?api-version={urllib.parse.quote(self.api_version, safe='')}"

    def sub(self) -> Subscription:
        return self.state.subscription(self.params["sub"])

    def json_body(self) -> dict[str, Any]:
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise errors.invalid_json("the body must be a JSON object")
        return self.body


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Call], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    operation: str  #: the spec's operationId, used by the request counters
    action: str  #: the RBAC action the authorization check uses
    handler: Handler
    template: str = ""  #: the path template (`{name}` placeholders), for the api-version table


_PARAM = re.compile(r"\{(\w+)\}")


def route(method: str, template: str, operation: str, action: str, handler: Handler) -> Route:
    """A route from a path template: `{name}` matches one path segment; matching ignores case."""
    regex = _PARAM.sub(
        lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")
    )
    return Route(method.upper(), re.compile(f"^{regex}/?$", re.I), operation, action, handler, template)


class Router:
    def __init__(self, routes: Sequence[Route]) -> None:
        self.routes = list(routes)

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """`(route, params, path_known)`: path_known is True when only the method did not match."""
        known = False
        for r in self.routes:
            m = r.pattern.match(path)
            if m:
                if r.method == method.upper():
                    return r, m.groupdict(), True
                known = True
        return None, {}, known


def iso(t: float | None) -> str | None:
    """`2017-08-03T05:31:07.014604Z`, the backup service's timestamp format."""
    if t is None:
        return None
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> float | None:
    """Filter timestamps: `2016-01-01 00:00:00 AM`, `2016-01-01 00:00:00` or ISO 8601."""
    text = text.strip()
    for fmt in ("%Y-%m-%d %I:%M:%S %p", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


_CLAUSE = re.compile(r"\s*([\w/.]+)\s+eq\s+'((?:[^']|'')*)'\s*", re.I)


def parse_filter(text: str | None) -> dict[str, str]:
    """An OData `$filter` of `name eq 'value'` clauses joined by `and` -> `{name (lower): value}`."""
    out: dict[str, str] = {}
    if not text:
        return out
    for clause in re.split(r"\s+and\s+", text.strip(), flags=re.I):
        m = _CLAUSE.fullmatch(clause)
        if not m:
            raise errors.invalid_input(f"Cannot read the filter clause '{clause}'.")
        out[m.group(1).lower()] = m.group(2).replace("''", "'")
    return out


def page(call: Call, items: Iterable[T], render: Callable[[T], Any]) -> Reply:
    """One page of a list: `{"value": [...], "nextLink": ...}` with `$skipToken` paging.

    `items` may be a lazy iterable; only the items of this page are rendered.
    """
    size = call.state.settings.page_size
    token = call.q("$skipToken") or "0"
    try:
        skip = max(0, int(token))
    except ValueError as exc:
        raise errors.invalid_input(f"Invalid $skipToken '{token}'.") from exc
    chunk = list(itertools.islice(items, skip, skip + size + 1))
    body: dict[str, Any] = {"value": [render(x) for x in chunk[:size]]}
    if len(chunk) > size:
        query = {k: v for k, v in call.query.items() if k not in ("$skiptoken", "api-version")}
        query["$skipToken"] = str(skip + size)
        rest = urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
        body["nextLink"] = f"{call.base}{call.raw_path}?api-version={call.api_version}&{rest}"
    return Reply(200, body)


def accepted(call: Call, *, location: str, async_operation: str | None = None) -> Reply:
    """A 202 with the LRO headers of reference §1.3 (Retry-After never 0)."""
    headers = {"Location": call.url(location), "Retry-After": str(call.state.settings.retry_after)}
    if async_operation:
        headers["Azure-AsyncOperation"] = call.url(async_operation)
    return Reply(202, None, headers)


def tags_of(body: Mapping[str, Any]) -> dict[str, str]:
    tags = body.get("tags") or {}
    if not isinstance(tags, Mapping):
        raise errors.invalid_json("tags must be an object")
    return {str(k): str(v) for k, v in tags.items()}


def ref(rid: str | None) -> dict[str, str] | None:
    return {"id": rid} if rid else None


def drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def same(a: str, b: str) -> bool:
    return ids.key(a) == ids.key(b)


def iaas_only(filters: Mapping[str, str]) -> bool:
    """Whether a `$filter` allows AzureIaasVM items (the only kind the emulator has)."""
    return filters.get("backupmanagementtype", "AzureIaasVM").lower() == "azureiaasvm"
