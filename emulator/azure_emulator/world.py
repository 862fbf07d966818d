"""Building the world from an inventory: vaults as Azure creates them, and the seeded vaults, policies
and protected items."""

from __future__ import annotations

from typing import Any

from azure_emulator import ids, immutability, policy_bodies
from azure_emulator.backup_model import Policy, Vault
from azure_emulator.engine import DAY, add_recovery_point, day_of, instant_days, new_item
from azure_emulator.inventory import Inventory, ItemSeed, VaultSeed
from azure_emulator.rp_seed import seed_recovery_point
from azure_emulator.settings import Settings
from azure_emulator.state import Clock, State, Subscription


def default_monitoring() -> dict[str, Any]:
    """Alert settings of a new vault (emulator choice: job-failure alerts on, like the GET example)."""
    return {
        "azureMonitorAlertSettings": {
            "alertsForAllJobFailures": "Enabled",
            "alertsForAllReplicationIssues": "Enabled",
            "alertsForAllFailoverIssues": "Disabled",
        },
        "classicAlertSettings": {
            "alertsForCriticalOperations": "Disabled",
            "emailNotificationsForSiteRecovery": "Enabled",
        },
    }


def new_vault(state: State, sub: Subscription, rg: str, name: str, location: str, now: float) -> Vault:
    """A vault as Azure creates it: GeoRedundant and unlocked, soft delete on, the built-in policies."""
    vault = Vault(
        sub.id, rg, name, ids.norm_location(location), created=now, etag_time=now, monitoring=default_monitoring()
    )
    vault.policies = {
        ids.key(n): Policy(n, p, policy_bodies.policy_type(p)) for n, p in policy_bodies.builtin(day_of(now)).items()
    }
    sub.vaults.put(rg, name, vault)
    state.vaults_by_id[vault.key] = vault
    return vault


def build_state(seed: Inventory, settings: Settings, clock: Clock | None = None) -> State:
    """A fresh world from an inventory, including its vaults, policies and protected items."""
    state = State(seed, settings, clock or Clock())
    now = state.now()
    for sub_seed in seed.subscriptions:
        sub = state.subscription(sub_seed.id)
        for vs in sub_seed.vaults:
            _seed_vault(state, sub, vs, now)
    return state


def _seed_vault(state: State, sub: Subscription, vs: VaultSeed, now: float) -> None:
    state.ensure_group(sub, vs.resource_group, vs.location)
    vault = new_vault(state, sub, vs.resource_group, vs.name, vs.location, now - 30 * DAY)
    vault.tags, vault.sku = dict(vs.tags), {"name": vs.sku}
    vault.redundancy, vault.cross_region_restore = vs.storage_redundancy, vs.cross_region_restore
    vault.soft_delete_state, vault.soft_delete_days = vs.soft_delete, vs.soft_delete_days
    vault.enhanced_security = vs.enhanced_security
    vault.immutability, vault.public_network_access = vs.immutability, vs.public_network_access
    vault.resource_guard = vs.resource_guard
    for p in vs.policies:
        props = policy_bodies.from_short_form(p.name, p.doc, day_of(now))
        vault.policies[ids.key(p.name)] = Policy(p.name, props, policy_bodies.validate(props, None))
    for item_seed in vs.items:
        _seed_item(state, sub, vault, item_seed, now)


def _seed_item(state: State, sub: Subscription, vault: Vault, seed: ItemSeed, now: float) -> None:
    vm = sub.vms.get(seed.vm_resource_group, seed.vm_name)
    if vm is None:
        raise ValueError(
            f"vault '{vault.name}': protected VM '{seed.vm_resource_group}/{seed.vm_name}' is not in the inventory"
        )
    policy = vault.policies.get(ids.key(seed.policy)) if seed.policy else None
    if seed.policy and policy is None:
        raise ValueError(f"vault '{vault.name}': policy '{seed.policy}' does not exist")
    item = new_item(vault, vm, policy.name if policy else None, seed.exclusion, now - 20 * DAY)
    item.state = seed.state
    facts = state.facts(vm)
    days = instant_days(policy)
    if isinstance(seed.recovery_points, int):
        for n in range(seed.recovery_points):
            add_recovery_point(item, vm, facts, now - (seed.recovery_points - n) * DAY, instant_days=days)
    else:
        for doc in seed.recovery_points:
            seed_recovery_point(item, vm, facts, now, doc, instant_days=days)
    if item.recovery_points:
        item.last_backup_time = item.recovery_points[-1].time
        item.last_backup_status = "Completed"
        if item.state == "IRPending":
            item.state = "Protected"
    if seed.last_backup_status == "Failed":
        item.last_backup_status, item.health_status = "Failed", "ActionRequired"
    if seed.soft_deleted:
        item.soft_deleted, item.deleted_at, item.state = True, now - DAY, "ProtectionStopped"
    vault.items[item.key] = item
    if not (item.soft_deleted and immutability.frees_the_vm(vault)):  # as engine.start_delete decides
        state.protection[ids.key(vm.id)] = (vault.key, item.key)
    vault.discovered.add(ids.key(vm.id))
