"""The Azure Resource Manager routes the emulator serves."""

from __future__ import annotations

from azure_emulator.arm import (
    compute,
    discovery,
    guards,
    jobs,
    monitor,
    network,
    policies,
    protection,
    resources,
    restore,
    storage,
    vaults,
)
from azure_emulator.arm.base import Route, Router

ROUTES: list[Route] = [
    *resources.ROUTES,
    *vaults.ROUTES,
    *policies.ROUTES,
    *protection.ROUTES,
    *discovery.ROUTES,
    *guards.ROUTES,
    *jobs.ROUTES,
    *restore.ROUTES,
    *compute.ROUTES,
    *network.ROUTES,
    *storage.ROUTES,
    *monitor.ROUTES,
]


def router() -> Router:
    return Router(ROUTES)


def operation_names() -> list[str]:
    """Every operation (spec operationId) the emulator serves, as the request counters name them."""
    return sorted({r.operation for r in ROUTES})
