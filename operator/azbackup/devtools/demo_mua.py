"""The demo's Multi-User Authorization chapter: a Resource Guard someone else owns protects the vault, so
turning soft delete off waits for that person's approval and completes once it is given.

The guard's owner is played by the emulator's admin API: it declares the guard and, later, grants a
time-bound approval as a Privileged Identity Management activation would.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from azbackup.devtools import control_plane


class EmulatorAdmin(Protocol):
    """The emulator's admin API, as demo.EmulatorAdmin (a local process or a pod)."""

    def admin(self, method: str, path: str, body: object = None) -> object: ...

#: The security team's guard, in a subscription of its own (the backup admin has only Reader on it).
GUARD = ("/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg-security/providers/"
         "Microsoft.DataProtection/resourceGuards/security-guard")


def _condition(obj: dict[str, Any], type_: str) -> dict[str, Any]:
    return next((dict(c) for c in (obj.get("status") or {}).get("conditions") or () if c.get("type") == type_), {})


def _until(plane: control_plane.ControlPlane, namespace: str, vault: str, timeout: float,
           check: Callable[[dict[str, Any]], object]) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        obj = json.loads(plane.kubectl("get", "backupvault", vault, "-n", namespace, "-o", "json").stdout)
        if check(obj):
            return dict(obj)
        time.sleep(0.5)
    return None


def _ready(obj: dict[str, Any]) -> bool:
    status = obj.get("status") or {}
    return (status.get("observedGeneration") == obj["metadata"].get("generation")
            and _condition(obj, "Ready").get("status") == "True")


def chapter(plane: control_plane.ControlPlane, emulator: EmulatorAdmin, namespace: str, vault: str,
            timeout: float, step: Callable[[str], object]) -> bool:
    """Link the vault to a guard, ask for a guarded change, approve it; True when it completed."""
    step(f"Multi-User Authorization: the security team's Resource Guard protects BackupVault {vault} "
         "(spec.resourceGuard); the operator links the vault to it and never edits the guard")
    emulator.admin("PUT", "resource-guards", {"id": GUARD, "description": "Ask security for JIT access"})
    plane.kubectl("patch", "backupvault", vault, "-n", namespace, "--type=merge",
                  "-p", json.dumps({"spec": {"resourceGuard": GUARD}}))
    if _until(plane, namespace, vault, timeout, lambda o: _ready(o) and (o.get("status") or {}).get(
            "resourceGuard")) is None:
        print("    the vault was not linked to the guard in time")
        return False
    print(f"    linked: status.resourceGuard {GUARD.rsplit('/', 1)[1]}")

    step("someone with the backup admin's rights turns soft delete off (spec.softDelete.state: Disabled)")
    plane.kubectl("patch", "backupvault", vault, "-n", namespace, "--type=merge",
                  "-p", json.dumps({"spec": {"softDelete": {"state": "Disabled"}}}))
    waiting = _until(plane, namespace, vault, timeout,
                     lambda o: _condition(o, "Reconciling").get("reason") == "AwaitingMUAApproval")
    if waiting is None:
        print("    the vault never waited for approval")
        return False
    why = str(_condition(waiting, "Reconciling").get("message")).split("; Azure said")[0]
    why = why.replace(GUARD, GUARD.rsplit("/", 1)[1])  # the guard's name reads better than its id here
    print(f"    Ready=False, Reconciling=True AwaitingMUAApproval: {why}.\n    Azure refused the write; soft "
          "delete stays on; the operator tries again at a fixed interval, not in a loop")

    step("the guard's owner approves disableSoftDeleteRequests for 30 minutes (as a PIM activation would)")
    emulator.admin("POST", "resource-guards/approvals",
                   {"guard": GUARD, "operation": "disableSoftDeleteRequests", "minutes": 30})
    started = time.monotonic()
    if _until(plane, namespace, vault, timeout, _ready) is None:
        print("    the approved change did not complete in time")
        return False
    print(f"    Ready again {time.monotonic() - started:.0f}s after the approval: soft delete is off in Azure; "
          "the events tell the story:")
    events = json.loads(plane.kubectl("get", "events", "-n", namespace, "-o", "json",
                                      f"--field-selector=involvedObject.name={vault}").stdout)["items"]
    for event in sorted(events, key=lambda e: e.get("lastTimestamp") or "")[-3:]:
        print(f"      {event.get('type')} {event.get('reason')}: {str(event.get('message'))[:110]}")
    return True
