"""What users and Azure can throw at the operator without breaking its bookkeeping or its promises."""

from __future__ import annotations

import json
from typing import Any

import yaml

from tests.integration.harness import Cluster, OperatorProcess, eventually, vault

DIFFBASE = "kopf.azbackup.dev/last-handled-configuration"


def test_a_large_foreign_annotation_does_not_break_kopfs_bookkeeping(cluster: Cluster, operator: OperatorProcess,
                                                                      emulator: Any) -> None:
    doc = vault("vault-a")
    doc["metadata"]["annotations"] = {"example.com/notes": "x" * 150_000}  # fits once, not twice
    cluster.kubectl("create", "-f", "-", input=yaml.safe_dump(doc))  # apply would copy it into last-applied
    cluster.wait_for("backupvault", "vault-a", timeout=60, operator=operator)
    cluster.patch("backupvault", "vault-a", {"spec": {"tags": {"cost-center": "42"}}})

    def handled() -> bool:
        obj = cluster.get("backupvault", "vault-a") or {}
        base = json.loads((obj["metadata"].get("annotations") or {}).get(DIFFBASE) or "{}")
        return (base.get("spec") or {}).get("tags") == {"cost-center": "42"}

    eventually(handled, timeout=60, what="kopf recorded the handled change")
    assert "422" not in operator.logs()
