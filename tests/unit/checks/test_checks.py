"""The check list as a whole: report order, running everything, blocking, and purity."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import azbackup.checks
from azbackup.checks import CHECKS, blocking_failures, blocking_unknowns, evaluate
from azbackup.checks.facts import PowerState
from azbackup.checks.result import CheckResult, Result
from azbackup.reasons import Reason

from .builders import CTX, agent, ctx, data_disks, vm

REPORT_ORDER = [
    "SameRegion",
    "NotProtectedElsewhere",
    "VMAgentReady",
    "ApplicationConsistent",
    "NetworkPath",
    "SupportedOS",
    "DataDiskLimit",
    "NoWriteAccelerator",
    "DiskEncryptionSupported",
    "StorageAccountAccess",
    "ManagedDisks",
    "NoSharedDisks",
    "RestoreNetworkConfig",
    # prerequisites Azure added after the 2018 guide
    "DiskTypeSupported",
    "NoEphemeralOSDisk",
    "NoDataAccessAuthDisks",
    "SecurityTypeSupported",
]


def test_checks_are_listed_in_report_order() -> None:
    assert [check.name for check in CHECKS] == REPORT_ORDER


def test_only_warning_checks_never_block() -> None:
    assert [c.name for c in CHECKS if not c.blocks] == [
        "ApplicationConsistent",
        "ManagedDisks",
        "NoSharedDisks",
        "RestoreNetworkConfig",
    ]


def test_healthy_vm_passes_every_check() -> None:
    got = evaluate(vm(), CTX)
    assert [(r.name, r.result, r.reason) for r in got] == [
        (n, Result.PASSED, Reason.CHECK_PASSED) for n in REPORT_ORDER
    ]


def test_every_check_runs_even_when_the_first_fails() -> None:
    stopped_agent = agent(reported=False, version=None, ready=None)
    subject = vm(region="eastus", data_disks=data_disks(33), power_state=PowerState.DEALLOCATED, agent=stopped_agent)
    got = evaluate(subject, CTX)
    assert [r.name for r in got] == REPORT_ORDER
    assert [(r.name, r.result) for r in got if r.result is not Result.PASSED] == [
        ("SameRegion", Result.FAILED),
        ("VMAgentReady", Result.WARNING),
        ("ApplicationConsistent", Result.WARNING),
        ("DataDiskLimit", Result.FAILED),
    ]
    assert [r.name for r in blocking_failures(got)] == ["SameRegion", "DataDiskLimit"]


def test_unknown_facts_never_pass() -> None:
    blank = dataclasses.replace(
        vm(),
        region=None,
        power_state=None,
        os_disk=None,
        data_disks=None,
        extensions=None,
        nics=None,
        storage_accounts=None,
        protection=None,
        security_type=None,
    )
    got = evaluate(dataclasses.replace(blank, agent=dataclasses.replace(blank.agent, reported=None)), CTX)
    assert {r.name: r.result for r in got if r.result is Result.PASSED} == {"SupportedOS": Result.PASSED}


def test_blocking_failures_ignore_warnings_and_non_blocking_checks() -> None:
    results = [
        CheckResult("SameRegion", Result.FAILED, Reason.REGION_MISMATCH, "m"),
        CheckResult("NoSharedDisks", Result.FAILED, Reason.SHARED_DISK, "m"),
        CheckResult("NetworkPath", Result.WARNING, Reason.NO_NETWORK_PATH, "m"),
        CheckResult("DataDiskLimit", Result.UNKNOWN, Reason.FACT_UNAVAILABLE, "m"),
        CheckResult("SomethingNew", Result.FAILED, Reason.AZURE_ERROR, "m"),
    ]
    assert blocking_failures(results) == [results[0], results[4]]
    assert blocking_unknowns(results) == [results[3]]


def _absolute_imports(package: Path) -> set[str]:
    imported: set[str] = set()
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module)
    return imported


def test_checks_import_nothing_but_the_standard_library_reasons_and_the_toolkit() -> None:
    allowed = {"__future__", "collections", "dataclasses", "enum", "ipaddress", "re", "typing", "urllib"}
    outside = {name for name in _absolute_imports(Path(azbackup.checks.__file__).parent)
               if name.split(".")[0] not in allowed and not name.startswith("azbackup.toolkit")}
    assert outside == {"azbackup.reasons"}


def test_the_toolkit_imports_nothing_but_the_standard_library() -> None:
    allowed = {"__future__", "collections", "dataclasses", "datetime", "enum", "re", "typing"}
    outside = {name for name in _absolute_imports(Path(azbackup.checks.__file__).parent.parent / "toolkit")
               if name.split(".")[0] not in allowed}
    assert outside == set()


def test_context_builder_changes_only_named_fields() -> None:
    assert dataclasses.replace(ctx(http_proxy="http://p:1"), http_proxy=None) == CTX
