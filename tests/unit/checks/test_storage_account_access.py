from __future__ import annotations

import pytest
from azbackup.checks import storage_account_access
from azbackup.checks.facts import StorageAccount, VMFacts
from azbackup.checks.result import CheckResult, Result
from azbackup.reasons import Reason

from .builders import CTX, disk, outcome, storage_account, vm

UNMANAGED = disk(managed=False, storage_account="stvhds")
# The retirement of unmanaged disks is ManagedDisks' warning; an account open to all networks passes here.
OPEN = (Result.PASSED, Reason.CHECK_PASSED)
# Today's support matrix asks for all networks: trusted services alone are a warning (the guide's pass).
TRUSTED_ONLY = (Result.WARNING, Reason.STORAGE_ACCOUNT_NOT_OPEN)
FIREWALL = (Result.FAILED, Reason.STORAGE_ACCOUNT_FIREWALL)
UNKNOWN = (Result.UNKNOWN, Reason.FACT_UNAVAILABLE)


def unmanaged_vm(*accounts: StorageAccount) -> VMFacts:
    return vm(os_disk=UNMANAGED, data_disks=(), storage_accounts=accounts)


@pytest.mark.parametrize(
    ("subject", "want"),
    [
        pytest.param(vm(), (Result.PASSED, Reason.CHECK_PASSED), id="managed-disks-only-pass"),
        pytest.param(unmanaged_vm(storage_account()), OPEN, id="open-account-passes"),
        pytest.param(
            unmanaged_vm(storage_account(default_action="Deny", bypass_azure_services=True)),
            TRUSTED_ONLY,
            id="deny-with-trusted-services-only-warns-StorageAccountNotOpenToAllNetworks",
        ),
        pytest.param(
            unmanaged_vm(storage_account(default_action="Deny", bypass_azure_services=False)),
            FIREWALL,
            id="deny-without-trusted-services-fails-StorageAccountFirewall",
        ),
        pytest.param(
            unmanaged_vm(storage_account(name="STVHDS", default_action="deny", bypass_azure_services=False)),
            FIREWALL,
            id="names-and-actions-ignore-case",
        ),
        pytest.param(
            unmanaged_vm(storage_account(default_action="Allow", bypass_azure_services=None)),
            OPEN,
            id="bypass-does-not-matter-when-allowing",
        ),
        pytest.param(
            unmanaged_vm(storage_account(default_action="Deny", bypass_azure_services=None)),
            UNKNOWN,
            id="unknown-bypass-is-unknown",
        ),
        pytest.param(
            unmanaged_vm(storage_account(default_action=None)), UNKNOWN, id="unknown-default-action-is-unknown"
        ),
        pytest.param(unmanaged_vm(storage_account(name="other")), UNKNOWN, id="account-not-read-is-unknown"),
        pytest.param(vm(os_disk=UNMANAGED, storage_accounts=None), UNKNOWN, id="unread-accounts-are-unknown"),
        pytest.param(vm(os_disk=disk(managed=None)), UNKNOWN, id="unknown-disk-kind-is-unknown"),
        pytest.param(
            vm(os_disk=disk(managed=False, storage_account=None), storage_accounts=()),
            UNKNOWN,
            id="unknown-account-name-is-unknown",
        ),
    ],
)
def test_storage_account_access(subject: VMFacts, want: tuple[Result, Reason]) -> None:
    assert outcome(storage_account_access.storage_account_access(subject, CTX)) == want


def test_firewall_message_says_what_to_tick() -> None:
    got = storage_account_access.storage_account_access(
        unmanaged_vm(storage_account(default_action="Deny", bypass_azure_services=False)), CTX
    )
    assert got == CheckResult(
        "StorageAccountAccess",
        Result.FAILED,
        Reason.STORAGE_ACCOUNT_FIREWALL,
        "Storage account stvhds of VM vm-app denies access by default and does not allow trusted Microsoft "
        "services, so Azure Backup cannot read its unmanaged disks. In its Firewalls and virtual networks settings "
        "select 'Allow trusted Microsoft services to access this storage account' (networkAcls bypass "
        "AzureServices); today's support matrix asks for access from all networks.",
    )


def test_trusted_services_only_message_cites_the_support_matrix() -> None:
    got = storage_account_access.storage_account_access(
        unmanaged_vm(storage_account(default_action="Deny", bypass_azure_services=True)), CTX
    )
    assert got == CheckResult(
        "StorageAccountAccess",
        Result.WARNING,
        Reason.STORAGE_ACCOUNT_NOT_OPEN,
        "Storage account stvhds of VM vm-app lets only selected networks and trusted Microsoft services in. "
        "Today's Azure Backup support matrix asks the storage accounts of unmanaged disks to allow access from "
        "all networks; converting the VM to managed disks removes the question.",
    )
