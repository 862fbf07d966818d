"""Which object a change-feed entry concerns, from its resource id alone."""

from __future__ import annotations

import pytest
from azbackup.azure.changes import Change
from azbackup.kinds.changes import Sorted, vault_of

VAULT = "/subscriptions/s/resourcegroups/rg/providers/microsoft.recoveryservices/vaults/v"
ITEM = (f"{VAULT}/backupfabrics/azure/protectioncontainers/iaasvmcontainer;iaasvmcontainerv2;rg;vm1"
        "/protecteditems/vm;iaasvmcontainerv2;rg;vm1")
VM = "/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm1"


def change(resource: str) -> Change:
    return Change(event_id=resource, resource_id=resource, operation="x/write", status="succeeded", at=0.0)


@pytest.mark.parametrize(("resource", "where"), [
    pytest.param(VM, "fleet", id="a VM goes to the fleet"),
    pytest.param(f"{VM}/providers/microsoft.resources/tags/default", "fleet",
                 id="tags written at a VM's scope are the VM's change"),
    pytest.param(ITEM, "items", id="a protected item goes to its vault's items"),
    pytest.param(f"{ITEM}/operationsStatus/x".lower(), "items", id="an item's sub-resource is its item"),
    pytest.param(f"{VAULT}/backuppolicies/daily", "policies", id="a policy wakes its BackupPolicy"),
    pytest.param(VAULT, "vaults", id="the vault wakes its BackupVault"),
    pytest.param(f"{VAULT}/backupconfig/vaultconfig", None, id="other vault settings are read by the vault's pass"),
])
def test_each_change_is_sorted_by_what_it_names(resource: str, where: str | None) -> None:
    sorted_ = Sorted.of([change(resource)])
    found = {name for name in ("fleet", "items", "policies", "vaults") if getattr(sorted_, name)}
    assert found == ({where} if where else set())
    if where == "fleet":
        assert sorted_.fleet == {VM}


def test_the_vault_of_a_resource_inside_it() -> None:
    assert vault_of(ITEM) == VAULT
    assert vault_of(VAULT) == VAULT
    assert vault_of(VM) is None
