"""Fixtures of the emulator tests: one emulator per session (reset before each test) and the real
aio SDK clients pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from azure_emulator.server import EmulatorProcess, running_emulator
from azure_emulator.settings import Settings
from emulator_support import TIME_SCALE, Azure


@pytest.fixture(scope="session")
def emulator_process() -> Iterator[EmulatorProcess]:
    with running_emulator(time_scale=TIME_SCALE) as emu:
        yield emu


@pytest.fixture
def emu(emulator_process: EmulatorProcess) -> EmulatorProcess:
    """The session's emulator, back to the sample fleet and default settings (at the test time scale)."""
    assert emulator_process.emulator is not None
    emulator_process.emulator.apply_settings(Settings(time_scale=TIME_SCALE))
    emulator_process.emulator.reset()
    return emulator_process


@pytest.fixture
async def azure(emu: EmulatorProcess) -> AsyncIterator[Azure]:
    clients = Azure(emu)
    try:
        yield clients
    finally:
        await clients.close()
