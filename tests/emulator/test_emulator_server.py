"""Starting the emulator (thread, child process, CLI), its certificate authority, the admin API, and a
fleet of benchmark size."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from azure_emulator import __main__ as cli
from azure_emulator import inventory
from azure_emulator.admin import AdminClient, AdminError
from azure_emulator.server import EmulatorProcess, running_emulator
from emulator_support import SUB, Azure


def test_child_process_prints_a_ready_line_and_serves(tmp_path: Path) -> None:
    with EmulatorProcess.start_subprocess(port=0, time_scale=0.01, state_dir=tmp_path) as emu:
        assert emu.url.startswith("https://127.0.0.1:")
        assert Path(emu.ca_bundle) == tmp_path / "ca.pem"
        assert emu.admin.health() == {"status": "ok"}
        info = emu.admin.info()
        assert (info["url"], info["caBundle"], info["tenantId"]) == (emu.url, emu.ca_bundle, emu.tenant_id)
        assert info["settings"]["timeScale"] == 0.01
        assert emu.pid != 0


def test_cli_ready_line_is_one_json_object(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "azure_emulator",
            "--port",
            "0",
            "--state-dir",
            str(tmp_path),
            "--inventory",
            str(inventory.sample_fleet_path()),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = json.loads(proc.stdout.readline())
        assert set(line) == {"url", "caBundle", "adminUrl", "authority", "tenantId", "pid"}
        assert line["adminUrl"] == line["url"] + "/_admin"
        assert AdminClient(line["adminUrl"], line["caBundle"]).health() == {"status": "ok"}
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_cli_refuses_a_bad_inventory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("subscriptions: [{id: x, vms: [{name: v}]}]")
    assert cli.main(["--inventory", str(bad)]) == 2
    assert "'resourceGroup' is required" in capsys.readouterr().err
    assert cli.main(["--print-sample-path"]) == 0


def test_port_zero_picks_free_ports_and_the_ca_is_reused(tmp_path: Path) -> None:
    with running_emulator(state_dir=tmp_path) as first, running_emulator() as second:
        assert first.url != second.url
        ca = Path(first.ca_bundle).read_bytes()
    with running_emulator(state_dir=tmp_path) as again:
        assert Path(again.ca_bundle).read_bytes() == ca  # clients configured once keep trusting it


def test_admin_faults_and_job_faults_are_listed_and_cleared(emu: EmulatorProcess) -> None:
    fault = emu.admin.add_fault(operation="Vaults_Get", status=503, count=None)
    assert [f["id"] for f in emu.admin.faults()] == [fault["id"]]
    emu.admin.remove_fault(fault["id"])
    emu.admin.add_fault(path="/virtualMachines", status=500)
    emu.admin.clear_faults()
    assert emu.admin.faults() == []
    with pytest.raises(AdminError) as bad:
        emu.admin.add_fault(status=500)
    assert bad.value.status == 400
    emu.admin.add_job_fault("vm-web-01", "UserErrorX")
    assert len(emu.admin.request("GET", "job-faults")["jobFaults"]) == 1
    emu.admin.clear_job_faults()
    with pytest.raises(AdminError):  # Restore jobs take faults since restores exist; other operations do not
        emu.admin.add_job_fault("vm-web-01", "UserErrorX", operation="DisableBackup")
    with pytest.raises(AdminError):  # only a Restore can complete with warnings
        emu.admin.add_job_fault("vm-web-01", "UserErrorX", operation="Backup", result="CompletedWithWarnings")


def test_admin_state_reset_counters_clock_and_settings(emu: EmulatorProcess) -> None:
    emu.admin.add_vm({"name": "vm-extra", "resourceGroup": "rg-dev"})
    state = emu.admin.state()
    assert any(vm["name"] == "vm-extra" for vm in state["subscriptions"][0]["vms"])
    assert state["subscriptions"][0]["vaults"][0]["items"][1]["softDeleted"] is True
    emu.admin.reset()
    assert not any(vm["name"] == "vm-extra" for vm in emu.admin.vms())
    assert emu.admin.advance_clock(60)["offset"] == 60
    assert emu.admin.set_settings(pageSize=10)["pageSize"] == 10
    with pytest.raises(AdminError, match="unknown setting"):
        emu.admin.set_settings(colour="red")
    with pytest.raises(AdminError) as missing:
        emu.admin.vm(SUB, "rg-dev", "nope")
    assert missing.value.status == 404
    assert "VirtualMachines_ListAll" in emu.admin.operations()
    assert {i["clientId"] for i in emu.admin.identities()} >= {"22222222-2222-2222-2222-222222222222"}
    emu.admin.reset_counters()
    assert emu.admin.counters()["total"] == 0
    with pytest.raises(AdminError) as unknown:
        emu.admin.request("GET", "nothing/here")
    assert unknown.value.status == 404


async def test_counters_count_by_operation_status_kind_and_subscription(emu: EmulatorProcess, azure: Azure) -> None:
    [vm async for vm in azure.compute.virtual_machines.list_all()]
    await azure.vaults.vaults.get("rg-legacy", "rsv-legacy")
    counters = emu.admin.counters()
    assert counters["operations"]["VirtualMachines_ListAll"] == {"total": 1, "byStatus": {"200": 1}}
    assert counters["kinds"] == {"read": 2, "write": 0, "delete": 0}
    assert counters["subscriptions"][SUB]["total"] == 2
    assert counters["operations"]["Entra_Token"]["byStatus"] == {"200": 1}


async def test_a_benchmark_sized_fleet_pages_through_one_list_call(tmp_path: Path) -> None:
    with running_emulator(inventory.synthetic(2000, 20), time_scale=0.001, settings={"pageSize": 500}) as emu:
        azure = Azure(emu)
        try:
            vms = [vm async for vm in azure.compute.virtual_machines.list_all(expand="instanceView")]
            assert len(vms) == 2000
            assert emu.admin.count("VirtualMachines_ListAll") == 4
            await azure.backup.protection_containers.refresh("rsv-bench", "rg-backup", "Azure")
            emu.admin.advance_clock(1)
            protectable = [p async for p in azure.backup.backup_protectable_items.list("rsv-bench", "rg-backup")]
            assert len(protectable) == 2000
        finally:
            await azure.close()
