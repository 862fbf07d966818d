"""The counters' per-client write log: which client wrote which resource, and the duplicates between clients."""

from __future__ import annotations

import json
import ssl
import urllib.request

from azure_emulator.admin import AdminClient
from azure_emulator.counters import Counters
from azure_emulator.server import EmulatorProcess

ITEM = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v/protectedItems/a"


def test_one_writer_per_resource_is_no_duplicate_however_often_it_writes() -> None:
    counters = Counters()
    for _ in range(3):
        counters.record_write("replica-0", ITEM)
    counters.record_write("replica-1", ITEM.replace("/a", "/b"))
    writers = counters.to_json()["writers"]
    assert writers["duplicateWrites"] == 0
    assert writers["clients"] == {"replica-0": 3, "replica-1": 1}
    assert writers["resources"] == 2


def test_writes_by_a_second_client_are_duplicates_and_reset_clears_them() -> None:
    counters = Counters()
    counters.record_write("replica-0", ITEM)
    counters.record_write("replica-0", ITEM)
    counters.record_write("REPLICA-1", ITEM.upper())  # ids and client ids compare case-insensitively
    writers = counters.to_json()["writers"]
    assert writers["duplicateWrites"] == 1
    assert writers["resourcesWrittenBySeveralClients"] == 1
    assert writers["examples"] == {ITEM.lower(): {"replica-0": 2, "replica-1": 1}}
    counters.reset()
    assert counters.to_json()["writers"]["duplicateWrites"] == 0


def test_the_emulator_logs_each_write_under_the_tokens_client() -> None:
    sub = "00000000-0000-0000-0000-000000000001"
    doc = {"identities": [{"clientId": "client-a", "secret": "s"}, {"clientId": "client-b", "secret": "s"}],
           "subscriptions": [{"id": sub}]}
    emu = EmulatorProcess.start_thread(doc)
    try:
        admin = AdminClient(emu.url, emu.ca_bundle)
        context = ssl.create_default_context(cafile=emu.ca_bundle)
        for client in ("client-a", "client-b", "client-a"):
            request = urllib.request.Request(
                f"{emu.url}/subscriptions/{sub}/resourcegroups/rg-shared?api-version=2021-04-01", method="PUT",
                data=json.dumps({"location": "westeurope"}).encode(),
                headers={"Authorization": f"Bearer {admin.token(client)}", "Content-Type": "application/json"})
            with urllib.request.urlopen(request, context=context) as response:
                assert response.status in (200, 201)
        writers = admin.counters()["writers"]
        assert writers["clients"] == {"client-a": 2, "client-b": 1}
        assert writers["duplicateWrites"] == 1
    finally:
        emu.stop()
