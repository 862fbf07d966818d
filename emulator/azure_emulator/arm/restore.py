"""Restores: the trigger (`Restores_Trigger`), the pre-flight validate operations, and how a Restore
job shows its details (`propertyBag`, `internalPropertyBag`). Reference restore.md §1, §2, §7."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from azure_emulator import errors, ids, restore_engine, restore_request
from azure_emulator.arm.base import Call, Reply, accepted, iso, route
from azure_emulator.arm.protection import ITEM, _item_lro, find_item
from azure_emulator.arm.vaults import VAULT, find_operation, find_vault
from azure_emulator.backup_model import ProtectedItem, RecoveryPoint, Vault
from azure_emulator.lro import Failure, Job, JobStatus, Operation, iso_duration
from azure_emulator.recovery_tiers import needs_rehydration
from azure_emulator.restore_model import Restore, RestoreRequest

A = "Microsoft.RecoveryServices/vaults"
ARCHIVE_MESSAGE = (
    "The selected recovery point is in archive tier, provide additional parameters of rehydration duration "
    "and rehydration priority."
)


def find_recovery_point(item: ProtectedItem, name: str) -> RecoveryPoint:
    rp = next((r for r in item.recovery_points if r.name == name), None)
    if rp is None:
        raise errors.backup_resource_not_found("recovery point", name)
    return rp


def check_request(item: ProtectedItem, rp: RecoveryPoint, req: RestoreRequest, now: float) -> None:
    """Refusals that do not depend on the targets: 400 BMSUserErrorInvalidInput (synchronous)."""
    if item.soft_deleted:
        raise errors.invalid_input("The item is in soft deleted state; undelete it before restoring.")
    if req.source_resource_id and ids.key(req.source_resource_id) != ids.key(item.vm_id):
        raise errors.invalid_input("sourceResourceId is not the virtual machine of the protected item.")
    if req.rehydration_days is None and needs_rehydration(rp, now):
        raise errors.invalid_input(ARCHIVE_MESSAGE)
    if req.rehydration_days is not None and not rp.archived:
        raise errors.invalid_input("The recovery point is not in the archive tier; send an IaasVMRestoreRequest.")


def trigger_restore(call: Call) -> Reply:
    """202 with no body; the operation behind the headers has already succeeded and names the job."""
    vault, item = find_item(call)
    rp = find_recovery_point(item, call.params["rp"])
    req = restore_request.parse(call.json_body(), rp.name)
    check_request(item, rp, req, call.now)
    op, _ = restore_engine.start_restore(call.state, vault, item, rp, req, call.now)
    return _item_lro(call, vault, op)


# -- ValidateOperation (restore.md §7) ---------------------------------------------------------


def _validation_result(f: Failure) -> dict[str, Any]:
    return {"code": f.code, "message": f.message, "recommendations": list(f.recommendations)}


def _validate(call: Call, vault: Vault) -> list[dict[str, Any]]:
    """The validation results of a `ValidateIaasVMRestoreOperationRequest`: the Restore job's checks, now."""
    body = call.json_body()
    props = body.get("properties") or {}
    if props.get("objectType") != "ValidateIaasVMRestoreOperationRequest":
        raise errors.invalid_input("objectType must be ValidateIaasVMRestoreOperationRequest.")
    ref = ids.parse_resource_id(str(body.get("id") or ""))
    if ref is None or len(ref.names) != 5 or ids.key(ref.names[0]) != ids.key(vault.name):
        raise errors.invalid_input("id must be the ARM id of a recovery point of this vault.")
    names = ids.parse_item_name(ref.names[3])
    item = vault.items.get(ids.key(ids.item_name(*names))) if names else None
    if item is None:
        raise errors.item_not_found()
    rp = find_recovery_point(item, ref.names[4])
    req = restore_request.parse({"properties": props.get("restoreRequest") or {}}, rp.name)
    check_request(item, rp, req, call.now)
    return [_validation_result(f) for f in restore_engine.target_checks(call.state, vault, rp, req, call.now)]


def validate(call: Call) -> Reply:
    vault = find_vault(call)
    return Reply(200, {"validateOperationResponse": {"validationResults": _validate(call, vault)}})


def trigger_validate(call: Call) -> Reply:
    vault = find_vault(call)
    results = _validate(call, vault)
    op = Operation(ids.new_id(), "ValidateRestore", call.now, 0.0, vault.key)
    op.finish(call.now)
    call.state.operations[op.id] = op
    call.state.validations[op.id] = results
    return accepted(
        call,
        location=f"{vault.backup_prefix}/backupValidateOperationResults/{op.id}",
        async_operation=f"{vault.backup_prefix}/backupValidateOperationsStatuses/{op.id}",
    )


def _validation_op(call: Call) -> tuple[Vault, Operation]:
    vault = find_vault(call)
    op = find_operation(call, vault.id)
    if op.kind != "ValidateRestore":
        raise errors.backup_resource_not_found("operation", op.id)
    return vault, op


def validate_status(call: Call) -> Reply:
    _, op = _validation_op(call)
    results = call.state.validations.get(op.id, [])
    return Reply(
        200,
        {
            "id": op.id,
            "name": op.id,
            "status": op.status.value,
            "startTime": iso(op.started),
            "endTime": iso(op.ended),
            "properties": {
                "objectType": "OperationStatusValidateOperationExtendedInfo",
                "validateOperationResponse": {"validationResults": results},
            },
        },
    )


def validate_result(call: Call) -> Reply:
    _, op = _validation_op(call)
    return Reply(200, {"validateOperationResponse": {"validationResults": call.state.validations.get(op.id, [])}})


# -- how a Restore job reports itself ----------------------------------------------------------


def rp_time_text(t: float) -> str:
    """`7/26/2026 1:16:55 PM`, the job's `"Recovery point time "` format (CLIREC)."""
    d = datetime.fromtimestamp(t, UTC)
    return f"{d.month}/{d.day}/{d.year} {d.hour % 12 or 12}:{d:%M}:{d:%S} {d:%p}"


def _name_of(rid: str) -> str:
    return rid.rstrip("/").rsplit("/", 1)[-1]


def property_bag(state_scale: float, job: Job, restore: Restore, now: float) -> dict[str, str | None]:
    """`extendedInfo.propertyBag` of a Restore job (CLIREC; restore.md §2.1-2.2)."""
    req = restore.request
    # CLIREC: the point's time is null for the first second or two of the job, then filled in
    shown = job.done or job.elapsed(now) >= 2.0 * state_scale
    bag: dict[str, str | None] = {
        "Job Type": restore_engine.JOB_TYPES[req.recovery_type],
        "Target Storage Account Name": restore.staging_account,
        "Recovery point time ": rp_time_text(restore.recovery_point_time) if shown else None,
        "VM Subscription ID": restore.subscription,
    }
    if req.target_resource_group_id:
        bag["Target resource group"] = restore_request.group_of(req.target_resource_group_id)[1]
    if req.alternate_location:
        vnet = ids.parse_resource_id(req.virtual_network_id)
        bag["Original VM Name"] = restore.source_vm_name
        bag["Target VM Name"] = _name_of(req.target_vm_id)
        bag["Target VNet Name"] = f"Group {vnet.resource_group} {vnet.name}" if vnet else None
    if job.status in (JobStatus.COMPLETED, JobStatus.COMPLETED_WITH_WARNINGS):
        bag.update(restore.blobs)
    return bag


def decorate_job(props: dict[str, Any], job: Job, restore: Restore, now: float, scale: float) -> None:
    """Turn a generic job body into a Restore job's (called by `jobs.job_json`)."""
    extended = props["extendedInfo"]
    extended["propertyBag"] = property_bag(scale, job, restore, now)
    extended["internalPropertyBag"] = {"restoreLocationType": restore.request.recovery_type}
    remaining = 0.0 if job.done else max(0.0, job.due - now)
    extended["estimatedRemainingDuration"] = iso_duration(remaining)
    props["actionsInfo"] = ["Cancellable"]  # CLIREC: still there once the job completed


ROUTES = [
    route(
        "POST",
        ITEM + "/recoveryPoints/{rp}/restore",
        "Restores_Trigger",
        f"{A}/backupFabrics/protectionContainers/protectedItems/recoveryPoints/restore/action",
        trigger_restore,
    ),
    route(
        "POST",
        VAULT + "/backupValidateOperation",
        "Operation_Validate",
        f"{A}/backupValidateOperation/action",
        validate,
    ),
    route(
        "POST",
        VAULT + "/backupTriggerValidateOperation",
        "ValidateOperation_Trigger",
        f"{A}/backupTriggerValidateOperation/action",
        trigger_validate,
    ),
    route(
        "GET",
        VAULT + "/backupValidateOperationsStatuses/{op}",
        "ValidateOperationStatuses_Get",
        f"{A}/backupValidateOperationsStatuses/read",
        validate_status,
    ),
    route(
        "GET",
        VAULT + "/backupValidateOperationResults/{op}",
        "ValidateOperationResults_Get",
        f"{A}/backupValidateOperationResults/read",
        validate_result,
    ),
]
