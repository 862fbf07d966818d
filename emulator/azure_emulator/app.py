"""One emulator instance and its aiohttp application: the Entra ID endpoints, the admin API, and ARM
(the steps every ARM request goes through are in `pipeline.py`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from azure_emulator import admin_api, arm, auth, cloud_metadata, pipeline, world
from azure_emulator.admin_writes import WriteLog
from azure_emulator.counters import Counters
from azure_emulator.faults import FaultTable
from azure_emulator.inventory import parse_inventory
from azure_emulator.pipeline import base_url, json_response
from azure_emulator.settings import Settings
from azure_emulator.state import Clock, State
from azure_emulator.throttle import Throttler
from azure_emulator.traffic import TrafficRecorder

log = logging.getLogger("azure_emulator")


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
        self.writes = WriteLog()  #: who wrote what (admin_writes.py)
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

    # -- Entra ID -------------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.StreamResponse:
        tenant = request.match_info["tenant"]
        fault = self.faults.take(request.method, request.path, "Entra_Token")
        if fault is not None:
            early = await pipeline.injected(request, fault, "before")
            if early is not None:
                self.counters.record("Entra_Token", early.status, None, None)
                return early
        form = {k: str(v) for k, v in (await request.post()).items()}
        now = self.clock.now()
        token_url = f"{base_url(request)}{request.path}"
        try:
            identity, audience, acr = auth.authenticate(
                self.state.identity, self.state.tenants(), tenant, form, token_url, now
            )
        except auth.EntraError as exc:
            self.counters.record("Entra_Token", exc.status, None, None)
            return json_response(exc.status, exc.body())
        lifetime = self.settings.token_lifetime
        token = self.tokens.issue(identity, audience, now, lifetime, method=acr)
        self.counters.record("Entra_Token", 200, None, None)
        return json_response(200, auth.token_response(token, lifetime))

    async def _openid(self, request: web.Request) -> web.StreamResponse:
        self.counters.record("Entra_OpenIdConfiguration", 200, None, None)
        return json_response(200, auth.openid_configuration(base_url(request), request.match_info["tenant"]))

    async def _instance_discovery(self, request: web.Request) -> web.StreamResponse:
        authority = request.query.get("authorization_endpoint", f"{base_url(request)}/common")
        return json_response(200, auth.instance_discovery(base_url(request), authority.rsplit("/oauth2", 1)[0]))

    async def _keys(self, request: web.Request) -> web.StreamResponse:
        return json_response(200, {"keys": []})

    async def _metadata_endpoints(self, request: web.Request) -> web.StreamResponse:
        """The cloud metadata document (no token, as ARM serves it), counted as `Metadata_Endpoints`."""
        api_version = next((v for k, v in request.query.items() if k.lower() == "api-version"), None)
        status, body = cloud_metadata.answer(base_url(request), api_version)
        self.counters.record("Metadata_Endpoints", status, None, None)
        return json_response(status, body)

    # -- ARM --------------------------------------------------------------------------------------

    async def _arm(self, request: web.Request) -> web.StreamResponse:
        return await pipeline.handle(self, request)
