"""Settings of one emulator instance: one tree of dataclasses, each field with a safe default."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from azure_emulator.throttle import BucketLimit, Limits


@dataclass(frozen=True)
class Durations:
    """How long operations and jobs take at time scale 1.0, in seconds (multiplied by the time scale)."""

    refresh_containers: float = 3.0  #: discovery (refreshContainers)
    configure_protection: float = 8.0  #: ConfigureBackup job of a first protection or a resume
    modify_protection: float = 4.0  #: policy or disk-exclusion change, stop protection, undelete
    delete_protection: float = 4.0  #: DeleteBackupData job (stop protection and delete data)
    trigger_backup: float = 1.0  #: the trigger operation (the job itself runs on)
    backup_job: float = 20.0  #: a Backup job: snapshot, then transfer to the vault
    vault_create: float = 2.0  #: a new vault's PUT: 201 Provisioning, then Succeeded
    restore_job: float = 30.0  #: a Restore job: transfer from the vault, then create the VM
    rehydration: float = 60.0  #: added to a Restore job that rehydrates an archived point first
    vault_delete: float = 2.0
    vault_undelete: float = 2.0
    effective_nsg: float = 1.0  #: effectiveNetworkSecurityGroups when answered asynchronously


@dataclass(frozen=True)
class Settings:
    """Behaviour switches of the emulator (all changeable at run time through `/_admin/settings`)."""

    time_scale: float = 1.0  #: multiplies every duration; tests use 0.01 or less
    throttling: bool = False  #: refuse requests with 429 when a token bucket is empty
    limits: Limits = field(default_factory=Limits)  #: token-bucket sizes (reference §5)
    page_size: int = 200  #: items per page of every list (Azure's protectable items page is 200)
    token_lifetime: int = 3600  #: seconds an access token is valid
    retry_after: int = 1  #: Retry-After of 202 answers, at least 1 (azure-core treats 0 as "no header")
    require_discovery: bool = True  #: protecting a VM needs a refreshContainers that saw it first
    effective_nsg_async: bool = False  #: answer effectiveNetworkSecurityGroups with 202 + Location
    #: seconds before an Activity Log entry becomes visible to `ActivityLogs_List` (wall seconds: never
    #: multiplied by the time scale, since the latency is the log's, not an operation's; docs/emulator.md)
    activity_log_delay: float = 60.0
    durations: Durations = field(default_factory=Durations)

    def scaled(self, seconds: float) -> float:
        return max(0.0, seconds * self.time_scale)

    def with_changes(self, changes: dict[str, Any]) -> Settings:
        """Apply a JSON patch such as `{"timeScale": 0.01, "limits": {"reads": {"capacity": 5}}}`."""
        names = {_camel(f.name): f.name for f in fields(self)}
        updates: dict[str, Any] = {}
        for k, v in changes.items():
            name = names.get(k, k)
            if name == "durations":
                dnames = {_camel(f.name): f.name for f in fields(Durations)}
                updates[name] = replace(self.durations, **{dnames.get(dk, dk): float(dv) for dk, dv in v.items()})
            elif name == "limits":
                limits = self.limits
                for kind, spec in v.items():
                    if kind not in ("reads", "writes", "deletes"):
                        raise ValueError(f"unknown limit '{kind}' (reads, writes or deletes)")
                    old = getattr(limits, kind)
                    limits = replace(
                        limits,
                        **{
                            kind: BucketLimit(
                                float(spec.get("capacity", old.capacity)),
                                float(
                                    spec.get("refillPerSecond", spec.get("refill_per_second", old.refill_per_second))
                                ),
                            )
                        },
                    )
                updates[name] = limits
            elif name in {f.name for f in fields(self)}:
                updates[name] = v
            else:
                raise ValueError(f"unknown setting '{k}'")
        new = replace(self, **updates)
        if new.retry_after < 1 or new.page_size < 1 or new.time_scale < 0 or new.activity_log_delay < 0:
            raise ValueError("retryAfter and pageSize must be >= 1, timeScale and activityLogDelay >= 0")
        return new

    def to_json(self) -> dict[str, Any]:
        return {
            "timeScale": self.time_scale,
            "throttling": self.throttling,
            "pageSize": self.page_size,
            "tokenLifetime": self.token_lifetime,
            "retryAfter": self.retry_after,
            "requireDiscovery": self.require_discovery,
            "effectiveNsgAsync": self.effective_nsg_async,
            "activityLogDelay": self.activity_log_delay,
            "limits": {
                k: {
                    "capacity": getattr(self.limits, k).capacity,
                    "refillPerSecond": getattr(self.limits, k).refill_per_second,
                }
                for k in ("reads", "writes", "deletes")
            },
            "durations": {_camel(f.name): getattr(self.durations, f.name) for f in fields(Durations)},
        }


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)
