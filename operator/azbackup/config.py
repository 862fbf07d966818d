"""The operator's settings: one tree of dataclasses, filled from flags and environment variables."""

from __future__ import annotations

import argparse
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from azbackup.azure.gateway import AzureSettings
from azbackup.azure.ratelimit import Budget
from azbackup.reconcile.leases import ShardSettings
from azbackup.reconcile.loop import LoopSettings
from azbackup.reconcile.runtime import RuntimeSettings


@dataclass(frozen=True)
class OperatorConfig:
    """Everything `azbackup run` can be told."""

    azure: AzureSettings = field(default_factory=AzureSettings)
    runtime: RuntimeSettings = field(default_factory=RuntimeSettings)
    namespaces: tuple[str, ...] = ()
    """Namespaces (globs) to watch; empty: the whole cluster. One Deployment per set is sharding."""
    standalone: bool = True
    """No peering: the only replica. With replicas > 1 use peering and distinct priorities."""
    priority: int = 0
    """Peering priority: the highest-priority replica runs, the others stand by."""
    peering_name: str = "azbackup"
    sharding: ShardSettings | None = None
    """Dynamic shards: replicas divide the subscriptions among themselves through Leases."""
    kubeconfig: str | None = None
    worker_limit: int = 1000
    """kopf workers per resource kind. Each holds an object while kopf adds its finalizer and waits for
    its own patches to come back through the watch; handlers only queue work for the vault's worker,
    so a generous bound is cheap, and a small one throttles how fast new objects are even seen."""
    label_selector: str | None = None
    """Only objects with these labels (server-side, kopf >= 1.45): a second way to shard."""
    liveness_endpoint: str | None = None
    """e.g. http://0.0.0.0:8080/healthz"""
    metrics_port: int | None = None
    log_format: str = "text"
    verbose: bool = False

    @property
    def exact_namespaces(self) -> bool:
        """Namespaces named without globs: kopf has nothing to discover, one stream per kind each."""
        return bool(self.namespaces) and not any(ch in ns for ns in self.namespaces for ch in "*?[")


def _env_float(env: Mapping[str, str], name: str) -> float | None:
    value = env.get(name)
    return float(value) if value else None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    env = os.environ
    parser.add_argument("-n", "--namespace", action="append", default=[], dest="namespaces",
                        help="namespace (glob) to watch; repeat for several; default: all namespaces")
    parser.add_argument("--arm-endpoint", default=env.get("AZBACKUP_ARM_ENDPOINT"),
                        help="Azure Resource Manager endpoint (AZBACKUP_ARM_ENDPOINT)")
    parser.add_argument("--authority-host", default=env.get("AZURE_AUTHORITY_HOST"),
                        help="Entra ID authority host (AZURE_AUTHORITY_HOST)")
    parser.add_argument("--ca-bundle", default=env.get("AZBACKUP_CA_BUNDLE"),
                        help="extra CA certificates to trust, PEM (AZBACKUP_CA_BUNDLE)")
    parser.add_argument("--sync-period", type=float, default=_env_float(env, "AZBACKUP_SYNC_PERIOD"),
                        help="seconds between full passes of a vault (default 3600)")
    parser.add_argument("--change-feed-interval", type=float,
                        default=_env_float(env, "AZBACKUP_CHANGE_FEED_INTERVAL"),
                        help="seconds between reads of each subscription's Activity Log, which wake the objects "
                             "a change made outside the operator concerns (default 60; 0 turns it off)")
    parser.add_argument("--poll-interval", type=float, default=_env_float(env, "AZBACKUP_POLL_INTERVAL"),
                        help="seconds between polls of a running Azure operation (default 15)")
    parser.add_argument("--retry-scale", type=float, default=_env_float(env, "AZBACKUP_RETRY_SCALE"),
                        help="multiply every retry delay by this (tests use a small value)")
    parser.add_argument("--concurrency", type=int, default=None, help="objects of one vault at once (32)")
    parser.add_argument("--worker-limit", type=int, default=None, help="kopf workers per kind (1000)")
    parser.add_argument("--write-rate", type=float, default=None,
                        help="ARM writes per second per subscription (10, ARM's refill rate)")
    parser.add_argument("--write-burst", type=int, default=None, help="ARM write burst per subscription (200)")
    parser.add_argument("--cluster-name", default=env.get("AZBACKUP_CLUSTER_NAME", ""),
                        help="cluster name in the owner tag of Azure resources")
    parser.add_argument("--peering", default=None, metavar="NAME",
                        help="enable kopf peering under NAME (active/standby replicas)")
    parser.add_argument("--priority", type=int, default=0, help="peering priority of this replica")
    shard = parser.add_argument_group(
        "dynamic shards", "replicas divide the work by themselves: one shard per Azure subscription, each "
        "held through a coordination.k8s.io Lease by one replica at a time (not with --peering)")
    shard.add_argument("--sharding", action="store_true", help="share the work with the other replicas of the "
                       "shard group (every replica is started with this flag and a distinct --shard-identity)")
    shard.add_argument("--shard-group", default="azbackup", metavar="NAME",
                       help="prefix of the Leases; replicas of one group share the shards (default azbackup)")
    shard.add_argument("--shard-identity", default=env.get("POD_ID") or None, metavar="ID",
                       help="this replica's unique, stable name (default: $POD_ID, else host name and pid); "
                            "also the suffix of its User-Agent to Azure")
    shard.add_argument("--shard-namespace", default=env.get("POD_NAMESPACE") or None, metavar="NS",
                       help="namespace of the Leases (default: $POD_NAMESPACE, else the first --namespace)")
    shard.add_argument("--shard-lease-duration", type=float, default=15.0, metavar="SECONDS",
                       help="a Lease lives this long unrenewed: a dead replica's shards move within it; "
                            "renewed every third of it (default 15)")
    parser.add_argument("--label-selector", default=env.get("AZBACKUP_LABEL_SELECTOR"),
                        help="only objects with these labels, e.g. shard=a (server-side filtering)")
    parser.add_argument("--liveness", default=None, metavar="URL", help="liveness endpoint, e.g. http://0.0.0.0:8080/healthz")
    parser.add_argument("--metrics-port", type=int, default=None, help="serve Prometheus metrics on this port")
    parser.add_argument("--kubeconfig", default=env.get("KUBECONFIG"))
    parser.add_argument("--log-format", choices=["text", "json"], default=env.get("AZBACKUP_LOG_FORMAT", "text"))
    parser.add_argument("-v", "--verbose", action="store_true")


def from_arguments(args: argparse.Namespace) -> OperatorConfig:
    azure = AzureSettings.from_env(arm_endpoint=args.arm_endpoint, authority_host=args.authority_host,
                                   ca_bundle=args.ca_bundle)
    if args.write_rate or args.write_burst:
        budget = Budget()
        azure = replace(azure, budget=replace(
            budget, write_rate=args.write_rate or budget.write_rate, delete_rate=args.write_rate or budget.delete_rate,
            write_capacity=args.write_burst or budget.write_capacity,
            delete_capacity=args.write_burst or budget.delete_capacity))
    loop = LoopSettings()
    if args.poll_interval:
        loop = replace(loop, poll_interval=args.poll_interval)
    if args.retry_scale:
        loop = replace(loop, fast_retry=loop.fast_retry * args.retry_scale,
                       slow_retry=loop.slow_retry * args.retry_scale, max_retry=loop.max_retry * args.retry_scale,
                       adopt_window=loop.adopt_window * args.retry_scale,
                       record_backoff_over=loop.record_backoff_over * args.retry_scale,
                       transient_grace=loop.transient_grace * args.retry_scale,
                       approval_retry=loop.approval_retry * args.retry_scale)
    runtime = RuntimeSettings(loop=loop, cluster_name=args.cluster_name)
    if args.retry_scale:
        runtime = replace(runtime, secret_ttl=runtime.secret_ttl * args.retry_scale,
                          recheck_interval=runtime.recheck_interval * args.retry_scale)
    if args.sync_period:
        runtime = replace(runtime, sync_period=args.sync_period)
    if args.concurrency:
        runtime = replace(runtime, concurrency=args.concurrency)
    if args.change_feed_interval is not None:
        runtime = replace(runtime, feed_interval=max(0.0, args.change_feed_interval))
        # Three reads missed in a row is an outage: fall back to full passes rather than stay blind.
        azure = replace(azure, feed_outage=3 * runtime.feed_interval or azure.feed_outage)
    sharding = None
    if getattr(args, "sharding", False):
        if args.peering is not None:
            raise SystemExit("--sharding and --peering exclude each other: shards are active/active")
        identity = args.shard_identity or f"{socket.gethostname()}-{os.getpid()}"
        namespace = args.shard_namespace or (args.namespaces[0] if args.namespaces else "default")
        sharding = ShardSettings(identity=identity, namespace=namespace, group=args.shard_group,
                                 duration=args.shard_lease_duration)
        azure = replace(azure, user_agent=f"azbackup-replica/{identity}")
    return OperatorConfig(
        sharding=sharding,
        azure=azure, runtime=runtime, namespaces=tuple(args.namespaces), standalone=args.peering is None,
        priority=args.priority, peering_name=args.peering or "azbackup", kubeconfig=args.kubeconfig,
        worker_limit=args.worker_limit or 1000, label_selector=args.label_selector,
        liveness_endpoint=args.liveness, metrics_port=args.metrics_port,
        log_format=args.log_format, verbose=args.verbose)


def parse(argv: Sequence[str]) -> OperatorConfig:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return from_arguments(parser.parse_args(list(argv)))
