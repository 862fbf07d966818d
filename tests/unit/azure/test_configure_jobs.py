"""Which VMs have a configure-protection job running, from a vault's job list."""

from __future__ import annotations

from typing import Any

import pytest
from azbackup.azure import configure_jobs as cj


def job(container: str | None, name: str) -> dict[str, Any]:
    props: dict[str, Any] = {"entityFriendlyName": name, "operation": "ConfigureBackup", "status": "InProgress"}
    if container is not None:
        props["containerName"] = container
    return {"properties": props}


@pytest.mark.parametrize(("jobs", "rg", "vm", "running"), [
    pytest.param([job("iaasvmcontainerv2;rg-web;vm-web-01", "vm-web-01")], "RG-Web", "VM-Web-01", True,
                 id="matched by resource group and name, case-insensitively"),
    pytest.param([job("iaasvmcontainerv2;rg-db;vm-web-01", "vm-web-01")], "rg-web", "vm-web-01", False,
                 id="the same VM name in another resource group is another VM"),
    pytest.param([job(None, "vm-web-01")], "rg-web", "vm-web-01", True,
                 id="without a container name, the VM name decides"),
    pytest.param([], "rg-web", "vm-web-01", False, id="nothing running"),
])
def test_is_running(jobs: list[dict[str, Any]], rg: str, vm: str, running: bool) -> None:
    assert cj.is_running(cj.running_keys(jobs), rg, vm) is running
