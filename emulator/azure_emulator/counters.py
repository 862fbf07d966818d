"""Request counters by operation (the spec's operationId) and status, by kind and by subscription,
so benchmarks read exact Azure call counts from the emulator."""

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


class Counters:
    def __init__(self) -> None:
        self._all = _Tally()
        self._subs: dict[str, _Tally] = defaultdict(_Tally)

    def record(self, operation: str, status: int, kind: Kind | None, subscription: str | None) -> None:
        """Count one answered request. `kind` is None for requests that are not ARM (Entra ID)."""
        self._all.add(operation, status, kind)
        if subscription:
            self._subs[subscription.lower()].add(operation, status, kind)

    def count(self, operation: str, status: int | None = None) -> int:
        c = self._all.operations.get(operation, Counter())
        return sum(c.values()) if status is None else c.get(status, 0)

    def reset(self) -> None:
        self._all = _Tally()
        self._subs.clear()

    def to_json(self) -> dict[str, Any]:
        return {**self._all.to_json(), "subscriptions": {s: t.to_json() for s, t in sorted(self._subs.items())}}
