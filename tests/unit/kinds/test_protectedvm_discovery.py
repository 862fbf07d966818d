"""A VM that Azure Backup's discovery does not list yet is a wait with its own reason, not an Azure error."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import pytest
from azbackup.api.specs import ProtectedVMSpec, VaultSpec
from azbackup.kinds.protectedvm import Freshness, ProtectedVMClient
from azbackup.kinds.references import DEFAULT_POLICY
from azbackup.managed import Observation, Resource, Waiting
from azbackup.reasons import Reason

SUB = "00000000-0000-0000-0000-000000000001"
VM = f"/subscriptions/{SUB}/resourceGroups/rg-apps/providers/Microsoft.Compute/virtualMachines/vm-new"


class Snapshot:
    def __init__(self, value: frozenset[str]) -> None:
        self.value = value

    async def get(self, max_age: float) -> frozenset[str]:
        return self.value


class Discovery:
    """The inventory as the discovery step reads it: a protectable list, and refreshes counted."""

    def __init__(self, listed: frozenset[str]) -> None:
        self.listed, self.refreshes = listed, 0

    def protectable(self, *args: Any) -> Snapshot:
        return Snapshot(self.listed)

    async def discover(self, *args: Any, cooldown: float) -> None:
        self.refreshes += 1


def client(inventory: Discovery) -> ProtectedVMClient:
    vault = VaultSpec.parse("rsv", {"subscriptionId": SUB, "resourceGroup": "rg-backup", "location": "westeurope"})
    spec = ProtectedVMSpec.parse({"vaultRef": {"name": "rsv"}, "vm": VM})
    return ProtectedVMClient(cast(Any, None), cast(Any, inventory), vault, {}, DEFAULT_POLICY, spec,
                             Freshness(discovery=42.0), dt.datetime(2026, 12, 1, tzinfo=dt.UTC))


async def test_an_undiscovered_vm_waits_for_the_next_discovery_without_stalling() -> None:
    inventory = Discovery(frozenset())
    with pytest.raises(Waiting) as waiting:
        await client(inventory).create(Resource("ProtectedVM", "ns", "pvm"), Observation(exists=False))
    assert (waiting.value.hold.reason, waiting.value.hold.stalls, waiting.value.hold.retry_in) == (
        Reason.VM_NOT_DISCOVERABLE, False, 42.0)
    assert inventory.refreshes == 1  # one refreshContainers was asked for before giving up this pass
