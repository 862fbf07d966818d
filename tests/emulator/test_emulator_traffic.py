"""The opt-in traffic recorder: what it writes (oav's `liveRequest`/`liveResponse` pairs) and what it
records only once (a pair whose shape it has seen for the operation and status)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from azure_emulator.server import running_emulator
from azure_emulator.traffic import ENV, TrafficRecorder, signature
from emulator_support import TIME_SCALE, Azure


def pairs(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for f in sorted(directory.glob("*.jsonl")) for line in f.read_text().splitlines()]


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        pytest.param({"a": "some text."}, {"a": "other text!"}, True, id="other free text is the same shape"),
        pytest.param({"a": 1}, {"a": 2}, True, id="other numbers are the same shape"),
        pytest.param({"a": "Succeeded"}, {"a": "Failed"}, False, id="another enum value is a new shape"),
        pytest.param({"a": 1}, {"a": 1, "b": 2}, False, id="another key is a new shape"),
        pytest.param({"value": [{"a": 1}]}, {"value": [{"a": 1}, {"a": 2}]}, True, id="a longer page is the same"),
        pytest.param({"a": "1"}, {"a": 1}, False, id="another JSON type is a new shape"),
    ],
)
def test_signature(first: Any, second: Any, same: bool) -> None:
    assert (signature("Op", 200, None, first) == signature("Op", 200, None, second)) is same


def test_no_directory_no_recorder() -> None:
    assert TrafficRecorder.from_environment({}) is None
    assert TrafficRecorder.from_environment({ENV: " "}) is None


async def test_an_emulator_records_each_shape_of_exchange_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, str(tmp_path))
    with running_emulator(time_scale=TIME_SCALE) as emu:
        azure = Azure(emu)
        try:
            for _ in range(3):
                await azure.compute.virtual_machines.get("rg-web", "vm-web-01")
            await azure.vaults.vaults.get("rg-legacy", "rsv-legacy")
            with pytest.raises(Exception):  # noqa: B017, PT011 - a 404 is recorded too
                await azure.vaults.vaults.get("rg-legacy", "rsv-missing")
        finally:
            await azure.close()
    recorded = pairs(tmp_path)
    assert [(p["operation"], p["liveResponse"]["statusCode"]) for p in recorded] == [
        ("VirtualMachines_Get", "200"),
        ("Vaults_Get", "200"),
        ("Vaults_Get", "404"),
    ]
    first = recorded[0]
    assert first["liveRequest"]["method"] == "GET"
    assert first["liveRequest"]["url"].startswith(f"{emu.url}/subscriptions/")
    assert "api-version=" in first["liveRequest"]["url"]
    assert "authorization" not in {k.lower() for k in first["liveRequest"]["headers"]}
    assert first["liveResponse"]["body"]["name"] == "vm-web-01"
    assert recorded[2]["liveResponse"]["body"]["error"]["code"] == "ResourceNotFound"
