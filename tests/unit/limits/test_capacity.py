from __future__ import annotations

import pytest
from azbackup.limits import capacity
from azbackup.limits.capacity import Item
from azbackup.reasons import Reason

VM = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-new"


def items(n: int, policy: str = "DefaultPolicy", start: int = 0) -> list[Item]:
    return [Item(f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-{i}", policy)
            for i in range(start, start + n)]


@pytest.mark.parametrize(("listed", "pending", "vm", "policy", "want"), [
    pytest.param(items(999), {}, VM, "DefaultPolicy", None, id="the-1000th-vm-fits"),
    pytest.param(items(1000), {}, VM, "daily", Reason.VAULT_CAPACITY_REACHED, id="a-vault-at-1000-refuses"),
    pytest.param(items(999), {VM.replace("new", "other"): "daily"}, VM, "daily", Reason.VAULT_CAPACITY_REACHED,
                 id="writes-sent-but-not-listed-yet-count"),
    pytest.param(items(1000), {}, items(1)[0].vm_id, "DefaultPolicy", None,
                 id="a-vm-already-in-the-full-vault-may-be-rewritten"),
    pytest.param([*items(999), Item(VM.replace("new", "gone"), "DefaultPolicy", soft_deleted=True)], {}, VM,
                 "DefaultPolicy", None, id="soft-deleted-items-take-no-place"),
    pytest.param(items(600, "daily") + items(399, "weekly", 600), {}, VM, "daily", None,
                 id="two-policies-share-the-vault"),
    pytest.param(items(1000, "daily"), {}, items(1000, "daily")[5].vm_id.upper(), "DAILY", None,
                 id="ids-and-policy-names-compare-case-insensitively"),
])
def test_vault_and_policy_capacity(listed: list[Item], pending: dict[str, str], vm: str, policy: str,
                                   want: Reason | None) -> None:
    got = capacity.decide(capacity.count(listed, pending, vm, policy), "rsv", policy)
    assert (got.reason if got else None) == want


@pytest.mark.parametrize(("counts", "want"), [
    pytest.param(capacity.Counts(999, 1000, registered=False, on_policy=False), Reason.POLICY_CAPACITY_REACHED,
                 id="a-policy-at-1000-refuses"),
    pytest.param(capacity.Counts(999, 1000, registered=True, on_policy=True), None,
                 id="a-vm-already-on-the-full-policy-may-be-rewritten"),
    pytest.param(capacity.Counts(1000, 1000, registered=False, on_policy=False), Reason.VAULT_CAPACITY_REACHED,
                 id="a-full-vault-is-named-first"),
    pytest.param(capacity.Counts(999, 999, registered=False, on_policy=False), None, id="room-in-both"),
])
def test_decide_names_the_limit(counts: capacity.Counts, want: Reason | None) -> None:
    got = capacity.decide(counts, "rsv", "daily")
    assert (got.reason if got else None) == want


def test_messages_name_the_count_and_what_to_do() -> None:
    vault = capacity.decide(capacity.Counts(1000, 10, registered=False, on_policy=False), "rsv-prod", "daily")
    policy = capacity.decide(capacity.Counts(999, 1000, registered=False, on_policy=False), "rsv-prod", "daily")
    assert vault is not None
    assert policy is not None
    assert "already protects 1000 VMs" in vault.message
    assert "another BackupVault" in vault.message
    assert "already has 1000 VMs" in policy.message
    assert "another policyRef" in policy.message
