"""What the operator has decided in a vault that Azure's lists may not show yet (issue 14).

A configure-protection write takes a place in the vault and in its policy (Azure's 1000 each). Between
the decision and the item appearing in the vault's shared item list, the place is reserved here, so the
concurrent passes of one vault never decide on the same free place (`limits.capacity` counts these).
And a finished operation is done only once a list read after it finished can show its result: when each
operation was first seen done is kept here too. One `Places` per process (`Context.places`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Places:
    # vault id -> VM id -> (policy name, when reserved); ids lower-cased
    _reserved: dict[str, dict[str, tuple[str, float]]] = field(default_factory=dict)
    # operation URL -> when it was first seen done
    _done_at: dict[str, float] = field(default_factory=dict)

    def reserve(self, vault_id: str, vm_id: str, policy: str, now: float) -> None:
        """A place in the vault (and the policy) for a write about to be sent."""
        self._reserved.setdefault(vault_id.lower(), {})[vm_id.lower()] = (policy, now)

    def release(self, vault_id: str, vm_id: str) -> None:
        """The write is done (the item list shows it) or failed: the list alone counts it now."""
        self._reserved.get(vault_id.lower(), {}).pop(vm_id.lower(), None)

    def reserved(self, vault_id: str, now: float, ttl: float = 600.0) -> dict[str, str]:
        """VM id -> policy of the places reserved in the vault; a reservation never confirmed expires."""
        held = self._reserved.get(vault_id.lower(), {})
        for vm in [vm for vm, (_, at) in held.items() if now - at > ttl]:
            del held[vm]
        return {vm: policy for vm, (policy, _) in held.items()}

    def done_at(self, url: str) -> float | None:
        """When the operation was first seen done; None if not yet."""
        return self._done_at.get(url)

    def seen_done(self, url: str, now: float) -> float:
        """Record (once) that the operation is done; returns when it was first seen so."""
        return self._done_at.setdefault(url, now)

    def forget(self, url: str) -> None:
        self._done_at.pop(url, None)
