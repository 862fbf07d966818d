"""The bulk reads, as ARM JSON pages through the management client's own pipeline.

The typed list operations of azure-mgmt-compute, -network and -storage deserialize every item into
models that the operator immediately turns back into JSON; for a fleet of thousands of VMs that was
most of the operator's CPU, and importing those three packages alone costs ~64 MB of memory. These
reads go through the same azure-core pipeline instead (authentication, retries, the subscription's
token buckets, metrics) with `send_request`, and keep the JSON. The paths and api-versions are those
the pinned SDKs send: tests/unit/azure/test_lists.py compares them with the SDKs' own request builders.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any
from urllib.parse import quote

from azure.core.rest import HttpRequest

from azbackup.azure import errors
from azbackup.toolkit import ids

COMPUTE_VMS = "2026-04-01"  # azure-mgmt-compute 39.0.0, virtualMachines
COMPUTE_DISKS = "2026-03-02"  # azure-mgmt-compute 39.0.0, disks
NETWORK = "2026-03-01"  # azure-mgmt-network 33.1.0
STORAGE = "2026-09-01"  # azure-mgmt-storage 25.3.0
BACKUP = "2026-10-01"  # azure-mgmt-recoveryservicesbackup 11.2.0

IAAS_VM_ITEMS = "backupManagementType eq 'AzureIaasVM' and itemType eq 'VM'"
IAAS_VM = "backupManagementType eq 'AzureIaasVM'"
Compact = Callable[[Mapping[str, Any]], dict[str, Any]]  # what of an item to keep in memory


def _q(value: str) -> str:
    return quote(value, safe="")


def vms(subscription: str) -> str:
    return (f"/subscriptions/{_q(subscription)}/providers/Microsoft.Compute/virtualMachines"
            f"?api-version={COMPUTE_VMS}&$expand=instanceView")


def disks(subscription: str) -> str:
    return f"/subscriptions/{_q(subscription)}/providers/Microsoft.Compute/disks?api-version={COMPUTE_DISKS}"


def network(subscription: str, collection: str) -> str:
    """collection: networkInterfaces, networkSecurityGroups or virtualNetworks."""
    return f"/subscriptions/{_q(subscription)}/providers/Microsoft.Network/{collection}?api-version={NETWORK}"


def service_tags(subscription: str, location: str) -> str:
    return (f"/subscriptions/{_q(subscription)}/providers/Microsoft.Network/locations/{_q(location)}"
            f"/serviceTags?api-version={NETWORK}")


def storage_accounts(subscription: str) -> str:
    return f"/subscriptions/{_q(subscription)}/providers/Microsoft.Storage/storageAccounts?api-version={STORAGE}"


def vault_collection(subscription: str, resource_group: str, vault: str, collection: str, filter_: str = "") -> str:
    """collection: backupProtectedItems, backupProtectableItems or backupResourceGuardProxies."""
    return (f"/subscriptions/{_q(subscription)}/resourceGroups/{_q(resource_group)}/providers/"
            f"Microsoft.RecoveryServices/vaults/{_q(vault)}/{collection}?api-version={BACKUP}"
            + (f"&$filter={_q(filter_)}" if filter_ else ""))


# api-version of a single resource read by its id, by resource type (lower-cased, without the namespace's
# casing): the versions of the collection reads above, so one resource reads back exactly as it lists.
BY_TYPE = {
    "microsoft.compute/virtualmachines": COMPUTE_VMS,
    "microsoft.compute/disks": COMPUTE_DISKS,
    "microsoft.network/networkinterfaces": NETWORK,
    "microsoft.network/networksecuritygroups": NETWORK,
    "microsoft.network/virtualnetworks": NETWORK,
    "microsoft.storage/storageaccounts": STORAGE,
    "microsoft.recoveryservices/vaults/backupfabrics/protectioncontainers/protecteditems": BACKUP,
}


resource_type = ids.resource_type


def resource(resource_id: str) -> str | None:
    """GET of one resource by id, as the collection read shows it (a VM with its instance view)."""
    version = BY_TYPE.get(resource_type(resource_id))
    if version is None:
        return None
    expand = "&$expand=instanceView" if version is COMPUTE_VMS else ""
    return f"{quote(resource_id, safe='/;,=')}?api-version={version}{expand}"


async def pages(send_request: Callable[..., Any], url: str) -> AsyncIterator[dict[str, Any]]:
    """Every item of an ARM collection, following nextLink (absolute URLs are used as they are)."""
    next_url: str | None = url
    while next_url:
        with errors.guard():
            response = await send_request(HttpRequest("GET", next_url))
            response.raise_for_status()
            body = response.json()
        for item in body.get("value") or ():
            yield item
        next_url = body.get("nextLink")


async def collect(send_request: Callable[..., Any], url: str) -> list[dict[str, Any]]:
    return [item async for item in pages(send_request, url)]


async def get(send_request: Callable[..., Any], url: str) -> dict[str, Any]:
    with errors.guard():
        response = await send_request(HttpRequest("GET", url))
        response.raise_for_status()
        result: dict[str, Any] = response.json()
    return result


async def get_if_exists(send_request: Callable[..., Any], url: str) -> dict[str, Any] | None:
    """The resource, or None when ARM answers 404 (deleted since the entry that named it)."""
    try:
        return await get(send_request, url)
    except errors.NotFound:
        return None


class SubscriptionLists:
    """A subscription's collections as ARM JSON: one paged list call each, the fleet's only reads."""

    def __init__(self, send_request: Callable[..., Any], subscription: str) -> None:
        self._send, self._subscription = send_request, subscription

    async def network_and_disks(self, compact_disk: Compact, compact_nic: Compact
                                ) -> tuple[list[dict[str, Any]], ...]:
        sub = self._subscription
        return tuple(await asyncio.gather(
            self._compacted(disks(sub), compact_disk), self._compacted(network(sub, "networkInterfaces"), compact_nic),
            collect(self._send, network(sub, "networkSecurityGroups")),
            collect(self._send, network(sub, "virtualNetworks"))))

    async def _compacted(self, url: str, compact: Compact) -> list[dict[str, Any]]:
        return [compact(item) async for item in pages(self._send, url)]

    def virtual_machines(self) -> AsyncIterator[dict[str, Any]]:
        return pages(self._send, vms(self._subscription))

    async def storage_accounts(self) -> list[dict[str, Any]]:
        return await collect(self._send, storage_accounts(self._subscription))

    async def resource(self, resource_id: str) -> dict[str, Any] | None:
        """One resource by id (None: gone, or a type this module does not read)."""
        url = resource(resource_id)
        return await get_if_exists(self._send, url) if url else None
