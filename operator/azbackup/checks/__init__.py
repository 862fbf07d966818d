"""The prerequisite checks of Azure's guide "Prepare your environment to back up Resource Manager-deployed
virtual machines": pure functions from VM facts to check results, listed here in report order.

Nothing here does I/O, reads the clock or the environment, or imports kopf or Azure SDKs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from . import (
    application_consistent,
    data_disk_limit,
    disk_encryption_supported,
    disk_type_supported,
    facts,
    managed_disks,
    network_path,
    no_data_access_auth_disks,
    no_ephemeral_os_disk,
    no_shared_disks,
    no_write_accelerator,
    not_protected_elsewhere,
    restore_network_config,
    result,
    same_region,
    security_type_supported,
    storage_account_access,
    supported_os,
    vm_agent_ready,
)
from .facts import CheckContext, VMFacts
from .result import Check, CheckResult, Result

__all__ = [
    "CHECKS",
    "Check",
    "CheckContext",
    "CheckResult",
    "Result",
    "VMFacts",
    "blocking_failures",
    "blocking_unknowns",
    "evaluate",
]

CHECKS: Final[tuple[Check, ...]] = (
    Check(same_region.NAME, same_region.BLOCKS, same_region.same_region),
    Check(
        not_protected_elsewhere.NAME, not_protected_elsewhere.BLOCKS, not_protected_elsewhere.not_protected_elsewhere
    ),
    Check(vm_agent_ready.NAME, vm_agent_ready.BLOCKS, vm_agent_ready.vm_agent_ready),
    Check(application_consistent.NAME, application_consistent.BLOCKS, application_consistent.application_consistent),
    Check(network_path.NAME, network_path.BLOCKS, network_path.network_path),
    Check(supported_os.NAME, supported_os.BLOCKS, supported_os.supported_os),
    Check(data_disk_limit.NAME, data_disk_limit.BLOCKS, data_disk_limit.data_disk_limit),
    Check(no_write_accelerator.NAME, no_write_accelerator.BLOCKS, no_write_accelerator.no_write_accelerator),
    Check(
        disk_encryption_supported.NAME,
        disk_encryption_supported.BLOCKS,
        disk_encryption_supported.disk_encryption_supported,
    ),
    Check(storage_account_access.NAME, storage_account_access.BLOCKS, storage_account_access.storage_account_access),
    Check(managed_disks.NAME, managed_disks.BLOCKS, managed_disks.managed_disks),
    Check(no_shared_disks.NAME, no_shared_disks.BLOCKS, no_shared_disks.no_shared_disks),
    Check(restore_network_config.NAME, restore_network_config.BLOCKS, restore_network_config.restore_network_config),
    # Prerequisites Azure added after the 2018 guide.
    Check(disk_type_supported.NAME, disk_type_supported.BLOCKS, disk_type_supported.disk_type_supported),
    Check(no_ephemeral_os_disk.NAME, no_ephemeral_os_disk.BLOCKS, no_ephemeral_os_disk.no_ephemeral_os_disk),
    Check(
        no_data_access_auth_disks.NAME,
        no_data_access_auth_disks.BLOCKS,
        no_data_access_auth_disks.no_data_access_auth_disks,
    ),
    Check(
        security_type_supported.NAME, security_type_supported.BLOCKS, security_type_supported.security_type_supported
    ),
)
_BLOCKS: Final = {check.name: check.blocks for check in CHECKS}


def evaluate(vm: facts.VMFacts, ctx: facts.CheckContext) -> list[result.CheckResult]:
    """Run every check, in report order; one failing check never hides the others."""
    return [check.run(vm, ctx) for check in CHECKS]


def blocking_failures(results: Iterable[result.CheckResult]) -> list[result.CheckResult]:
    """The Failed results of checks whose failure stops protection (an unlisted name counts as blocking)."""
    return [r for r in results if r.result is result.Result.FAILED and _BLOCKS.get(r.name, True)]


def blocking_unknowns(results: Iterable[result.CheckResult]) -> list[result.CheckResult]:
    """The Unknown results of blocking checks: protection waits until their facts are read."""
    return [r for r in results if r.result is result.Result.UNKNOWN and _BLOCKS.get(r.name, True)]
