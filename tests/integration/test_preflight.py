"""`azbackup preflight` as a user runs it: a subprocess against the emulator's sample fleet, no Kubernetes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

import yaml
from azure_emulator.inventory import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_ID

SUB = "00000000-0000-0000-0000-000000000001"
RSV_LEGACY = f"/subscriptions/{SUB}/resourceGroups/rg-legacy/providers/Microsoft.RecoveryServices/vaults/rsv-legacy"
READONLY_CLIENT_ID, READONLY_SECRET = "33333333-3333-3333-3333-333333333333", "readonly-secret"

# Every VM of the sample fleet against a vault in westeurope: (resource group, name) -> (RESULT, REASON).
EXPECTED = {
    ("rg-apps", "vm-agent-down"): ("Blocked", "VMAgentNotReady"),
    ("rg-apps", "vm-api-01"): ("Protectable", "-"),
    # unmanaged disks are retired: deallocated (crash-consistent), trusted services only is no longer enough
    ("rg-apps", "vm-appvhd"): (
        "Protectable with warnings",
        "VMAgentNotReporting, VMStopped, StorageAccountNotOpenToAllNetworks, UnmanagedDisksRetired",
    ),
    ("rg-apps", "vm-coreos"): ("Blocked", "UnsupportedOS"),
    ("rg-apps", "vm-noagent"): ("Blocked", "VMAgentNotInstalled"),
    ("rg-apps", "vm-stopped"): ("Protectable with warnings", "VMAgentNotReporting, VMStopped"),
    ("rg-apps", "vm-win-oldagent"): ("Blocked", "VMAgentTooOld"),
    ("rg-data", "vm-ade-ok"): ("Protectable", "-"),
    ("rg-data", "vm-ade-switched"): ("Blocked", "DiskEncryptionUnsupported"),
    ("rg-data", "vm-bigdata"): ("Blocked", "TooManyDataDisks"),
    ("rg-data", "vm-cluster-1"): ("Protectable with warnings", "SharedDisk"),
    ("rg-data", "vm-cluster-2"): ("Protectable with warnings", "SharedDisk"),
    ("rg-data", "vm-db-01"): ("Protectable", "-"),
    ("rg-data", "vm-locked-down"): ("Blocked", "NoNetworkPath"),
    ("rg-data", "vm-sap-hana"): ("Blocked", "WriteAcceleratorEnabled"),
    ("rg-dev", "vm-dev-01"): ("Protectable", "-"),
    ("rg-dev", "vm-dev-02"): ("Protectable", "-"),
    ("rg-legacy", "vm-classic-disks"): ("Blocked", "StorageAccountFirewall"),
    ("rg-legacy", "vm-legacy-erp"): ("Blocked", "AlreadyProtectedByOtherVault"),
    ("rg-legacy", "vm-retired"): ("Blocked", "AlreadyProtectedByOtherVault"),
    ("rg-legacy", "vm-win2003"): ("Blocked", "UnsupportedOS"),
    ("rg-neu", "vm-neu-app"): ("Blocked", "RegionMismatch"),
    ("rg-web", "vm-multi-nic"): ("Protectable with warnings", "RestoreNetworkConfig"),
    ("rg-web", "vm-web-01"): ("Protectable", "-"),
    ("rg-web", "vm-web-02"): ("Protectable", "-"),
    # prerequisites Azure added after the guide, with the default Enhanced policy
    ("rg-data", "vm-ultra-db"): ("Protectable", "-"),
    ("rg-apps", "vm-pv2-app"): ("Protectable", "-"),
    ("rg-dev", "vm-ephemeral"): ("Blocked", "EphemeralOSDisk"),
    ("rg-data", "vm-entra-disk"): ("Blocked", "DiskDataAccessAuth"),
    ("rg-apps", "vm-confidential"): ("Protectable", "-"),
    ("rg-apps", "vm-trusted"): ("Protectable", "-"),
}
# The check each Blocked VM fails (exactly one per limitation VM).
FAILED = {
    "vm-agent-down": "VMAgentReady", "vm-coreos": "SupportedOS", "vm-noagent": "VMAgentReady",
    "vm-win-oldagent": "VMAgentReady", "vm-ade-switched": "DiskEncryptionSupported", "vm-bigdata": "DataDiskLimit",
    "vm-locked-down": "NetworkPath", "vm-sap-hana": "NoWriteAccelerator", "vm-classic-disks": "StorageAccountAccess",
    "vm-legacy-erp": "NotProtectedElsewhere", "vm-retired": "NotProtectedElsewhere", "vm-win2003": "SupportedOS",
    "vm-neu-app": "SameRegion", "vm-ephemeral": "NoEphemeralOSDisk", "vm-entra-disk": "NoDataAccessAuthDisks",
}
# Operations that only read. backupStatus is a POST action, so ARM (and the emulator) meter it as a write,
# but it changes nothing: it asks which vault protects a VM.
READ_ONLY = {"Entra_Token", "VirtualMachines_ListAll", "Disks_List", "NetworkInterfaces_ListAll",
             "NetworkSecurityGroups_ListAll", "VirtualNetworks_ListAll", "StorageAccounts_List", "ServiceTags_List",
             "Vaults_Get", "BackupStatus_Get", "BackupProtectedItems_List"}


def preflight(emulator: Any, *args: str, secret: str = DEFAULT_CLIENT_SECRET) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBERNETES_", "AZURE_", "AZBACKUP_"))}
    env.update({
        "AZBACKUP_ARM_ENDPOINT": emulator.url, "AZURE_AUTHORITY_HOST": emulator.url,
        "AZBACKUP_CA_BUNDLE": emulator.ca_bundle, "AZURE_TENANT_ID": DEFAULT_TENANT_ID,
        "AZURE_CLIENT_ID": DEFAULT_CLIENT_ID, "AZURE_CLIENT_SECRET": secret,
        "KUBECONFIG": os.devnull,  # it never talks to Kubernetes: a kubeconfig that points nowhere is fine
    })
    return subprocess.run([sys.executable, "-m", "azbackup.cli", "preflight", *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def table(stdout: str) -> tuple[dict[tuple[str, str], tuple[str, ...]], list[str]]:
    """Table rows by (resource group, VM) -> (LOCATION, OS, RESULT, REASON, CHECKS), and the lines after."""
    lines = stdout.splitlines()
    blank = lines.index("")
    header = re.split(r"\s{3,}", lines[0])
    assert header == ["VM", "RESOURCE GROUP", "LOCATION", "OS", "RESULT", "REASON", "CHECKS"]
    rows = [re.split(r"\s{3,}", line) for line in lines[1:blank]]
    return {(r[1], r[0]): tuple(r[2:]) for r in rows}, lines[blank + 1:]


def operations(emulator: Any) -> dict[str, int]:
    return {name: op["total"] for name, op in emulator.admin.counters()["operations"].items()}


def test_table_over_the_sample_fleet_blocks_each_limitation_and_writes_nothing(emulator: Any) -> None:
    run = preflight(emulator, "--subscription", SUB, "--vault-location", "westeurope")
    assert run.returncode == 1, run.stderr
    assert run.stderr == ""
    rows, footer = table(run.stdout)
    assert {key: (row[2], row[3]) for key, row in rows.items()} == EXPECTED
    assert {vm: row[4] for (_, vm), row in rows.items() if row[2] == "Blocked"} == FAILED
    assert list(rows) == sorted(rows), "ordered by resource group, then name"
    assert rows[("rg-neu", "vm-neu-app")][:2] == ("northeurope", "Linux")
    assert footer == ["31 VMs: 11 Protectable, 5 Protectable with warnings, 15 Blocked, 0 Unknown.",
                      "Checked against a vault in westeurope.", "Policy type Enhanced."]
    # The warning rows name the checks that warned.
    assert rows[("rg-apps", "vm-stopped")][4] == "VMAgentReady,ApplicationConsistent"
    assert rows[("rg-apps", "vm-appvhd")][4] == "VMAgentReady,ApplicationConsistent,StorageAccountAccess,ManagedDisks"
    # The operator's batches: one list per collection, one backupStatus per VM, no service tags (no NSG
    # rule names a CIDR), one item list of rsv-legacy (which holds two selected VMs), and nothing that
    # changes Azure.
    assert operations(emulator) == {
        "Entra_Token": 1, "VirtualMachines_ListAll": 1, "Disks_List": 1, "NetworkInterfaces_ListAll": 1,
        "NetworkSecurityGroups_ListAll": 1, "VirtualNetworks_ListAll": 1, "StorageAccounts_List": 1,
        "BackupStatus_Get": len(EXPECTED), "BackupProtectedItems_List": 1}
    kinds = emulator.admin.counters()["kinds"]
    assert (kinds["read"], kinds["write"], kinds["delete"]) == (7, len(EXPECTED), 0)


def test_json_reports_every_check_of_every_vm(emulator: Any) -> None:
    run = preflight(emulator, "--subscription", SUB, "--vault-location", "westeurope", "-o", "json")
    assert run.returncode == 1, run.stderr
    doc = json.loads(run.stdout)
    got = {(vm["resourceGroup"], vm["name"]): (vm["result"], vm["reason"] or "-") for vm in doc["vms"]}
    assert got == EXPECTED
    assert [(vm["resourceGroup"], vm["name"]) for vm in doc["vms"]] == sorted(EXPECTED)
    names = ["SameRegion", "NotProtectedElsewhere", "VMAgentReady", "ApplicationConsistent", "NetworkPath",
             "SupportedOS", "DataDiskLimit", "NoWriteAccelerator", "DiskEncryptionSupported", "StorageAccountAccess",
             "ManagedDisks", "NoSharedDisks", "RestoreNetworkConfig", "DiskTypeSupported", "NoEphemeralOSDisk",
             "NoDataAccessAuthDisks", "SecurityTypeSupported"]
    for vm in doc["vms"]:
        assert [c["name"] for c in vm["checks"]] == names, vm["name"]
        assert all(c.keys() == {"name", "result", "reason", "message"} for c in vm["checks"])
        assert vm["id"] == (f"/subscriptions/{SUB}/resourceGroups/{vm['resourceGroup']}"
                            f"/providers/Microsoft.Compute/virtualMachines/{vm['name']}")
        assert vm["failedChecks"] == ([FAILED[vm["name"]]] if vm["result"] == "Blocked" else [])
    erp = next(vm for vm in doc["vms"] if vm["name"] == "vm-legacy-erp")
    message = next(c["message"] for c in erp["checks"] if c["name"] == "NotProtectedElsewhere")
    assert "rsv-legacy" in message
    # Advice that can be followed: vm-retired's item in rsv-legacy is soft-deleted, so its protection there
    # is already stopped; vm-legacy-erp's is active.
    advice = {vm["name"]: vm["advice"] for vm in doc["vms"]}
    assert "soft-deleted: protection there is already stopped" in advice["vm-retired"]
    assert "Vault rsv-legacy protects it. Keep it there" in advice["vm-legacy-erp"]
    assert "update the VM agent to 2.7.41491.1010 or later" in advice["vm-locked-down"]
    assert advice["vm-sap-hana"].count("allow outbound HTTPS (TCP 443) from the VM to the Internet") == 1
    assert doc["summary"] == {"total": 31, "protectable": 11, "protectableWithWarnings": 5, "blocked": 15,
                              "unknown": 0, "exitCode": 1}
    assert (doc["vault"], doc["policyType"], doc["protectionStatus"]) == (
        {"id": None, "location": "westeurope"}, "Enhanced", "read")


def test_a_resource_group_that_can_be_protected_exits_0(emulator: Any) -> None:
    run = preflight(emulator, "--subscription", SUB, "--vault-location", "westeurope", "--resource-group", "rg-web")
    assert run.returncode == 0, run.stderr
    rows, footer = table(run.stdout)
    assert {key: (row[2], row[3]) for key, row in rows.items()} == {
        k: v for k, v in EXPECTED.items() if k[0] == "rg-web"}
    assert footer[0] == "3 VMs: 2 Protectable, 1 Protectable with warnings, 0 Blocked, 0 Unknown."
    assert operations(emulator)["BackupStatus_Get"] == 3  # asked only for the selected VMs
    assert operations(emulator)["VirtualMachines_ListAll"] == 1


def test_tag_filter_selects_tagged_vms_and_without_a_vault_assumes_each_vms_region(emulator: Any) -> None:
    run = preflight(emulator, "--subscription", SUB, "--tag", "backup=daily", "-o", "yaml")
    untagged = {("rg-dev", "vm-dev-02"), ("rg-legacy", "vm-retired"),  # the only VMs without backup=daily
                ("rg-data", "vm-ultra-db"), ("rg-apps", "vm-pv2-app"), ("rg-dev", "vm-ephemeral"),
                ("rg-data", "vm-entra-disk"), ("rg-apps", "vm-confidential"), ("rg-apps", "vm-trusted")}
    doc = yaml.safe_load(run.stdout)
    got = {(vm["resourceGroup"], vm["name"]): (vm["result"], vm["reason"] or "-") for vm in doc["vms"]}
    # No vault given: vm-neu-app would need a vault in northeurope, and nothing else changes.
    want = {k: v for k, v in EXPECTED.items() if k not in untagged}
    want[("rg-neu", "vm-neu-app")] = ("Protectable", "-")
    assert got == want
    assert next(vm for vm in doc["vms"] if vm["name"] == "vm-neu-app")["vaultLocation"] == "northeurope"
    assert doc["vault"] == {"id": None, "location": None}
    assert run.returncode == 1


def test_skip_protection_status_makes_no_backup_status_call(emulator: Any) -> None:
    run = preflight(emulator, "--subscription", SUB, "--resource-group", "rg-legacy", "--skip-protection-status",
                    "-o", "json")
    assert run.returncode == 1, run.stderr
    doc = json.loads(run.stdout)
    erp = next(vm for vm in doc["vms"] if vm["name"] == "vm-legacy-erp")
    assert erp["result"] == "Protectable"
    assert next(c for c in erp["checks"] if c["name"] == "NotProtectedElsewhere")["result"] == "Skipped"
    assert doc["protectionStatus"] == "skipped"
    assert "BackupStatus_Get" not in operations(emulator)
    kinds = emulator.admin.counters()["kinds"]
    assert (kinds["write"], kinds["delete"]) == (0, 0)


def test_a_read_only_identity_from_flags_is_enough(emulator: Any) -> None:
    """The emulator's azbackup-readonly identity is denied every write and delete: preflight needs neither."""
    run = preflight(emulator, "--subscription", SUB, "--vault-location", "westeurope", "--tenant-id",
                    DEFAULT_TENANT_ID, "--client-id", READONLY_CLIENT_ID, secret=READONLY_SECRET)
    assert run.returncode == 1, run.stderr
    rows, _ = table(run.stdout)
    assert {key: (row[2], row[3]) for key, row in rows.items()} == EXPECTED
    assert set(operations(emulator)) <= READ_ONLY


def test_vault_id_reads_the_vault_once_and_its_own_vms_pass(emulator: Any) -> None:
    run = preflight(emulator, "--vault-id", RSV_LEGACY, "--resource-group", "rg-legacy")
    rows, footer = table(run.stdout)
    assert {vm: row[2:4] for (_, vm), row in rows.items()} == {
        "vm-classic-disks": ("Blocked", "StorageAccountFirewall"), "vm-legacy-erp": ("Protectable", "-"),
        "vm-retired": ("Protectable", "-"), "vm-win2003": ("Blocked", "UnsupportedOS")}
    assert footer[1] == f"Checked against vault {RSV_LEGACY} in westeurope."
    assert footer[2] == ("This vault already holds 2 of the selected VMs: vm-legacy-erp (Protected), "
                         "vm-retired (soft-deleted: undelete it to resume).")
    assert operations(emulator)["Vaults_Get"] == 1
    assert run.returncode == 1


def test_azure_errors_exit_2_with_the_reason_and_no_traceback(emulator: Any) -> None:
    run = preflight(emulator, "--subscription", SUB, secret="wrong-secret")
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.startswith("azbackup preflight: AuthenticationFailed: Azure rejected the credential")
    assert "Traceback" not in run.stderr
    assert "wrong-secret" not in run.stderr
    assert len(run.stderr.splitlines()) == 1
    missing = preflight(emulator, "--vault-id", RSV_LEGACY.replace("rsv-legacy", "rsv-none"))
    assert (missing.returncode, missing.stderr.split(":")[1].strip()) == (2, "VaultNotFound")


def test_service_tags_are_read_once_per_region_and_only_when_a_rule_names_a_cidr(emulator: Any) -> None:
    # nsg-web guards three VMs of rg-web; a rule naming a CIDR needs Storage's prefixes to be judged.
    emulator.admin.set_nsg_rules(SUB, "rg-web", "nsg-web", [
        {"name": "allow-https-in", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
         "port": "443"},
        {"name": "deny-corp-out", "priority": 100, "access": "Deny", "protocol": "Tcp", "destination": "10.99.0.0/16",
         "port": "443"}])
    run = preflight(emulator, "--subscription", SUB, "--resource-group", "rg-web", "-o", "json")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert {vm["name"]: next(c["result"] for c in vm["checks"] if c["name"] == "NetworkPath")
            for vm in doc["vms"]} == {"vm-multi-nic": "Passed", "vm-web-01": "Passed", "vm-web-02": "Passed"}
    assert operations(emulator)["ServiceTags_List"] == 1
