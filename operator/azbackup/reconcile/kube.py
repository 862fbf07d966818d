"""The few Kubernetes calls kopf does not make for us: status of other objects, Secrets, children.

It uses the official `kubernetes` client on a small thread pool, so a slow apiserver never blocks the
event loop (DESIGN §7), and the pool bounds how many calls run at once.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from azbackup import API_GROUP, API_VERSION, metrics
from azbackup.kinds import plural_of
from azbackup.managed import Resource

MERGE_PATCH = "application/merge-patch+json"


class Conflict(Exception):
    """A guarded write met a newer resourceVersion: someone else changed the object first."""


THREADS = 16  # calls in flight at once; urllib3 keeps as many connections, so none is discarded


def load_api_client(kubeconfig: str | None = None) -> k8s.ApiClient:
    configuration = k8s.Configuration()
    try:
        k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    except k8s_config.ConfigException:
        k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, client_configuration=configuration)
    configuration.connection_pool_maxsize = THREADS
    return k8s.ApiClient(configuration)


class Kube:
    def __init__(self, api_client: k8s.ApiClient, threads: int = THREADS) -> None:
        self.api_client = api_client
        self.custom = k8s.CustomObjectsApi(api_client)
        self.core = k8s.CoreV1Api(api_client)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="kube")

    async def _run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    async def patch_status(self, obj: Resource, patch: Mapping[str, Any]) -> str | None:
        """Merge-patch .status; returns the new resourceVersion, or None if the object is gone."""
        metrics.KUBE_WRITES.labels("patch-status").inc()
        try:
            result = await self._run(self.custom.patch_namespaced_custom_object_status, API_GROUP, API_VERSION,
                                     obj.namespace, plural_of(obj.kind), obj.name, {"status": dict(patch)},
                                     _content_type=MERGE_PATCH)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return str(((result or {}).get("metadata") or {}).get("resourceVersion", "")) or None

    async def set_annotations(self, obj: Resource, values: Mapping[str, str], *, guarded: bool) -> Resource:
        """Merge-patch annotations; guarded: only if the object is still at obj.resource_version."""
        metadata: dict[str, Any] = {"annotations": dict(values)}
        if guarded:
            metadata["resourceVersion"] = obj.resource_version
        metrics.KUBE_WRITES.labels("patch-annotations").inc()
        try:
            result = await self._run(self.custom.patch_namespaced_custom_object, API_GROUP, API_VERSION,
                                     obj.namespace, plural_of(obj.kind), obj.name, {"metadata": metadata},
                                     _content_type=MERGE_PATCH)
        except ApiException as exc:
            if exc.status == 409:
                raise Conflict(f"{obj.kind} {obj.namespace}/{obj.name} changed meanwhile") from exc
            raise
        return Resource.from_body(result)

    async def secret_data(self, namespace: str, name: str) -> dict[str, str] | None:
        """Decoded data of a Secret, or None when it does not exist. Values never leave this process."""
        try:
            secret = await self._run(self.core.read_namespaced_secret, name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        out: dict[str, str] = {}
        for key, value in (secret.data or {}).items():
            with contextlib.suppress(ValueError):
                out[key] = base64.b64decode(value).decode()
        for key, value in (secret.string_data or {}).items():
            out[key] = value
        return out

    async def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            result = await self._run(self.custom.get_namespaced_custom_object, API_GROUP, API_VERSION, namespace,
                                     plural_of(kind), name)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return dict(result)

    async def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        meta = body["metadata"]
        metrics.KUBE_WRITES.labels("create").inc()
        result = await self._run(self.custom.create_namespaced_custom_object, API_GROUP, API_VERSION,
                                 meta["namespace"], plural_of(body["kind"]), dict(body))
        return dict(result)

    async def patch(self, kind: str, namespace: str, name: str, patch: Mapping[str, Any]) -> None:
        metrics.KUBE_WRITES.labels("patch").inc()
        await self._run(self.custom.patch_namespaced_custom_object, API_GROUP, API_VERSION, namespace,
                        plural_of(kind), name, dict(patch), _content_type=MERGE_PATCH)

    async def delete(self, kind: str, namespace: str, name: str) -> None:
        metrics.KUBE_WRITES.labels("delete").inc()
        try:
            await self._run(self.custom.delete_namespaced_custom_object, API_GROUP, API_VERSION, namespace,
                            plural_of(kind), name)
        except ApiException as exc:
            if exc.status != 404:
                raise

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        with contextlib.suppress(Exception):
            self.api_client.close()  # type: ignore[no-untyped-call]
