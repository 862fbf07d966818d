"""Request counters by operation (the spec's operationId) and status, by kind and by subscription,
so benchmarks read exact Azure call counts from the emulator; and which client wrote which resource,
so a benchmark of several replicas sees a resource written by two of them."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from azure_emulator.throttle import Kind


@dataclass
class _Tally:
    operations: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    kinds: Counter[str] = field(default_factory=Counter)
    throttled: int = 0
    total: int = 0

    def add(self, operation: str, status: int, kind: Kind | None) -> None:
        self.operations[operation][status] += 1
        if kind is not None:
            self.kinds[kind.value] += 1
        if status == 429:
            self.throttled += 1
        self.total += 1

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "operations": {
                op: {"total": sum(c.values()), "byStatus": {str(s): n for s, n in sorted(c.items())}}
                for op, c in sorted(self.operations.items())
            },
            "kinds": {k.value: self.kinds.get(k.value, 0) for k in Kind},
            "throttled": self.throttled,
        }


@dataclass
class _Writers:
    """Writes that reached the resource provider, by resource (lower-cased id) and client id."""

    by_resource: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_client: Counter[str] = field(default_factory=Counter)

    def add(self, client_id: str, resource_id: str) -> None:
        client = client_id.lower()
        self.by_resource[resource_id.lower()][client] += 1
        self.by_client[client] += 1

    def to_json(self, examples: int = 10) -> dict[str, Any]:
        # A resource written by several clients: every write but those of its most frequent writer is
        # a duplicate (with one owner per resource there are none, however often the owner writes).
        shared = {rid: c for rid, c in self.by_resource.items() if len(c) > 1}
        duplicates = sum(sum(c.values()) - max(c.values()) for c in shared.values())
        return {
            "clients": {client: n for client, n in sorted(self.by_client.items())},
            "resources": len(self.by_resource),
            "resourcesWrittenBySeveralClients": len(shared),
            "duplicateWrites": duplicates,
            "examples": {rid: dict(c) for rid, c in sorted(shared.items())[:examples]},
        }


class Counters:
    def __init__(self) -> None:
        self._all = _Tally()
        self._subs: dict[str, _Tally] = defaultdict(_Tally)
        self._writers = _Writers()

    def record(self, operation: str, status: int, kind: Kind | None, subscription: str | None) -> None:
        """Count one answered request. `kind` is None for requests that are not ARM (Entra ID)."""
        self._all.add(operation, status, kind)
        if subscription:
            self._subs[subscription.lower()].add(operation, status, kind)

    def record_write(self, client_id: str, resource_id: str) -> None:
        """One write (PUT, PATCH, POST, DELETE) of `client_id` that reached the resource provider."""
        self._writers.add(client_id, resource_id)

    def count(self, operation: str, status: int | None = None) -> int:
        c = self._all.operations.get(operation, Counter())
        return sum(c.values()) if status is None else c.get(status, 0)

    def reset(self) -> None:
        self._all = _Tally()
        self._subs.clear()
        self._writers = _Writers()

    def to_json(self) -> dict[str, Any]:
        return {
            **self._all.to_json(),
            "subscriptions": {s: t.to_json() for s, t in sorted(self._subs.items())},
            "writers": self._writers.to_json(),
        }
