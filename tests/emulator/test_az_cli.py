"""The Azure CLI (`az` 2.91, from PyPI, in its own virtualenv) walks the guide against the emulator.

Nothing is hand-edited: `az cloud register` reads the emulator's cloud metadata, `az login
--service-principal` gets a token from its Entra endpoint and lists its subscriptions, and every
step below is the command a user following "Prepare your environment to back up Resource
Manager-deployed virtual machines" types. The deliberate mistakes must come back with Azure's codes.

Only two settings are not defaults, both documented az settings for a private cloud:
`REQUESTS_CA_BUNDLE` (the emulator's CA) and `core.instance_discovery=false` (MSAL would otherwise
ask login.microsoftonline.com whether the emulator is a known authority).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from azure_emulator.inventory import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_ID
from azure_emulator.server import EmulatorProcess
from emulator_support import SUB

REPO = Path(__file__).resolve().parents[2]
RG, VAULT, VM_RG, VM = "rg-backup", "rsv-guide", "rg-web", "vm-web-01"
VM_ID = f"/subscriptions/{SUB}/resourceGroups/{VM_RG}/providers/Microsoft.Compute/virtualMachines/{VM}"
ITEM = ["-g", RG, "-v", VAULT, "-c", VM, "--backup-management-type", "AzureIaasVM"]


@pytest.fixture(scope="module")
def az() -> str:
    """The pinned `az`, installed by hack/az-cli.sh into ~/.cache/azbackup on first use."""
    done = subprocess.run(["bash", str(REPO / "hack" / "az-cli.sh")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@dataclass
class Result:
    argv: list[str]
    code: int
    out: Any
    error: str | None  #: the ARM error code az printed, if any
    stderr: str
    seconds: float


class Walk:
    """Runs az commands with one config directory and records every outcome."""

    def __init__(self, az: str, config_dir: Path, ca_bundle: str) -> None:
        self.az = az
        self.env = {
            **os.environ,
            "AZURE_CONFIG_DIR": str(config_dir),
            "REQUESTS_CA_BUNDLE": ca_bundle,
            "AZURE_CORE_INSTANCE_DISCOVERY": "false",
            "AZURE_CORE_COLLECT_TELEMETRY": "false",
            "AZURE_CORE_SURVEY_MESSAGE": "false",
            "AZURE_CORE_NO_COLOR": "true",
            "AZURE_CORE_ONLY_SHOW_ERRORS": "true",
        }
        self.results: list[tuple[Result, bool]] = []

    def run(self, *args: str, expect: str | None = None) -> Result:
        """Run `az args -o json`; it passes when it succeeds (expect None) or fails with code `expect`."""
        argv = [*args, "-o", "json"]
        started = time.monotonic()
        done = subprocess.run([self.az, *argv], capture_output=True, text=True, env=self.env, timeout=120, check=False)
        out: Any = None
        if done.stdout.strip():
            try:
                out = json.loads(done.stdout)
            except ValueError:
                out = done.stdout
        found = re.search(r"^Code: (\w+)", done.stderr, re.M) or re.search(r"\((\w+)\)", done.stderr)
        result = Result(
            argv, done.returncode, out, found.group(1) if found else None, done.stderr, time.monotonic() - started
        )
        passed = done.returncode == 0 if expect is None else (done.returncode != 0 and result.error == expect)
        self.results.append((result, passed))
        return result

    def summary(self) -> str:
        failed = [
            f"az {' '.join(r.argv)} -> rc {r.code} {r.error}: {r.stderr[-400:]}" for r, ok in self.results if not ok
        ]
        slowest = max(self.results, key=lambda x: x[0].seconds)[0] if self.results else None
        took = sum(r.seconds for r, _ in self.results)
        head = f"{len(self.results) - len(failed)}/{len(self.results)} az commands passed in {took:.0f} s"
        if slowest is not None:
            head += f" (slowest: az {' '.join(slowest.argv[:4])} {slowest.seconds:.1f} s)"
        return head + "\n" + "\n".join(failed)


@pytest.fixture
def walk(az: str, emu: EmulatorProcess, tmp_path: Path) -> Iterator[Walk]:
    w = Walk(az, tmp_path / "azure-config", emu.ca_bundle)
    yield w
    print("\n" + w.summary())


@pytest.mark.timeout(900)  # about 50 s on an idle machine; az starts a Python process per command
def test_az_walks_the_guide(walk: Walk, emu: EmulatorProcess) -> None:
    w = walk
    # Log in as a user of a private cloud would.
    w.run("cloud", "register", "-n", "AzureBackupEmulator", "--endpoint-resource-manager", emu.url)
    w.run("cloud", "set", "-n", "AzureBackupEmulator")
    login = w.run(
        "login",
        "--service-principal",
        "-u",
        DEFAULT_CLIENT_ID,
        "-p",
        DEFAULT_CLIENT_SECRET,
        "--tenant",
        DEFAULT_TENANT_ID,
    )
    assert [s["id"] for s in login.out or []] == [SUB], login.stderr
    w.run("group", "show", "-n", RG)

    # Create the vault, set its storage redundancy and soft delete before protecting anything.
    w.run(
        "backup",
        "vault",
        "create",
        "-g",
        RG,
        "-n",
        "rsv-" + "x" * 47,
        "-l",
        "westeurope",
        expect="InvalidRestApiParameter",
    )
    w.run("backup", "vault", "create", "-g", RG, "-n", VAULT, "-l", "westeurope")
    shown = w.run("backup", "vault", "show", "-g", RG, "-n", VAULT)
    assert (shown.out or {}).get("name") == VAULT
    w.run(
        "backup",
        "vault",
        "backup-properties",
        "set",
        "-g",
        RG,
        "-n",
        VAULT,
        "--backup-storage-redundancy",
        "LocallyRedundant",
    )
    w.run(
        "backup", "vault", "backup-properties", "set", "-g", RG, "-n", VAULT, "--cross-region-restore-flag", "true",
        expect="BMSUserErrorUnableToEnableCrossRegionRestore",
    )  # fmt: skip
    w.run(
        "backup", "vault", "backup-properties", "set", "-g", RG, "-n", VAULT, "--soft-delete-feature-state", "Disable"
    )
    props = w.run("backup", "vault", "backup-properties", "show", "-g", RG, "-n", VAULT)
    storage = next((p for p in props.out or [] if p.get("name") == "vaultstorageconfig"), {})
    assert storage.get("properties", {}).get("storageModelType") == "LocallyRedundant", props.out

    # Policies: the default one, and a custom one made from it.
    w.run("backup", "policy", "list", "-g", RG, "-v", VAULT)
    default = w.run("backup", "policy", "show", "-g", RG, "-v", VAULT, "-n", "DefaultPolicy").out or {}
    custom = json.loads(json.dumps(default))
    custom["name"] = "daily-30"
    custom.get("properties", {}).get("retentionPolicy", {}).get("dailySchedule", {}).get("retentionDuration", {})[
        "count"
    ] = 30
    policy_file = Path(w.env["AZURE_CONFIG_DIR"]).parent / "policy.json"
    policy_file.write_text(json.dumps(custom))
    w.run("backup", "policy", "create", "-g", RG, "-v", VAULT, "-n", "daily-30", "--policy", f"@{policy_file}",
          "--backup-management-type", "AzureIaasVM")  # fmt: skip
    custom["properties"]["retentionPolicy"]["dailySchedule"]["retentionDuration"]["count"] = 45
    policy_file.write_text(json.dumps(custom))
    w.run("backup", "policy", "set", "-g", RG, "-v", VAULT, "-n", "daily-30", "--policy", f"@{policy_file}")

    # Protect the VM, change its policy, back it up now and follow the job.
    w.run("backup", "protection", "check-vm", "--vm", VM_ID)
    w.run("backup", "protection", "enable-for-vm", "-g", RG, "-v", VAULT, "--vm", VM_ID, "-p", "DefaultPolicy")
    checked = w.run("backup", "protection", "check-vm", "--vm", VM_ID)
    assert str(checked.out or "").lower().endswith(f"/vaults/{VAULT}"), checked.out
    items = w.run("backup", "item", "list", "-g", RG, "-v", VAULT).out or []
    assert [i["properties"]["friendlyName"] for i in items] == [VM]
    w.run("backup", "item", "show", *ITEM, "-n", VM)
    w.run("backup", "item", "set-policy", *ITEM, "-n", VM, "-p", "daily-30")
    job = w.run("backup", "protection", "backup-now", *ITEM, "-i", VM, "--retain-until", "01-01-2030").out or {}
    w.run("backup", "job", "list", "-g", RG, "-v", VAULT)
    w.run("backup", "job", "show", "-g", RG, "-v", VAULT, "-n", str(job.get("name")))
    waited = w.run("backup", "job", "wait", "-g", RG, "-v", VAULT, "-n", str(job.get("name"))).out or {}
    assert waited.get("properties", {}).get("status") == "Completed", waited
    points = w.run("backup", "recoverypoint", "list", *ITEM, "-i", VM).out or []
    assert points, "the on-demand backup made a recovery point"
    w.run("backup", "vault", "backup-properties", "set", "-g", RG, "-n", VAULT, "--backup-storage-redundancy",
          "GeoRedundant", expect="StorageModelModifyError")  # fmt: skip

    # Stop protection keeping the data, resume it, then stop it and delete the data.
    w.run("backup", "protection", "disable", *ITEM, "-i", VM, "--yes")
    stopped = w.run("backup", "item", "show", *ITEM, "-n", VM).out or {}
    assert stopped.get("properties", {}).get("protectionState") == "ProtectionStopped", stopped
    w.run("backup", "protection", "resume", *ITEM, "-i", VM, "-p", "DefaultPolicy")
    w.run("backup", "protection", "disable", *ITEM, "-i", VM, "--delete-backup-data", "true", "--yes")

    # What the guide checks on the VM: power state and addresses, agent, NSG rules and effective rules.
    details = w.run("vm", "show", "-g", VM_RG, "-n", VM, "-d").out or {}
    assert details.get("powerState") == "VM running", details
    assert details.get("publicIps"), "the NIC's public IP resolves to its address"
    listed = w.run("vm", "list", "-d").out or []
    assert any(v.get("name") == VM and v.get("publicIps") for v in listed)
    w.run("vm", "get-instance-view", "-g", VM_RG, "-n", VM)
    w.run("network", "nsg", "show", "-g", VM_RG, "-n", "nsg-web")
    effective = w.run("network", "nic", "list-effective-nsg", "-g", VM_RG, "-n", f"{VM}-nic").out or {}
    assert effective.get("value"), effective

    # What changed, read from Azure's Activity Log once its delay has passed: the walk's own writes.
    emu.admin.advance_clock(emu.admin.settings()["activityLogDelay"] + 1)
    logged = emu.admin.activity_log(SUB)
    start = logged[-1]["eventTimestamp"]  # the oldest entry (the list is newest first)
    activity = w.run("monitor", "activity-log", "list", "--start-time", start, "--max-events", "1000").out or []
    assert {e["eventDataId"] for e in activity} == {e["eventDataId"] for e in logged}, len(activity)
    writes = {e["operationName"]["value"] for e in activity if e["status"]["value"] == "Succeeded"}
    assert "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/write" in writes
    assert {e["claims"]["appid"] for e in activity} == {DEFAULT_CLIENT_ID}  # every write was the walk's

    assert all(ok for _, ok in w.results), w.summary()
