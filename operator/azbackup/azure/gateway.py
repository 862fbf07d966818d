"""The Azure gateway: one HTTP transport, credentials and management clients, shared by the process.

Everything that talks to Azure goes through here. Clients are cached per (subscription, identity) and
closed on shutdown; every client of a subscription shares that subscription's token buckets, so ARM's
per-subscription limits are respected across kinds. Pointing the operator at the emulator (or at a
sovereign cloud) is a matter of `AzureSettings.arm_endpoint` and `authority_host`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from azure.core.pipeline.transport import AioHttpTransport
from azure.identity.aio import (
    CertificateCredential,
    ClientSecretCredential,
    DefaultAzureCredential,
    WorkloadIdentityCredential,
)
from azure.mgmt.recoveryservices.aio import RecoveryServicesClient
from azure.mgmt.recoveryservicesbackup.aio import RecoveryServicesBackupClient

from azbackup.azure.changes import ActivityLog, FeedCursor, OwnRequests, OwnWritesPolicy
from azbackup.azure.credentials import CredentialSource, invalid_secret
from azbackup.azure.fence import FencePolicy
from azbackup.azure.pipeline import ArmBudgetPolicy, ArmRetryPolicy, CallObserver, NoObserver
from azbackup.azure.ratelimit import Budget, Kind, TokenBucket

PUBLIC_AUTHORITIES = ("login.microsoftonline.com", "login.chinacloudapi.cn", "login.microsoftonline.us")


@dataclass(frozen=True)
class AzureSettings:
    """How to reach Azure. Every field has an environment variable (see `from_env`)."""

    arm_endpoint: str = "https://management.azure.com"
    """Azure Resource Manager endpoint (AZBACKUP_ARM_ENDPOINT)."""
    authority_host: str = "https://login.microsoftonline.com"
    """Entra ID authority host (AZURE_AUTHORITY_HOST, as azure-identity reads it)."""
    ca_bundle: str | None = None
    """Extra CA certificates to trust, PEM (AZBACKUP_CA_BUNDLE); the emulator prints its bundle."""
    budget: Budget = field(default_factory=Budget)
    """Token buckets per subscription, ARM's documented per-principal limits by default."""
    retry_total: int = 3
    """In-SDK retries of transient failures (5xx, connection resets) before the loop takes over."""
    max_inline_retry_wait: float = 2.0
    """Longest Retry-After the SDK may sleep through; longer ones become a requeue."""
    polling_interval: float = 5.0
    """Seconds between polls when the SDK itself follows a long-running operation."""
    feed_lookback: float = 1200.0
    """How far each Activity Log read reaches back before the previous one: entries become visible late."""
    feed_outage: float = 180.0
    """Seconds the Activity Log may fail before the operator falls back to full passes."""
    user_agent: str | None = None
    """Prefix of every request's User-Agent, e.g. the replica's identity with dynamic shards, so ARM's
    request logs (and the emulator's) tell replicas apart."""
    connection_limit: int = 32
    """Connections in the shared pool. ARM meters a subscription at tens of requests per second, so more
    would only wait in its buckets; each TLS connection holds buffers of its own (see tlsbuffer)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ, **overrides: Any) -> AzureSettings:
        values: dict[str, Any] = {}
        if env.get("AZBACKUP_ARM_ENDPOINT"):
            values["arm_endpoint"] = env["AZBACKUP_ARM_ENDPOINT"].rstrip("/")
        if env.get("AZURE_AUTHORITY_HOST"):
            values["authority_host"] = env["AZURE_AUTHORITY_HOST"].rstrip("/")
        if env.get("AZBACKUP_CA_BUNDLE"):
            values["ca_bundle"] = env["AZBACKUP_CA_BUNDLE"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def scope(self) -> str:
        return f"{self.arm_endpoint.rstrip('/')}/.default"

    @property
    def public_authority(self) -> bool:
        return any(self.authority_host.rstrip("/").endswith(host) for host in PUBLIC_AUTHORITIES)


class Clients:
    """The management clients of one (subscription, identity), created on first use."""

    def __init__(self, subscription_id: str, credential: Any, options: Mapping[str, Any],
                 own: OwnRequests | None = None, cursor: Callable[[], FeedCursor] = FeedCursor) -> None:
        self.subscription_id = subscription_id
        self._credential, self._options = credential, dict(options)
        self._made: dict[type[Any], Any] = {}
        self._own, self._cursor = (own if own is not None else OwnRequests()), cursor
        self._feed: ActivityLog | None = None

    @property
    def activity_log(self) -> ActivityLog:
        """What changed in the subscription (azure.changes): one feed, and its cursor, per identity."""
        if self._feed is None:
            self._feed = ActivityLog(self.send_request, self.subscription_id, self._own, self._cursor())
        return self._feed

    def _get(self, cls: type[Any]) -> Any:
        if cls not in self._made:
            self._made[cls] = cls(self._credential, self.subscription_id, **self._options)
        return self._made[cls]

    @property
    def vaults(self) -> RecoveryServicesClient:
        client: RecoveryServicesClient = self._get(RecoveryServicesClient)
        return client

    @property
    def backup(self) -> RecoveryServicesBackupClient:
        client: RecoveryServicesBackupClient = self._get(RecoveryServicesBackupClient)
        return client

    @property
    def compute(self) -> Any:
        """azure-mgmt-compute, imported on first use only (bulk reads go through `send_request`)."""
        from azure.mgmt.compute.aio import ComputeManagementClient

        return self._get(ComputeManagementClient)

    def send_request(self, request: Any, **kwargs: Any) -> Any:
        """Send a raw ARM request through this identity's pipeline (auth, retries, token buckets)."""
        return self.backup.send_request(request, **kwargs)

    async def close(self) -> None:
        for client in self._made.values():
            with contextlib.suppress(Exception):
                await client.close()
        self._made.clear()


class Gateway:
    """Owns the shared transport, credentials, buckets and clients. `start` before use, `close` at exit."""

    def __init__(self, settings: AzureSettings, observer: CallObserver | None = None,
                 fence: Callable[[str | None], bool] | None = None) -> None:
        self.settings = settings
        self.observer: CallObserver = observer or NoObserver()
        self.fence = fence
        """With dynamic shards: whether the shard of the current work is held (every write asks)."""
        self._session: aiohttp.ClientSession | None = None
        self._transport: AioHttpTransport | None = None
        self._credentials: dict[str, Any] = {}
        self._clients: dict[tuple[str, str], Clients] = {}
        self._buckets: dict[str, dict[Kind, TokenBucket]] = {}
        # Every write this process sends, so the change feed can tell its own writes from others'.
        self.own_requests = OwnRequests()
        self.started = time.time()  # what changed before, the first full passes read (the change feed)

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.settings.ca_bundle:
            context.load_verify_locations(cafile=self.settings.ca_bundle)
        return context

    async def start(self) -> None:
        # One connection pool for the whole process: a new client per call would mean a new TCP+TLS
        # handshake per call (azure-sdk-for-python #13797, #46577).
        connector = aiohttp.TCPConnector(limit=self.settings.connection_limit, ssl=self.ssl_context())
        self._session = aiohttp.ClientSession(connector=connector)
        # aiohttp re-sends an "idempotent" request (PUT, DELETE) once, by itself, when the server closes a
        # reused connection before answering; a configure-protection PUT applied before the drop then
        # starts a second configure job. Retries are azure-core's decision (off for such calls), never
        # the transport's. aiohttp has no public switch: its own test client clears the same attribute.
        if hasattr(self._session, "_retry_connection"):
            self._session._retry_connection = False
        self._transport = AioHttpTransport(session=self._session, session_owner=False)

    @property
    def transport(self) -> AioHttpTransport:
        if self._transport is None:
            raise RuntimeError("Gateway.start() was not awaited")
        return self._transport

    def buckets(self, subscription_id: str) -> dict[Kind, TokenBucket]:
        key = subscription_id.lower()
        if key not in self._buckets:
            self._buckets[key] = {kind: self.settings.budget.bucket(kind) for kind in Kind}
        return self._buckets[key]

    def credential(self, source: CredentialSource) -> Any:
        if source.key not in self._credentials:
            try:
                self._credentials[source.key] = self._make_credential(source)
            except ValueError as exc:  # a garbage tenant id or certificate in the Secret
                raise invalid_secret(source, exc) from None
        return self._credentials[source.key]

    def _make_credential(self, source: CredentialSource) -> Any:
        common: dict[str, Any] = {"authority": self.settings.authority_host, "transport": self.transport}
        if not self.settings.public_authority:
            # Instance discovery asks login.microsoftonline.com about the authority; a private
            # authority (the emulator, Azure Stack) is not in its list.
            common["disable_instance_discovery"] = True
        if source.kind == "secret":
            return ClientSecretCredential(source.tenant_id, source.client_id, source.secret, **common)
        if source.kind == "certificate":
            return CertificateCredential(source.tenant_id, source.client_id, certificate_data=source.certificate,
                                         password=source.certificate_password or None, **common)
        if source.kind == "workload":
            return WorkloadIdentityCredential(tenant_id=source.tenant_id, client_id=source.client_id,
                                              token_file_path=source.token_file, **common)
        # In a cluster: workload identity (AZURE_FEDERATED_TOKEN_FILE) or environment variables; the
        # developer-machine credentials would only add slow failing probes to every token refresh.
        return DefaultAzureCredential(exclude_cli_credential=True, exclude_powershell_credential=True,
                                      exclude_visual_studio_code_credential=True,
                                      exclude_shared_token_cache_credential=True,
                                      exclude_developer_cli_credential=True, **common)

    def clients(self, subscription_id: str, source: CredentialSource | None = None) -> Clients:
        source = source or CredentialSource.default()
        key = (subscription_id.lower(), source.key)
        if key not in self._clients:
            options = {
                "base_url": self.settings.arm_endpoint,
                "credential_scopes": [self.settings.scope],
                "transport": self.transport,
                "retry_policy": ArmRetryPolicy(self.settings.max_inline_retry_wait,
                                               retry_total=self.settings.retry_total),
                "per_retry_policies": [ArmBudgetPolicy(self.buckets(subscription_id), self.observer),
                                       OwnWritesPolicy(self.own_requests),
                                       *([FencePolicy(self.fence)] if self.fence else [])],
                "polling_interval": self.settings.polling_interval,
            }
            if self.settings.user_agent:
                options["user_agent"] = self.settings.user_agent
            lookback, outage, started = self.settings.feed_lookback, self.settings.feed_outage, self.started
            self._clients[key] = Clients(subscription_id, self.credential(source), options, self.own_requests,
                                         lambda: FeedCursor(lookback=lookback, outage=outage, not_before=started))
        return self._clients[key]

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self._clients.values()), return_exceptions=True)
        self._clients.clear()
        for cred in self._credentials.values():
            with contextlib.suppress(Exception):
                await cred.close()
        self._credentials.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
