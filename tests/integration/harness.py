"""What integration tests drive: the operator as a real process, Azure (the emulator) through the real SDK,
the manifests they apply, and waiting on what a user would see."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from azbackup.devtools.control_plane import ControlPlane
from azbackup.process import children
from azure.core.rest import HttpRequest
from azure.identity import ClientSecretCredential
from azure.mgmt.recoveryservices import RecoveryServicesClient
from azure.mgmt.recoveryservicesbackup import RecoveryServicesBackupClient
from azure_emulator.inventory import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_ID
from azure_emulator.server import EmulatorProcess

SUB = "00000000-0000-0000-0000-000000000001"


def vm_id(resource_group: str, name: str, subscription: str = SUB) -> str:
    return (f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
            f"/providers/Microsoft.Compute/virtualMachines/{name}")


def operator_env(plane: ControlPlane, emulator: EmulatorProcess) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "KUBECONFIG": str(plane.kubeconfig),
        "AZBACKUP_ARM_ENDPOINT": emulator.url,
        "AZURE_AUTHORITY_HOST": emulator.url,
        "AZBACKUP_CA_BUNDLE": emulator.ca_bundle,
        "AZURE_TENANT_ID": DEFAULT_TENANT_ID,
        "AZURE_CLIENT_ID": DEFAULT_CLIENT_ID,
        "AZURE_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
    })
    return env


class OperatorProcess:
    """`azbackup run` for one namespace, with short timings; kill() is a SIGKILL, as a node failure is."""

    FAST = ("--sync-period", "4", "--poll-interval", "1", "--retry-scale", "0.02", "--concurrency", "16")

    def __init__(self, plane: ControlPlane, emulator: EmulatorProcess, namespace: str, log_dir: Path,
                 extra: Sequence[str] = ()) -> None:
        self.plane, self.emulator, self.namespace, self.log_dir = plane, emulator, namespace, log_dir
        self.extra = list(extra)
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"operator-{self.runs}.log"

    def start(self) -> OperatorProcess:
        self.runs += 1
        cmd = [sys.executable, "-m", "azbackup.cli", "run", "-n", self.namespace, *self.FAST, *self.extra]
        self.proc = children.spawn("operator", cmd, env=operator_env(self.plane, self.emulator), log=self.log_path)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None:
            children.stop(self.proc)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("operator-*.log")))


class Cluster:
    """kubectl in one namespace, plus waiting on conditions with a deadline (never a fixed sleep)."""

    def __init__(self, plane: ControlPlane, namespace: str) -> None:
        self.plane, self.namespace = plane, namespace

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.plane.kubectl("-n", self.namespace, *args, input=input, check=check)

    def apply(self, *docs: Mapping[str, Any]) -> None:
        self.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(list(docs)))

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        out = self.kubectl("get", kind, name, "-o", "json", check=False)
        return json.loads(out.stdout) if out.returncode == 0 else None

    def delete(self, kind: str, name: str, wait: bool = False) -> None:
        self.kubectl("delete", kind, name, f"--wait={'true' if wait else 'false'}", "--timeout=60s", check=False)

    def annotate(self, kind: str, name: str, **values: str | None) -> None:
        args = [f"{k}={v}" if v is not None else f"{k}-" for k, v in values.items()]
        self.kubectl("annotate", "--overwrite", kind, name, *args)

    def patch(self, kind: str, name: str, patch: Mapping[str, Any]) -> None:
        self.kubectl("patch", kind, name, "--type=merge", "-p", json.dumps(patch))

    def condition(self, kind: str, name: str, type_: str = "Ready") -> dict[str, Any] | None:
        obj = self.get(kind, name) or {}
        for cond in (obj.get("status") or {}).get("conditions") or ():
            if cond.get("type") == type_:
                return dict(cond)
        return None

    def wait_for(self, kind: str, name: str, *, status: str = "True", reason: str | None = None,
                 type_: str = "Ready", timeout: float = 60.0,
                 operator: OperatorProcess | None = None) -> dict[str, Any]:
        """Wait until a condition has `status` (and `reason`); return the object. Fails with what was seen."""
        last: Any = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            obj = self.get(kind, name)
            for cond in ((obj or {}).get("status") or {}).get("conditions") or ():
                if cond.get("type") == type_:
                    last = cond
                    if cond.get("status") == status and (reason is None or cond.get("reason") == reason):
                        assert obj is not None
                        return obj
            if operator is not None and not operator.alive():
                raise AssertionError(f"the operator exited:\n{operator.logs()[-4000:]}")
            time.sleep(0.25)
        logs = f"\noperator log tail:\n{operator.logs()[-3000:]}" if operator else ""
        raise AssertionError(f"{kind}/{name} {type_} never became {status}/{reason}; last: {last}{logs}")

    def wait_gone(self, kind: str, name: str, timeout: float = 60.0,
                  operator: OperatorProcess | None = None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.get(kind, name) is None:
                return
            time.sleep(0.25)
        logs = f"\noperator log tail:\n{operator.logs()[-3000:]}" if operator else ""
        raise AssertionError(f"{kind}/{name} still exists: {self.get(kind, name)}{logs}")

    def events(self, name: str) -> list[dict[str, Any]]:
        out = self.kubectl("get", "events", "-o", "json", f"--field-selector=involvedObject.name={name}")
        return list(json.loads(out.stdout)["items"])


def eventually(check: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except AssertionError as exc:
            last = exc
        time.sleep(0.25)
    raise AssertionError(f"{what} never held; last: {last}")


def vault(name: str, **spec: Any) -> dict[str, Any]:
    base = {"subscriptionId": SUB, "resourceGroup": "rg-backup", "location": "westeurope"}
    return {"apiVersion": "azbackup.dev/v1alpha1", "kind": "BackupVault", "metadata": {"name": name},
            "spec": {**base, **spec}}


def policy(name: str, vault_name: str, **spec: Any) -> dict[str, Any]:
    base = {"vaultRef": {"name": vault_name}, "policyType": "Enhanced",
            "schedule": {"frequency": "Daily", "time": "21:00"}, "retention": {"daily": {"count": 30}}}
    return {"apiVersion": "azbackup.dev/v1alpha1", "kind": "BackupPolicy", "metadata": {"name": name},
            "spec": {**base, **spec}}


def protected_vm(name: str, vault_name: str, vm: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "azbackup.dev/v1alpha1", "kind": "ProtectedVM", "metadata": {"name": name},
            "spec": {"vaultRef": {"name": vault_name}, "vm": vm, **spec}}


def selector(name: str, vault_name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "azbackup.dev/v1alpha1", "kind": "VMBackupSelector", "metadata": {"name": name},
            "spec": {"vaultRef": {"name": vault_name}, "matchTags": {"backup": "daily"}, **spec}}


def on_demand(name: str, target: str, annotations: Mapping[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "azbackup.dev/v1alpha1", "kind": "OnDemandBackup",
            "metadata": {"name": name, **({"annotations": dict(annotations)} if annotations else {})},
            "spec": {"protectedVMRef": {"name": target}, **spec}}


def selected(cluster: Cluster) -> dict[str, dict[str, Any]]:
    """The ProtectedVMs selectors made, by VM name."""
    out = cluster.kubectl("get", "protectedvms", "-l", "azbackup.dev/selector", "-o", "json").stdout
    return {item["spec"]["vm"].rsplit("/", 1)[-1]: item for item in json.loads(out)["items"]}


def protected_names(cluster: Cluster) -> set[str]:
    """The VMs whose selector-made ProtectedVM is Ready."""
    return {vm for vm, child in selected(cluster).items()
            if any(c["type"] == "Ready" and c["status"] == "True"
                   for c in (child.get("status") or {}).get("conditions", []))}


class Arm:
    """Azure as a test sees it: the real (sync) SDK clients pointed at the emulator, to read state or change
    it behind the operator's back."""

    def __init__(self, emulator: EmulatorProcess, subscription: str = SUB) -> None:
        self.credential = ClientSecretCredential(DEFAULT_TENANT_ID, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
                                                 authority=emulator.url, disable_instance_discovery=True,
                                                 connection_verify=emulator.ca_bundle)
        options: dict[str, Any] = {"base_url": emulator.url, "credential_scopes": [f"{emulator.url}/.default"],
                                   "connection_verify": emulator.ca_bundle, "polling_interval": 0.2}
        self.vaults = RecoveryServicesClient(self.credential, subscription, **options)
        self.backup = RecoveryServicesBackupClient(self.credential, subscription, **options)

    def vault(self, rg: str, name: str) -> dict[str, Any]:
        return dict(self.vaults.vaults.get(rg, name).as_dict())

    def vault_names(self, rg: str) -> list[str]:
        return [v.name for v in self.vaults.vaults.list_by_resource_group(rg)]

    def patch_vault(self, rg: str, name: str, patch: dict[str, Any]) -> None:
        self.vaults.vaults.begin_update(rg, name, patch).result()

    def protect(self, rg: str, vault: str, vm_rg: str, vm: str, policy: str = "DefaultPolicy",
                exclude_luns: tuple[int, ...] = ()) -> dict[str, Any]:
        """Enable protection directly, as a portal user would (refresh, then PUT the item)."""
        captured: dict[str, Any] = {}

        def hook(response: Any) -> None:
            captured.setdefault("location", response.http_response.headers.get("Location"))

        self.backup.protection_containers.refresh(vault, rg, "Azure", raw_response_hook=hook)
        for _ in range(100):
            if self.backup.send_request(HttpRequest("GET", captured["location"])).status_code != 202:
                break
            time.sleep(0.1)
        vault_id = f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/vaults/{vault}"
        body = {"properties": {"protectedItemType": "Microsoft.Compute/virtualMachines",
                               "sourceResourceId": vm_id(vm_rg, vm),
                               "policyId": f"{vault_id}/backupPolicies/{policy}"}}
        if exclude_luns:
            body["properties"]["extendedProperties"] = {"diskExclusionProperties": {
                "diskLunList": list(exclude_luns), "isInclusionList": False}}
        self.backup.protected_items.begin_create_or_update(
            vault, rg, "Azure", container(vm_rg, vm), item(vm_rg, vm), body).result()
        found = self.backup.protected_items.get(vault, rg, "Azure", container(vm_rg, vm), item(vm_rg, vm))
        return dict(found.as_dict())

    def item(self, rg: str, vault: str, vm_rg: str, vm: str) -> dict[str, Any] | None:
        for found in self.backup.backup_protected_items.list(vault, rg):
            source = str((found.as_dict().get("properties") or {}).get("sourceResourceId", ""))
            if source.lower() == vm_id(vm_rg, vm).lower():
                return dict(found.as_dict())
        return None

    def delete_item(self, rg: str, vault: str, vm_rg: str, vm: str) -> None:
        self.backup.protected_items.delete(vault, rg, "Azure", container(vm_rg, vm), item(vm_rg, vm))

    def close(self) -> None:
        self.vaults.close()
        self.backup.close()
        self.credential.close()


def container(rg: str, vm: str) -> str:
    return f"IaasVMContainer;iaasvmcontainerv2;{rg};{vm}"


def item(rg: str, vm: str) -> str:
    return f"VM;iaasvmcontainerv2;{rg};{vm}"
