"""The api-version table: every route has an entry, the pinned SDKs' versions are in it, and ARM's
three refusals (missing, malformed, unpublished) come back as ARM words them."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest
from azure_emulator import apiversions, arm
from azure_emulator.apiversions import resource_type

SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
VAULT = SUB + "/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v"
ITEM = VAULT + "/backupFabrics/Azure/protectionContainers/c/protectedItems/i"
SITE = Path(__file__).resolve().parents[2] / ".venv" / "lib"


@pytest.mark.parametrize("r", arm.ROUTES, ids=lambda r: f"{r.method} {r.operation} has a table entry")
def test_every_route_has_a_resource_type_with_versions(r: arm.Route) -> None:
    rtype = resource_type(r.template)
    assert rtype is not None, r.template
    assert apiversions.supported(rtype), f"{r.operation}: no api-versions for {rtype}"


@pytest.mark.parametrize(
    ("path", "rtype"),
    [
        pytest.param("/subscriptions", "Microsoft.Resources/subscriptions", id="the subscription list"),
        pytest.param(SUB, "Microsoft.Resources/subscriptions", id="one subscription"),
        pytest.param(SUB + "/resourcegroups/rg", "Microsoft.Resources/resourceGroups", id="a resource group"),
        pytest.param(SUB + "/providers", "Microsoft.Resources/providers", id="the provider list"),
        pytest.param(SUB + "/providers/Microsoft.Compute/register", "Microsoft.Resources/providers", id="register"),
        pytest.param(VAULT, "Microsoft.RecoveryServices/vaults", id="a vault"),
        pytest.param(
            ITEM + "/backup",
            "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/backup",
            id="an action is the last type segment",
        ),
        pytest.param(
            SUB + "/providers/Microsoft.RecoveryServices/locations/westeurope/backupStatus",
            "Microsoft.RecoveryServices/locations/backupStatus",
            id="a location-scoped action",
        ),
        pytest.param("/_admin/health", None, id="the admin API has no type"),
        pytest.param("/metadata/endpoints", None, id="the metadata document has no type"),
    ],
)
def test_the_resource_type_of_a_path(path: str, rtype: str | None) -> None:
    assert resource_type(path) == rtype


def _sdk_versions(package: str) -> set[str]:
    """Every api-version a pinned SDK's generated code sends by default."""
    found: set[str] = set()
    for root in SITE.glob(f"python3*/site-packages/azure/mgmt/{package}"):
        for f in root.rglob("*.py"):
            found.update(re.findall(r'"api-version",\s*"(\d{4}-\d{2}-\d{2}(?:-preview)?)"', f.read_text()))
    return found


@pytest.mark.parametrize(
    ("package", "rtype"),
    [
        pytest.param(
            "recoveryservices", "Microsoft.RecoveryServices/vaults", id="recoveryservices sends a vault version"
        ),
        pytest.param(
            "recoveryservicesbackup",
            "Microsoft.RecoveryServices/vaults/backupPolicies",
            id="recoveryservicesbackup sends a backup version",
        ),
        pytest.param("network", "Microsoft.Network/networkInterfaces", id="network sends a network version"),
        pytest.param("storage", "Microsoft.Storage/storageAccounts", id="storage sends a storage version"),
        pytest.param("resource/resources", "Microsoft.Resources/resourceGroups", id="resource sends an ARM version"),
    ],
)
def test_the_pinned_sdks_versions_are_published(package: str, rtype: str) -> None:
    sent = _sdk_versions(package)
    if not sent:
        pytest.skip(f"azure-mgmt-{package} is not installed in .venv")
    main = max(sent)  # the package's own default; older pinned ones are for side operations
    assert main in apiversions.supported(rtype)


def test_the_compute_sdk_sends_published_versions() -> None:
    sent = _sdk_versions("compute")
    assert "2026-04-01" in apiversions.supported("Microsoft.Compute/virtualMachines")
    assert "2026-03-02" in apiversions.supported("Microsoft.Compute/disks")
    assert {"2026-04-01", "2026-03-02"} <= sent or not sent


@pytest.mark.parametrize(
    ("rtype", "version", "code"),
    [
        pytest.param("Microsoft.RecoveryServices/vaults", None, "MissingApiVersionParameter", id="missing"),
        pytest.param("Microsoft.RecoveryServices/vaults", "2026-11-01", None, id="published is accepted"),
        pytest.param("Microsoft.RecoveryServices/vaults", "2099-01-01", "NoRegisteredProviderFound", id="unpublished"),
        pytest.param("Microsoft.RecoveryServices/vaults", "yesterday", "InvalidApiVersionParameter", id="malformed"),
        pytest.param(
            "Microsoft.Resources/resourceGroups", "2099-01-01", "InvalidApiVersionParameter", id="ARM's own type"
        ),
        pytest.param("Microsoft.Nothing/things", "2099-01-01", None, id="unknown types are left to the router"),
    ],
)
def test_arm_refuses_an_api_version(rtype: str, version: str | None, code: str | None) -> None:
    refusal = apiversions.check(rtype, version, "westeurope", ["northeurope", "westeurope"])
    assert (refusal.code if refusal else None) == code


def test_the_refusal_names_the_location_the_versions_and_the_locations() -> None:
    refusal = apiversions.check("Microsoft.Network/networkInterfaces", "2099-01-01", "westeurope", ["westeurope"])
    assert refusal is not None
    assert refusal.message.startswith(
        "No registered resource provider found for location 'westeurope' and API version '2099-01-01' for type "
        "'networkInterfaces'. The supported api-versions are '2014-12-01-preview, 2015-05-01-preview, "
    )
    assert refusal.message.endswith(", 2026-03-01'. The supported locations are 'westeurope'.")


DATA = Path(apiversions.__file__).parent / "data" / apiversions.DATA_FILE
REFRESH = Path(__file__).resolve().parents[2] / "hack" / "api_versions.py"


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DATA.read_text())
    return document


@pytest.mark.parametrize("name", sorted(_document()["trains"]), ids=lambda n: f"{n} is its published folders")
def test_each_table_equals_the_published_folders_and_what_the_sdks_send(name: str) -> None:
    raw = _document()["trains"][name]
    want = sorted({*raw["published"], *raw["sdk"], *raw.get("arm", ())})
    assert list(apiversions.TRAINS[name]) == want


def test_the_data_names_its_repository_and_the_day_it_was_read() -> None:
    document = _document()
    assert document["repository"] == "https://github.com/Azure/azure-rest-api-specs"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", document["read"])
    for name, raw in document["trains"].items():
        assert raw["folders"], name
        assert raw["files"], name
        assert all(f.startswith("specification/") for f in raw["folders"]), name


def test_every_train_serves_a_type() -> None:
    assert set(apiversions.TYPES.values()) == set(apiversions.TRAINS)


@pytest.mark.parametrize(
    ("rtype", "version"),
    [
        pytest.param("Microsoft.Compute/virtualMachines", "2026-03-01", id="ComputeRP stable/2026-03-01"),
        pytest.param("Microsoft.Compute/virtualMachines/extensions", "2025-11-01", id="ComputeRP stable/2025-11-01"),
        pytest.param("Microsoft.Network/networkInterfaces", "2025-07-01", id="Network stable/2025-07-01"),
        pytest.param("Microsoft.Network/networkSecurityGroups", "2025-09-01", id="Network stable/2025-09-01"),
        pytest.param("Microsoft.Compute/disks", "2025-01-02", id="DiskRP stable/2025-01-02"),
    ],
)
def test_a_version_azure_publishes_is_accepted(rtype: str, version: str) -> None:
    assert apiversions.check(rtype, version, "westeurope", ["westeurope"]) is None


def test_a_disk_version_is_not_a_vm_version() -> None:
    refusal = apiversions.check("Microsoft.Compute/virtualMachines", "2026-03-02", "westeurope", ["westeurope"])
    assert refusal is not None
    assert refusal.code == "NoRegisteredProviderFound"


def _refresh_module() -> Any:
    spec = importlib.util.spec_from_file_location("api_versions_refresh", REFRESH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_refresh_script_lists_the_version_folders_that_hold_the_trains_files(tmp_path: Path) -> None:
    root = "specification/compute/resource-manager/Microsoft.Compute"
    for rel in (
        "ComputeRP/stable/2024-07-01/virtualMachine.json",
        "Compute/stable/2026-03-01/ComputeRP.json",
        "Compute/stable/2026-03-02/DiskRP.json",  # the disks' train, in the same folder since the move
        "Compute/preview/2016-04-30-preview/compute.json",
        "Compute/stable/2026-03-01/examples/VirtualMachine_Get.json",
    ):
        (tmp_path / root / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / root / rel).write_text("{}")
    listed = _refresh_module().published(
        tmp_path, [f"{root}/ComputeRP", f"{root}/Compute"], ["ComputeRP.json", "virtualMachine.json", "compute.json"]
    )
    assert listed == ["2016-04-30-preview", "2024-07-01", "2026-03-01"]
