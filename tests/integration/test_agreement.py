"""Agreement: what the operator's checks predict for each VM of the sample fleet is what Azure (the
emulator's configure-protection operation and backup job) then does. A VM the checks block fails there;
a VM they pass (warnings allowed) is protected and backed up. Asked for a Standard policy, for an Enhanced
policy, and with the disks today's prerequisites allow to exclude left out of the backup."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Mapping
from typing import Any

import pytest
from azbackup import checks, preflight
from azbackup.azure import gateway as gw
from azbackup.azure.credentials import CredentialSource
from azbackup.checks import facts as f
from azure.core.exceptions import HttpResponseError
from azure_emulator.inventory import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_ID

from tests.integration.harness import Arm, container, item
from tests.integration.test_preflight import EXPECTED, SUB

RG, VAULT = "rg-backup", "rsv-agree"
VAULT_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.RecoveryServices/vaults/{VAULT}"
TERMINAL = {"Completed", "CompletedWithWarnings", "Failed", "Cancelled"}
POLICY = {f.PolicyType.STANDARD: "DefaultPolicy", f.PolicyType.ENHANCED: "EnhancedPolicy"}
# The data disks a ProtectedVM may leave out so that today's prerequisites hold (sample fleet, by VM name).
EXCLUDED = {"vm-ultra-db": (1,), "vm-pv2-app": (0,), "vm-entra-disk": (0,), "vm-cluster-1": (0,)}


@pytest.fixture
def arm(arm: Arm) -> Arm:
    """The shared fixture, with the vault every VM here is protected in."""
    arm.vaults.vaults.begin_create_or_update(RG, VAULT, {
        "location": "westeurope", "sku": {"name": "RS0", "tier": "Standard"},
        "properties": {"publicNetworkAccess": "Enabled"}}).result()
    return arm


def predictions(emulator: Any, policy_type: f.PolicyType,
                excluded: Mapping[str, tuple[int, ...]]) -> dict[tuple[str, str], preflight.Row]:
    """The checks' verdict per VM, gathered as `azbackup preflight --vault-id` gathers them, with the disk
    selection a ProtectedVM would carry."""
    env = {"AZBACKUP_ARM_ENDPOINT": emulator.url, "AZURE_AUTHORITY_HOST": emulator.url,
           "AZBACKUP_CA_BUNDLE": emulator.ca_bundle}
    source = CredentialSource("secret", "agreement", DEFAULT_TENANT_ID, DEFAULT_CLIENT_ID, secret=DEFAULT_CLIENT_SECRET)
    request = preflight.Request(SUB, vault_id=VAULT_ID, policy_type=policy_type)
    gathered = asyncio.run(preflight.run(gw.AzureSettings.from_env(env), source, request))
    rows = {}
    for evaluated in gathered.vms:
        ctx = dataclasses.replace(evaluated.context,
                                  disk_selection=f.DiskSelection(exclude_luns=excluded.get(evaluated.vm.name)))
        rows[(evaluated.vm.resource_group, evaluated.vm.name)] = preflight.build_row(
            evaluated.vm, ctx, checks.evaluate(evaluated.vm, ctx))
    return rows


def azure_outcome(arm: Arm, rg: str, vm: str, policy: str = "DefaultPolicy",
                  excluded: tuple[int, ...] | None = None) -> str:
    """'ok', or where Azure refused: 'protect: CODE' or 'backup: CODE'."""
    try:
        arm.protect(RG, VAULT, rg, vm, policy, excluded or ())
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


@pytest.mark.parametrize(("policy_type", "excluded"), [
    pytest.param(f.PolicyType.STANDARD, {}, id="standard-policy-every-disk"),
    pytest.param(f.PolicyType.ENHANCED, {}, id="enhanced-policy-every-disk"),
    pytest.param(f.PolicyType.STANDARD, EXCLUDED, id="standard-policy-offending-disks-excluded"),
    pytest.param(f.PolicyType.ENHANCED, EXCLUDED, id="enhanced-policy-offending-disks-excluded"),
])
def test_checks_agree_with_what_azure_does(emulator: Any, arm: Arm, policy_type: f.PolicyType,
                                           excluded: dict[str, tuple[int, ...]]) -> None:
    predicted = predictions(emulator, policy_type, excluded)
    assert set(predicted) == set(EXPECTED)
    # With exclusions, only the VMs that have some are asked again (the rest is the same as without).
    asked = {k: v for k, v in predicted.items() if not excluded or k[1] in excluded}
    disagreements = []
    for (rg, name), row in sorted(asked.items()):
        outcome = azure_outcome(arm, rg, name, POLICY[policy_type], excluded.get(name))
        blocked = row.result is preflight.Outcome.BLOCKED
        if blocked == (outcome == "ok"):
            disagreements.append(f"{rg}/{name}: checks say {row.result} ({row.reason}), Azure says {outcome}")
    assert disagreements == []


def test_excluding_the_offending_disks_unblocks_what_azure_allows(emulator: Any, arm: Arm) -> None:
    """Standard policy: excluding an Ultra Disk, a Premium SSD v2 or a data-access-authenticated disk is
    enough; an ephemeral OS disk or a Confidential VM has no disk to exclude."""
    plain = predictions(emulator, f.PolicyType.STANDARD, {})
    excluded = predictions(emulator, f.PolicyType.STANDARD, EXCLUDED)
    today = ("vm-ultra-db", "vm-pv2-app", "vm-entra-disk", "vm-ephemeral", "vm-confidential", "vm-trusted")
    assert {k[1]: (plain[k].reason, excluded[k].result) for k in plain if k[1] in today} == {
        "vm-ultra-db": ("DiskNeedsEnhancedPolicy", preflight.Outcome.PROTECTABLE),
        "vm-pv2-app": ("DiskNeedsEnhancedPolicy", preflight.Outcome.PROTECTABLE),
        "vm-entra-disk": ("DiskDataAccessAuth", preflight.Outcome.PROTECTABLE),
        "vm-ephemeral": ("EphemeralOSDisk", preflight.Outcome.BLOCKED),
        "vm-confidential": ("ConfidentialVMNeedsEnhancedPolicy", preflight.Outcome.BLOCKED),
        "vm-trusted": ("", preflight.Outcome.PROTECTABLE),
    }
