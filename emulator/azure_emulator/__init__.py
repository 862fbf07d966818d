"""A local emulator of Azure Resource Manager and Entra ID for Azure VM Backup.

The real azure-mgmt-* and azure-identity clients run against it unmodified; see docs/emulator.md.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AdminClient",
    "Emulator",
    "EmulatorProcess",
    "load_inventory",
    "main",
    "running_emulator",
    "sample_fleet_path",
    "synthetic",
]


def __getattr__(name: str) -> Any:
    # Imported lazily so that `import azure_emulator.verdicts` stays free of aiohttp and the server.
    if name == "AdminClient":
        from azure_emulator.admin import AdminClient

        return AdminClient
    if name == "Emulator":
        from azure_emulator.app import Emulator

        return Emulator
    if name in ("EmulatorProcess", "running_emulator"):
        from azure_emulator import server

        return getattr(server, name)
    if name in ("load_inventory", "sample_fleet_path", "synthetic"):
        from azure_emulator import inventory

        return getattr(inventory, name)
    if name == "main":
        from azure_emulator.__main__ import main

        return main
    raise AttributeError(name)
