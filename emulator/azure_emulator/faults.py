"""Injected faults: match a request by method and path regex or by operation name, then answer with an
error, add latency before or after the state change, or drop the connection; every request, or a seeded
random fraction of them."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from azure_emulator import ids

DEFAULT_CODES = {
    400: "BadRequest",
    401: "AuthenticationFailed",
    403: "AuthorizationFailed",
    404: "NotFound",
    409: "Conflict",
    429: "SubscriptionRequestsThrottled",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


@dataclass
class Fault:
    """One rule. `phase` "before": the fault replaces the request (nothing changes in the emulator);
    "after": the request is applied first, then the answer is delayed, replaced or lost."""

    id: str
    method: str = "*"
    path: str | None = None  #: regex searched in the decoded path (case-insensitive)
    operation: str | None = None  #: operation name, e.g. ProtectedItems_CreateOrUpdate
    status: int | None = None
    code: str | None = None
    message: str | None = None
    count: int | None = 1  #: how many requests it hits; None = every one
    latency: float = 0.0  #: seconds
    phase: str = "before"
    drop: bool = False  #: close the connection instead of answering
    retry_after: int | None = None
    probability: float = 1.0  #: the fraction of matching requests it hits (a seeded draw per request)
    seed: int | None = None  #: seed of that draw, so a run is repeatable
    hits: int = 0
    _regex: re.Pattern[str] | None = field(default=None, repr=False, compare=False)
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.phase not in ("before", "after"):
            raise ValueError("phase is 'before' or 'after'")
        if self.path is None and self.operation is None:
            raise ValueError("a fault needs 'path' (regex) or 'operation'")
        if self.status is None and not self.drop and not self.latency:
            raise ValueError("a fault needs 'status', 'drop' or 'latency'")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability is between 0 and 1")
        self._regex = re.compile(self.path, re.I) if self.path else None
        self._rng = random.Random(self.seed)

    def draw(self) -> bool:
        """Whether this matching request is hit (always, unless a probability below 1 says otherwise)."""
        return self.probability >= 1.0 or self._rng.random() < self.probability

    def matches(self, method: str, path: str, operation: str | None) -> bool:
        if self.count == 0:
            return False
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        if self.operation and (operation is None or self.operation.lower() != operation.lower()):
            return False
        return not (self._regex and not self._regex.search(path))

    @property
    def error_code(self) -> str:
        return self.code or DEFAULT_CODES.get(self.status or 500, "InternalServerError")

    @property
    def error_message(self) -> str:
        return self.message or f"Injected fault {self.id} ({self.error_code})."

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Fault:
        known = {
            "method",
            "path",
            "operation",
            "status",
            "code",
            "message",
            "count",
            "latency",
            "phase",
            "drop",
            "retryAfter",
            "probability",
            "seed",
        }
        unknown = set(doc) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        return cls(
            id=ids.new_id(),
            method=str(doc.get("method", "*")),
            path=doc.get("path"),
            operation=doc.get("operation"),
            status=int(doc["status"]) if doc.get("status") is not None else None,
            code=doc.get("code"),
            message=doc.get("message"),
            count=None if doc.get("count", 1) is None else int(doc.get("count", 1)),
            latency=float(doc.get("latency", 0.0)),
            phase=str(doc.get("phase", "before")),
            drop=bool(doc.get("drop", False)),
            retry_after=int(doc["retryAfter"]) if doc.get("retryAfter") is not None else None,
            probability=float(doc.get("probability", 1.0)),
            seed=int(doc["seed"]) if doc.get("seed") is not None else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "operation": self.operation,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "count": self.count,
            "latency": self.latency,
            "phase": self.phase,
            "drop": self.drop,
            "retryAfter": self.retry_after,
            "probability": self.probability,
            "seed": self.seed,
            "hits": self.hits,
        }


class FaultTable:
    """The active faults, first match wins."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        self._faults.append(fault)
        return fault

    def take(self, method: str, path: str, operation: str | None) -> Fault | None:
        """The first matching fault, with one use consumed."""
        for fault in self._faults:
            if fault.matches(method, path, operation) and fault.draw():
                if fault.count is not None:
                    fault.count -= 1
                fault.hits += 1
                return fault
        return None

    def remove(self, fault_id: str) -> bool:
        before = len(self._faults)
        self._faults = [f for f in self._faults if f.id != fault_id]
        return len(self._faults) != before

    def clear(self) -> None:
        self._faults.clear()

    def to_json(self) -> list[dict[str, Any]]:
        return [f.to_json() for f in self._faults]
