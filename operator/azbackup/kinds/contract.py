"""What a kind declares to the generic machinery, and what the machinery hands a kind.

Each kind module ends with one `Kind` value: its names, how to build its external client, and a
dependency table — which object's vault runs it (`vault`), whom it waits for (`waits_for`: it is woken
when one of them turns Ready), what in Azure only one object may manage (`claim`). `reconcile/` reads
these tables and names no kind, so a new kind is a new module here and its schema in `api/`
(crossplane's provider layout: a connector and an external client per kind, references as their own
seam, one generic reconciler).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from prometheus_client.metrics_core import Metric

from azbackup.api import status as api_status
from azbackup.api.names import KindName, KubeAccess
from azbackup.azure.credentials import CredentialSource
from azbackup.azure.gateway import Clients
from azbackup.azure.inventory import Inventory
from azbackup.checks import gather
from azbackup.kinds.places import Places
from azbackup.managed import ExternalClient, Resource

Key = tuple[str, str, str]  # (kind, namespace, name)
FleetInventory = Inventory[gather.Fleet]


def new_inventory(clock: Callable[[], float]) -> FleetInventory:
    """The process's shared snapshots; a subscription's fleet becomes check facts as it is read."""
    from azbackup.azure import lists

    async def load(clients: Clients) -> gather.Fleet:
        return await gather.load_fleet(lists.SubscriptionLists(clients.send_request, clients.subscription_id))

    return Inventory(load, clock)


@dataclass(frozen=True)
class Ref:
    """`spec.<field>.name` names an object of `kind` in the object's own namespace (never another one)."""

    kind: str
    field: str

    def name(self, obj: Resource) -> str | None:
        ref = obj.spec.get(self.field)
        return str(ref["name"]) if isinstance(ref, Mapping) and ref.get("name") else None

    def key(self, obj: Resource) -> Key | None:
        name = self.name(obj)
        return (self.kind, obj.namespace, name) if name else None


class Settings(Protocol):
    """The operator's timing as kinds read it. The fields, their defaults and what they mean are defined
    once, in the runtime's settings (`reconcile.runtime.RuntimeSettings`), which is what a kind is given."""

    @property
    def cluster_name(self) -> str: ...

    @property
    def poll_interval(self) -> float: ...

    @property
    def fast_retry(self) -> float: ...

    @property
    def recheck_interval(self) -> float: ...

    @property
    def sync_period(self) -> float: ...

    @property
    def feed_interval(self) -> float: ...


class Objects(Protocol):
    """The operator's in-memory view of its objects (the registry), read-only."""

    def get(self, key: Key) -> Resource | None: ...

    def of_kind(self, kind: str, namespace: str | None = None) -> list[Resource]: ...

    def first_claim(self, claim: str) -> Resource | None: ...


class KubeWriter(Protocol):
    """The Kubernetes writes a kind may make of its own (children, a finished Job-like object)."""

    async def create(self, manifest: Mapping[str, Any]) -> Mapping[str, Any]: ...

    async def patch(self, kind: str, namespace: str, name: str, patch: Mapping[str, Any]) -> None: ...

    async def delete(self, kind: str, namespace: str, name: str) -> None: ...


class Gateway(Protocol):
    def clients(self, subscription_id: str, source: CredentialSource | None = None) -> Clients: ...


@dataclass(frozen=True)
class Context:
    """What the machinery gives a kind when it builds a client or runs a hook."""

    objects: Objects
    gateway: Gateway
    inventory: FleetInventory
    kube: KubeWriter
    settings: Settings
    clock: Callable[[], float]
    secret: Callable[[str, str], Awaitable[Mapping[str, str] | None]]
    requeue: Callable[[Key, float], None]
    full_pass: Callable[[Key], None] = lambda key: None
    """Start a full pass of this vault object now (the change feed has a gap)."""
    places: Places = field(default_factory=Places)
    """Places reserved in vaults and operations seen done, which Azure's lists may not show yet."""
    kinds: Sequence[Kind] = ()
    """The table of kinds (a hook that acts for several kinds, like the change feed, reads their rules)."""


@dataclass(frozen=True)
class FeedReport:
    """One read of a subscription's change feed, for the runtime's metrics and logs."""

    subscription: str
    entries: int = 0  # entries the read returned
    own: int = 0  # new entries caused by this operator's own writes (ignored)
    changes: int = 0  # new entries of changes made by others
    requeued: int = 0  # objects woken because of them
    reads: int = 0  # Azure reads spent on the resources they named
    lag: float | None = None  # seconds from the oldest change to its being read
    gap: bool = False  # changes may have been missed: full passes were started
    failed: bool = False  # the feed could not be read


@dataclass(frozen=True)
class Wakes:
    """What in a subscription's change feed wakes an object of this kind (DESIGN §7)."""

    vm: Callable[[Resource], str | None] | None = None
    """The VM the object protects (lower-cased id): woken when the VM, its NIC/disk/NSG or its protected
    item changed, and when the fleet had to be read again as a whole."""
    membership: bool = False
    """Woken when VMs appeared, went or were re-tagged in the subscription of its vault."""
    azure_id: Callable[[Resource], str | None] | None = None
    """Its own Azure resource (a policy's id, lower-cased): woken when someone else changed it."""


@dataclass(frozen=True)
class KindMetrics:
    """Prometheus families a kind exports, computed from its objects at scrape time."""

    names: tuple[str, ...]
    """The exported names (the dashboard and the README may name only exported metrics)."""
    collect: Callable[[Iterable[Resource]], Iterable[Metric]]
    """The families, from every object the operator holds (of all kinds: pick yours)."""


ClientFactory = Callable[[Resource, Context], Awaitable[ExternalClient]]
Hook = Callable[[Resource, Context], Awaitable[None]]
Follow = Callable[[Resource, Context], Awaitable[FeedReport | None]]


@dataclass(frozen=True)
class Kind:
    """One kind's entry in the table the controllers, the registry and the runtime read."""

    names: KindName
    client: ClientFactory
    crd: Callable[[], dict[str, Any]]
    """Builds its CustomResourceDefinition (`api/crds.py`); `make crds` writes it to crds/ and the chart."""
    status: type[api_status.CommonStatus]
    """Its status, typed (`api/status.py`): what the kind reads and writes, checked against the CRD's schema."""
    vault: Ref | None = None
    """The object whose vault worker runs this one: a vault itself, or an object that has one.
    None: this kind is a vault, with a worker of its own."""
    waits_for: tuple[Ref, ...] = ()
    """Woken at once when one of these turns Ready (instead of at the vault's next pass)."""
    claim: Callable[[Resource], str | None] | None = None
    """An Azure resource only one object may manage; the oldest claimant acts, the others wait."""
    after: Hook | None = None
    """Runs after each pass (e.g. deleting a finished object after its TTL)."""
    full_pass: Hook | None = None
    """Runs when a vault's periodic full pass starts (a vault kind: refresh the shared snapshots)."""
    follow: Follow | None = None
    """Runs every feed interval on a worker-owning object: read what changed in Azure since, and wake
    the objects it concerns. None when the feed was read recently for the same subscription."""
    wakes: Wakes = Wakes()
    """What in the change feed wakes its objects (read by the vault kind's `follow`)."""
    abnormal_true: frozenset[str] = frozenset()
    """Its own condition types whose True is the bad news (Degraded): a Warning Event, heard at once."""
    writes: tuple[KubeAccess, ...] = ()
    """Kubernetes writes beyond its own status (children, deleting itself after a TTL)."""
    metrics: KindMetrics | None = None
    """Prometheus families of its own, if any."""
    shard: Callable[[Resource], str | None] | None = None
    """A worker-owning kind: the shard its objects belong to with dynamic sharding (the vault's
    subscription: ARM meters writes per subscription); the objects it runs follow it."""

    @property
    def name(self) -> str:
        return self.names.kind

    @property
    def runs_worker(self) -> bool:
        return self.vault is None
