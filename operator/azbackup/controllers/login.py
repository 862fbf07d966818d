"""How kopf reaches the apiserver: kopf's own credential discovery, on a bounded connection pool.

kopf's built-in session has no connection limit, so an apply burst of thousands of objects opened
one TLS connection per concurrent patch (over 200 at 5000 objects), each with asyncio's 256 KiB read
buffer, and kept them while traffic lasted: about 60 MB at the converge peak. The credentials
(kubeconfig, in-cluster service account, exec plugins) still come from kopf's `login_via_client`.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import kopf

from azbackup.config import OperatorConfig
from azbackup.kinds import KINDS

REQUEST_CONNECTIONS = 24  # short requests in flight at once (patches, Events), beside the streams


def connection_limit(config: OperatorConfig) -> int:
    """The streams kopf keeps open for good, plus room for its short requests; 0 means no limit.

    kopf holds one watch stream per (kind, namespace), its peering kind included, plus the
    namespace and CRD scans when it must discover namespaces. A limit below that would leave
    patches waiting behind streams forever, so with namespace globs (an unknown number of streams)
    the pool stays unbounded.
    """
    if config.namespaces and not config.exact_namespaces:
        return 0
    kinds = len(KINDS) + 1  # and kopf's peering kind
    streams = kinds * max(1, len(config.namespaces)) + (0 if config.exact_namespaces else 2)
    return streams + REQUEST_CONNECTIONS


def bounded_session(info: kopf.ConnectionInfo, limit: int) -> kopf.AiohttpSession:
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit, ssl=info.as_ssl_context()),
        headers=info.as_http_headers(), proxy=info.proxy_url, trust_env=info.trust_env)
    return kopf.AiohttpSession(server=info.server, default_namespace=info.default_namespace,
                               priority=info.priority, expiration=info.expiration, aiohttp_session=session)


@kopf.on.login()
async def login(memo: kopf.Memo, logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
                settings: kopf.OperatorSettings, **_: object) -> kopf.AiohttpSession | None:
    # login_via_client reads files and may run a kubeconfig exec plugin: off the event loop.
    info = await asyncio.to_thread(kopf.login_via_client, logger=logger, settings=settings)
    if info is None:
        return None
    config: OperatorConfig = memo.config
    return bounded_session(info, connection_limit(config))
