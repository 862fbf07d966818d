"""Threat status of recovery points with the unmodified aio SDK clients: the vault's source scan
(`securitySettings.sourceScanConfiguration`), the points it scanned, and the admin route that marks one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure_emulator.admin import AdminError
from azure_emulator.server import EmulatorProcess, running_emulator
from azure_emulator.settings import Settings
from emulator_support import TIME_SCALE, Azure, container, item, vault_id
from test_emulator_restore import SOURCE, SOURCE_RG, VAULT, VAULT_RG, points, restore_fleet

VM = f"{SOURCE_RG}/{SOURCE}"


@pytest.fixture(scope="module")
def threat_process() -> Iterator[EmulatorProcess]:
    with running_emulator(restore_fleet(), time_scale=TIME_SCALE) as emu:
        yield emu


@pytest.fixture
def emu(threat_process: EmulatorProcess) -> EmulatorProcess:
    """This module's emulator, back to its inventory (overrides conftest's, so `azure` uses it)."""
    assert threat_process.emulator is not None
    threat_process.emulator.apply_settings(Settings(time_scale=TIME_SCALE))
    threat_process.emulator.reset()
    return threat_process


async def set_scan(azure: Azure, state: str, **more: Any) -> Any:
    body = {"properties": {"securitySettings": {"sourceScanConfiguration": {"state": state, **more}}}}
    poller = await azure.vaults.vaults.begin_update(VAULT_RG, VAULT, body)
    return await poller.result()


async def test_points_carry_no_threat_status_until_the_vault_scans(azure: Azure, emu: EmulatorProcess) -> None:
    assert all(rp.properties.threat_status is None for rp in await points(azure))
    vault = await azure.vaults.vaults.get(VAULT_RG, VAULT)
    assert vault.properties.security_settings.source_scan_configuration is None

    updated = await set_scan(azure, "Enabled", sourceScanIdentity={"operationIdentityType": "SystemAssigned"})
    scan = updated.properties.security_settings.source_scan_configuration
    assert (scan.state, scan.source_scan_identity.operation_identity_type) == ("Enabled", "SystemAssigned")
    emu.admin.add_recovery_point(vault_id(VAULT_RG, VAULT), VM, ageHours=1)

    newest, *older = await points(azure)
    assert newest.properties.threat_status == "Healthy"
    assert newest.properties.threat_info is None
    assert [rp.properties.threat_status for rp in older] == [None] * len(older), "taken before the scan was on"

    await set_scan(azure, "Disabled")
    emu.admin.add_recovery_point(vault_id(VAULT_RG, VAULT), VM, ageHours=0)
    latest, scanned, *_ = await points(azure)
    assert (latest.properties.threat_status, scanned.properties.threat_status) == (None, "Healthy")


async def test_a_marked_point_reports_its_threat_through_the_sdk(azure: Azure, emu: EmulatorProcess) -> None:
    await set_scan(azure, "Enabled")
    emu.admin.add_recovery_point(vault_id(VAULT_RG, VAULT), VM, ageHours=1)
    answer = emu.admin.mark_threat(vault_id(VAULT_RG, VAULT), VM, "unhealthy")
    assert answer["properties"]["threatStatus"] == "UnHealthy"

    newest = (await points(azure))[0]
    assert newest.name == answer["name"]
    assert newest.properties.threat_status == "UnHealthy"
    [threat] = newest.properties.threat_info
    assert (threat.threat_state, threat.threat_severity) == ("Active", "High")
    assert threat.threat_title
    assert threat.last_updated_time is not None

    got = await azure.backup.recovery_points.get(VAULT, VAULT_RG, "Azure", container(SOURCE_RG, SOURCE),
                                                item(SOURCE_RG, SOURCE), newest.name)
    assert got.properties.threat_status == "UnHealthy"

    older = (await points(azure))[1]
    info = [{"threatTitle": "Ransomware note found", "threatState": "Resolved", "threatSeverity": "Critical"}]
    emu.admin.mark_threat(vault_id(VAULT_RG, VAULT), VM, "Warning", recovery_point=older.name, threat_info=info)
    marked = (await points(azure))[1]
    assert marked.properties.threat_status == "Warning"
    assert [(t.threat_title, t.threat_state, t.threat_severity) for t in marked.properties.threat_info] == [
        ("Ransomware note found", "Resolved", "Critical")]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param({"threatStatus": "Infected"}, 400, id="unknown-status-is-refused"),
        pytest.param({}, 400, id="status-is-required"),
        pytest.param({"threatStatus": "Healthy", "recoveryPoint": "0"}, 404, id="unknown-point-is-404"),
        pytest.param({"threatStatus": "Healthy", "threatInfo": [{"colour": "red"}]}, 400, id="unknown-info-key"),
    ],
)
def test_marking_refuses_what_azure_would_never_report(emu: EmulatorProcess, body: dict[str, Any],
                                                       status: int) -> None:
    with pytest.raises(AdminError) as refused:
        emu.admin.request("POST", "recovery-points/threat-status", {"vaultId": vault_id(VAULT_RG, VAULT),
                                                                    "vm": VM, **body})
    assert refused.value.status == status


async def test_a_scan_state_outside_the_spec_is_refused(azure: Azure, emu: EmulatorProcess) -> None:
    with pytest.raises(HttpResponseError) as refused:
        await set_scan(azure, "Invalid")
    assert refused.value.status_code == 400
    assert refused.value.error is not None
    assert refused.value.error.code == "InvalidRestApiParameter"
    vault = await azure.vaults.vaults.get(VAULT_RG, VAULT)
    assert vault.properties.security_settings.source_scan_configuration is None


def test_the_emulator_speaks_the_sdks_threat_vocabulary() -> None:
    """The values and keys come from bms.json 2026-10-01, which the pinned SDK is generated from."""
    from azure.mgmt.recoveryservices import models as rm
    from azure.mgmt.recoveryservicesbackup import models as bm
    from azure_emulator import threats

    assert set(threats.STATUSES) == {s.value for s in bm.ThreatStatus}
    assert set(threats.STATES) == {s.value for s in bm.ThreatState}
    assert set(threats.SEVERITIES) == {s.value for s in bm.ThreatSeverity}
    bm.ThreatInfo()  # the model's table of REST fields is built when its first instance is made
    assert set(threats.INFO_KEYS) == {f._rest_name for f in bm.ThreatInfo._attr_to_rest_field.values()}
    assert set(threats.SCAN_STATES) == {s.value for s in rm.State}
    assert set(threats.IDENTITY_TYPES) == {s.value for s in rm.IdentityType}
