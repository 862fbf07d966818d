"""On-demand backup, backup jobs (list, get, cancel) and recovery points."""

from __future__ import annotations

from typing import Any

from azure_emulator import engine, errors, ids, recovery_tiers, threats, verdicts
from azure_emulator.arm.base import Call, Reply, accepted, iso, page, parse_filter, parse_time, route, same
from azure_emulator.arm.protection import ITEM, _item_lro, find_item, item_path
from azure_emulator.arm.restore import decorate_job
from azure_emulator.arm.vaults import VAULT, find_operation, find_vault
from azure_emulator.backup_model import ProtectedItem, RecoveryPoint, Vault
from azure_emulator.errors import ArmError
from azure_emulator.lro import Failure, Job, Operation, iso_duration
from azure_emulator.restore_model import Restore

A = "Microsoft.RecoveryServices/vaults"


def trigger_backup(call: Call) -> Reply:
    vault, item = find_item(call)
    props = call.json_body().get("properties") or {}
    expiry = (
        parse_time(str(props["recoveryPointExpiryTimeInUTC"])) if props.get("recoveryPointExpiryTimeInUTC") else None
    )
    if engine.backup_running(call.state, vault, item):
        raise ArmError(
            400,
            "UserErrorBackupOperationInProgress",  # synchronous: emulator choice
            "Unable to initiate backup as another backup operation is currently in progress",
        )
    op, _ = engine.start_backup(call.state, vault, item, call.now, user=True, expiry=expiry)
    assert op is not None
    return _item_lro(call, vault, op)


def _error_info(f: Failure) -> dict[str, Any]:
    return {
        "errorCode": verdicts.numeric_code(f.code),
        "errorString": f.message,
        "errorTitle": f.code,
        "recommendations": list(f.recommendations),
    }


def job_json(vault: Vault, job: Job, now: float, restore: Restore | None = None, scale: float = 1.0) -> dict[str, Any]:
    tasks = [
        {"taskId": name, "status": status, "duration": iso_duration(spent)}
        for name, status, spent in job.task_states(now)
    ]
    extended: dict[str, Any] = {
        "tasksList": tasks,
        "propertyBag": {"VM Name": job.entity_friendly_name},
        "progressPercentage": float(job.progress(now)),
    }
    props: dict[str, Any] = {
        "jobType": "AzureIaaSVMJob",
        "entityFriendlyName": job.entity_friendly_name,
        "backupManagementType": "AzureIaasVM",
        "operation": job.operation,
        "status": job.status.value,
        "startTime": iso(job.started),
        "duration": iso_duration(job.elapsed(now)),
        "activityId": ids.stable_uuid(job.id, "activity"),
        "virtualMachineVersion": "Compute",
        "isUserTriggered": job.is_user_triggered,
        "containerName": job.container_name,
        "extendedInfo": extended,
    }
    if job.done:
        props["endTime"] = iso(job.ended)
    elif job.operation == "Backup":
        props["actionsInfo"] = ["Cancellable"]
    problems = ([job.failure] if job.failure else []) + job.warnings
    if problems:
        props["errorDetails"] = [_error_info(f) for f in problems]
        extended["dynamicErrorMessage"] = problems[0].message
    if job.recovery_point:
        extended["propertyBag"]["Recovery Point Id"] = job.recovery_point
    if restore is not None:
        decorate_job(props, job, restore, now, scale)
    return {
        "id": f"{vault.backup_prefix}/backupJobs/{job.id}",
        "name": job.id,
        "type": "Microsoft.RecoveryServices/vaults/backupJobs",
        "properties": props,
    }


def _find_job(call: Call, vault: Vault) -> Job:
    job = call.state.jobs.get(call.params["job"])
    if job is None or job.vault != vault.key:
        raise errors.backup_resource_not_found("job", call.params["job"])
    return job


def get_job(call: Call) -> Reply:
    vault = find_vault(call)
    job = _find_job(call, vault)
    return Reply(200, job_json(vault, job, call.now, call.state.restores.get(job.id), call.state.settings.time_scale))


def list_jobs(call: Call) -> Reply:
    vault = find_vault(call)
    f = parse_filter(call.q("$filter"))
    start = parse_time(f["starttime"]) if "starttime" in f else None
    end = parse_time(f["endtime"]) if "endtime" in f else None

    def wanted(job: Job) -> bool:
        return (
            ("status" not in f or same(job.status.value, f["status"]))
            and ("operation" not in f or same(job.operation, f["operation"]))
            and ("backupmanagementtype" not in f or same(f["backupmanagementtype"], "AzureIaasVM"))
            and ("entityfriendlyname" not in f or same(job.entity_friendly_name, f["entityfriendlyname"]))
            and (start is None or job.started >= start)
            and (end is None or job.started <= end)
        )

    jobs = (j for j in (call.state.jobs.get(i) for i in reversed(vault.jobs)) if j is not None and wanted(j))
    restores, scale = call.state.restores, call.state.settings.time_scale
    return page(call, jobs, lambda j: job_json(vault, j, call.now, restores.get(j.id), scale))


def cancel_job(call: Call) -> Reply:
    vault = find_vault(call)
    job = _find_job(call, vault)
    if job.done or job.operation not in ("Backup", "Restore"):
        raise errors.invalid_input(f"The job '{job.id}' cannot be cancelled.")
    engine.cancel_job(call.state, job, call.now)
    op = Operation(ids.new_id(), "CancelJob", call.now, 0.0, vault.key, job_id=job.id)
    op.finish(call.now)
    call.state.operations[op.id] = op
    return accepted(call, location=f"{vault.backup_prefix}/backupJobs/{job.id}/operationResults/{op.id}")


def job_operation_result(call: Call) -> Reply:
    vault = find_vault(call)
    find_operation(call, vault.id)
    return Reply(204)


def rp_json(vault: Vault, item: ProtectedItem, rp: RecoveryPoint, now: float) -> dict[str, Any]:
    extra: dict[str, Any] = {"zones": list(rp.zones)} if rp.zones else {}
    if rp.archived:
        extra["recoveryPointMoveReadinessInfo"] = {
            "ArchivedRP": {
                "isReadyForMove": False,
                "additionalInfo": "Recovery point cannot be moved to archive tier since it has already been moved.",
            }
        }
    else:  # moving points to the archive tier is not modelled: none is ready to move (emulator choice)
        extra["recoveryPointMoveReadinessInfo"] = {"ArchivedRP": {"isReadyForMove": False}}
    return {
        "id": f"{item_path(vault, item)}/recoveryPoints/{rp.name}",
        "name": rp.name,
        "type": "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/recoveryPoints",
        "properties": {
            "objectType": "IaasVMRecoveryPoint",
            "recoveryPointType": rp.type,
            "recoveryPointTime": iso(rp.time),
            "recoveryPointAdditionalInfo": "",
            "sourceVMStorageType": "NormalStorage",
            "isSourceVMEncrypted": rp.encrypted,
            "isInstantIlrSessionActive": False,
            "recoveryPointTierDetails": recovery_tiers.tier_details(rp, now),
            "isManagedVirtualMachine": rp.managed,
            "virtualMachineSize": rp.vm_size,
            "originalStorageAccountOption": False,
            "recoveryPointProperties": {"expiryTime": iso(rp.expiry), "ruleName": "DefaultRule"},
            "isPrivateAccessEnabledOnAnyDisk": False,
            "osType": rp.os_type,
            **threats.rp_fields(vault, rp),
            **extra,
        },
    }


def list_recovery_points(call: Call) -> Reply:
    vault, item = find_item(call)
    f = parse_filter(call.q("$filter"))
    start = parse_time(f["startdate"]) if "startdate" in f else None
    end = parse_time(f["enddate"]) if "enddate" in f else None
    rps = (
        rp
        for rp in reversed(item.recovery_points)
        if (start is None or rp.time >= start) and (end is None or rp.time <= end)
    )
    return page(call, rps, lambda rp: rp_json(vault, item, rp, call.now))


def get_recovery_point(call: Call) -> Reply:
    vault, item = find_item(call)
    rp = next((r for r in item.recovery_points if r.name == call.params["rp"]), None)
    if rp is None:
        raise errors.backup_resource_not_found("recovery point", call.params["rp"])
    return Reply(200, rp_json(vault, item, rp, call.now))


ROUTES = [
    route(
        "POST",
        ITEM + "/backup",
        "Backups_Trigger",
        f"{A}/backupFabrics/protectionContainers/protectedItems/backup/action",
        trigger_backup,
    ),
    route("GET", VAULT + "/backupJobs", "BackupJobs_List", f"{A}/backupJobs/read", list_jobs),
    route("GET", VAULT + "/backupJobs/{job}", "JobDetails_Get", f"{A}/backupJobs/read", get_job),
    route(
        "POST",
        VAULT + "/backupJobs/{job}/cancel",
        "JobCancellations_Trigger",
        f"{A}/backupJobs/cancel/action",
        cancel_job,
    ),
    route(
        "GET",
        VAULT + "/backupJobs/{job}/operationResults/{op}",
        "JobOperationResults_Get",
        f"{A}/backupJobs/operationResults/read",
        job_operation_result,
    ),
    route(
        "GET",
        ITEM + "/recoveryPoints",
        "RecoveryPoints_List",
        f"{A}/backupFabrics/protectionContainers/protectedItems/recoveryPoints/read",
        list_recovery_points,
    ),
    route(
        "GET",
        ITEM + "/recoveryPoints/{rp}",
        "RecoveryPoints_Get",
        f"{A}/backupFabrics/protectionContainers/protectedItems/recoveryPoints/read",
        get_recovery_point,
    ),
]
