"""Injected faults: ARM answers (`/_admin/faults`) and failed jobs (`/_admin/job-faults`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from azure_emulator import ids
from azure_emulator.admin_base import AdminError, AdminRoute, Answer, body
from azure_emulator.faults import Fault
from azure_emulator.state import JobFault

if TYPE_CHECKING:
    from azure_emulator.app import Emulator


async def list_faults(emu: Emulator, request: web.Request) -> Answer:
    return {"faults": emu.faults.to_json()}


async def add_fault(emu: Emulator, request: web.Request) -> Answer:
    return emu.faults.add(Fault.from_json(await body(request))).to_json()


async def clear_faults(emu: Emulator, request: web.Request) -> Answer:
    emu.faults.clear()
    return None


async def remove_fault(emu: Emulator, request: web.Request) -> Answer:
    if not emu.faults.remove(request.match_info["id"]):
        raise AdminError(404, "no such fault")
    return None


async def list_job_faults(emu: Emulator, request: web.Request) -> Answer:
    return {"jobFaults": [vars(f) for f in emu.state.job_faults]}


async def add_job_fault(emu: Emulator, request: web.Request) -> Answer:
    doc = await body(request)
    operation = str(doc.get("operation", "Backup"))
    if operation not in ("Backup", "ConfigureBackup", "Restore"):
        raise AdminError(400, "operation is Backup, ConfigureBackup or Restore")
    result = str(doc.get("result") or "Failed")
    if result not in ("Failed", "CompletedWithWarnings") or (result != "Failed" and operation != "Restore"):
        raise AdminError(400, "result is Failed, or CompletedWithWarnings for a Restore")
    fault = JobFault(
        ids.new_id(),
        ids.key(str(doc["vm"])),
        operation,
        str(doc["code"]),
        str(doc.get("message") or f"Injected job failure {doc['code']}"),
        None if doc.get("count", 1) is None else int(doc.get("count", 1)),
        result,
    )
    emu.state.job_faults.append(fault)
    return vars(fault)


async def clear_job_faults(emu: Emulator, request: web.Request) -> Answer:
    emu.state.job_faults.clear()
    return None


ROUTES = [
    AdminRoute("GET", "/_admin/faults", list_faults),
    AdminRoute("POST", "/_admin/faults", add_fault),
    AdminRoute("DELETE", "/_admin/faults", clear_faults),
    AdminRoute("DELETE", "/_admin/faults/{id}", remove_fault),
    AdminRoute("GET", "/_admin/job-faults", list_job_faults),
    AdminRoute("POST", "/_admin/job-faults", add_job_fault),
    AdminRoute("DELETE", "/_admin/job-faults", clear_job_faults),
]
