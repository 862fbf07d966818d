"""Agreement: what the operator's checks predict for each VM of the sample fleet is what Azure (the
emulator's configure-protection operation and backup job) then does. A VM the checks block fails there;
a VM they pass (warnings allowed) is protected and backed up."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from tests.integration.arm import Arm, container, item
from tests.integration.test_preflight import EXPECTED, SUB, preflight

RG, VAULT = "rg-backup", "rsv-agree"
VAULT_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.RecoveryServices/vaults/{VAULT}"
TERMINAL = {"Completed", "CompletedWithWarnings", "Failed", "Cancelled"}


@pytest.fixture
def arm(emulator: Any) -> Iterator[Arm]:
    client = Arm(emulator)
    client.vaults.vaults.begin_create_or_update(RG, VAULT, {
        "location": "westeurope", "sku": {"name": "RS0", "tier": "Standard"},
        "properties": {"publicNetworkAccess": "Enabled"}}).result()
    yield client
    client.close()


def azure_outcome(arm: Arm, rg: str, vm: str) -> str:
    """'ok', or where Azure refused: 'protect: CODE' or 'backup: CODE'."""
    try:
        arm.protect(RG, VAULT, rg, vm)
    except HttpResponseError as exc:
        return f"protect: {exc.error.code if exc.error else exc.status_code}"
    arm.backup.backups.trigger(VAULT, RG, "Azure", container(rg, vm), item(rg, vm),
                               {"properties": {"objectType": "IaasVMBackupRequest"}})
    for _ in range(300):
        jobs = [j.as_dict() for j in arm.backup.backup_jobs.list(VAULT, RG)]
        mine = [j for j in jobs if (j.get("properties") or {}).get("entityFriendlyName") == vm
                and (j.get("properties") or {}).get("operation") == "Backup"]
        if mine and mine[0]["properties"]["status"] in TERMINAL:
            props = mine[0]["properties"]
            if props["status"] == "Failed":
                errors = (props.get("errorDetails") or [{}])
                return f"backup: {errors[0].get('errorCode', 'Failed')}"
            return "ok"
        time.sleep(0.1)
    raise AssertionError(f"the backup job of {vm} did not finish")


def test_checks_agree_with_what_azure_does(emulator: Any, arm: Arm) -> None:
    run = preflight(emulator, "--vault-id", VAULT_ID, "--policy-type", "Standard", "-o", "json")
    assert run.returncode in (0, 1), run.stderr
    predicted = {(vm["resourceGroup"], vm["name"]): vm for vm in json.loads(run.stdout)["vms"]}
    assert set(predicted) == set(EXPECTED)
    disagreements = []
    for (rg, name), vm in sorted(predicted.items()):
        outcome = azure_outcome(arm, rg, name)
        blocked = vm["result"] == "Blocked"
        if blocked == (outcome == "ok"):
            disagreements.append(f"{rg}/{name}: checks say {vm['result']} ({vm['reason']}), Azure says {outcome}")
    assert disagreements == []
