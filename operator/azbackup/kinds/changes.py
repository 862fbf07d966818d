"""Between full passes, what changed in Azure wakes the objects it concerns (DESIGN §7).

Every feed interval each vault's worker asks; the first vault of a subscription to ask reads the
subscription's change feed (`azure.changes`: one call, whatever the fleet size) and the others find it
read. Only the resources the feed names are read again:
- a VM (or its NIC, disk, NSG, VNet) is joined into the fleet snapshot (`checks.fleet_changes`), the
  objects protecting it woken, and those following fleet membership too when VMs appeared, went or were
  re-tagged;
- a protected item is read by its id into its vault's item snapshot, and the object protecting its VM
  woken: a policy changed in the portal is put back at once;
- a backup policy or a vault wakes its object, whose own pass reads and corrects it.
Whom each change wakes is each kind's declared `Kind.wakes`; this module names no other kind.
The operator's own writes come back through the feed and are dropped there. A gap (the feed failed for
minutes, or was not read for hours) starts full passes of the subscription's vaults: never silence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from azbackup.api import names
from azbackup.api.specs import VaultSpec
from azbackup.azure import lists
from azbackup.azure.changes import Change
from azbackup.azure.gateway import Clients
from azbackup.azure.inventory import item_key, lower_id
from azbackup.checks import fleet_changes
from azbackup.kinds.contract import Context, FeedReport, Key, Kind
from azbackup.kinds.references import clients_for_vault
from azbackup.managed import ReconcilePolicy, Resource
from azbackup.toolkit import ids

_ITEM = "/protecteditems/"
_POLICY = "/backuppolicies/"
_TAGS = "/providers/microsoft.resources/tags/"


def vault_of(resource_id: str) -> str | None:
    """The vault id of a resource inside a Recovery Services vault (lower-cased)."""
    marker = "/providers/microsoft.recoveryservices/vaults/"
    at = resource_id.find(marker)
    if at < 0:
        return None
    rest = resource_id[at + len(marker):].split("/", 1)
    return resource_id[:at + len(marker)] + rest[0]


def _through(resource_id: str, marker: str) -> str:
    """The id up to the name after `marker` (a protected item's id for one of its sub-resources)."""
    head, _, tail = resource_id.partition(marker)
    return head + marker + tail.split("/", 1)[0]


@dataclass
class Sorted:
    """The ids a batch of changes names, by what the operator does about them."""

    fleet: set[str] = field(default_factory=set)
    items: set[str] = field(default_factory=set)
    policies: set[str] = field(default_factory=set)
    vaults: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, changes: Iterable[Change]) -> Sorted:
        out = cls()
        for change in changes:
            # Tags written through the Tags API at a resource's scope (the portal's Tags blade) name the
            # scope's `providers/Microsoft.Resources/tags/default`: the change is the resource's.
            resource = change.resource_id.split(_TAGS)[0]
            vault = vault_of(resource)
            if vault is None:
                out.fleet.add(resource)
            elif _ITEM in resource:
                out.items.add(_through(resource, _ITEM))
            elif _POLICY in resource:
                out.policies.add(_through(resource, _POLICY))
            elif resource == vault:
                out.vaults.add(vault)
        return out


def _vault_spec(obj: Resource) -> VaultSpec | None:
    try:
        return VaultSpec.parse(obj.name, obj.spec)
    except (KeyError, TypeError, ValueError):
        return None


def vault_id(obj: Resource) -> str:
    """A vault object's Azure id, lower-cased (the vault kind's `wakes.azure_id`)."""
    spec = _vault_spec(obj)
    return lower_id(str(obj.status.get("vaultId") or (spec.vault_id if spec else "")))


def _vaults_in(ctx: Context, subscription: str) -> list[Resource]:
    return [v for v in ctx.objects.of_kind(names.VAULT.kind)
            if (spec := _vault_spec(v)) is not None and spec.subscription_id.lower() == subscription.lower()]


class _Wake:
    def __init__(self, ctx: Context) -> None:
        self.ctx, self.keys = ctx, set[Key]()

    def __call__(self, objects: Iterable[Resource]) -> None:
        for obj in objects:
            if obj.key not in self.keys and not obj.deleting:
                self.keys.add(obj.key)
                self.ctx.requeue(obj.key, 0.0)


async def follow(obj: Resource, ctx: Context) -> FeedReport | None:
    """The vault kind's `follow` hook: read the subscription's feed if due, and act on what it names."""
    spec = _vault_spec(obj)
    if spec is None or not ctx.settings.feed_interval or obj.policy is ReconcilePolicy.SKIP:
        return None  # a paused vault sends nothing (another vault of the subscription may read the feed)
    clients = await clients_for_vault(obj, ctx)
    feed = clients.activity_log
    if not feed.due(ctx.settings.feed_interval):
        return None
    async with feed.lock:
        read = await feed.read()
    subscription = spec.subscription_id.lower()
    report = FeedReport(subscription, entries=read.entries, own=read.own, changes=len(read.changes), lag=read.lag,
                        gap=read.gap, failed=read.failed)
    if read.gap:
        for vault in _vaults_in(ctx, subscription):
            ctx.full_pass(vault.key)
    if read.gap or not read.changes:
        return report
    wake = _Wake(ctx)
    reads = await _apply(Sorted.of(read.changes), clients, subscription, ctx, wake)
    return replace(report, requeued=len(wake.keys), reads=reads)


@dataclass(frozen=True)
class _Followers:
    """The objects of the subscription's vaults that the feed may wake, by what wakes them (`Kind.wakes`)."""

    ctx: Context
    vaults: dict[str, Resource]  # vault id -> vault object

    def _in_vaults(self) -> list[tuple[Kind, Resource]]:
        keys = {v.key[1:] for v in self.vaults.values()}
        return [(kind, obj) for kind in self.ctx.kinds if kind.vault is not None
                for obj in self.ctx.objects.of_kind(kind.name)
                if (key := kind.vault.key(obj)) is not None and key[1:] in keys]

    def _vault_id_of(self, kind: Kind, obj: Resource) -> str | None:
        vault = self.ctx.objects.get(kind.vault.key(obj) or ("", "", "")) if kind.vault else None
        return vault_id(vault) if vault is not None else None

    def protecting(self, vms: set[str], vault: str | None = None) -> list[Resource]:
        """Objects protecting one of `vms`; with `vault`, only those whose vault it is."""
        return [obj for kind in self.ctx.kinds if kind.wakes.vm is not None
                for obj in self.ctx.objects.of_kind(kind.name)
                if kind.wakes.vm(obj) in vms and (vault is None or self._vault_id_of(kind, obj) == vault)]

    def protecting_any(self) -> list[Resource]:
        """Objects protecting a VM, in the subscription's vaults."""
        return [obj for kind, obj in self._in_vaults() if kind.wakes.vm is not None and kind.wakes.vm(obj)]

    def following_membership(self) -> list[Resource]:
        return [obj for kind, obj in self._in_vaults() if kind.wakes.membership]

    def owning(self, ids: set[str]) -> list[Resource]:
        """Objects whose own Azure resource is one of `ids`."""
        return [obj for kind in self.ctx.kinds if kind.wakes.azure_id is not None
                for obj in self.ctx.objects.of_kind(kind.name) if kind.wakes.azure_id(obj) in ids]


async def _apply(named: Sorted, clients: Clients, subscription: str, ctx: Context, wake: _Wake) -> int:
    followers = _Followers(ctx, {vault_id(v): v for v in _vaults_in(ctx, subscription)})
    reads = 0
    if named.fleet:
        reads += await _apply_fleet(named.fleet, clients, followers, ctx, wake)
    for item_id in sorted(named.items):
        of_vault = vault_of(item_id) or ""
        if of_vault not in followers.vaults:
            continue
        flight = ctx.inventory.vault_items(clients, of_vault, ids.name(of_vault), ids.resource_group(of_vault))
        items = await flight.settled()
        url = lists.resource(item_id)
        if items is None or url is None:
            continue  # not read yet: its first read will be fresh
        raw = await lists.get_if_exists(clients.send_request, url)
        reads += 1
        patched, vm = items.with_item(item_id, raw)
        flight.replace(patched)
        if vm is not None:
            ctx.inventory.read_again([item_key(of_vault, vm)])
            wake(followers.protecting({vm}, of_vault))
    wake(followers.owning(named.policies | {v for v in named.vaults if v in followers.vaults}))
    return reads


async def _apply_fleet(ids: set[str], clients: Clients, followers: _Followers, ctx: Context, wake: _Wake) -> int:
    named = fleet_changes.Named.of(ids, lists.resource_type)
    if not named:
        return 0
    flight = ctx.inventory.fleet(clients)
    fleet = await flight.settled()
    if fleet is None:
        return 0  # not read yet: its first read will be fresh
    source = lists.SubscriptionLists(clients.send_request, clients.subscription_id)
    applied = await fleet_changes.apply_changes(fleet, named, source)
    if applied.fleet is None:
        # Too much changed to read one by one: the whole fleet is read again by whoever needs it next.
        flight.invalidate()
        wake(followers.following_membership())
        wake(followers.protecting_any())
        return applied.reads
    flight.replace(applied.fleet)
    ctx.inventory.read_again(applied.vms)
    wake(followers.protecting(set(applied.vms)))
    if applied.membership:
        wake(followers.following_membership())
    return applied.reads
