"""One module per kind; `KINDS` is the table the controllers, the registry and the runtime read."""

from azbackup.kinds import ondemand, policy, protectedvm, restoredrill, selector, vault, vmrestore
from azbackup.kinds.contract import Kind

KINDS: tuple[Kind, ...] = (vault.KIND, policy.KIND, protectedvm.KIND, selector.KIND, ondemand.KIND, vmrestore.KIND,
                            restoredrill.KIND)
BY_NAME: dict[str, Kind] = {kind.name: kind for kind in KINDS}

__all__ = ["BY_NAME", "KINDS", "Kind"]
