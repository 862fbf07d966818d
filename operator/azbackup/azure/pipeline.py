"""azure-core pipeline policies shared by every management client of the operator.

- `ArmBudgetPolicy` paces each attempt through the subscription's token bucket, feeds the bucket with
  ARM's own remaining-count headers, and reports every call to an observer (metrics).
- `ArmRetryPolicy` is azure-core's retry policy, except that it does not sleep through a long
  Retry-After inside a handler: such a response surfaces as an error and becomes a requeue instead.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import AsyncHTTPPolicy, AsyncRetryPolicy

from azbackup.azure.ratelimit import Kind, TokenBucket, kind_of

REMAINING_HEADERS = {
    Kind.READ: "x-ms-ratelimit-remaining-subscription-reads",
    Kind.WRITE: "x-ms-ratelimit-remaining-subscription-writes",
    Kind.DELETE: "x-ms-ratelimit-remaining-subscription-deletes",
}


class CallObserver(Protocol):
    def record(self, kind: Kind, operation: str, status: str, seconds: float, waited: float) -> None:
        """One HTTP attempt to ARM: its kind, operation name, status code (or 'error'), duration, wait."""
        ...


class NoObserver:
    def record(self, kind: Kind, operation: str, status: str, seconds: float, waited: float) -> None:
        return None


def operation_name(method: str, url: str) -> str:
    """A low-cardinality name for a call: method and resource type, e.g.
    'PUT Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems'."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    lowered = [p.lower() for p in parts]
    if "providers" not in lowered:
        return f"{method.upper()} {'/'.join(parts[::2]) or '/'}"
    i = len(lowered) - 1 - lowered[::-1].index("providers")
    namespace, rest = (parts[i + 1] if i + 1 < len(parts) else ""), parts[i + 2:]
    return f"{method.upper()} {namespace}/{'/'.join(rest[::2])}".rstrip("/")


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for name, scale in (("Retry-After", 1.0), ("retry-after-ms", 0.001), ("x-ms-retry-after-ms", 0.001)):
        value = headers.get(name)
        if value:
            try:
                return float(value) * scale
            except ValueError:
                return None
    return None


class ArmBudgetPolicy(AsyncHTTPPolicy[Any, Any]):
    """Per-attempt pacing and accounting for one subscription (a per-retry policy)."""

    def __init__(self, buckets: Mapping[Kind, TokenBucket], observer: CallObserver) -> None:
        super().__init__()
        self.buckets, self.observer = buckets, observer

    async def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
        http = request.http_request
        kind = kind_of(http.method)
        bucket = self.buckets[kind]
        waited = await bucket.acquire()
        operation = operation_name(http.method, http.url)
        started = time.monotonic()
        try:
            response = await self.next.send(request)
        except Exception:
            self.observer.record(kind, operation, "error", time.monotonic() - started, waited)
            raise
        status = response.http_response.status_code
        headers = response.http_response.headers
        remaining = headers.get(REMAINING_HEADERS[kind])
        if remaining is not None and remaining.isdigit():
            bucket.observe_remaining(int(remaining))
        if status == 429:
            bucket.pause(_retry_after(headers) or 10.0)
        self.observer.record(kind, operation, str(status), time.monotonic() - started, waited)
        return response


class ArmRetryPolicy(AsyncRetryPolicy):  # type: ignore[type-arg]
    """Retries transient failures quickly, but hands long Retry-After waits back to the reconcile loop."""

    def __init__(self, max_inline_wait: float = 2.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_inline_wait = max_inline_wait

    def is_retry(self, settings: dict[str, Any], response: PipelineResponse[Any, Any]) -> bool:
        if not super().is_retry(settings, response):
            return False
        wait = self.get_retry_after(response)
        return wait is None or wait <= self.max_inline_wait
