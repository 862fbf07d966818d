"""Records of restores: the request as the emulator read it, and what the Restore job created."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RestoreRequest:
    """The fields of an `IaasVMRestoreRequest` (or `...WithRehydrationRequest`) the emulator acts on."""

    object_type: str
    recovery_type: str  #: AlternateLocation | RestoreDisks
    recovery_point_id: str
    source_resource_id: str
    storage_account_id: str  #: the staging account (also from identityBasedRestoreDetails)
    region: str = ""
    target_vm_id: str = ""
    target_resource_group_id: str = ""
    virtual_network_id: str = ""
    subnet_id: str = ""
    restore_disk_luns: tuple[int, ...] | None = None  #: None: every disk; (): the OS disk only
    zones: tuple[str, ...] = ()
    restore_with_managed_disks: bool = False
    rehydration_days: int | None = None  #: set for the rehydration request
    rehydration_priority: str = ""

    @property
    def alternate_location(self) -> bool:
        return self.recovery_type == "AlternateLocation"


@dataclass
class Restore:
    """One restore: the Restore job's inputs and, once it ran, the resources it created."""

    job_id: str
    vault: str  #: lower-cased vault id
    item: str  #: lower-cased protected item name
    recovery_point: str
    recovery_point_time: float
    source_vm_name: str
    subscription: str
    request: RestoreRequest
    staging_account: str  #: account name (propertyBag "Target Storage Account Name")
    vm_id: str | None = None
    nic_ids: list[str] = field(default_factory=list)
    disk_ids: list[str] = field(default_factory=list)
    vhd_uris: list[str] = field(default_factory=list)
    blobs: dict[str, str] = field(default_factory=dict)  #: propertyBag keys of the config/template blobs

    def to_json(self) -> dict[str, Any]:
        """What `/_admin/restores` shows (for test assertions)."""
        return {
            "jobId": self.job_id,
            "vault": self.vault,
            "item": self.item,
            "recoveryPoint": self.recovery_point,
            "recoveryType": self.request.recovery_type,
            "objectType": self.request.object_type,
            "targetVirtualMachineId": self.request.target_vm_id or None,
            "targetResourceGroupId": self.request.target_resource_group_id or None,
            "stagingAccount": self.staging_account,
            "created": {
                "virtualMachine": self.vm_id,
                "networkInterfaces": list(self.nic_ids),
                "disks": list(self.disk_ids),
                "vhds": list(self.vhd_uris),
                "blobs": dict(self.blobs),
            },
        }
