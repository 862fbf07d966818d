"""The Azure Resource Manager routes the emulator serves."""

from __future__ import annotations

from azure_emulator.arm import compute, discovery, jobs, network, policies, protection, restore, storage, vaults
from azure_emulator.arm.base import Route, Router

ROUTES: list[Route] = [
    *vaults.ROUTES,
    *policies.ROUTES,
    *protection.ROUTES,
    *discovery.ROUTES,
    *jobs.ROUTES,
    *restore.ROUTES,
    *compute.ROUTES,
    *network.ROUTES,
    *storage.ROUTES,
]


def router() -> Router:
    return Router(ROUTES)


def operation_names() -> list[str]:
    """Every operation (spec operationId) the emulator serves, as the request counters name them."""
    return sorted({r.operation for r in ROUTES})
