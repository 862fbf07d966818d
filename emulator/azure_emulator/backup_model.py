"""Records of the Recovery Services side: vaults, their policies, protected items and recovery points."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from azure_emulator import ids

#: Protection states in which backups run (`protectionState` of an IaaS VM item).
ACTIVE_STATES = frozenset({"IRPending", "Protected", "ProtectionError"})


@dataclass
class Policy:
    name: str
    properties: dict[str, Any]
    policy_type: str = "V1"


@dataclass(frozen=True)
class RpDisk:
    """A disk as the recovery point holds it (`lun` None is the OS disk)."""

    lun: int | None
    name: str
    size_gb: int
    sku: str
    managed: bool


@dataclass
class RecoveryPoint:
    """A recovery point: when, how consistent, in which tiers, and the VM as it was then.

    The tiers (`recovery_tiers.tier_details` renders them): a snapshot copy valid until
    `instant_until` (None: the point never had one), a vault copy (`vault_tier`), and, once moved to
    the archive, `archived` (the vault copy is then gone) with `rehydrated_until` after a rehydration.
    """

    name: str
    time: float
    type: str
    expiry: float
    vm_size: str
    encrypted: bool
    managed: bool
    zones: list[str] = field(default_factory=list)
    os_type: str = "Linux"
    tags: dict[str, str] = field(default_factory=dict)  #: the VM's tags at backup time
    source: dict[str, Any] = field(default_factory=dict)  #: the VM's inventory document at backup time
    disks: list[RpDisk] = field(default_factory=list)
    computer_name: str = ""
    instant_until: float | None = None
    vault_tier: bool = True
    archived: bool = False
    rehydrated_until: float | None = None
    created: float = 0.0  #: emulator time the point was made (a seeded point may be dated earlier)
    threat_status: str | None = None  #: set by the admin API; None: what the vault's source scan gives
    threat_info: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ProtectedItem:
    """One IaaS VM protected in a vault (also while protection is stopped or the item soft-deleted)."""

    vault_id: str  #: lower-cased vault id
    vm_resource_group: str
    vm_name: str
    vm_id: str
    source_location: str
    policy: str | None = "DefaultPolicy"
    state: str = "IRPending"
    exclusion: dict[str, Any] | None = None
    last_backup_status: str = ""
    last_backup_time: float | None = None
    health_status: str = "Passed"
    health_details: list[dict[str, Any]] = field(default_factory=list)
    soft_deleted: bool = False
    deleted_at: float | None = None
    recovery_points: list[RecoveryPoint] = field(default_factory=list)
    data_id: str = "0"
    created: float = 0.0

    @property
    def container_name(self) -> str:
        return ids.container_name(self.vm_resource_group, self.vm_name)

    @property
    def name(self) -> str:
        return ids.item_name(self.vm_resource_group, self.vm_name)

    @property
    def key(self) -> str:
        return ids.key(self.name)

    @property
    def active(self) -> bool:
        """Protected and backing up: not stopped, not suspended, not soft-deleted."""
        return not self.soft_deleted and self.state in ACTIVE_STATES

    @property
    def excludes_disks(self) -> bool:
        return self.exclusion is not None


@dataclass
class Vault:
    """A Recovery Services vault with everything the backup service keeps in it."""

    subscription: str
    resource_group: str
    name: str
    location: str
    created: float
    tags: dict[str, str] = field(default_factory=dict)
    sku: dict[str, Any] = field(default_factory=lambda: {"name": "Standard"})
    identity: dict[str, Any] | None = None
    public_network_access: str = "Enabled"
    redundancy: str = "GeoRedundant"
    cross_region_restore: bool = False
    soft_delete_state: str = "Enabled"
    soft_delete_days: int = 14
    enhanced_security: str = "Enabled"
    immutability: str = "Disabled"
    monitoring: dict[str, Any] = field(default_factory=dict)
    encryption: dict[str, Any] | None = None
    restore_settings: dict[str, Any] | None = None
    cost_management: dict[str, Any] | None = None  #: properties.costManagementSettings as last set
    source_scan: dict[str, Any] | None = None  #: securitySettings.sourceScanConfiguration as last set
    scan_periods: list[list[float | None]] = field(default_factory=list)  #: [start, end] while Enabled
    provisioning_state: str = "Succeeded"
    etag_time: float = 0.0
    policies: dict[str, Policy] = field(default_factory=dict)
    items: dict[str, ProtectedItem] = field(default_factory=dict)
    discovered: set[str] = field(default_factory=set)  #: lower-cased ids of VMs seen by the last refresh
    resource_guard: str | None = None  #: the id of the Resource Guard protecting critical operations
    guard_linked: float | None = None  #: when the guard was associated (its proxy's lastUpdatedTime)
    jobs: list[str] = field(default_factory=list)  #: job ids, oldest first
    policy_writes: list[float] = field(default_factory=list)  #: times of accepted policy creates/edits

    @property
    def id(self) -> str:
        return ids.vault_id(self.subscription, self.resource_group, self.name)

    @property
    def key(self) -> str:
        return ids.key(self.id)

    @property
    def backup_prefix(self) -> str:
        return ids.backup_vault_prefix(self.subscription, self.resource_group, self.name)

    @property
    def storage_locked(self) -> bool:
        """Redundancy is locked once an item is registered (and while any stays registered)."""
        return bool(self.items)

    def policy_id(self, policy: str) -> str:
        return f"{self.backup_prefix}/backupPolicies/{policy}"


@dataclass
class DeletedVault:
    """A soft-deleted vault (`locations/{location}/deletedVaults/{name}`)."""

    subscription: str
    location: str
    name: str
    vault: Vault
    deleted_at: float
    purge_at: float

    @property
    def id(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/providers/{ids.RSV}/locations/{self.location}"
            f"/deletedVaults/{self.name}"
        )
