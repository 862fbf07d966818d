"""A small synchronous client of the emulator's admin API (stdlib only), for tests and benchmarks."""

from __future__ import annotations

import contextlib
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: a JSON object the admin API answers
Json = dict[str, Any]


class AdminError(RuntimeError):
    """The admin API refused a request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


def _q(*segments: str) -> str:
    return "/".join(urllib.parse.quote(s, safe="") for s in segments)


class AdminClient:
    """`AdminClient("https://127.0.0.1:8443", ca_bundle)`; every method maps to one `/_admin/` route."""

    def __init__(self, url: str, ca_bundle: str | Path | None = None, *, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        if self.url.endswith("/_admin"):
            self.url = self.url[: -len("/_admin")]
        self.timeout = timeout
        self._ssl = ssl.create_default_context(cafile=str(ca_bundle)) if ca_bundle else None

    def request(self, method: str, path: str, body: object = None) -> Json:
        """One admin call and the JSON object it answers ({} for no content)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"{self.url}/_admin/{path.lstrip('/')}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self._ssl) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            text = exc.read().decode(errors="replace")
            with contextlib.suppress(ValueError):
                text = json.loads(text).get("error", text)
            raise AdminError(exc.code, text) from None
        if not raw:
            return {}
        answer = json.loads(raw)
        if not isinstance(answer, dict):
            raise AdminError(500, f"the admin API answered {type(answer).__name__}, not a JSON object")
        return answer

    # -- instance -----------------------------------------------------------------------------

    def health(self) -> Json:
        return self.request("GET", "health")

    def info(self) -> Json:
        return self.request("GET", "info")

    def settings(self) -> Json:
        return self.request("GET", "settings")

    def set_settings(self, **changes: object) -> Json:
        """Change settings at run time, e.g. `set_settings(timeScale=0.01, throttling=True)`."""
        return self.request("PATCH", "settings", changes)

    def operations(self) -> list[str]:
        return list(self.request("GET", "operations")["operations"])

    def reset(self, *, counters: bool = True, faults: bool = True) -> Json:
        return self.request("POST", "reset", {"counters": counters, "faults": faults})

    def state(self) -> Json:
        return self.request("GET", "state")

    def age_soft_deleted(self, vault_id: str, days: float) -> Json:
        """The vault's soft-deleted items were deleted `days` earlier; those past their purge date go."""
        return self.request("POST", "/soft-deleted/age", {"vaultId": vault_id, "days": days})

    def advance_clock(self, seconds: float) -> Json:
        return self.request("POST", "clock/advance", {"seconds": seconds})

    # -- faults --------------------------------------------------------------------------------

    def add_fault(self, **fault: object) -> Json:
        """`add_fault(operation="Vaults_Get", status=500, count=2)`; fields as in docs/emulator.md."""
        return self.request("POST", "faults", fault)

    def faults(self) -> list[Json]:
        return list(self.request("GET", "faults")["faults"])

    def remove_fault(self, fault_id: str) -> None:
        self.request("DELETE", f"faults/{_q(fault_id)}")

    def clear_faults(self) -> None:
        self.request("DELETE", "faults")

    def add_job_fault(
        self,
        vm: str,
        code: str,
        *,
        operation: str = "Backup",
        message: str | None = None,
        count: int | None = 1,
        result: str = "Failed",
    ) -> Json:
        """The next `count` jobs of `operation` (Backup, ConfigureBackup, Restore) for the VM fail with
        `code`; a Restore with `result="CompletedWithWarnings"` restores the disks but not the VM."""
        body = {"vm": vm, "code": code, "operation": operation, "message": message, "count": count, "result": result}
        return self.request("POST", "job-faults", body)

    # -- restores and recovery points ------------------------------------------------------------

    def restores(self) -> list[Json]:
        """Every restore with what its job created (`created.virtualMachine`, `networkInterfaces`, ...)."""
        return list(self.request("GET", "restores")["restores"])

    def add_recovery_point(self, vault_id: str, vm: str, **point: object) -> Json:
        """A recovery point of the VM's protected item: `ageDays`, `type`, `tiers`, `rehydratedDays`, ...;
        returns it as `RecoveryPoints_Get` would."""
        return self.request("POST", "recovery-points", {"vaultId": vault_id, "vm": vm, **point})

    def mark_threat(self, vault_id: str, vm: str, threat_status: str, *, recovery_point: str = "latest",
                    threat_info: Sequence[Mapping[str, Any]] | None = None) -> Any:
        """Set what Defender's source scan reports on a recovery point (default the VM's latest):
        `threatStatus` Healthy, Warning, UnHealthy, Unknown or NotAvailable."""
        body: dict[str, Any] = {"vaultId": vault_id, "vm": vm, "recoveryPoint": recovery_point,
                                "threatStatus": threat_status}
        if threat_info is not None:
            body["threatInfo"] = [dict(i) for i in threat_info]
        return self.request("POST", "recovery-points/threat-status", body)

    def clear_job_faults(self) -> None:
        self.request("DELETE", "job-faults")

    # -- inventory at run time ----------------------------------------------------------------

    def vms(self) -> list[Json]:
        return list(self.request("GET", "vms")["vms"])

    def vm(self, subscription: str, resource_group: str, name: str) -> Json:
        return self.request("GET", f"vms/{_q(subscription, resource_group, name)}")

    def update_vm(self, subscription: str, resource_group: str, name: str, patch: Mapping[str, Any]) -> Json:
        """Merge a partial inventory VM document into the VM (e.g. `{"agent": {"status": "NotReady"}}`)."""
        return self.request("PATCH", f"vms/{_q(subscription, resource_group, name)}", dict(patch))

    def add_vm(self, doc: Mapping[str, Any], subscription: str | None = None) -> Json:
        return self.request("POST", "vms", {**doc, **({"subscription": subscription} if subscription else {})})

    def remove_vm(self, subscription: str, resource_group: str, name: str) -> None:
        self.request("DELETE", f"vms/{_q(subscription, resource_group, name)}")

    def set_nsg_rules(
        self,
        subscription: str,
        resource_group: str,
        name: str,
        rules: Sequence[Mapping[str, Any]],
        location: str | None = None,
    ) -> Json:
        return self.request(
            "PUT",
            f"nsgs/{_q(subscription, resource_group, name)}/rules",
            {"rules": list(rules), **({"location": location} if location else {})},
        )

    def set_storage_network_rules(
        self,
        subscription: str,
        resource_group: str,
        name: str,
        *,
        default_action: str | None = None,
        bypass: str | None = None,
    ) -> Json:
        body = {k: v for k, v in (("defaultAction", default_action), ("bypass", bypass)) if v is not None}
        return self.request("PATCH", f"storage-accounts/{_q(subscription, resource_group, name)}", body)

    # -- identities ----------------------------------------------------------------------------

    def identities(self) -> list[Json]:
        return list(self.request("GET", "identities")["identities"])

    def add_identity(self, doc: Mapping[str, Any]) -> Json:
        return self.request("POST", "identities", dict(doc))

    def remove_identity(self, client_id: str) -> None:
        self.request("DELETE", f"identities/{_q(client_id)}")

    def set_authorization(self, client_id: str, deny: Sequence[str | Mapping[str, Any]]) -> Json:
        """Deny actions (fnmatch patterns, optionally `{"action": ..., "scope": ...}`); `[]` allows all."""
        return self.request("PUT", f"identities/{_q(client_id)}/authorization", {"deny": list(deny)})

    def token(self, client_id: str, *, lifetime: float = 3600, audience: str | None = None) -> str:
        """A bearer token for the identity (a negative lifetime gives an expired one)."""
        body: dict[str, Any] = {"clientId": client_id, "lifetime": lifetime}
        if audience:
            body["audience"] = audience
        return str(self.request("POST", "tokens", body)["accessToken"])

    # -- backups and counters ------------------------------------------------------------------

    def run_scheduled_backups(self, vault_id: str | None = None) -> list[str]:
        """Start every protected item's scheduled backup now; returns the job ids."""
        return list(self.request("POST", "scheduled-backups/run", {"vaultId": vault_id} if vault_id else {})["jobs"])

    def counters(self) -> Json:
        return self.request("GET", "counters")

    def count(self, operation: str, status: int | None = None) -> int:
        """How many requests of one operation were answered (with one status, or any)."""
        entry = self.counters()["operations"].get(operation)
        if not entry:
            return 0
        return int(entry["total"] if status is None else entry["byStatus"].get(str(status), 0))

    def reset_counters(self) -> None:
        self.request("DELETE", "counters")

    # -- Activity Log ----------------------------------------------------------------------------

    def activity_log(self, subscription: str | None = None, *, visible_only: bool = False) -> list[Json]:
        """Every Activity Log entry (`EventData`, newest first), visible to `ActivityLogs_List` or not yet
        (`submissionTimestamp` later than the emulator's now); `visible_only` keeps the visible ones."""
        query = f"?{urllib.parse.urlencode({'subscription': subscription})}" if subscription else ""
        answer = self.request("GET", f"activity-log{query}")
        events = list(answer["value"])
        if visible_only:
            events = [e for e in events if e["submissionTimestamp"] <= answer["now"]]
        return events

    def clear_activity_log(self) -> None:
        self.request("DELETE", "activity-log")

    # -- Multi-User Authorization (admin_mua.py) -------------------------------------------------

    def put_resource_guard(self, guard_id: str, *, excluded: Sequence[str] = (), description: str = "") -> Any:
        """Declare a Resource Guard as its owner would; `excluded` lists optional request types it leaves open."""
        return self.request("PUT", "resource-guards",
                            {"id": guard_id, "excludedOperations": list(excluded), "description": description})

    def approve(self, guard_id: str, operation: str = "*", *, minutes: float = 60, client_id: str = "*") -> Any:
        """Grant a time-bound approval on the guard, as a PIM activation would (`operation`: a request type)."""
        return self.request("POST", "resource-guards/approvals",
                            {"guard": guard_id, "operation": operation, "minutes": minutes, "clientId": client_id})

    def revoke_approvals(self, guard_id: str) -> None:
        self.request("DELETE", f"resource-guards/approvals?{urllib.parse.urlencode({'guard': guard_id})}")
