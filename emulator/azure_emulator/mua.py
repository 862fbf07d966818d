"""Multi-User Authorization: Resource Guards, their time-bound approvals, and the check a critical operation
on a guarded vault must pass.

A Resource Guard (`Microsoft.DataProtection/resourceGuards`) belongs to a security admin, not to the backup
admin; the vault links to it through `backupResourceGuardProxies/VaultProxy` (`arm/guards.py`). A critical
operation on such a vault names the guard's request (`{guard}/{requestType}/default`) in its
`resourceGuardOperationRequests` and succeeds only while the caller holds an approval on the guard, which
in Azure is a Privileged Identity Management activation of a role on the guard (here: the admin API,
`admin_mua.py`). Sources and choices: docs/emulator.md, "Multi-User Authorization".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from azure_emulator import ids
from azure_emulator.errors import ArmError

if TYPE_CHECKING:
    from azure_emulator.arm.base import Call
    from azure_emulator.backup_model import Vault

#: The request types of a Resource Guard that protect Recovery Services vault operations, with the vault
#: action each guards (DataProtection ResourceGuardCRUD/GetResourceGuard.json; bms.json
#: GetResourceGuardProxy.json; multi-user-authorization-concept.md for which are mandatory).
DELETE_PROXY = "deleteResourceGuardProxyRequests"
DISABLE_SOFT_DELETE = "disableSoftDeleteRequests"
DELETE_ITEM = "deleteProtectedItemRequests"
UPDATE_ITEM = "updateProtectedItemRequests"
UPDATE_POLICY = "updateProtectionPolicyRequests"
SECURITY_PIN = "getBackupSecurityPINRequests"
OPERATIONS: tuple[tuple[str, str], ...] = (
    (DELETE_PROXY, "Microsoft.RecoveryServices/vaults/backupResourceGuardProxies/delete"),
    (DISABLE_SOFT_DELETE, "Microsoft.RecoveryServices/vaults/backupconfig/write"),
    (DELETE_ITEM, "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/delete"),
    (UPDATE_ITEM, "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/write"),
    (UPDATE_POLICY, "Microsoft.RecoveryServices/vaults/backupPolicies/write"),
    (SECURITY_PIN, "Microsoft.RecoveryServices/vaults/backupSecurityPIN/action"),
)
#: Disabling soft delete and disabling MUA cannot be excluded from a guard (the concept page's "Mandatory").
MANDATORY = frozenset({DELETE_PROXY, DISABLE_SOFT_DELETE})
#: How long an unlockDelete lets the named resource be deleted (emulator choice, docs/emulator.md).
UNLOCK_SECONDS = 30 * 60


@dataclass
class Approval:
    """A time-bound approval on a guard, as a PIM activation grants it."""

    operation: str  #: a request type of OPERATIONS, or "*" for every one
    until: float
    client_id: str = "*"  #: the principal it was granted to ("*": whoever asks)

    def covers(self, operation: str, client_id: str, now: float) -> bool:
        return (
            now < self.until
            and self.operation in ("*", operation)
            and (self.client_id == "*" or ids.key(self.client_id) == ids.key(client_id))
        )


@dataclass
class Guard:
    id: str
    location: str = "westeurope"
    excluded: set[str] = field(default_factory=set)  #: vaultCriticalOperationExclusionList, as request types
    description: str = ""
    approvals: list[Approval] = field(default_factory=list)

    def protects(self, operation: str) -> bool:
        return operation in MANDATORY or operation not in self.excluded

    def to_json(self, now: float) -> dict[str, Any]:
        return {
            "id": self.id,
            "location": self.location,
            "description": self.description,
            "excludedOperations": sorted(self.excluded),
            "approvals": [
                {"operation": a.operation, "clientId": a.client_id, "secondsLeft": round(a.until - now, 1)}
                for a in self.approvals
                if a.until > now
            ],
        }


@dataclass
class Registry:
    """Every Resource Guard the emulator knows, and the deletes unlocked through a vault's proxy."""

    guards: dict[str, Guard] = field(default_factory=dict)  #: by lower-cased id
    unlocked: dict[str, float] = field(default_factory=dict)  #: lower-cased resource id -> unlock expiry

    def guard(self, guard_id: str) -> Guard:
        """The guard with this id; one nobody declared protects every operation (emulator choice)."""
        return self.guards.setdefault(ids.key(guard_id), Guard(guard_id))

    def put(self, guard_id: str, doc: Mapping[str, Any]) -> Guard:
        excluded = {str(x) for x in doc.get("excludedOperations") or ()}
        unknown = excluded - {op for op, _ in OPERATIONS}
        if unknown:
            raise ValueError(f"unknown operations {sorted(unknown)}; known: {[op for op, _ in OPERATIONS]}")
        g = self.guard(guard_id)
        g.excluded = excluded - MANDATORY
        g.location = str(doc.get("location") or g.location)
        g.description = str(doc.get("description") or g.description)
        return g

    def approve(self, guard_id: str, operation: str, seconds: float, now: float, client_id: str = "*") -> Approval:
        if operation != "*" and operation not in {op for op, _ in OPERATIONS}:
            raise ValueError(f"unknown operation {operation!r}")
        approval = Approval(operation, now + seconds, client_id or "*")
        self.guard(guard_id).approvals.append(approval)
        return approval

    def revoke(self, guard_id: str) -> None:
        self.guard(guard_id).approvals.clear()


def request_id(guard_id: str, operation: str) -> str:
    """The default operation request a guarded write names: `{guard}/{requestType}/default`."""
    return f"{guard_id}/{operation}/default"


def operation_of(request: str) -> tuple[str, str] | None:
    """`(guard id, request type)` of a `{guard}/{requestType}/default` request id, None if it is not one."""
    parts = request.rstrip("/").split("/")
    if len(parts) < 3 or parts[-1].lower() != "default":
        return None
    return "/".join(parts[:-2]), parts[-2]


def require(
    registry: Registry,
    guard_id: str | None,
    operation: str,
    *,
    action: str,
    scope: str,
    requests: Any,
    client_id: str,
    object_id: str,
    now: float,
) -> None:
    """Refuse a critical operation on a guarded vault unless the caller holds an approval for it.

    ARM checks the linked scope (the guard's request) besides the vault's own scope, so a caller without
    the approval gets ARM's `LinkedAuthorizationFailed` naming both (emulator choice of Azure's code for
    this case, docs/emulator.md). A request naming another guard is invalid input.
    """
    if not guard_id:
        return
    guard = registry.guard(guard_id)
    if not guard.protects(operation):
        return
    linked = request_id(guard_id, operation)
    for sent in _strings(requests):
        parsed = operation_of(sent)
        if parsed is None or ids.key(parsed[0]) != ids.key(guard_id):
            raise ArmError(
                400,
                "BMSUserErrorInvalidInput",
                f"Input provided for the call is invalid. The resource guard operation request '{sent}' does not "
                f"belong to the Resource Guard '{guard_id}' the vault is associated with.",
            )
    if any(a.covers(operation, client_id, now) for a in guard.approvals):
        return
    raise ArmError(
        403,
        "LinkedAuthorizationFailed",
        f"The client '{client_id}' with object id '{object_id}' has permission to perform action '{action}' on "
        f"scope '{scope}'; however, it does not have permission to perform action(s) "
        f"'Microsoft.DataProtection/resourceGuards/{operation}/default/read' on the linked scope(s) '{linked}' "
        "(respectively) or the linked scope(s) are invalid.",
    )


def check(call: Call, vault: Vault, operation: str, requests: Any) -> None:
    """`require` for an ARM call on a vault: the caller, the action and the scope come from the call."""
    action = dict(OPERATIONS).get(operation, operation)
    who = call.principal
    require(call.state.mua, vault.resource_guard, operation, action=action, scope=vault.id, requests=requests,
            client_id=who.client_id if who else "", object_id=who.object_id if who else "", now=call.now)


def _strings(value: Any) -> Sequence[str]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ArmError(
            400, "BMSUserErrorInvalidInput", "Input provided for the call is invalid. resourceGuardOperationRequests "
            "must be a list of strings.",
        )
    return value


def _retention(props: Mapping[str, Any]) -> dict[str, int]:
    """Days each retention schedule of a policy keeps a point (`{"dailySchedule": 30, ...}`)."""
    unit_days = {"days": 1, "weeks": 7, "months": 31, "years": 366}
    retention = props.get("retentionPolicy") or {}
    out: dict[str, int] = {}
    for schedule in ("dailySchedule", "weeklySchedule", "monthlySchedule", "yearlySchedule"):
        duration = (retention.get(schedule) or {}).get("retentionDuration") or {}
        count, unit = duration.get("count"), str(duration.get("durationType") or "Days").lower()
        if isinstance(count, int):
            out[schedule] = count * unit_days.get(unit, 1)
    return out


def retention_reduced(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    """Whether a policy change keeps some kind of point for less time (a schedule shortened or dropped)."""
    old, new = _retention(before), _retention(after)
    return any(new.get(schedule, 0) < days for schedule, days in old.items())
