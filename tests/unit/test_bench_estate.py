"""The estate benchmark's layout: every VM in one subscription, protected by a vault of that subscription."""

from __future__ import annotations

from collections import Counter

from bench import estate


def test_each_vm_goes_to_a_vault_of_its_own_subscription_and_vaults_share_the_load() -> None:
    vms, subs, vaults = 1000, 8, 16
    docs = estate.manifests(vms, subs, vaults)
    vault_sub = {d["metadata"]["name"]: d["spec"]["subscriptionId"] for d in docs if d["kind"] == "BackupVault"}
    pvms = [d for d in docs if d["kind"] == "ProtectedVM"]
    assert len(vault_sub) == vaults
    assert len(pvms) == vms
    for doc in pvms:
        assert doc["spec"]["vm"].split("/")[2] == vault_sub[doc["spec"]["vaultRef"]["name"]]
    per_vault = Counter(d["spec"]["vaultRef"]["name"] for d in pvms)
    assert max(per_vault.values()) - min(per_vault.values()) <= 1


def test_the_inventory_holds_every_vm_once_and_one_identity_per_replica() -> None:
    doc = estate.inventory(100, 8, 3)
    names = [vm["name"] for sub in doc["subscriptions"] for vm in sub["vms"]]
    assert sorted(names) == [f"vm-{i:05d}" for i in range(100)]
    assert [i["clientId"] for i in doc["identities"]] == [estate.replica_client_id(r) for r in range(3)]


def test_the_floor_is_the_slowest_subscriptions() -> None:
    # 200 writes are ARM's burst; then 10 a second, each subscription's bucket draining in parallel.
    assert estate.floor_seconds({"a": 2700, "b": 200}) == 250.0
    assert estate.floor_seconds({}) == 0.0
