"""Helpers shared by the emulator tests: constants, resource ids, and the SDK clients (`Azure`)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from azure.identity.aio import ClientSecretCredential
from azure.mgmt.compute.aio import ComputeManagementClient
from azure.mgmt.monitor.aio import MonitorManagementClient
from azure.mgmt.network.aio import NetworkManagementClient
from azure.mgmt.recoveryservices.aio import RecoveryServicesClient
from azure.mgmt.recoveryservicesbackup.aio import RecoveryServicesBackupClient
from azure.mgmt.resource.resources.aio import ResourceManagementClient
from azure.mgmt.resource.subscriptions.aio import SubscriptionClient
from azure.mgmt.storage.aio import StorageManagementClient
from azure_emulator.inventory import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_ID
from azure_emulator.server import EmulatorProcess

TIME_SCALE = 0.002  #: an 8 s configure-protection takes 16 ms, a 20 s backup job 40 ms
SUB = "00000000-0000-0000-0000-000000000001"
READONLY_ID, READONLY_SECRET = "33333333-3333-3333-3333-333333333333", "readonly-secret"


def vm_id(rg: str, vm: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}"


def vault_id(rg: str, vault: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/vaults/{vault}"


def container(rg: str, vm: str) -> str:
    return f"IaasVMContainer;iaasvmcontainerv2;{rg};{vm}"


def item(rg: str, vm: str) -> str:
    return f"VM;iaasvmcontainerv2;{rg};{vm}"


class Azure:
    """A credential and the aio management clients, as the operator would build them."""

    def __init__(
        self,
        emu: EmulatorProcess,
        client_id: str = DEFAULT_CLIENT_ID,
        secret: str = DEFAULT_CLIENT_SECRET,
        **client_kwargs: Any,
    ) -> None:
        self.emu = emu
        self.credential = ClientSecretCredential(
            DEFAULT_TENANT_ID,
            client_id,
            secret,
            authority=emu.url,
            disable_instance_discovery=True,
            connection_verify=emu.ca_bundle,
        )
        kw: dict[str, Any] = {
            "base_url": emu.url,
            "credential_scopes": [emu.url + "/.default"],
            "connection_verify": emu.ca_bundle,
            "polling_interval": 0,
            **client_kwargs,
        }
        self.vaults = RecoveryServicesClient(self.credential, SUB, **kw)
        self.backup = RecoveryServicesBackupClient(self.credential, SUB, **kw)
        self.compute = ComputeManagementClient(self.credential, SUB, **kw)
        self.network = NetworkManagementClient(self.credential, SUB, **kw)
        self.storage = StorageManagementClient(self.credential, SUB, **kw)
        self.resources = ResourceManagementClient(self.credential, SUB, **kw)
        self.subscriptions = SubscriptionClient(self.credential, **kw)
        self.monitor = MonitorManagementClient(self.credential, SUB, **kw)

    async def close(self) -> None:
        for client in (
            self.vaults,
            self.backup,
            self.compute,
            self.network,
            self.storage,
            self.resources,
            self.subscriptions,
            self.monitor,
        ):
            await client.close()
        await self.credential.close()

    async def wait_job(self, vault: str, rg: str, job_id: str, within: float = 10.0) -> Any:
        """The job once it is no longer InProgress."""
        deadline = time.monotonic() + within
        while True:
            job = await self.backup.job_details.get(vault, rg, job_id)
            if job.properties.status != "InProgress":
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still running")
            await asyncio.sleep(0.02)
