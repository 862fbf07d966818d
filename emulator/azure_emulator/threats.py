"""Threat status of recovery points: the vault's Defender source scan and what its points report.

Shapes from RecoveryServicesBackup bms.json 2026-10-01 (`RecoveryPoint.threatStatus`, `ThreatInfo`) and
RecoveryServices 2026-11-01 (`SecuritySettings.sourceScanConfiguration`); docs/emulator.md lists the
choices. A point is scanned when it was taken while the vault's source scan was Enabled: it reports
`Healthy` unless the admin API marked it otherwise; a point taken while the scan was off reports no
threat status at all.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from azure_emulator import errors
from azure_emulator.backup_model import RecoveryPoint, Vault

#: RecoveryServices 2026-11-01 `State` (sourceScanConfiguration.state).
SCAN_STATES = ("Invalid", "Enabled", "Disabled")
#: 2026-11-01 `IdentityType` (sourceScanIdentity.operationIdentityType).
IDENTITY_TYPES = ("SystemAssigned", "UserAssigned")
#: bms.json 2026-10-01 `ThreatStatus`, `ThreatState`, `ThreatSeverity`.
STATUSES = ("Unknown", "Healthy", "UnHealthy", "Warning", "NotAvailable")
STATES = ("Active", "InProgress", "Ignored", "Resolved")
SEVERITIES = ("Critical", "High", "Warning", "Informational")
#: `ThreatInfo` keys (all optional in the spec).
INFO_KEYS = ("threatTitle", "threatDescription", "lastUpdatedTime", "threatState", "threatStartTime",
             "threatEndTime", "threatURI", "threatSeverity")


def _one_of(value: Any, allowed: tuple[str, ...], name: str) -> str:
    for a in allowed:
        if isinstance(value, str) and value.lower() == a.lower():
            return a
    raise errors.invalid_parameter(name, f"Allowed values: {', '.join(allowed)}.")


def scan_changes(v: Vault, doc: Any, now: float) -> dict[str, Any]:
    """The vault fields a PUT/PATCH of `securitySettings.sourceScanConfiguration` changes (validated)."""
    if not isinstance(doc, Mapping):
        raise errors.invalid_parameter("sourceScanConfiguration")
    merged = {**(v.source_scan or {}), **doc}
    state = _one_of(merged.get("state", "Disabled"), SCAN_STATES, "sourceScanConfiguration.state")
    if state == "Invalid":  # a value the spec lists for reading; a client cannot ask for it (emulator choice)
        raise errors.invalid_parameter("sourceScanConfiguration.state", "Allowed values: Enabled, Disabled.")
    out: dict[str, Any] = {"state": state}
    identity = merged.get("sourceScanIdentity")
    if identity is not None:
        if not isinstance(identity, Mapping):
            raise errors.invalid_parameter("sourceScanIdentity")
        kind = _one_of(identity.get("operationIdentityType", "SystemAssigned"), IDENTITY_TYPES,
                       "sourceScanIdentity.operationIdentityType")
        out["sourceScanIdentity"] = {"operationIdentityType": kind}
        if identity.get("userAssignedIdentity"):
            out["sourceScanIdentity"]["userAssignedIdentity"] = str(identity["userAssignedIdentity"])
        elif kind == "UserAssigned":
            raise errors.invalid_parameter("sourceScanIdentity", "UserAssigned needs userAssignedIdentity.")
    periods = [list(p) for p in v.scan_periods]
    scanning = bool(periods) and periods[-1][1] is None
    if state == "Enabled" and not scanning:
        periods.append([now, None])
    elif state != "Enabled" and scanning:
        periods[-1][1] = now
    return {"source_scan": out, "scan_periods": periods}


def scan_json(v: Vault) -> dict[str, Any] | None:
    """`securitySettings.sourceScanConfiguration` as last set (absent until a client sets it)."""
    return copy.deepcopy(v.source_scan) if v.source_scan else None


def scanned(v: Vault, rp: RecoveryPoint) -> bool:
    """Whether the vault's source scan was on when the point was taken."""
    return any(start is not None and start <= rp.created and (end is None or rp.created < end)
               for start, end in v.scan_periods)


def rp_fields(v: Vault, rp: RecoveryPoint) -> dict[str, Any]:
    """`threatStatus` / `threatInfo` of a point, for its `properties` (empty when nothing scanned it)."""
    if rp.threat_status is None:
        return {"threatStatus": "Healthy"} if scanned(v, rp) else {}
    out: dict[str, Any] = {"threatStatus": rp.threat_status}
    if rp.threat_info:
        out["threatInfo"] = copy.deepcopy(rp.threat_info)
    return out


def mark(rp: RecoveryPoint, status: Any, info: Any, now_iso: str) -> None:
    """Set a point's threat status as a scan would report it; an UnHealthy or Warning point without
    `info` gets one active threat (what Defender's alert would say is not published: emulator choice)."""
    rp.threat_status = _one_of(status, STATUSES, "threatStatus")
    if info is None:
        rp.threat_info = []
        if rp.threat_status in ("UnHealthy", "Warning"):
            severity = "High" if rp.threat_status == "UnHealthy" else "Warning"
            rp.threat_info = [{
                "threatTitle": "Suspicious activity detected on the protected VM",
                "threatDescription": "Microsoft Defender for Cloud reported a threat on the source VM "
                                     "at the time of this recovery point (emulated).",
                "lastUpdatedTime": now_iso, "threatState": "Active", "threatStartTime": now_iso,
                "threatSeverity": severity}]
        return
    if not isinstance(info, list) or not all(isinstance(i, Mapping) for i in info):
        raise errors.invalid_parameter("threatInfo", "A list of ThreatInfo objects.")
    entries = []
    for entry in info:
        unknown = set(entry) - set(INFO_KEYS)
        if unknown:
            raise errors.invalid_parameter("threatInfo", f"Unknown keys: {', '.join(sorted(unknown))}.")
        out = dict(entry)
        if "threatState" in out:
            out["threatState"] = _one_of(out["threatState"], STATES, "threatInfo.threatState")
        if "threatSeverity" in out:
            out["threatSeverity"] = _one_of(out["threatSeverity"], SEVERITIES, "threatInfo.threatSeverity")
        entries.append(out)
    rp.threat_info = entries
