"""The real apiserver accepts every example and refuses bad input at `kubectl apply`, naming the field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.conftest import Kubectl

REPO = Path(__file__).resolve().parents[2]
SUB = "00000000-0000-0000-0000-000000000001"
VM = f"/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/web-01"

GOOD: dict[str, dict[str, Any]] = {
    "vault": {
        "apiVersion": "azbackup.dev/v1alpha1", "kind": "BackupVault", "metadata": {"name": "vault-a"},
        "spec": {"subscriptionId": SUB, "resourceGroup": "rg-backup", "location": "westeurope"},
    },
    "policy": {
        "apiVersion": "azbackup.dev/v1alpha1", "kind": "BackupPolicy", "metadata": {"name": "daily"},
        "spec": {"vaultRef": {"name": "vault-a"}, "policyType": "Standard",
                 "schedule": {"frequency": "Daily", "time": "21:00"},
                 "retention": {"daily": {"count": 30}}},
    },
    "pvm": {
        "apiVersion": "azbackup.dev/v1alpha1", "kind": "ProtectedVM", "metadata": {"name": "web-01"},
        "spec": {"vaultRef": {"name": "vault-a"}, "vm": VM},
    },
    "selector": {
        "apiVersion": "azbackup.dev/v1alpha1", "kind": "VMBackupSelector", "metadata": {"name": "sel"},
        "spec": {"vaultRef": {"name": "vault-a"}, "matchTags": {"backup": "daily"}},
    },
    "odb": {
        "apiVersion": "azbackup.dev/v1alpha1", "kind": "OnDemandBackup", "metadata": {"name": "now"},
        "spec": {"protectedVMRef": {"name": "web-01"}},
    },
    "restore": yaml.safe_load((REPO / "examples" / "restore" / "vmrestore.yaml").read_text()),
    "drill": yaml.safe_load((REPO / "examples" / "restore" / "restoredrill.yaml").read_text()),
}


def variant(base: str, change: Callable[[dict[str, Any]], None]) -> str:
    doc = copy.deepcopy(GOOD[base])
    change(doc)
    return yaml.safe_dump(doc)


def set_path(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        node = doc
        keys = path.split(".")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return change


BAD = [
    pytest.param("vault", set_path("metadata.name", "v"), "spec.vaultName", id="vault-name-too-short"),
    pytest.param("vault", set_path("spec.vaultName", "v"), "spec.vaultName", id="vault-name-1-char"),
    pytest.param("vault", set_path("spec.vaultName", "1vault"), "spec.vaultName", id="vault-name-starts-with-digit"),
    pytest.param("vault", set_path("spec.vaultName", "vault_a"), "spec.vaultName", id="vault-name-underscore"),
    pytest.param("vault", set_path("spec.vaultName", "v" * 51), "spec.vaultName", id="vault-name-51-chars"),
    pytest.param("vault", set_path("spec.storageRedundancy", "Geo"), "spec.storageRedundancy", id="bad-enum"),
    pytest.param("vault", set_path("spec.subscriptionId", "not-a-guid"), "spec.subscriptionId",
                 id="bad-subscription-id"),
    pytest.param("vault", set_path("spec.resourceGroup", "rg."), "spec.resourceGroup", id="rg-ends-with-period"),
    pytest.param("vault", set_path("spec.softDelete", {"retentionDays": 7}), "spec.softDelete.retentionDays",
                 id="soft-delete-retention-below-14"),
    pytest.param("vault", lambda d: d["spec"].update(storageRedundancy="LocallyRedundant", crossRegionRestore=True),
                 "crossRegionRestore", id="crr-without-geo"),
    pytest.param("vault", set_path("spec.encryption", {"keyUri": "https://kv.vault.azure.net/keys/k"}),
                 "encryption", id="cmk-without-identity"),
    pytest.param("pvm", set_path("spec.vm", "/subscriptions/x/vm/web-01"), "spec.vm", id="bad-vm-id"),
    pytest.param("pvm", set_path("spec.vm", VM.replace("virtualMachines", "disks")), "spec.vm",
                 id="vm-id-of-a-disk"),
    pytest.param("pvm", set_path("spec.diskSelection", {"includeLuns": [64]}), "spec.diskSelection.includeLuns",
                 id="lun-64"),
    pytest.param("pvm", set_path("spec.diskSelection", {"includeLuns": [0], "excludeLuns": [1]}),
                 "spec.diskSelection", id="include-and-exclude"),
    pytest.param("pvm", set_path("spec.state", "Paused"), "spec.state", id="bad-state-enum"),
    pytest.param("pvm", set_path("spec.onDelete", "Delete"), "spec.onDelete", id="bad-ondelete-enum"),
    pytest.param("pvm", set_path("spec.vaultRef", {"name": "Vault_A"}), "spec.vaultRef.name",
                 id="bad-ref-name"),
    pytest.param("policy", set_path("spec.retention.daily.count", 10000), "spec.retention.daily.count",
                 id="daily-retention-above-9999"),
    pytest.param("policy", set_path("spec.retention.daily.count", 6), "spec.retention.daily.count",
                 id="daily-retention-below-7"),
    pytest.param("policy", set_path("spec.schedule", {"frequency": "Hourly", "hourly": {
        "intervalHours": 4, "windowStartTime": "08:00", "windowDurationHours": 12}}),
        "spec.schedule.frequency", id="hourly-needs-enhanced"),
    pytest.param("policy", set_path("spec.schedule.time", "21:15"), "spec.schedule.time", id="time-not-half-hour"),
    pytest.param("policy", set_path("spec.instantRestoreRetentionDays", 6), "spec.instantRestoreRetentionDays",
                 id="standard-instant-restore-above-5"),
    pytest.param("policy", lambda d: d["spec"].update(policyType="Enhanced", schedule={
        "frequency": "Hourly", "hourly": {"intervalHours": 6, "windowStartTime": "08:00",
                                          "windowDurationHours": 8}}),
        "spec.schedule.hourly", id="window-not-multiple-of-interval"),
    pytest.param("policy", set_path("spec.retention.yearly", {"count": 100, "months": ["January"], "days": [1]}),
                 "spec.retention.yearly.count", id="yearly-retention-above-99"),
    pytest.param("policy", set_path("spec.retention.monthly", {"count": 12, "days": [1], "weekdays": ["Sunday"]}),
                 "spec.retention.monthly", id="monthly-days-and-weekdays"),
    pytest.param("selector", set_path("spec.matchExpressions", [{"key": "env", "operator": "In"}]),
                 "spec.matchExpressions[0]", id="in-without-values"),
    pytest.param("odb", lambda d: d["spec"].update(retentionDays=3, retainUntil="2030-01-01T00:00:00Z"),
                 "spec", id="retain-until-and-days"),
    pytest.param("restore", lambda d: d["spec"]["target"].pop("vmName"), "spec", id="new-vm-without-a-name"),
    pytest.param("restore", set_path("spec.mode", "OriginalLocation"), "spec.mode", id="restore-never-replaces"),
    pytest.param("restore", set_path("spec.target.vmName", "bad/name"), "spec.target.vmName", id="bad-vm-name"),
    pytest.param("drill", set_path("spec.schedule", "every sunday"), "spec.schedule", id="not-a-cron-schedule"),
    pytest.param("drill", set_path("spec.rpoObjective", "26 hours"), "spec.rpoObjective", id="not-a-duration"),
    pytest.param("drill", lambda d: d["spec"]["targets"].update(selector={"matchLabels": {"a": "b"}}),
                 "spec.targets", id="names-and-selector"),
    pytest.param("drill", set_path("spec.targets", {"sampleSize": 1}), "spec.targets", id="neither-names-nor-selector"),
    pytest.param("drill", set_path("spec.cleanup", "Sometimes"), "spec.cleanup", id="bad-cleanup-enum"),
    pytest.param("restore", set_path("spec.recoveryPoint.requireThreatStatus", "Clean"),
                 "spec.recoveryPoint.requireThreatStatus", id="restore-threat-status-is-healthy-or-when-scanned"),
    pytest.param("drill", set_path("spec.recoveryPoint.requireThreatStatus", "UnHealthy"),
                 "spec.recoveryPoint.requireThreatStatus", id="drill-never-requires-an-unhealthy-point"),
]


@pytest.mark.parametrize(("base", "change", "field"), BAD)
def test_bad_manifest_is_refused_naming_the_field(kubectl: Kubectl, base: str,
                                                  change: Callable[[dict[str, Any]], None], field: str) -> None:
    result = kubectl("create", "--dry-run=server", "-f", "-", input=variant(base, change), check=False)
    assert result.returncode != 0, f"accepted: {variant(base, change)}"
    assert field in result.stderr, result.stderr


@pytest.mark.parametrize("base", list(GOOD))
def test_good_manifest_is_accepted(kubectl: Kubectl, base: str) -> None:
    kubectl("create", "--dry-run=server", "-f", "-", input=yaml.safe_dump(GOOD[base]))


def test_every_example_is_accepted(kubectl: Kubectl) -> None:
    out = kubectl("apply", "-k", str(REPO / "examples")).stdout
    assert out.count("created") == 5, out


def test_the_hardened_example_is_accepted(kubectl: Kubectl) -> None:
    out = kubectl("apply", "-k", str(REPO / "examples" / "hardened")).stdout
    assert out.count("created") == 3, out


def test_the_migration_example_is_accepted(kubectl: Kubectl) -> None:
    out = kubectl("apply", "-f", str(REPO / "examples" / "migration")).stdout
    assert out.count("created") == 2, out


IMMUTABLE = [
    pytest.param("vault", "spec.location", "northeurope", "location is immutable", id="vault-location"),
    pytest.param("vault", "spec.subscriptionId", "00000000-0000-0000-0000-000000000002",
                 "subscriptionId is immutable", id="vault-subscription"),
    pytest.param("vault", "spec.resourceGroup", "rg-other", "resourceGroup is immutable", id="vault-rg"),
    pytest.param("vault", "spec.vaultName", "other-name", "vaultName is immutable", id="vault-name"),
    pytest.param("pvm", "spec.vm", VM.replace("web-01", "web-02"), "vm is immutable", id="protectedvm-vm"),
    pytest.param("policy", "spec.vaultRef", {"name": "vault-b"}, "vaultRef is immutable", id="policy-vault"),
    pytest.param("odb", "spec.retentionDays", 5, "spec cannot change", id="ondemand-spec"),
]


@pytest.mark.parametrize(("base", "path", "value", "message"), IMMUTABLE)
def test_immutable_field_change_is_refused(kubectl: Kubectl, base: str, path: str, value: Any,
                                           message: str) -> None:
    kubectl.apply(yaml.safe_dump(GOOD[base]))
    result = kubectl.apply(variant(base, set_path(path, value)), check=False)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


def test_kubectl_explain_teaches_the_fields(kubectl: Kubectl) -> None:
    out = " ".join(kubectl("explain", "protectedvm.spec").stdout.split())
    assert "Azure resource id of the VM" in out
    assert "RetainData" in out
    out = " ".join(kubectl("explain", "backupvault.spec.storageRedundancy").stdout.split())
    assert "locks it when the first item is protected" in out


def test_category_lists_all_five_kinds(kubectl: Kubectl) -> None:
    kubectl("apply", "-k", str(REPO / "examples"))
    out = kubectl("get", "azbackup", "-o", "name").stdout.split()
    kinds = sorted(line.split("/")[0] for line in out)
    assert kinds == sorted(["backuppolicy.azbackup.dev", "backupvault.azbackup.dev",
                            "ondemandbackup.azbackup.dev", "protectedvm.azbackup.dev",
                            "vmbackupselector.azbackup.dev"])
