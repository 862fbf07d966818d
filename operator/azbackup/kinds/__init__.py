"""One module per kind; `KINDS` is the one table of kinds.

The controllers, the registry and the runtime read it, and so do the generators of the CRDs and of the
chart's RBAC: a new kind is its module, its schema in `api/`, and one line here.
"""

from typing import Any

from azbackup.api.names import KindName, KubeAccess
from azbackup.kinds import ondemand, policy, protectedvm, restoredrill, selector, vault, vmrestore
from azbackup.kinds.contract import Kind

KINDS: tuple[Kind, ...] = (
    vault.KIND,
    policy.KIND,
    protectedvm.KIND,
    selector.KIND,
    ondemand.KIND,
    vmrestore.KIND,
    restoredrill.KIND,
)
BY_NAME: dict[str, Kind] = {kind.name: kind for kind in KINDS}
NAMES: tuple[KindName, ...] = tuple(kind.names for kind in KINDS)


def plural_of(kind: str) -> str:
    return BY_NAME[kind].names.plural


def crds() -> list[dict[str, Any]]:
    """Every kind's CustomResourceDefinition, in the table's order."""
    return [kind.crd() for kind in KINDS]


def kube_writes() -> list[KubeAccess]:
    """Every Kubernetes write the kinds make besides their own status (for the chart's RBAC)."""
    return [access for kind in KINDS for access in kind.writes]


def metric_names() -> set[str]:
    """The Prometheus names the kinds export themselves (beside `azbackup.metrics.EXPORTED`)."""
    return {name for kind in KINDS if kind.metrics for name in kind.metrics.names}


__all__ = ["BY_NAME", "KINDS", "NAMES", "Kind", "crds", "kube_writes", "metric_names", "plural_of"]
