"""Typed views of the specs, with the same defaults as the CRD schema.

The apiserver applies the schema's defaults, so a stored object always carries them; parsing applies
them again so that unit tests and old objects read the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

ANNOTATION_PREFIX = "azbackup.dev"
RECONCILE_POLICY_ANNOTATION = f"{ANNOTATION_PREFIX}/reconcile-policy"
FINALIZER = f"{ANNOTATION_PREFIX}/finalizer"  # kopf's (settings.persistence.finalizer): Azure clean-up holds deletion
OWNER_TAG = "azbackup.dev-owner"
T = TypeVar("T")


def _get(spec: Mapping[str, Any], key: str, default: T) -> T:
    """spec[key], or `default` when it is absent or null (the schema gave it the default's type)."""
    value = spec.get(key)
    return default if value is None else cast(T, value)


@dataclass(frozen=True)
class LocalRef:
    name: str

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None) -> LocalRef | None:
        return cls(str(raw["name"])) if raw and raw.get("name") else None


@dataclass(frozen=True)
class SoftDelete:
    state: str = "Enabled"  # Enabled | Disabled | AlwaysOn
    retention_days: int = 14


@dataclass(frozen=True)
class Identity:
    system_assigned: bool = False
    user_assigned: tuple[str, ...] = ()


@dataclass(frozen=True)
class Encryption:
    key_uri: str
    user_assigned_identity: str | None = None
    infrastructure_encryption: bool = False


@dataclass(frozen=True)
class VaultSpec:
    subscription_id: str
    resource_group: str
    location: str
    vault_name: str
    sku: str = "Standard"
    storage_redundancy: str = "GeoRedundant"
    cross_region_restore: bool = False
    soft_delete: SoftDelete = field(default_factory=SoftDelete)
    immutability: str = "Disabled"
    public_network_access: str = "Enabled"
    identity: Identity | None = None
    encryption: Encryption | None = None
    job_failure_alerts: bool = True
    critical_operation_alerts: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)
    credential_secret: str | None = None
    deletion_policy: str = "Retain"
    resource_guard: str | None = None  # a Resource Guard's ARM id: Multi-User Authorization on the vault
    cross_subscription_restore: str | None = None  # None: Azure's setting is left as it is
    minimum_security_level: str | None = None

    @property
    def vault_id(self) -> str:
        return (f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
                f"/providers/Microsoft.RecoveryServices/vaults/{self.vault_name}")

    @classmethod
    def parse(cls, name: str, spec: Mapping[str, Any]) -> VaultSpec:
        soft = spec.get("softDelete") or {}
        ident = spec.get("identity")
        enc = spec.get("encryption")
        mon = spec.get("monitoring") or {}
        cred = spec.get("credentialRef") or {}
        return cls(
            subscription_id=str(spec["subscriptionId"]).lower(),
            resource_group=str(spec["resourceGroup"]),
            location=str(spec["location"]),
            vault_name=str(spec.get("vaultName") or name),
            sku=_get(spec, "sku", "Standard"),
            storage_redundancy=_get(spec, "storageRedundancy", "GeoRedundant"),
            cross_region_restore=bool(_get(spec, "crossRegionRestore", False)),
            soft_delete=SoftDelete(_get(soft, "state", "Enabled"), int(_get(soft, "retentionDays", 14))),
            immutability=_get(spec, "immutability", "Disabled"),
            public_network_access=_get(spec, "publicNetworkAccess", "Enabled"),
            identity=Identity(bool(ident.get("systemAssigned", False)),
                              tuple(ident.get("userAssigned") or ())) if ident else None,
            encryption=Encryption(enc["keyUri"], enc.get("userAssignedIdentity"),
                                  bool(enc.get("infrastructureEncryption", False))) if enc else None,
            job_failure_alerts=bool(_get(mon, "jobFailureAlerts", True)),
            critical_operation_alerts=bool(_get(mon, "criticalOperationAlerts", True)),
            tags=dict(spec.get("tags") or {}),
            credential_secret=cred.get("name"),
            deletion_policy=_get(spec, "deletionPolicy", "Retain"),
            resource_guard=str(spec["resourceGuard"]) if spec.get("resourceGuard") else None,
            cross_subscription_restore=spec.get("crossSubscriptionRestore"),
            minimum_security_level=(spec.get("security") or {}).get("minimumLevel"),
        )


@dataclass(frozen=True)
class HourlySchedule:
    interval_hours: int
    window_start: str
    window_hours: int


@dataclass(frozen=True)
class Schedule:
    frequency: str  # Hourly | Daily | Weekly
    time: str | None = None
    weekdays: tuple[str, ...] = ()
    hourly: HourlySchedule | None = None

    @property
    def interval_hours(self) -> int:
        """Hours between two scheduled backups: the most data a restore can lose (the policy's RPO)."""
        if self.hourly:
            return self.hourly.interval_hours
        return 168 if self.frequency == "Weekly" else 24


@dataclass(frozen=True)
class MonthlyOrYearly:
    count: int
    days: tuple[int, ...] = ()
    include_last_day: bool = False
    weekdays: tuple[str, ...] = ()
    weeks: tuple[str, ...] = ()
    months: tuple[str, ...] = ()


@dataclass(frozen=True)
class Retention:
    daily: int | None = None
    weekly: int | None = None
    weekly_days: tuple[str, ...] = ()
    monthly: MonthlyOrYearly | None = None
    yearly: MonthlyOrYearly | None = None


@dataclass(frozen=True)
class Tiering:
    mode: str
    duration: int | None = None
    duration_type: str = "Months"


@dataclass(frozen=True)
class PolicySpec:
    vault: str
    policy_name: str
    policy_type: str  # Standard | Enhanced
    schedule: Schedule
    retention: Retention
    time_zone: str = "UTC"
    instant_restore_days: int | None = None
    instant_rg_prefix: str | None = None
    instant_rg_suffix: str | None = None
    tiering: Tiering | None = None
    crash_consistent_only: bool = False
    deletion_policy: str = "Delete"

    @classmethod
    def parse(cls, name: str, spec: Mapping[str, Any]) -> PolicySpec:
        sched = spec["schedule"]
        hourly = sched.get("hourly")
        ret = spec.get("retention") or {}
        weekly = ret.get("weekly") or {}
        irg = spec.get("instantRestoreResourceGroup") or {}
        tier = spec.get("tiering")

        def periodic(raw: Mapping[str, Any] | None) -> MonthlyOrYearly | None:
            if not raw:
                return None
            return MonthlyOrYearly(
                count=int(raw["count"]), days=tuple(raw.get("days") or ()),
                include_last_day=bool(raw.get("includeLastDay", False)),
                weekdays=tuple(raw.get("weekdays") or ()), weeks=tuple(raw.get("weeks") or ()),
                months=tuple(raw.get("months") or ()))

        return cls(
            vault=str(spec["vaultRef"]["name"]),
            policy_name=str(spec.get("policyName") or name),
            policy_type=_get(spec, "policyType", "Enhanced"),
            schedule=Schedule(
                frequency=str(sched["frequency"]), time=sched.get("time"),
                weekdays=tuple(sched.get("weekdays") or ()),
                hourly=HourlySchedule(int(hourly["intervalHours"]), str(hourly["windowStartTime"]),
                                      int(hourly["windowDurationHours"])) if hourly else None),
            retention=Retention(
                daily=(ret.get("daily") or {}).get("count"), weekly=weekly.get("count"),
                weekly_days=tuple(weekly.get("weekdays") or ()),
                monthly=periodic(ret.get("monthly")), yearly=periodic(ret.get("yearly"))),
            time_zone=_get(spec, "timeZone", "UTC"),
            instant_restore_days=spec.get("instantRestoreRetentionDays"),
            instant_rg_prefix=irg.get("prefix"), instant_rg_suffix=irg.get("suffix"),
            tiering=Tiering(tier["mode"], tier.get("duration"), tier.get("durationType", "Months")) if tier else None,
            crash_consistent_only=_get(spec, "consistency", "Default") == "OnlyCrashConsistent",
            deletion_policy=_get(spec, "deletionPolicy", "Delete"),
        )


@dataclass(frozen=True)
class DiskSelection:
    include_luns: tuple[int, ...] | None = None
    exclude_luns: tuple[int, ...] | None = None
    os_disk_only: bool = False

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None) -> DiskSelection:
        raw = raw or {}
        inc, exc = raw.get("includeLuns"), raw.get("excludeLuns")
        return cls(tuple(sorted(inc)) if inc is not None else None,
                   tuple(sorted(exc)) if exc is not None else None,
                   bool(raw.get("osDiskOnly", False)))


@dataclass(frozen=True)
class ProtectedVMSpec:
    vault: str
    policy: str | None
    vm_id: str
    disks: DiskSelection = field(default_factory=DiskSelection)
    http_proxy: str | None = None
    allow_extension_operations: bool = False
    state: str = "Protected"  # Protected | BackupsSuspended | ProtectionStopped
    on_delete: str = "RetainData"  # RetainData | DeleteData | Orphan

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> ProtectedVMSpec:
        policy = LocalRef.parse(spec.get("policyRef"))
        return cls(
            vault=str(spec["vaultRef"]["name"]), policy=policy.name if policy else None,
            vm_id=str(spec["vm"]), disks=DiskSelection.parse(spec.get("diskSelection")),
            http_proxy=spec.get("httpProxy"),
            allow_extension_operations=bool((spec.get("remediation") or {}).get("allowExtensionOperations", False)),
            state=_get(spec, "state", "Protected"), on_delete=_get(spec, "onDelete", "RetainData"))


@dataclass(frozen=True)
class TagRequirement:
    key: str
    operator: str  # In | NotIn | Exists | DoesNotExist
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class SelectorSpec:
    vault: str
    policy: str | None
    match_tags: Mapping[str, str]
    match_expressions: Sequence[TagRequirement]
    resource_groups: tuple[str, ...]
    os_types: tuple[str, ...]
    exclude: tuple[str, ...]
    template: Mapping[str, Any]

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> SelectorSpec:
        policy = LocalRef.parse(spec.get("policyRef"))
        return cls(
            vault=str(spec["vaultRef"]["name"]), policy=policy.name if policy else None,
            match_tags=dict(spec.get("matchTags") or {}),
            match_expressions=[TagRequirement(e["key"], e["operator"], tuple(e.get("values") or ()))
                               for e in spec.get("matchExpressions") or ()],
            resource_groups=tuple(spec.get("resourceGroups") or ()), os_types=tuple(spec.get("osTypes") or ()),
            exclude=tuple(spec.get("exclude") or ()), template=dict(spec.get("template") or {}))


@dataclass(frozen=True)
class OnDemandSpec:
    protected_vm: str
    retain_until: str | None = None
    retention_days: int | None = None
    ttl_seconds_after_finished: int | None = None

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> OnDemandSpec:
        return cls(str(spec["protectedVMRef"]["name"]), spec.get("retainUntil"), spec.get("retentionDays"),
                   spec.get("ttlSecondsAfterFinished"))


# Recovery-point consistency names as Azure reports them in recoveryPointType.
CONSISTENCIES = ("AppConsistent", "FileSystemConsistent", "CrashConsistent")


@dataclass(frozen=True)
class PointChoice:
    """Which recovery point a restore uses: `latest`, a point's name, or the newest before a time."""

    name: str = "latest"
    before: str | None = None
    consistency: str | None = None  # AppConsistent | FileSystemConsistent | CrashConsistent (required type)
    allow_rehydration: bool = False
    rehydration_priority: str = "Standard"
    rehydration_days: int = 15  # the CLI's default (10-30)
    require_threat_status: str | None = None  # Healthy | HealthyWhenScanned: only points the scan calls Healthy

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None) -> PointChoice:
        raw = raw or {}
        rehydrate = raw.get("rehydration") or {}
        return cls(str(_get(raw, "name", "latest")), raw.get("before"), raw.get("consistency"),
                   bool(rehydrate), str(_get(rehydrate, "priority", "Standard")), int(_get(rehydrate, "days", 15)),
                   raw.get("requireThreatStatus"))


@dataclass(frozen=True)
class RestoreTarget:
    """Where a restore goes, in the vault's subscription."""

    resource_group: str
    staging_account_id: str
    subnet_id: str | None = None
    vm_name: str | None = None
    zones: tuple[str, ...] = ()

    @property
    def vnet_id(self) -> str | None:
        return self.subnet_id.rsplit("/subnets/", 1)[0] if self.subnet_id else None


@dataclass(frozen=True)
class VMRestoreSpec:
    protected_vm: str
    mode: str  # NewVM | Disks
    target: RestoreTarget
    point: PointChoice = PointChoice()
    cleanup: str = "Retain"  # Retain | Delete: what deleting the object does to what it created
    ttl_seconds_after_finished: int | None = None

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> VMRestoreSpec:
        target = spec.get("target") or {}
        return cls(
            str(spec["protectedVMRef"]["name"]), str(_get(spec, "mode", "NewVM")),
            RestoreTarget(str(target.get("resourceGroup", "")), str(target.get("stagingStorageAccountId", "")),
                          target.get("subnetId"), target.get("vmName"), tuple(target.get("zones") or ())),
            PointChoice.parse(spec.get("recoveryPoint")), str(_get(spec, "cleanup", "Retain")),
            spec.get("ttlSecondsAfterFinished"))


@dataclass(frozen=True)
class RestoreDrillSpec:
    vault: str
    schedule: str
    target: RestoreTarget
    time_zone: str = "UTC"
    suspend: bool = False
    names: tuple[str, ...] = ()
    match_labels: Mapping[str, str] | None = None
    sample_size: int = 1
    consistency: str | None = None
    verification_deadline: str = "30m"
    rpo_objective: str | None = None
    rto_objective: str | None = None
    cleanup: str = "Always"  # Always | OnSuccess | Never
    history_limit: int = 10
    require_threat_status: str = "HealthyWhenScanned"  # | Healthy | Any

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> RestoreDrillSpec:
        targets = spec.get("targets") or {}
        target = spec.get("target") or {}
        selector = targets.get("selector")
        point = spec.get("recoveryPoint") or {}
        return cls(
            str(spec["vaultRef"]["name"]), str(spec["schedule"]),
            RestoreTarget(str(target.get("resourceGroup", "")), str(target.get("stagingStorageAccountId", "")),
                          target.get("subnetId"), None, tuple(target.get("zones") or ())),
            str(_get(spec, "timeZone", "UTC")), bool(_get(spec, "suspend", False)),
            tuple(targets.get("names") or ()),
            dict(selector.get("matchLabels") or {}) if isinstance(selector, Mapping) else None,
            int(_get(targets, "sampleSize", 1)), point.get("consistency"),
            str(_get(spec, "verificationDeadline", "30m")), spec.get("rpoObjective"), spec.get("rtoObjective"),
            str(_get(spec, "cleanup", "Always")), int(_get(spec, "historyLimit", 10)),
            str(_get(point, "requireThreatStatus", "HealthyWhenScanned")))
