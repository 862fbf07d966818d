"""Microsoft.RecoveryServices vaults: PUT/GET/PATCH/DELETE, lists, operation status, deleted vaults."""

from __future__ import annotations

import copy
import re
import urllib.parse
from typing import Any

from azure_emulator import engine, errors, ids, threats, world
from azure_emulator.arm.base import Call, Reply, accepted, drop_none, iso, page, route
from azure_emulator.arm.vault_settings import apply_changes
from azure_emulator.backup_model import DeletedVault, Vault
from azure_emulator.errors import ArmError
from azure_emulator.lro import Operation

SUB = "/subscriptions/{sub}"
VAULTS = SUB + "/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/vaults"
VAULT = VAULTS + "/{vault}"
DELETED = SUB + "/providers/Microsoft.RecoveryServices/locations/{location}/deletedVaults"
NAME_RULE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,49}$")  #: 2-50 chars, starts with a letter
A = "Microsoft.RecoveryServices/vaults"


def find_vault(call: Call) -> Vault:
    """The vault of the path; 404 ResourceGroupNotFound / ResourceNotFound as ARM answers."""
    sub = call.sub()
    call.state.group(sub, call.params["rg"])
    vault = sub.vaults.get(call.params["rg"], call.params["vault"])
    if vault is None:
        raise errors.resource_not_found(A, call.params["vault"], call.params["rg"])
    engine.purge_expired(call.state, vault, call.now)
    return vault


def _etag(v: Vault) -> str:
    stamp = urllib.parse.quote(iso(v.etag_time) or "", safe=".")
    return f"W/\"datetime'{stamp}'\""


BCDR_LEVELS = ("Poor", "Fair", "Good", "Excellent")


def _bcdr_level(v: Vault) -> str:
    """Emulator choice (Azure's rule is unpublished): a point for always-on soft delete, one for
    immutability (two when locked), one for multi-user authorization (never on here). Reversible soft
    delete counts nothing, as in Azure's GETVault example (soft delete Enabled, nothing else: Poor)."""
    points = (v.soft_delete_state == "AlwaysON") + {"Unlocked": 1, "Locked": 2}.get(v.immutability, 0)
    return BCDR_LEVELS[min(points, len(BCDR_LEVELS) - 1)]


def vault_json(v: Vault) -> dict[str, Any]:
    props: dict[str, Any] = {
        "provisioningState": v.provisioning_state,
        "publicNetworkAccess": v.public_network_access,
        "privateEndpointStateForBackup": "None",
        "privateEndpointStateForSiteRecovery": "None",
        "redundancySettings": {
            "standardTierStorageRedundancy": v.redundancy,
            "crossRegionRestore": "Enabled" if v.cross_region_restore else "Disabled",
        },
        "securitySettings": {
            "softDeleteSettings": {
                "softDeleteState": v.soft_delete_state,
                "softDeleteRetentionPeriodInDays": v.soft_delete_days,
                "enhancedSecurityState": v.enhanced_security,
            },
            "immutabilitySettings": {"state": v.immutability},
            "multiUserAuthorization": "Disabled",
        },
        "monitoringSettings": copy.deepcopy(v.monitoring),
        "secureScore": "None",
        "bcdrSecurityLevel": _bcdr_level(v),
    }
    if (scan := threats.scan_json(v)) is not None:
        props["securitySettings"]["sourceScanConfiguration"] = scan
    if v.encryption:
        props["encryption"] = copy.deepcopy(v.encryption)
    if v.restore_settings:
        props["restoreSettings"] = copy.deepcopy(v.restore_settings)
    if v.cost_management:
        props["costManagementSettings"] = copy.deepcopy(v.cost_management)
    body: dict[str, Any] = {
        "name": v.name,
        "type": "Microsoft.RecoveryServices/vaults",
        "etag": _etag(v),
        "id": v.id,
        "location": v.location,
        "properties": props,
        "sku": {**v.sku, "tier": "Standard"},  # the only tier (PUTVault example: RS0 / Standard)
        "tags": dict(v.tags),
    }
    if v.identity:
        body["identity"] = copy.deepcopy(v.identity)
    return body


def get_vault(call: Call) -> Reply:
    return Reply(200, vault_json(find_vault(call)))


def put_vault(call: Call) -> Reply:
    sub = call.sub()
    rg, name = call.params["rg"], call.params["vault"]
    body = call.json_body()
    rg_name, _ = call.state.group(sub, rg)
    if not NAME_RULE.match(name):
        raise errors.invalid_parameter("resourceName")
    vault = sub.vaults.get(rg, name)
    location = ids.norm_location(str(body.get("location") or ""))
    if not location:
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    if vault is not None:
        if location != vault.location:
            raise ArmError(
                400,
                "InvalidResourceLocation",
                f"The resource '{name}' already exists in location '{vault.location}' in resource group "
                f"'{rg_name}'. A resource with the same name cannot be created in location '{location}'. "
                "Please select a new resource name.",
            )
        apply_changes(call, vault, body)
        return Reply(200, vault_json(vault))
    if location not in call.state.regions:
        raise ArmError(
            400,
            "LocationNotAvailableForResourceType",
            f"The provided location '{location}' is not available for resource type "
            f"'Microsoft.RecoveryServices/vaults'. List of available regions for the resource type is "
            f"'{','.join(sorted(call.state.regions))}'.",
        )
    vault = world.new_vault(call.state, sub, rg_name, name, location, call.now)
    try:
        apply_changes(call, vault, body)
    except ArmError:
        sub.vaults.pop(rg_name, name)
        call.state.vaults_by_id.pop(vault.key, None)
        raise
    # A creation is a long-running operation (spec: x-ms-long-running-operation, 201 with Location and
    # Retry-After); Azure also sends Azure-AsyncOperation on {vault}/operationStatus (rest-api-specs #27869).
    op = engine.start_vault_create(call.state, vault, call.now)
    headers = accepted(
        call, location=f"{vault.id}/operationResults/{op.id}", async_operation=f"{vault.id}/operationStatus/{op.id}"
    ).headers
    return Reply(201, vault_json(vault), headers)


def patch_vault(call: Call) -> Reply:
    vault = find_vault(call)
    apply_changes(call, vault, call.json_body())
    return Reply(200, vault_json(vault))


def delete_vault(call: Call) -> Reply:
    sub = call.sub()
    call.state.group(sub, call.params["rg"])
    vault = sub.vaults.get(call.params["rg"], call.params["vault"])
    if vault is None:
        return Reply(204)
    engine.purge_expired(call.state, vault, call.now)
    live = [i for i in vault.items.values() if not i.soft_deleted]
    if live:
        raise ArmError(
            400,
            "ServiceResourceNotEmptyWithBackendMessage",
            f"Vault cannot be deleted as there are existing resources within the vault. : {live[0].vm_name}\n"
            "Please ensure all containers have been unregistered from the vault and all private endpoints "
            "associated with the vault have been deleted, and retry operation. For more details, see "
            "https://aka.ms/AB-AA4ecq5",
        )
    if vault.items:
        raise ArmError(
            400,
            "ServiceResourceNotEmptyWithBackendMessage",
            "Recovery Services vault cannot be deleted as there are backup items still present in soft "
            "delete state. Visit the following link for the steps to permanently delete soft deleted items: "
            "https://aka.ms/undeletesoftdeleteditems.",
        )
    op = engine.start_vault_delete(call.state, vault, call.now)
    return accepted(
        call, location=f"{vault.id}/operationResults/{op.id}", async_operation=f"{vault.id}/operationStatus/{op.id}"
    )


def list_by_group(call: Call) -> Reply:
    sub = call.sub()
    call.state.group(sub, call.params["rg"])
    return page(call, iter(sub.vaults.in_group(call.params["rg"])), vault_json)


def list_by_subscription(call: Call) -> Reply:
    return page(call, call.sub().vaults.values(), vault_json)


def operation_json(op: Operation, op_id_path: str) -> dict[str, Any]:
    body: dict[str, Any] = {"id": op_id_path, "name": op.id, "status": op.status.value, "startTime": iso(op.started)}
    if op.done:
        body["endTime"] = iso(op.ended)
    if op.failure:
        body["error"] = {"code": op.failure.code, "message": op.failure.message}
    return body


def find_operation(call: Call, scope: str, param: str = "op") -> Operation:
    op = call.state.operations.get(call.params[param])
    if op is None or op.scope != ids.key(scope):
        raise errors.backup_resource_not_found("operation", call.params[param])
    return op


def _vault_path(call: Call) -> str:
    return ids.vault_id(call.params["sub"], call.params["rg"], call.params["vault"])


def operation_status(call: Call) -> Reply:
    path = _vault_path(call)
    op = find_operation(call, path)
    return Reply(200, operation_json(op, f"{path}/operationStatus/{op.id}"))


def operation_result(call: Call) -> Reply:
    path = _vault_path(call)
    op = find_operation(call, path)
    if not op.done:
        return accepted(
            call, location=f"{path}/operationResults/{op.id}", async_operation=f"{path}/operationStatus/{op.id}"
        )
    if op.failure:
        raise errors.bad_request(op.failure.code, op.failure.message)
    vault = call.state.vaults_by_id.get(ids.key(path))
    return Reply(200, vault_json(vault)) if vault and op.kind != "VaultDelete" else Reply(204)


def check_name(call: Call) -> Reply:
    body = call.json_body()
    name = str(body.get("name") or "")
    taken = any(ids.key(v.name) == ids.key(name) for v in call.sub().vaults.values())
    if taken:
        return Reply(
            200,
            {
                "nameAvailable": False,
                "reason": "AlreadyExists",
                "message": "Resource already exists with the same name.",
            },
        )
    return Reply(200, {"nameAvailable": True})


def deleted_json(d: DeletedVault) -> dict[str, Any]:
    return {
        "id": d.id,
        "name": d.name,
        "type": "Microsoft.RecoveryServices/locations/deletedVaults",
        "properties": drop_none(
            {"vaultId": d.vault.id, "vaultDeletionTime": iso(d.deleted_at), "purgeAt": iso(d.purge_at)}
        ),
    }


def _deleted(call: Call) -> DeletedVault:
    found = call.sub().deleted_vaults.get((ids.norm_location(call.params["location"]), ids.key(call.params["name"])))
    if found is None:
        raise errors.backup_resource_not_found("deleted vault", call.params["name"])
    return found


def list_deleted(call: Call) -> Reply:
    loc = ids.norm_location(call.params["location"])
    return page(call, (d for (where, _), d in call.sub().deleted_vaults.items() if where == loc), deleted_json)


def get_deleted(call: Call) -> Reply:
    return Reply(200, deleted_json(_deleted(call)))


def undelete(call: Call) -> Reply:
    deleted = _deleted(call)
    op = engine.start_vault_undelete(call.state, deleted, call.now)
    status = f"{deleted.id}/operations/{op.id}"
    return Reply(
        202, None, {"Azure-AsyncOperation": call.url(status), "Retry-After": str(call.state.settings.retry_after)}
    )


def undelete_status(call: Call) -> Reply:
    deleted_id = (
        f"/subscriptions/{call.params['sub']}/providers/Microsoft.RecoveryServices/locations/"
        f"{call.params['location']}/deletedVaults/{call.params['name']}"
    )
    op = call.state.operations.get(call.params["op"])
    if op is None or op.kind != "VaultUndelete":
        raise errors.backup_resource_not_found("operation", call.params["op"])
    return Reply(200, operation_json(op, f"{deleted_id}/operations/{op.id}"))


ROUTES = [
    route("GET", VAULT, "Vaults_Get", f"{A}/read", get_vault),
    route("PUT", VAULT, "Vaults_CreateOrUpdate", f"{A}/write", put_vault),
    route("PATCH", VAULT, "Vaults_Update", f"{A}/write", patch_vault),
    route("DELETE", VAULT, "Vaults_Delete", f"{A}/delete", delete_vault),
    route("GET", VAULTS, "Vaults_ListByResourceGroup", f"{A}/read", list_by_group),
    route(
        "GET",
        SUB + "/providers/Microsoft.RecoveryServices/vaults",
        "Vaults_ListBySubscriptionId",
        f"{A}/read",
        list_by_subscription,
    ),
    route("GET", VAULT + "/operationStatus/{op}", "GetOperationStatus", f"{A}/operationStatus/read", operation_status),
    route(
        "GET", VAULT + "/operationResults/{op}", "GetOperationResult", f"{A}/operationResults/read", operation_result
    ),
    route(
        "POST",
        SUB + "/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/locations/{location}/checkNameAvailability",
        "RecoveryServices_CheckNameAvailability",
        "Microsoft.RecoveryServices/locations/checkNameAvailability/action",
        check_name,
    ),
    route(
        "GET",
        DELETED,
        "DeletedVaults_ListBySubscriptionId",
        "Microsoft.RecoveryServices/locations/deletedVaults/read",
        list_deleted,
    ),
    route(
        "GET",
        DELETED + "/{name}",
        "DeletedVaults_Get",
        "Microsoft.RecoveryServices/locations/deletedVaults/read",
        get_deleted,
    ),
    route(
        "POST",
        DELETED + "/{name}/undelete",
        "DeletedVaults_Undelete",
        "Microsoft.RecoveryServices/locations/deletedVaults/undelete/action",
        undelete,
    ),
    route(
        "GET",
        DELETED + "/{name}/operations/{op}",
        "DeletedVaults_GetOperationStatus",
        "Microsoft.RecoveryServices/locations/deletedVaults/read",
        undelete_status,
    ),
]
