"""A fake of the management clients a kind's client calls: canned answers by call path, every call recorded.

`FakeArm().clients()` stands in for `azure.gateway.Clients`: `clients.vaults.vaults.get(...)` is the call
"vaults.vaults.get", answered from `answers` (a value, or an exception to raise). A write named in
`accepted` answers 202 with an operation URL, as ARM does for a long-running operation; any other write
finishes at once. A call named in `pages` is a pager (an async iterator of its items). `send_request`
answers a GET by URL path from `urls` (404 for any other), and any other method with 200.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

from azbackup.managed import Observation
from azbackup.reasons import Reason
from azure.core import exceptions as az

OPERATION_URL = "https://management.azure.com/operations/op-1?api-version=2026-10-01"


def http_error(status: int, code: str) -> az.HttpResponseError:
    """An error as the SDK raises it for an ARM error response."""
    err = az.HttpResponseError(message=code)
    err.status_code = status
    err.error = cast(Any, SimpleNamespace(code=code, message=f"{code} (from the fake)"))
    return err


def reason_of(seen: Observation) -> Reason | None:
    """The one reason an observation reports: why it holds, else why it is pending, else why it is ready."""
    for held in (seen.blocked, seen.limitation):
        if held is not None:
            return held.reason
    pair = seen.pending if (not seen.exists or not seen.usable) else seen.ready
    return pair[0] if pair else None


# One row per failure class the gateway translates: (HTTP status, ARM code, the error class's name).
ERROR_CLASSES = [
    (429, "TooManyRequests", "Throttled"),
    (401, "InvalidAuthenticationToken", "AuthFailed"),
    (403, "AuthorizationFailed", "Forbidden"),
    (503, "ServiceUnavailable", "Unavailable"),
    (409, "AnotherOperationInProgress", "Conflict"),
]


@dataclass
class _Response:
    status_code: int
    body: Mapping[str, Any] | None = None
    error: az.HttpResponseError | None = None

    @property
    def content(self) -> bytes:
        return b"{}" if self.body is not None else b""

    def raise_for_status(self) -> None:
        if self.error is not None:
            raise self.error

    def json(self) -> Mapping[str, Any] | None:
        return self.body


@dataclass
class FakeArm:
    answers: dict[str, Any] = field(default_factory=dict)
    accepted: set[str] = field(default_factory=set)
    pages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    urls: dict[str, Any] = field(default_factory=dict)  # URL path (before "?") -> body, or an error
    calls: list[str] = field(default_factory=list)
    sent: dict[str, Any] = field(default_factory=dict)  # the body of each write, by call path

    def _call(self, path: str) -> Callable[..., Any]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(path)
            bodies = [a for a in args if isinstance(a, Mapping)]
            if bodies:
                self.sent[path] = bodies[-1]
            answer = self.answers.get(path)
            if isinstance(answer, BaseException):
                raise answer
            if (hook := kwargs.get("raw_response_hook")) is not None:
                accepted = path in self.accepted
                headers = {"Azure-AsyncOperation": OPERATION_URL} if accepted else {}
                hook(SimpleNamespace(http_response=SimpleNamespace(status_code=202 if accepted else 200,
                                                                   headers=headers)))
            return answer

        return call

    def _pager(self, path: str) -> Callable[..., Any]:
        async def items() -> AsyncIterator[dict[str, Any]]:
            for item in self.pages[path]:
                yield item

        def call(*args: Any, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
            self.calls.append(path)
            return items()

        return call

    async def send_request(self, request: Any) -> _Response:
        path = str(request.url).split("?", 1)[0]
        self.calls.append(f"{request.method} {path}")
        if request.method != "GET":
            return _Response(200, {})
        answer = self.urls.get(path)
        if isinstance(answer, az.HttpResponseError):
            return _Response(answer.status_code or 500, error=answer)
        if answer is None:
            return _Response(404, error=http_error(404, "ResourceNotFound"))
        return _Response(200, answer)

    def clients(self) -> Any:
        arm = self

        class Group:
            def __init__(self, prefix: str) -> None:
                self._prefix = prefix

            def __getattr__(self, name: str) -> Any:
                path = f"{self._prefix}.{name}"
                if path.count(".") < 2:
                    return Group(path)
                return arm._pager(path) if path in arm.pages else arm._call(path)

        root = SimpleNamespace(vaults=Group("vaults"), backup=Group("backup"), compute=Group("compute"),
                               send_request=self.send_request)
        for group in ("vaults", "backup", "compute"):
            getattr(root, group).send_request = self.send_request
        return root
