"""Operator start-up and shut-down: kopf settings, the Azure gateway, the Kubernetes writer, the runtime."""

from __future__ import annotations

import logging
from typing import cast

import kopf

from azbackup import API_GROUP, metrics
from azbackup.api.specs import ANNOTATION_PREFIX
from azbackup.azure.gateway import Gateway
from azbackup.config import OperatorConfig
from azbackup.controllers.diffbase import OwnAnnotationsDiffBase
from azbackup.kinds import BY_NAME, KINDS
from azbackup.managed import Resource
from azbackup.reconcile import journal
from azbackup.reconcile.kube import Kube, load_api_client
from azbackup.reconcile.leases import ShardKeeper
from azbackup.reconcile.registry import Registry
from azbackup.reconcile.runtime import Runtime

log = logging.getLogger("azbackup")


def apply_settings(settings: kopf.OperatorSettings, config: OperatorConfig) -> None:
    """kopf settings that keep its own bookkeeping quiet and bounded (DESIGN §7)."""
    settings.persistence.finalizer = f"{ANNOTATION_PREFIX}/finalizer"
    # Handler progress in annotations only (kopf >= 1.44 no longer writes status.kopf), under our
    # own prefix; the journal's annotations are not part of the essence, so writing them does not
    # make kopf re-run handlers or rewrite its diff-base.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=f"kopf.{ANNOTATION_PREFIX}")
    # Only our own annotations go into the diff-base (a user's large one would not fit twice), minus
    # the journal's, which the operator writes itself.
    settings.persistence.diffbase_storage = OwnAnnotationsDiffBase(
        prefix=f"kopf.{ANNOTATION_PREFIX}", key="last-handled-configuration", own=ANNOTATION_PREFIX,
        ignored=(journal.PENDING, journal.SUCCEEDED, journal.FAILED))
    settings.posting.reporting_component = "azbackup-operator"
    settings.posting.loggers = False  # Events are posted explicitly, one per condition transition
    settings.queueing.worker_limit = config.worker_limit
    settings.execution.max_workers = 4
    settings.peering.standalone = config.standalone
    settings.peering.priority = config.priority
    settings.peering.name = config.peering_name
    settings.peering.mandatory = not config.standalone
    settings.watching.inactivity_timeout = 300.0
    if config.exact_namespaces:
        # Exact namespaces: nothing to discover, so no cluster-wide watch of namespaces and CRDs
        # (and no cluster-scoped RBAC needed for it).
        settings.scanning.disabled = True
    if config.label_selector:
        for kind in KINDS:
            settings.watching.label_selectors[(API_GROUP, kind.names.plural)] = config.label_selector
    settings.networking.error_backoffs = (1, 2, 5, 10, 20, 30)


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: object) -> None:
    config: OperatorConfig = memo.config
    apply_settings(settings, config)
    keeper: ShardKeeper | None = None
    kube = Kube(load_api_client(config.kubeconfig))
    if config.sharding is not None:
        keeper = ShardKeeper(kube.api_client, config.sharding, seen=lambda: memo.runtime.known_shards(),
                             changed=lambda gained, lost: memo.runtime.shards_changed(gained, lost))
    gateway = Gateway(config.azure, observer=metrics.AzureCallMetrics(), fence=keeper.holds if keeper else None)
    await gateway.start()

    async def post_event(obj: Resource, type_: str, reason: str, message: str) -> None:
        body = {"apiVersion": obj.api_version, "kind": obj.kind,
                "metadata": {"name": obj.name, "namespace": obj.namespace, "uid": obj.uid}}
        kopf.event(cast(kopf.Body, body), type=type_, reason=reason, message=message[:1000])

    registry = Registry(BY_NAME)
    memo.runtime = Runtime(kube, gateway, config.runtime, BY_NAME, registry, events=post_event)
    if keeper is not None:
        memo.runtime.shards = keeper  # its renewals start with the first watch event
        log.info("dynamic shards: replica %s of group %s, leases in %s, %ss", keeper.settings.identity,
                 keeper.settings.group, keeper.settings.namespace, keeper.settings.duration)
    metrics.count_objects_of(registry.objects, [kind.metrics.collect for kind in KINDS if kind.metrics])
    metrics.follow_peering(config.standalone)
    log.info("azbackup operator started: ARM %s, sync every %ss", config.azure.arm_endpoint,
             config.runtime.sync_period)


@kopf.on.cleanup()
async def cleanup(memo: kopf.Memo, **_: object) -> None:
    runtime: Runtime | None = memo.get("runtime")
    if runtime is not None:
        await runtime.stop_shards()
        await runtime.gateway.close()
        runtime.kube.close()
