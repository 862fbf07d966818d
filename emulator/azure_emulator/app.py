"""One emulator instance and its aiohttp application: ARM dispatch, the Entra ID endpoints, the admin API.

Every ARM request goes through the same steps: injected fault (before) -> bearer token -> throttling
-> api-version -> route -> authorization -> settle due operations -> handler -> Activity Log entries
of a write (`activity_log.py`) -> injected fault (after) -> counters -> the traffic record (opt-in,
`traffic.py`). Every answer carries `x-ms-request-id` and `x-ms-correlation-request-id`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from azure_emulator import activity_log, apiversions, arm, auth, cloud_metadata, errors, ids, world
from azure_emulator.arm import resources
from azure_emulator.arm.base import Call, Principal, Reply, Route
from azure_emulator.counters import Counters
from azure_emulator.errors import ArmError
from azure_emulator.faults import Fault, FaultTable
from azure_emulator.inventory import parse_inventory
from azure_emulator.settings import Settings
from azure_emulator.state import Clock, State
from azure_emulator.throttle import Kind, Throttler
from azure_emulator.traffic import TrafficRecorder

log = logging.getLogger("azure_emulator")
_SUB = re.compile(r"^/subscriptions/([^/]+)", re.I)
DROPPED = 0  #: the status the counters record for a dropped connection
WRITES = frozenset({"PUT", "PATCH", "DELETE", "POST"})  #: what the Activity Log records (ARM: not GET/HEAD)


class Emulator:
    """The state of one emulator and the services around it (tokens, throttling, faults, counters)."""

    def __init__(self, document: Mapping[str, Any], settings: Settings | None = None) -> None:
        self.document = dict(document)
        self.settings = settings or Settings()
        self.clock = Clock()
        self.state: State = world.build_state(parse_inventory(self.document), self.settings, self.clock)
        self.tokens = auth.TokenService()
        self.throttler = Throttler(self.settings.limits, self.settings.throttling)
        self.faults = FaultTable()
        self.counters = Counters()
        self.router = arm.router()
        self.base_urls: list[str] = []  #: set by the server once it listens
        #: called with (operation, status, body) for every ARM answer (debugging, conformance tests)
        self.observers: list[Callable[[str, int, Any], None]] = []
        self.ca_bundle: str = ""
        #: opt-in record of every ARM exchange for Azure's validator (`AZURE_EMULATOR_TRAFFIC_DIR`)
        self.traffic: TrafficRecorder | None = TrafficRecorder.from_environment()

    # -- configuration ------------------------------------------------------------------------

    def apply_settings(self, settings: Settings) -> None:
        self.settings = settings
        self.state.settings = settings
        self.throttler.configure(enabled=settings.throttling, limits=settings.limits)

    def reset(self, *, counters: bool = True, faults: bool = True) -> None:
        """Back to the seed inventory (the clock offset too)."""
        self.clock = Clock()
        self.state = world.build_state(parse_inventory(self.document), self.settings, self.clock)
        self.throttler.reset()
        if counters:
            self.counters.reset()
        if faults:
            self.faults.clear()

    @property
    def url(self) -> str:
        return self.base_urls[0] if self.base_urls else ""

    # -- the application ----------------------------------------------------------------------

    def application(self) -> web.Application:
        from azure_emulator import admin_api

        app = web.Application(middlewares=[self._ids_middleware], client_max_size=16 * 1024 * 1024)
        admin_api.add_routes(app, self)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_post("/{tenant}/oauth2/token", self._token)
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._openid)
        app.router.add_get("/{tenant}/.well-known/openid-configuration", self._openid)
        app.router.add_get("/common/discovery/instance", self._instance_discovery)
        app.router.add_get("/{tenant}/discovery/instance", self._instance_discovery)
        app.router.add_get("/{tenant}/discovery/v2.0/keys", self._keys)
        app.router.add_get("/{tenant}/discovery/keys", self._keys)
        app.router.add_get("/metadata/endpoints", self._metadata_endpoints)
        app.router.add_route("*", "/{tail:.*}", self._arm)
        return app

    @web.middleware
    async def _ids_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        response = await handler(request)
        response.headers.setdefault("x-ms-request-id", str(uuid.uuid4()))
        response.headers.setdefault(
            "x-ms-correlation-request-id", request.headers.get("x-ms-correlation-request-id") or str(uuid.uuid4())
        )
        return response

    def _base(self, request: web.Request) -> str:
        return f"https://{request.host}"

    # -- Entra ID -------------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.StreamResponse:
        tenant = request.match_info["tenant"]
        fault = self.faults.take(request.method, request.path, "Entra_Token")
        if fault is not None:
            early = await self._fault_before(request, fault)
            if early is not None:
                self.counters.record("Entra_Token", early.status, None, None)
                return early
        form = {k: str(v) for k, v in (await request.post()).items()}
        now = self.clock.now()
        token_url = f"{self._base(request)}{request.path}"
        try:
            identity, audience, acr = auth.authenticate(
                self.state.identity, self.state.tenants(), tenant, form, token_url, now
            )
        except auth.EntraError as exc:
            self.counters.record("Entra_Token", exc.status, None, None)
            return _json(exc.status, exc.body())
        lifetime = self.settings.token_lifetime
        token = self.tokens.issue(identity, audience, now, lifetime, method=acr)
        self.counters.record("Entra_Token", 200, None, None)
        return _json(200, auth.token_response(token, lifetime))

    async def _openid(self, request: web.Request) -> web.StreamResponse:
        self.counters.record("Entra_OpenIdConfiguration", 200, None, None)
        return _json(200, auth.openid_configuration(self._base(request), request.match_info["tenant"]))

    async def _instance_discovery(self, request: web.Request) -> web.StreamResponse:
        authority = request.query.get("authorization_endpoint", f"{self._base(request)}/common")
        return _json(200, auth.instance_discovery(self._base(request), authority.rsplit("/oauth2", 1)[0]))

    async def _keys(self, request: web.Request) -> web.StreamResponse:
        return _json(200, {"keys": []})

    async def _metadata_endpoints(self, request: web.Request) -> web.StreamResponse:
        """The cloud metadata document (no token, as ARM serves it), counted as `Metadata_Endpoints`."""
        api_version = next((v for k, v in request.query.items() if k.lower() == "api-version"), None)
        status, body = cloud_metadata.answer(self._base(request), api_version)
        self.counters.record("Metadata_Endpoints", status, None, None)
        return _json(status, body)

    # -- ARM --------------------------------------------------------------------------------------

    async def _fault_before(self, request: web.Request, fault: Fault) -> web.StreamResponse | None:
        if fault.phase != "before":
            return None
        if fault.latency:
            await asyncio.sleep(fault.latency)
        if fault.drop:
            return _drop(request)
        if fault.status:
            return _fault_response(fault, request.path)
        return None

    async def _arm(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        route, params, known = self.router.match(request.method, path)
        operation = route.operation if route else "Unknown"
        sub_match = _SUB.match(path)
        sub = sub_match.group(1) if sub_match else None
        kind = Kind.of_method(request.method)
        fault = self.faults.take(request.method, path, operation)
        response: web.StreamResponse | None = None
        if fault is not None:
            response = await self._fault_before(request, fault)
        if response is None:
            body = await request.read() if request.method in ("PUT", "PATCH", "POST") else b""
            reply = self._serve(request, route, params, known, body, sub, kind)
            for observe in self.observers:
                observe(operation, reply.status, reply.body)
            response = _to_response(reply)
            if fault is not None and fault.phase == "after":
                if fault.latency:
                    await asyncio.sleep(fault.latency)
                if fault.drop:
                    response = _drop(request)
                elif fault.status:
                    response = _fault_response(fault, request.path, reply.headers)
        if sub is not None and kind.header not in response.headers:
            response.headers[kind.header] = str(max(0, int(self.settings.limits.of(kind).capacity) - 1))
        status = DROPPED if getattr(response, "dropped", False) else response.status
        self.counters.record(operation, status, kind, sub)
        if self.traffic is not None and status != DROPPED:
            await _record(self.traffic, request, operation, response)
        return response

    def _serve(
        self,
        request: web.Request,
        route: Route | None,
        params: dict[str, str],
        known: bool,
        raw: bytes,
        sub: str | None,
        kind: Kind,
    ) -> Reply:
        now = self.clock.now()
        headers: dict[str, str] = {
            "x-ms-request-id": str(uuid.uuid4()),
            "x-ms-correlation-request-id": request.headers.get("x-ms-correlation-request-id") or str(uuid.uuid4()),
        }
        principal: Principal | None = None
        claims: auth.Claims | None = None
        reached = False  #: the request got to the resource provider (past ARM's own refusals)
        operations_before = 0
        try:
            allowed = [*auth.ARM_AUDIENCES, self._base(request), *self.base_urls]
            claims = self.tokens.verify(request.headers.get("Authorization"), now, allowed)
            identity = self.state.identity(claims.tenant_id, claims.client_id)
            principal = Principal(claims.client_id, claims.object_id, claims.tenant_id, identity)
            if sub is not None:
                decision = self.throttler.check(sub, claims.object_id, kind, now)
                headers[kind.header] = str(decision.remaining)
                if not decision.allowed:
                    raise _throttled(sub, claims.object_id, kind, decision.retry_after)
            api_version = next((v for k, v in request.query.items() if k.lower() == "api-version"), None)
            if api_version is None:
                raise errors.missing_api_version()
            if route is None:
                if known:
                    raise ArmError(
                        405,
                        "MethodNotAllowed",
                        f"The requested resource does not support http method '{request.method}'.",
                    )
                raise errors.unsupported_route(request.method, request.path)
            refusal = apiversions.check(
                apiversions.resource_type(request.path), api_version, self._location_of(request.path), self._regions()
            )
            if refusal is not None:
                raise apiversions.refusal_error(refusal)
            resources.check_registration(self.state, request.method, request.path)
            scope = request.path.rstrip("/")
            if auth.denied(identity, route.action, scope):
                raise auth.authorization_failed(claims.client_id, claims.object_id, route.action, scope)
            try:
                body = json.loads(raw) if raw.strip() else None
            except ValueError as exc:
                raise errors.invalid_json(str(exc)) from exc
            now = self.state.settle()
            call = Call(
                self.state,
                request.method,
                request.path,
                request.raw_path.split("?", 1)[0],
                {k: v for k, v in params.items()},
                {k.lower(): v for k, v in request.query.items()},
                body,
                self._base(request),
                now,
                principal,
            )
            operations_before = len(self.state.operations)
            reached = True
            reply = route.handler(call)
        except ArmError as exc:
            reply = Reply(exc.status, errors.for_path(request.path, exc.envelope()), dict(exc.headers))
            if exc.status == 401:
                reply.headers["WWW-Authenticate"] = (
                    f'Bearer authorization_uri="{self._base(request)}/{self.state.tenant_id}", error="invalid_token", '
                    f'error_description="{exc.message}"'
                )
        if sub is not None and kind.header not in headers:
            headers[kind.header] = str(max(0, int(self.settings.limits.of(kind).capacity) - 1))
        reply.headers = {**headers, **reply.headers}
        if reached and route is not None and claims is not None and request.method in WRITES:
            self._log_write(request, route, params, claims, reply, now, operations_before)
        return reply

    def _log_write(
        self,
        request: web.Request,
        route: Route,
        params: Mapping[str, str],
        claims: auth.Claims,
        reply: Reply,
        at: float,
        operations_before: int,
    ) -> None:
        """The Activity Log entries of a write the resource provider answered (`activity_log.py`)."""
        sub = self.state.subscriptions.get(ids.key(params.get("sub", "")))
        if sub is None:
            return
        path = request.path.rstrip("/")
        resource_id = path.rsplit("/", 1)[0] if route.action.endswith("/action") else path
        self.counters.record_write(claims.client_id, resource_id)
        operation_name = route.action.replace("*", params.get("ns", "*"), 1)
        started = len(self.state.operations) - operations_before
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
                lifetime=self.settings.token_lifetime,
            ),
            correlation_id=reply.headers["x-ms-correlation-request-id"],
            client_request_id=request.headers.get("x-ms-client-request-id", ""),
            client_ip=request.remote or "",
            service_request_id=reply.headers["x-ms-request-id"],
        )
        failure = reply.body.get("error", reply.body) if reply.status >= 400 and isinstance(reply.body, dict) else None
        self.state.activity.record_write(
            change,
            http_status=reply.status,
            long_running=long_running,
            at=at,
            delay=self.settings.activity_log_delay,
            failure=failure,
            operations=list(itertools.islice(reversed(self.state.operations.values()), max(0, started))),
        )

    # -- what ARM's api-version refusal names -------------------------------------------------

    def _regions(self) -> list[str]:
        return sorted(self.state.regions)

    def _location_of(self, path: str) -> str:
        """The location ARM names in NoRegisteredProviderFound: the path's `locations/{x}`, else the
        resource group's, else the inventory's default location (emulator choice)."""
        segs = [s for s in path.split("/") if s]
        low = [s.lower() for s in segs]
        if "locations" in low and low.index("locations") + 1 < len(segs):
            return ids.norm_location(segs[low.index("locations") + 1])
        if len(segs) >= 4 and low[0] == "subscriptions" and low[2] == "resourcegroups":
            sub = self.state.subscriptions.get(ids.key(segs[1]))
            found = sub.groups.get(ids.key(segs[3])) if sub else None
            if found:
                return found[1]
        return self.state.seed.default_location


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


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
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
    return _json(reply.status, reply.body, reply.headers)


def _fault_response(fault: Fault, path: str, headers: Mapping[str, str] | None = None) -> web.Response:
    out = {k: v for k, v in (headers or {}).items() if k.lower().startswith("x-ms-ratelimit")}
    if fault.retry_after is not None:
        out["Retry-After"] = str(fault.retry_after)
    body = errors.for_path(path, errors.envelope(fault.error_code, fault.error_message))
    return _json(fault.status or 500, body, out)


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
