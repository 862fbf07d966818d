"""Configure-protection jobs still running in a vault: what an earlier PUT may have started.

A configure-protection PUT whose answer was lost (a dropped connection, a 5xx after the change), or
whose operation URL was never saved (the operator killed mid-call, a handover between replicas), has
no record on the object; the protected item appears only once Azure's configure job is done. Before
any PUT, the operator looks for a running `ConfigureBackup` job of the VM (one list per vault, shared by
all its objects for a poll interval) and waits for it instead of sending a second PUT. azure-core's
own retries of the PUT are off (`retry_total=0`): a PUT re-sent after a dropped connection is exactly
the duplicate this avoids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from azbackup.azure import errors
from azbackup.azure.gateway import Clients
from azbackup.azure.rest import all_items

RUNNING_CONFIGURES = ("operation eq 'ConfigureBackup' and backupManagementType eq 'AzureIaasVM' "
                      "and status eq 'InProgress'")
# Read only before a migration to the Enhanced policy, which Azure asks to start with no backup running.
RUNNING_BACKUPS = "operation eq 'Backup' and backupManagementType eq 'AzureIaasVM' and status eq 'InProgress'"


def running_keys(jobs: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """Keys of the VMs with a running configure job: `rg;vm` from containerName, else the VM name."""
    keys: set[str] = set()
    for job in jobs:
        props = job.get("properties") or {}
        container = str(props.get("containerName") or "").lower()
        parts = container.split(";")
        if len(parts) >= 2 and parts[-1]:
            keys.add(f"{parts[-2]};{parts[-1]}")
        elif props.get("entityFriendlyName"):
            keys.add(str(props["entityFriendlyName"]).lower())
    return frozenset(keys)


def is_running(keys: frozenset[str], resource_group: str, vm_name: str) -> bool:
    return f"{resource_group};{vm_name}".lower() in keys or vm_name.lower() in keys


async def load_running(clients: Clients, vault_name: str, resource_group: str,
                       query: str = RUNNING_CONFIGURES) -> frozenset[str]:
    with errors.guard():
        jobs = await all_items(clients.backup.backup_jobs.list(vault_name, resource_group, filter=query))
    return running_keys(jobs)
