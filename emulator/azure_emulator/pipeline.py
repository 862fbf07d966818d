"""How the emulator answers an ARM request: a chain of small steps over one `Exchange`.

`handle`: match the route -> injected fault (before) -> `serve` -> injected fault (after) -> counters
-> the traffic record (opt-in, `traffic.py`).
`serve`: the `STEPS` in order, each of which may refuse with an `ArmError` (bearer token -> throttling
-> api-version present -> route -> api-version accepted -> provider registered -> authorization ->
JSON body), then settle due operations -> handler -> Activity Log entries of a write
(`activity_log.py`). Every answer carries `x-ms-request-id` and `x-ms-correlation-request-id`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from azure_emulator import activity_log, apiversions, auth, errors, ids
from azure_emulator.arm import resources
from azure_emulator.arm.base import Call, Principal, Reply, Route
from azure_emulator.errors import ArmError
from azure_emulator.faults import Fault
from azure_emulator.state import State
from azure_emulator.throttle import Kind
from azure_emulator.traffic import TrafficRecorder

if TYPE_CHECKING:
    from azure_emulator.app import Emulator

_SUB = re.compile(r"^/subscriptions/([^/]+)", re.I)
DROPPED = 0  #: the status the counters record for a dropped connection
WRITES = frozenset({"PUT", "PATCH", "DELETE", "POST"})  #: what the Activity Log records (ARM: not GET/HEAD)


@dataclass
class Exchange:
    """One ARM request on its way through the steps, and what they learned of it."""

    request: web.Request
    route: Route | None
    params: dict[str, str]
    known: bool  #: the path matched a route, only not its method
    sub: str | None  #: the subscription the path names
    kind: Kind  #: the throttling bucket (reads or writes)
    raw: bytes  #: the request body as sent
    now: float
    headers: dict[str, str] = field(default_factory=dict)  #: what every answer carries, refusals too
    claims: auth.Claims | None = None
    principal: Principal | None = None
    api_version: str = ""
    body: object = None
    reached: bool = False  #: the request got to the resource provider (past ARM's own refusals)
    operations_before: int = 0  #: to tell the operations the handler started

    @property
    def verified(self) -> auth.Claims:
        assert self.claims is not None, "authenticate runs first"
        return self.claims

    @property
    def matched(self) -> Route:
        assert self.route is not None, "require_route runs first"
        return self.route


Step = Callable[["Emulator", Exchange], None]


def base_url(request: web.Request) -> str:
    return f"https://{request.host}"


def api_version_of(request: web.Request) -> str | None:
    """The `api-version` query parameter, whatever its case (ARM reads it case-insensitively)."""
    return next((v for k, v in request.query.items() if k.lower() == "api-version"), None)


# -- the steps -------------------------------------------------------------------------------------


def authenticate(emu: Emulator, x: Exchange) -> None:
    allowed = [*auth.ARM_AUDIENCES, base_url(x.request), *emu.base_urls]
    claims = emu.tokens.verify(x.request.headers.get("Authorization"), x.now, allowed)
    identity = emu.state.identity(claims.tenant_id, claims.client_id)
    x.claims = claims
    x.principal = Principal(claims.client_id, claims.object_id, claims.tenant_id, identity)


def throttle(emu: Emulator, x: Exchange) -> None:
    """ARM's token buckets per subscription and principal; only requests under a subscription count."""
    if x.sub is None:
        return
    principal = x.verified.object_id
    decision = emu.throttler.check(x.sub, principal, x.kind, x.now)
    x.headers[x.kind.header] = str(decision.remaining)
    if not decision.allowed:
        raise _throttled(x.sub, principal, x.kind, decision.retry_after)


def require_api_version(emu: Emulator, x: Exchange) -> None:
    api_version = api_version_of(x.request)
    if api_version is None:
        raise errors.missing_api_version()
    x.api_version = api_version


def require_route(emu: Emulator, x: Exchange) -> None:
    if x.route is not None:
        return
    if x.known:
        raise ArmError(
            405, "MethodNotAllowed", f"The requested resource does not support http method '{x.request.method}'."
        )
    raise errors.unsupported_route(x.request.method, x.request.path)


def accept_api_version(emu: Emulator, x: Exchange) -> None:
    path = x.request.path
    location = location_of(emu.state, path)
    refusal = apiversions.check(apiversions.resource_type(path), x.api_version, location, sorted(emu.state.regions))
    if refusal is not None:
        raise apiversions.refusal_error(refusal)


def require_registration(emu: Emulator, x: Exchange) -> None:
    resources.check_registration(emu.state, x.request.method, x.request.path)


def authorize(emu: Emulator, x: Exchange) -> None:
    claims, route, scope = x.verified, x.matched, x.request.path.rstrip("/")
    if auth.denied(x.principal.identity if x.principal else None, route.action, scope):
        raise auth.authorization_failed(claims.client_id, claims.object_id, route.action, scope)


def parse_body(emu: Emulator, x: Exchange) -> None:
    try:
        x.body = json.loads(x.raw) if x.raw.strip() else None
    except ValueError as exc:
        raise errors.invalid_json(str(exc)) from exc


#: ARM's own checks, in the order ARM makes them; the first refusal answers
STEPS: tuple[Step, ...] = (
    authenticate,
    throttle,
    require_api_version,
    require_route,
    accept_api_version,
    require_registration,
    authorize,
    parse_body,
)


def dispatch(emu: Emulator, x: Exchange) -> Reply:
    """Settle what is due, then hand the request to the resource provider's handler."""
    request = x.request
    x.now = emu.state.settle()
    call = Call(
        emu.state,
        request.method,
        request.path,
        request.raw_path.split("?", 1)[0],
        dict(x.params),
        {k.lower(): v for k, v in request.query.items()},
        x.body,
        base_url(request),
        x.now,
        x.principal,
    )
    x.operations_before = len(emu.state.operations)
    x.reached = True
    return x.matched.handler(call)


def refused(emu: Emulator, x: Exchange, exc: ArmError) -> Reply:
    reply = Reply(exc.status, errors.for_path(x.request.path, exc.envelope()), dict(exc.headers))
    if exc.status == 401:
        reply.headers["WWW-Authenticate"] = (
            f'Bearer authorization_uri="{base_url(x.request)}/{emu.state.tenant_id}", error="invalid_token", '
            f'error_description="{exc.message}"'
        )
    return reply


def serve(emu: Emulator, x: Exchange) -> Reply:
    """The answer to one ARM request: the steps, the handler, the Activity Log of a write."""
    x.headers["x-ms-request-id"] = str(uuid.uuid4())
    x.headers["x-ms-correlation-request-id"] = x.request.headers.get("x-ms-correlation-request-id") or str(uuid.uuid4())
    try:
        for step in STEPS:
            step(emu, x)
        reply = dispatch(emu, x)
    except ArmError as exc:
        reply = refused(emu, x, exc)
    if x.sub is not None:
        x.headers.setdefault(x.kind.header, _untouched_remaining(emu, x.kind))
    reply.headers = {**x.headers, **reply.headers}
    if x.reached and x.request.method in WRITES:
        record_write(emu, x, reply)
    return reply


def record_write(emu: Emulator, x: Exchange, reply: Reply) -> None:
    """The Activity Log entries of a write the resource provider answered (`activity_log.py`)."""
    request, route, claims = x.request, x.matched, x.verified
    sub = emu.state.subscriptions.get(ids.key(x.params.get("sub", "")))
    if sub is None:
        return
    path = request.path.rstrip("/")
    resource_id = path.rsplit("/", 1)[0] if route.action.endswith("/action") else path
    emu.counters.record_write(claims.client_id, resource_id)
    operation_name = route.action.replace("*", x.params.get("ns", "*"), 1)
    started = len(emu.state.operations) - x.operations_before
    long_running = reply.status == 202 or (
        reply.status in (200, 201) and any(k.lower() == "azure-asyncoperation" for k in reply.headers)
    )
    change = activity_log.Change(
        subscription=sub.id,
        tenant_id=claims.tenant_id,
        resource_id=resource_id,
        resource_type=apiversions.resource_type(resource_id) or operation_name.rsplit("/", 1)[0],
        operation_name=operation_name,
        method=request.method,
        uri=str(request.url),
        caller=activity_log.service_principal(
            client_id=claims.client_id,
            object_id=claims.object_id,
            tenant_id=claims.tenant_id,
            audience=claims.audience,
            expires=claims.expires,
            lifetime=emu.settings.token_lifetime,
        ),
        correlation_id=reply.headers["x-ms-correlation-request-id"],
        client_request_id=request.headers.get("x-ms-client-request-id", ""),
        client_ip=request.remote or "",
        service_request_id=reply.headers["x-ms-request-id"],
    )
    failure = reply.body.get("error", reply.body) if reply.status >= 400 and isinstance(reply.body, dict) else None
    emu.state.activity.record_write(
        change,
        http_status=reply.status,
        long_running=long_running,
        at=x.now,
        delay=emu.settings.activity_log_delay,
        failure=failure,
        operations=list(itertools.islice(reversed(emu.state.operations.values()), max(0, started))),
    )


# -- around the steps: faults, counters, the traffic record -----------------------------------------


async def handle(emu: Emulator, request: web.Request) -> web.StreamResponse:
    """The aiohttp handler of every ARM path."""
    route, params, known = emu.router.match(request.method, request.path)
    operation = route.operation if route else "Unknown"
    sub_match = _SUB.match(request.path)
    sub = sub_match.group(1) if sub_match else None
    kind = Kind.of_method(request.method)
    fault = emu.faults.take(request.method, request.path, operation)
    response = await injected(request, fault, "before")
    if response is None:
        raw = await request.read() if request.method in ("PUT", "PATCH", "POST") else b""
        x = Exchange(request, route, params, known, sub, kind, raw, emu.clock.now())
        reply = serve(emu, x)
        for observe in emu.observers:
            observe(operation, reply.status, reply.body)
        after = await injected(request, fault, "after", reply.headers)
        response = after if after is not None else _to_response(reply)
    if sub is not None and kind.header not in response.headers:
        response.headers[kind.header] = _untouched_remaining(emu, kind)
    status = DROPPED if getattr(response, "dropped", False) else response.status
    emu.counters.record(operation, status, kind, sub)
    if request.method in WRITES and sub is not None:
        emu.writes.record(request, status, operation, sub)
    if emu.traffic is not None and status != DROPPED:
        await _record(emu.traffic, request, operation, response)
    return response


async def injected(
    request: web.Request, fault: Fault | None, phase: str, headers: Mapping[str, str] | None = None
) -> web.StreamResponse | None:
    """What an injected fault answers in its phase (`before` or `after` the request is served), if anything."""
    if fault is None or fault.phase != phase:
        return None
    if fault.latency:
        await asyncio.sleep(fault.latency)
    if fault.drop:
        return _drop(request)
    if fault.status:
        return _fault_response(fault, request.path, headers)
    return None


def _untouched_remaining(emu: Emulator, kind: Kind) -> str:
    """The remaining-requests header of an answer the throttler never saw: a full bucket less this one."""
    return str(max(0, int(emu.settings.limits.of(kind).capacity) - 1))


def location_of(state: State, path: str) -> str:
    """The location ARM names in NoRegisteredProviderFound: the path's `locations/{x}`, else the
    resource group's, else the inventory's default location (emulator choice)."""
    segs = [s for s in path.split("/") if s]
    low = [s.lower() for s in segs]
    if "locations" in low and low.index("locations") + 1 < len(segs):
        return ids.norm_location(segs[low.index("locations") + 1])
    if len(segs) >= 4 and low[0] == "subscriptions" and low[2] == "resourcegroups":
        sub = state.subscriptions.get(ids.key(segs[1]))
        found = sub.groups.get(ids.key(segs[3])) if sub else None
        if found:
            return found[1]
    return state.seed.default_location


def _throttled(sub: str, principal: str, kind: Kind, wait: float) -> ArmError:
    seconds = max(1, int(wait + 0.999))
    return ArmError(
        429,
        "SubscriptionRequestsThrottled",
        f"Number of '{kind.value}' requests for subscription '{sub}' actor '{principal}' exceeded. Please "
        f"try again after '{seconds}' seconds after additional tokens are available. Refer to "
        "https://aka.ms/arm-throttling",
        headers={"Retry-After": str(seconds)},
    )


def json_response(status: int, body: object, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        headers=dict(headers or {}),
        content_type="application/json",
        charset="utf-8",
    )


def _to_response(reply: Reply) -> web.Response:
    if reply.status == 204:
        return web.Response(status=204, headers=reply.headers)
    if reply.body is None:
        return web.Response(
            status=reply.status, headers=reply.headers, body=b"", content_type="application/json", charset="utf-8"
        )
    return json_response(reply.status, reply.body, reply.headers)


def _fault_response(fault: Fault, path: str, headers: Mapping[str, str] | None = None) -> web.Response:
    out = {k: v for k, v in (headers or {}).items() if k.lower().startswith("x-ms-ratelimit")}
    if fault.retry_after is not None:
        out["Retry-After"] = str(fault.retry_after)
    body = errors.for_path(path, errors.envelope(fault.error_code, fault.error_message))
    return json_response(fault.status or 500, body, out)


class _Dropped(web.Response):
    dropped = True


def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without an answer (the client sees a connection error)."""
    if request.transport is not None:
        request.transport.abort()
    return _Dropped(status=500)


async def _record(
    recorder: TrafficRecorder, request: web.Request, operation: str, response: web.StreamResponse
) -> None:
    body = response.body if isinstance(response, web.Response) else None
    recorder.record(
        operation=operation,
        url=str(request.url),
        method=request.method,
        request_headers=request.headers,
        request_body=await request.read() if request.method in ("PUT", "PATCH", "POST") else b"",
        status=response.status,
        response_headers=response.headers,
        response_body=body if isinstance(body, bytes) else b"",
    )
