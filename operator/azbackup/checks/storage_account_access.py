"""StorageAccountAccess: the storage accounts of unmanaged disks let Azure Backup in."""

from __future__ import annotations

from typing import Final

from azbackup.reasons import Reason

from . import facts, result

NAME: Final = "StorageAccountAccess"
BLOCKS: Final = True
# The 2018 guide: a storage account firewall must allow "trusted Microsoft services" (networkAcls bypass
# AzureServices) for Backup to read unmanaged disks; without it backups fail. Today's support matrix goes
# further (learn.microsoft.com/azure/backup/backup-support-matrix-iaas, VM network support, "Virtual network
# service endpoints": "Storage account settings for a firewall and a virtual network should allow access
# from all networks"), so a firewall that lets only trusted services in is a warning, not a pass. Managed
# disks have no account to open.


def storage_account_access(vm: facts.VMFacts, ctx: facts.CheckContext) -> result.CheckResult:
    disks = vm.disks
    if disks is None or any(disk.managed is None for disk in disks):
        return result.unknown(NAME, f"Whether the disks of VM {vm.name} are managed is not known yet.")
    unmanaged = [disk for disk in disks if not disk.managed]
    if not unmanaged:
        return result.passed(NAME, f"VM {vm.name} has managed disks only; no storage account firewall applies.")
    known = {account.name.lower(): account for account in vm.storage_accounts or ()}
    wanted = {disk.storage_account.lower() if disk.storage_account else "" for disk in unmanaged}
    accounts = [known.get(name) for name in sorted(wanted)]
    if vm.storage_accounts is None or "" in wanted or None in accounts:
        return result.unknown(NAME, f"The storage accounts of the unmanaged disks of VM {vm.name} are not known yet.")
    read = [account for account in accounts if account is not None]
    if any(a.default_action is None or (_denies(a) and a.bypass_azure_services is None) for a in read):
        return result.unknown(NAME, f"The firewall settings of the storage accounts of VM {vm.name} are not known yet.")
    blocked = [account.name for account in read if _denies(account) and not account.bypass_azure_services]
    if blocked:
        return result.failed(
            NAME,
            Reason.STORAGE_ACCOUNT_FIREWALL,
            f"Storage account {', '.join(blocked)} of VM {vm.name} denies access by default and does not allow "
            "trusted Microsoft services, so Azure Backup cannot read its unmanaged disks. In its Firewalls and "
            "virtual networks settings select 'Allow trusted Microsoft services to access this storage "
            "account' (networkAcls bypass AzureServices); today's support matrix asks for access from all "
            "networks.",
        )
    limited = [account.name for account in read if _denies(account)]
    if limited:
        return result.warning(
            NAME,
            Reason.STORAGE_ACCOUNT_NOT_OPEN,
            f"Storage account {', '.join(limited)} of VM {vm.name} lets only selected networks and trusted "
            "Microsoft services in. Today's Azure Backup support matrix asks the storage accounts of unmanaged "
            "disks to allow access from all networks; converting the VM to managed disks removes the question.",
        )
    names = ", ".join(account.name for account in read)
    return result.passed(NAME, f"The storage accounts of VM {vm.name} ({names}) allow access from all networks.")


def _denies(account: facts.StorageAccount) -> bool:
    return (account.default_action or "").lower() == "deny"
