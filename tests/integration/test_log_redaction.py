"""Secrets never reach logs, events or status: a full run at debug level, grepped for the test secrets."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from azure_emulator.inventory import DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_ID

from tests.integration.harness import Cluster, OperatorProcess, policy, protected_vm, vault, vm_id

TEAM_CLIENT = "33333333-3333-3333-3333-333333333333"
TEAM_SECRET = "team-secret-Zq8~do-not-log-4711"
WRONG_SECRET = "wrong-secret-Xy7~do-not-log-0815"


def secret(name: str, client_secret: str) -> dict[str, Any]:
    data = {"AZURE_TENANT_ID": DEFAULT_TENANT_ID, "AZURE_CLIENT_ID": TEAM_CLIENT, "AZURE_CLIENT_SECRET": client_secret}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": "Opaque",
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


def test_a_full_run_at_debug_level_logs_no_secret(control_plane_instance: Any, emulator: Any, namespace: str,
                                                  tmp_path: Path) -> None:
    emulator.admin.add_identity({"clientId": TEAM_CLIENT, "name": "team-a", "secret": TEAM_SECRET})
    cluster = Cluster(control_plane_instance, namespace)
    for log_format in ("json", "text"):
        operator = OperatorProcess(control_plane_instance, emulator, namespace, tmp_path / log_format,
                                   extra=["-v", "--log-format", log_format])
        (tmp_path / log_format).mkdir()
        operator.start()
        try:
            if log_format == "json":
                # A wrong secret first (AuthenticationFailed), then the right one, then the whole story.
                cluster.apply(secret("team-cred", WRONG_SECRET),
                              vault("vault-a", credentialRef={"name": "team-cred"}))
                cluster.wait_for("backupvault", "vault-a", status="True", type_="Stalled",
                                 reason="AuthenticationFailed", operator=operator)
                cluster.apply(secret("team-cred", TEAM_SECRET), policy("daily", "vault-a"),
                              protected_vm("web", "vault-a", vm_id("rg-web", "vm-web-01"),
                                           policyRef={"name": "daily"}),
                              {"apiVersion": "azbackup.dev/v1alpha1", "kind": "OnDemandBackup",
                               "metadata": {"name": "now"}, "spec": {"protectedVMRef": {"name": "web"}}})
                cluster.wait_for("backupvault", "vault-a", timeout=90, operator=operator)
                cluster.wait_for("ondemandbackup", "now", reason="BackupSucceeded", timeout=90, operator=operator)
            else:
                # A restarted operator in the other format: the same credential again, and one more backup.
                cluster.apply({"apiVersion": "azbackup.dev/v1alpha1", "kind": "OnDemandBackup",
                               "metadata": {"name": "again"}, "spec": {"protectedVMRef": {"name": "web"}}})
                cluster.wait_for("ondemandbackup", "again", reason="BackupSucceeded", timeout=90,
                                 operator=operator)
        finally:
            operator.stop()
        logs = operator.logs()
        assert "DEBUG" in logs or '"level": "DEBUG"' in logs  # debug logging really was on
        for leaked in (TEAM_SECRET, WRONG_SECRET, DEFAULT_CLIENT_SECRET):
            assert leaked not in logs, f"{leaked} in the {log_format} logs"
    everything = json.dumps([json.loads(cluster.kubectl("get", kind, "-o", "json").stdout)
                             for kind in ("azbackup", "events")])
    for leaked in (TEAM_SECRET, WRONG_SECRET, DEFAULT_CLIENT_SECRET):
        assert leaked not in everything
