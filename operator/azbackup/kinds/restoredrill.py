"""RestoreDrill: scheduled proof that backups restore, with evidence in status.

A run restores each sampled ProtectedVM through a VMRestore child (`cleanup: Delete`), so the
trigger inherits VMRestore's journal and job adoption: a run in flight is never triggered twice, even
across operator restarts. Child names derive from the run number, so a run planned twice (a crash
between creating the children and saving status) creates nothing new (409). Verification reads the
restored VM's instance view until it runs with its agent Ready or the deadline passes. Clean-up deletes
the children; each child's finalizer deletes exactly the VM, NICs and disks its restore created (the
ids it read back), which survives a restart because the deletion is recorded in Kubernetes.

Like the selector, observe plans (status carries the plan) and update applies it to Kubernetes.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from typing import Any

from kubernetes.client.exceptions import ApiException

from azbackup import API_GROUP, API_VERSION
from azbackup.api import crds, names
from azbackup.api import status as api_status
from azbackup.api.names import KubeAccess
from azbackup.api.specs import RestoreDrillSpec
from azbackup.azure import errors, lists
from azbackup.azure import protection_body as pb
from azbackup.azure.gateway import Clients
from azbackup.kinds import drill_metrics, drill_plan, restore_points
from azbackup.kinds.contract import Context, Kind
from azbackup.kinds.drill_plan import Result, RunPhase
from azbackup.kinds.jobs import JobPhase
from azbackup.kinds.references import VAULT_REF, children, clients_for_vault, resolve_vault
from azbackup.managed import (
    ExternalClient,
    ExtraCondition,
    Hold,
    Observation,
    Operation,
    Resource,
)
from azbackup.reasons import Reason
from azbackup.toolkit import times

log = logging.getLogger("azbackup.restoredrill")
DRILL_LABEL = "azbackup.dev/restore-drill"
RUN_LABEL = "azbackup.dev/drill-run"
DEGRADED = "Degraded"
REGISTRY_LAG = 60.0  # a child just created may take a moment to reach the operator's view of objects


def _time(value: str | None) -> dt.datetime | None:
    return pb.parse_time(value)


_iso = times.rfc3339


def drill_status(obj: Resource) -> api_status.RestoreDrillStatus:
    return api_status.read(obj.status, api_status.RestoreDrillStatus)


def _restore_status(child: Resource) -> api_status.VMRestoreStatus:
    return api_status.read(child.status, api_status.VMRestoreStatus)


def _condition(child: Resource, type_: str) -> api_status.Condition:
    for condition in _restore_status(child).get("conditions") or ():
        if condition.get("type") == type_:
            return condition
    return {}


def _decided(evidence: api_status.DrillTarget, result: Result, reason: str, message: str) -> api_status.DrillTarget:
    """A drilled VM's evidence with its result, why, and what happened in words."""
    evidence.update({"result": result, "reason": str(reason), "message": message})
    return evidence


def threat_findings(run: api_status.DrillRun) -> list[str]:
    """What a run passed over for a threat: each newer UnHealthy or Warning point, in words."""
    out = []
    for target in run.get("targets") or ():
        flagged = [p for p in target.get("skippedRecoveryPoints") or ()
                   if p.get("threatStatus") in restore_points.THREATS]
        if not flagged:
            continue
        points = ", ".join(f"{p.get('name')} of {p.get('time')} is {p.get('threatStatus')}" for p in flagged)
        restored = (f"restored {target['recoveryPoint']} ({target.get('threatStatus')}) instead"
                    if target.get("recoveryPoint") else "restored nothing")
        out.append(f"{target.get('protectedVM')}: recovery point {points}; {restored}")
    return out


def vm_name(drill: Resource, run: int, index: int) -> str:
    """Unique in the subscription: the drill's uid keeps two namespaces' drills of one name apart."""
    return f"{drill.name[:40]}-{drill.uid[:5]}-r{run}-{index}"


def child_name(drill: Resource, run: int, index: int) -> str:
    return f"{drill.name[:200]}-r{run}-{index}"


class DrillClient:
    deterministic_names = True  # children are named by run number: planning twice creates nothing new

    def __init__(self, ctx: Context, clients: Clients, spec: RestoreDrillSpec, now: dt.datetime) -> None:
        self.ctx, self.clients, self.spec, self.now = ctx, clients, spec, now
        self.create_children: list[dict[str, Any]] = []
        self.delete_children: list[str] = []

    # -- reads ---------------------------------------------------------------------------------------
    def _children(self, obj: Resource) -> dict[str, Resource]:
        return children(obj, names.VM_RESTORE.kind, self.ctx)

    def _candidates(self, obj: Resource) -> list[str]:
        pvms = self.ctx.objects.of_kind(names.PROTECTED_VM.kind, obj.namespace)
        if self.spec.names:
            return sorted(p.name for p in pvms if p.name in self.spec.names)
        wanted = self.spec.match_labels or {}
        return sorted(p.name for p in pvms if all(p.labels.get(k) == v for k, v in wanted.items()))

    async def _booted(self, vm_id: str) -> bool:
        """The restored VM runs and its VM agent reports Ready (the drill's verification)."""
        try:
            view = await lists.get(self.clients.send_request,
                                   f"{vm_id}/instanceView?api-version={lists.COMPUTE_VMS}")
        except (errors.NotFound, errors.ResourceGroupMissing):
            return False
        running = any(s.get("code") == "PowerState/running" for s in view.get("statuses") or ())
        agent = (view.get("vmAgent") or {}).get("statuses") or ()
        return running and any(s.get("displayStatus") == "Ready" for s in agent)

    # -- a run ---------------------------------------------------------------------------------------
    def _manifest(self, obj: Resource, run: int, index: int, pvm: str) -> dict[str, Any]:
        target = self.spec.target
        spec: dict[str, Any] = {
            "protectedVMRef": {"name": pvm}, "mode": "NewVM",
            "target": {"resourceGroup": target.resource_group, "vmName": vm_name(obj, run, index),
                       "subnetId": target.subnet_id, "stagingStorageAccountId": target.staging_account_id},
            # Deleting the child is the clean-up: its finalizer deletes what its restore created.
            "cleanup": "Retain" if self.spec.cleanup == "Never" else "Delete",
        }
        if target.zones:
            spec["target"]["zones"] = list(target.zones)
        point: dict[str, Any] = {}
        if self.spec.consistency:
            point["consistency"] = self.spec.consistency
        if self.spec.require_threat_status != "Any":
            point["requireThreatStatus"] = self.spec.require_threat_status
        if point:
            spec["recoveryPoint"] = point
        return {
            "apiVersion": f"{API_GROUP}/{API_VERSION}", "kind": names.VM_RESTORE.kind,
            "metadata": {"name": child_name(obj, run, index), "namespace": obj.namespace,
                         "labels": {DRILL_LABEL: obj.name, RUN_LABEL: str(run)},
                         "ownerReferences": [{"apiVersion": obj.api_version, "kind": obj.kind, "name": obj.name,
                                              "uid": obj.uid, "controller": True, "blockOwnerDeletion": True}]},
            "spec": spec,
        }

    async def _target_evidence(self, entry: api_status.DrillTarget, child: Resource | None,
                               started: dt.datetime) -> api_status.DrillTarget:
        """One drilled VM's evidence so far; result stays Running until it is decided."""
        out = entry.copy()
        if out.get("result") in drill_plan.DECIDED:
            return out
        if child is None:
            if (self.now - started).total_seconds() < REGISTRY_LAG:
                return out
            return _decided(out, Result.FAILED, Reason.DRILL_FAILED,
                            "its VMRestore disappeared before the run finished")
        status = _restore_status(child)
        if (point_time := _time(status.get("recoveryPointTime"))) is not None:
            out.update({"recoveryPoint": status.get("recoveryPoint"), "recoveryPointTime": _iso(point_time),
                        "rpoSeconds": int((started - point_time).total_seconds()),
                        "threatStatus": status.get("recoveryPointThreatStatus") or restore_points.NOT_REPORTED})
        if skipped := status.get("skippedRecoveryPoints"):
            out["skippedRecoveryPoints"] = list(skipped)
        stalled = _condition(child, "Stalled")
        if status.get("phase") == JobPhase.FAILED or (stalled.get("status") == "True"
                                               and stalled.get("observedGeneration") == child.generation):
            ready = _condition(child, "Ready")
            return _decided(out, Result.FAILED, ready.get("reason") or Reason.RESTORE_FAILED,
                            ready.get("message") or "the restore failed")
        if status.get("phase") != JobPhase.SUCCEEDED:
            return out
        job_start, job_end = _time(status.get("startTime")), _time(status.get("completionTime"))
        if job_start and job_end:
            out["jobSeconds"] = int((job_end - job_start).total_seconds())
        vm_id = (status.get("created") or {}).get("virtualMachine") or ""
        deadline = drill_plan.parse_duration(self.spec.verification_deadline) or 1800.0
        end = job_end or self.now
        if vm_id and await self._booted(vm_id):
            boot = max(0, int((self.now - end).total_seconds()))
            out.update({"bootSeconds": boot, "rtoSeconds": (out.get("jobSeconds") or 0) + boot})
            return _decided(out, Result.PASSED, Reason.DRILL_PASSED,
                            f"VM {vm_id.rsplit('/', 1)[-1]} runs with its agent Ready")
        if (self.now - end).total_seconds() > deadline:
            return _decided(out, Result.FAILED, Reason.DRILL_FAILED, "the restored VM did not run with its agent "
                                                                     f"Ready within {self.spec.verification_deadline}")
        return out

    def _keep(self, target: api_status.DrillTarget) -> bool:
        """cleanup OnSuccess keeps a failed VM's restore (and so its VM) to investigate."""
        return self.spec.cleanup == "OnSuccess" and target.get("result") != Result.PASSED

    async def _advance(self, obj: Resource, run: api_status.DrillRun) -> api_status.DrillRun:
        children = self._children(obj)
        started = _time(run.get("startedAt")) or self.now
        if run.get("phase") == RunPhase.RESTORING:
            run["targets"] = [await self._target_evidence(t, children.get(t.get("restore", "")), started)
                              for t in run.get("targets") or ()]
            if any(t.get("result") not in drill_plan.DECIDED for t in run["targets"]):
                return run
            verdict = drill_plan.judge(run["targets"], drill_plan.parse_duration(self.spec.rpo_objective),
                                       drill_plan.parse_duration(self.spec.rto_objective))
            run.update({"phase": RunPhase.CLEANING_UP, "result": verdict.result, "finishedAt": _iso(self.now),
                        "achievedRPO": drill_plan.format_duration(verdict.rpo),
                        "achievedRTO": drill_plan.format_duration(verdict.rto),
                        "objectivesMet": verdict.objectives_met,
                        "reason": Reason.DRILL_PASSED if verdict.result is Result.PASSED else Reason.DRILL_FAILED,
                        "missed": list(verdict.missed) or None})
        if run.get("phase") == RunPhase.CLEANING_UP:
            pending = False
            for target in run.get("targets") or ():
                name = target.get("restore", "")
                if self._keep(target):
                    target["cleanedUp"] = False
                    continue
                if name in children:
                    pending = True
                    if not children[name].deleting:
                        self.delete_children.append(name)
                else:
                    target["cleanedUp"] = self.spec.cleanup != "Never"
            if not pending:
                run["phase"] = RunPhase.DONE
        return run

    def _start(self, obj: Resource, scheduled: dt.datetime, candidates: list[str]) -> api_status.DrillRun:
        number = (drill_status(obj).get("runCount") or 0) + 1
        chosen = drill_plan.sample(candidates, drill_status(obj).get("lastDrilled") or {}, self.spec.sample_size)
        targets: list[api_status.DrillTarget] = []
        for index, pvm in enumerate(chosen):
            self.create_children.append(self._manifest(obj, number, index, pvm))
            targets.append({"protectedVM": pvm, "restore": child_name(obj, number, index),
                            "vmName": vm_name(obj, number, index), "result": Result.RUNNING})
        return {"id": number, "scheduledFor": _iso(scheduled), "startedAt": _iso(self.now), "phase": RunPhase.RESTORING,
                "result": Result.RUNNING, "targets": targets}

    # -- the managed-resource contract ---------------------------------------------------------------
    async def observe(self, obj: Resource) -> Observation:
        if obj.deleting:
            return Observation(exists=False)  # children go with their owner; each cleans up after itself
        try:
            schedule = drill_plan.Schedule.parse(self.spec.schedule, self.spec.time_zone)
        except drill_plan.ScheduleError as exc:
            return Observation(exists=True, blocked=Hold(Reason.INVALID_SCHEDULE, str(exc)))
        stored = drill_status(obj)
        status: api_status.RestoreDrillStatus = {}
        # A copy: the run advances in place, and the stored status must stay as it was read.
        run = copy.deepcopy(stored.get("currentRun")) or None
        last = _time(stored.get("lastScheduled")) or _time(obj.created) or self.now
        if run is None and not self.spec.suspend and (due := schedule.due(last, self.now)) is not None:
            candidates = self._candidates(obj)
            status["lastScheduled"] = _iso(due)
            if candidates:
                run = self._start(obj, due, candidates)
                status["runCount"] = run["id"]
                drilled = dict(stored.get("lastDrilled") or {})
                drilled.update({t["protectedVM"]: _iso(self.now) for t in run["targets"]})
                status["lastDrilled"] = drilled
                log.info("%s/%s: drill run %s restores %s", obj.namespace, obj.name, run["id"],
                         ", ".join(t["protectedVM"] for t in run["targets"]))
            else:
                log.info("%s/%s: no ProtectedVM matches the drill's targets; run skipped", obj.namespace, obj.name)
        elif run is not None:
            run = await self._advance(obj, run)
        finished = run if run is not None and run.get("phase") == RunPhase.DONE else None
        status["currentRun"] = None if run is None or finished else run
        history = list(stored.get("runs") or ())
        if finished is not None:
            history = [finished, *history][: self.spec.history_limit]
            status.update({"runs": history, "lastRunTime": finished.get("startedAt", ""),
                           "lastResult": finished.get("result", Result.FAILED),
                           "lastRPO": finished.get("achievedRPO"), "lastRTO": finished.get("achievedRTO")})
            if finished.get("result") == Result.PASSED:
                status["passedRuns"] = (stored.get("passedRuns") or 0) + 1
            else:
                status["failedRuns"] = (stored.get("failedRuns") or 0) + 1
            log.info("%s/%s: drill run %s %s (RPO %s, RTO %s)", obj.namespace, obj.name, finished.get("id"),
                     finished.get("result"), finished.get("achievedRPO"), finished.get("achievedRTO"))
        base = _time(status.get("lastScheduled")) or last
        status["nextRun"] = _iso(schedule.after(max(base, self.now)))
        running = status["currentRun"]
        seen = self._observation(status, history, running)
        if running is None and not self._candidates(obj):
            return Observation(exists=True, status=status, conditions=seen.conditions, limitation=Hold(
                Reason.NO_DRILL_TARGETS, "no ProtectedVM in this namespace matches targets; runs are skipped "
                                         "until one does", retry_in=60.0))
        return seen

    def _observation(self, status: api_status.RestoreDrillStatus, history: list[api_status.DrillRun],
                     running: api_status.DrillRun | None) -> Observation:
        conditions: list[ExtraCondition] = []
        latest = history[0] if history else None
        if latest is not None:
            missed = latest.get("missed") or ()
            threats = threat_findings(latest)
            conditions.append(
                # A threat on a newer point outranks a missed objective: the drill proved an older point.
                ExtraCondition(DEGRADED, "True", Reason.UNHEALTHY_RECOVERY_POINT,
                               f"run {latest.get('id')}: " + "; ".join([*threats, *missed]))
                if threats else
                ExtraCondition(DEGRADED, "True", Reason.OBJECTIVE_MISSED,
                               f"run {latest.get('id')}: " + "; ".join(missed))
                if missed else
                ExtraCondition(DEGRADED, "False", Reason.OBJECTIVES_MET,
                               f"run {latest.get('id')} met its objectives (RPO {latest.get('achievedRPO')}, "
                               f"RTO {latest.get('achievedRTO')})"))
        changes = [*(f"create {m['metadata']['name']}" for m in self.create_children),
                   *(f"delete {n}" for n in self.delete_children)]
        if running is not None:
            run = running
            return Observation(exists=True, up_to_date=not changes, diff=tuple(changes), usable=False,
                               status=status, conditions=conditions,
                               pending=(Reason.DRILL_RUNNING, f"run {run['id']} is {run['phase'].lower()}"))
        if latest is None:
            return Observation(exists=True, up_to_date=not changes, diff=tuple(changes), status=status,
                               conditions=conditions,
                               ready=(Reason.DRILL_SCHEDULED, f"no run yet; the first at {status['nextRun']}"))
        summary = (f"run {latest.get('id')} {str(latest.get('result')).lower()} (RPO {latest.get('achievedRPO')}, "
                   f"RTO {latest.get('achievedRTO')}); next run at {status['nextRun']}")
        if latest.get("result") != Result.PASSED:
            failed = [f"{t.get('protectedVM')}: {t.get('reason')}: {t.get('message')}"
                      for t in latest.get("targets") or () if t.get("result") != Result.PASSED]
            return Observation(exists=True, up_to_date=not changes, diff=tuple(changes), status=status,
                               conditions=conditions,
                               limitation=Hold(Reason.DRILL_FAILED, summary + "; " + "; ".join(failed)))
        return Observation(exists=True, up_to_date=not changes, diff=tuple(changes), status=status,
                           conditions=conditions, ready=(Reason.DRILL_PASSED, summary))

    async def update(self, obj: Resource, seen: Observation) -> Operation | None:
        for manifest in self.create_children:
            try:
                await self.ctx.kube.create(manifest)
            except ApiException as exc:
                if exc.status != 409:  # planned before a restart and created already: fine
                    raise
        for name in self.delete_children:
            log.info("%s/%s: clean-up: deleting VMRestore %s and what it created", obj.namespace, obj.name, name)
            await self.ctx.kube.delete(names.VM_RESTORE.kind, obj.namespace, name)
        return None

    async def create(self, obj: Resource, seen: Observation) -> Operation | None:
        return await self.update(obj, seen)

    async def delete(self, obj: Resource, seen: Observation) -> Operation | None:
        return None

    def keeps_azure_on_delete(self, obj: Resource) -> bool:
        return True  # its VMRestore children (garbage-collected with it) clean up after themselves

async def client(obj: Resource, ctx: Context) -> ExternalClient:
    vault = resolve_vault(obj, ctx, need_ready=False)
    return DrillClient(ctx, await clients_for_vault(vault, ctx), RestoreDrillSpec.parse(obj.spec),
                       dt.datetime.fromtimestamp(ctx.clock(), dt.UTC))


async def wake(obj: Resource, ctx: Context) -> None:
    """Come back while a run is in flight, and at the next schedule time otherwise."""
    if drill_status(obj).get("currentRun"):
        ctx.requeue(obj.key, ctx.settings.poll_interval)
    elif (next_run := _time(drill_status(obj).get("nextRun"))) is not None:
        ctx.requeue(obj.key, max(0.0, next_run.timestamp() - ctx.clock()) + 0.5)


KIND = Kind(names.RESTORE_DRILL, client, crds.restore_drill, api_status.RestoreDrillStatus,
            vault=VAULT_REF, waits_for=(VAULT_REF,), after=wake,
            abnormal_true=frozenset({DEGRADED}), metrics=drill_metrics.METRICS,
            writes=(KubeAccess(names.VM_RESTORE, ("create", "delete"),
                               "A RestoreDrill creates one VMRestore per drilled VM and run, and deletes it "
                               "to clean up."),))
