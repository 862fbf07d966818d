"""What Azure keeps of a deleted ProtectedVM, and until when (pure): the report made before the object goes.

onDelete maps to Azure's two ways to stop protection: RetainData is "stop protection and retain data"
(kept until someone deletes it), DeleteData is "stop protection and delete data". Under soft delete the
deleted data stays soft-deleted until its purge date, and AlwaysON soft delete means nobody can purge it
sooner. An immutable vault refuses the delete (UserErrorDeleteBackupItemOnImmutableItem), so DeleteData
suspends backups there instead: points then expire as the policy says, and Azure keeps the last one until it
is deleted by hand (backup-azure-immutable-vault-how-to-manage).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from azbackup.kinds import vault_deletion
from azbackup.managed import Hold
from azbackup.reasons import Reason
from azbackup.toolkit import times

STATUS = "retainedInAzure"  # status field: the report was made, the object may go


def soft_deleted(item: Mapping[str, Any], vault: str, soft_delete_state: str | None) -> tuple[Hold, dict[str, Any]]:
    props = item.get("properties") or {}
    purge = vault_deletion.purge_date(props)
    until = times.rfc3339(purge) if purge else "its purge date"
    always_on = soft_delete_state == "AlwaysON"
    message = (f"the backup data is deleted and Azure keeps it soft-deleted in vault {vault} until {until}"
               + ("; soft delete is AlwaysON, so nobody can purge it sooner" if always_on else "")
               + ". Until then a ProtectedVM for this VM (in this vault or another) protects it again; "
               "in this vault its points come back")
    return Hold(Reason.KEPT_SOFT_DELETED, message, stalls=False), {
        "what": "SoftDeleted", "vault": vault, "until": times.rfc3339_optional(purge)}


def suspended(vault: str, points: Sequence[Mapping[str, Any]]) -> tuple[Hold, dict[str, Any]]:
    expiries = sorted(e for p in points if (e := times.parse(
        str(((p.get("properties") or {}).get("recoveryPointProperties") or {}).get("expiryTime") or ""))))
    last: dt.datetime | None = expiries[-1] if expiries else None
    message = (f"vault {vault} is immutable, so Azure refuses to delete the backup data early: backups are "
               f"suspended and Azure keeps {len(points)} recovery point(s), each until it expires under its policy"
               + (f" (the last on {times.rfc3339(last)})" if last else "")
               + "; the newest point stays until it is deleted by hand after that")
    return Hold(Reason.KEPT_BY_IMMUTABILITY, message, stalls=False), {
        "what": "BackupsSuspended", "vault": vault, "points": len(points), "until": times.rfc3339_optional(last)}


def stopped(vault: str) -> tuple[Hold, dict[str, Any]]:
    return Hold(Reason.KEPT_PROTECTION_STOPPED,
                f"protection is stopped (onDelete RetainData): Azure keeps the recovery points in vault {vault} "
                "until their backup data is deleted", stalls=False), {"what": "ProtectionStopped", "vault": vault}
