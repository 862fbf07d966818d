"""Builders for check tests: each returns a valid, healthy value and changes only the fields a test names.

Modelled on cert-manager's test/unit/gen: `vm(power_state=PowerState.STOPPED)` is the healthy VM,
stopped. Nested values have their own builders (`agent(version="2.6.1198.718")`, `disk(...)`, `nsg(...)`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from azbackup.checks.facts import (
    Access,
    AgentInfo,
    CheckContext,
    Direction,
    Disk,
    DiskSelection,
    Extension,
    ImageReference,
    NetworkInterface,
    NetworkSecurityGroup,
    NsgLevel,
    OSInfo,
    OSType,
    PolicyType,
    PowerState,
    Protection,
    SecurityRule,
    SecurityType,
    StorageAccount,
    VMFacts,
)
from azbackup.checks.result import CheckResult, Result
from azbackup.reasons import Reason

SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-000000000000"
VAULT_ID = f"{SUBSCRIPTION}/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/vault-weu"
OTHER_VAULT_ID = f"{SUBSCRIPTION}/resourceGroups/rg-old/providers/Microsoft.RecoveryServices/vaults/vault-old"
REGION = "westeurope"
# Stand-ins for the addressPrefixes of service tag Storage.WestEurope.
STORAGE_PREFIXES = ("20.60.0.0/16", "20.150.0.0/17", "2603:1020:200::/46")
VM_IP = "10.0.1.4"
RECENT_WINDOWS_AGENT = "2.7.41491.1102"
RECENT_LINUX_AGENT = "2.9.1.1"
# Above the guide's Windows minimum, below Azure's supported minimum for extensions.
OLD_WINDOWS_AGENT = "2.7.41491.949"


def outcome(got: CheckResult) -> tuple[Result, Reason]:
    return got.result, got.reason


def rule(
    name: str = "allow-storage",
    priority: int = 100,
    access: Access = Access.ALLOW,
    destination: tuple[str, ...] = ("Storage",),
    ports: tuple[str, ...] = ("443",),
    protocol: str = "Tcp",
    direction: Direction = Direction.OUTBOUND,
    source: tuple[str, ...] = ("*",),
    source_asgs: tuple[str, ...] = (),
) -> SecurityRule:
    return SecurityRule(name, priority, direction, access, protocol, destination, ports, source, source_asgs)


def deny(
    name: str = "deny-all-out",
    priority: int = 4000,
    destination: tuple[str, ...] = ("*",),
    ports: tuple[str, ...] = ("*",),
    **kw: Any,
) -> SecurityRule:
    return rule(name, priority, Access.DENY, destination, ports, **kw)


# The six rules every NSG carries (Microsoft.Network NetworkSecurityGroupGet example).
DEFAULT_RULES = (
    rule(
        "AllowVnetInBound",
        65000,
        Access.ALLOW,
        ("VirtualNetwork",),
        ("*",),
        "*",
        Direction.INBOUND,
        ("VirtualNetwork",),
    ),
    rule(
        "AllowAzureLoadBalancerInBound",
        65001,
        Access.ALLOW,
        ("*",),
        ("*",),
        "*",
        Direction.INBOUND,
        ("AzureLoadBalancer",),
    ),
    rule("DenyAllInBound", 65500, Access.DENY, ("*",), ("*",), "*", Direction.INBOUND),
    rule(
        "AllowVnetOutBound",
        65000,
        Access.ALLOW,
        ("VirtualNetwork",),
        ("*",),
        "*",
        Direction.OUTBOUND,
        ("VirtualNetwork",),
    ),
    rule("AllowInternetOutBound", 65001, Access.ALLOW, ("Internet",), ("*",), "*"),
    rule("DenyAllOutBound", 65500, Access.DENY, ("*",), ("*",), "*"),
)


def nsg(
    *rules: SecurityRule, name: str = "nsg-nic", level: NsgLevel = NsgLevel.NIC, defaults: bool = True
) -> NetworkSecurityGroup:
    nsg_id = f"{SUBSCRIPTION}/resourceGroups/rg-app/providers/Microsoft.Network/networkSecurityGroups/{name}"
    return NetworkSecurityGroup(nsg_id, name, level, (*rules, *(DEFAULT_RULES if defaults else ())))


def subnet_nsg(*rules: SecurityRule, name: str = "nsg-subnet") -> NetworkSecurityGroup:
    return nsg(*rules, name=name, level=NsgLevel.SUBNET)


def nic(**changes: Any) -> NetworkInterface:
    healthy = NetworkInterface(
        id=f"{SUBSCRIPTION}/resourceGroups/rg-app/providers/Microsoft.Network/networkInterfaces/vm-app-nic",
        name="vm-app-nic",
        primary=True,
        private_ips=(VM_IP,),
        public_ip_ids=(),
        backend_pools=(),
        asg_ids=(),
        security_groups=(subnet_nsg(),),
    )
    return dataclasses.replace(healthy, **changes)


def disk(name: str = "vm-app-osdisk", lun: int | None = None, **changes: Any) -> Disk:
    healthy = Disk(
        name=name,
        lun=lun,
        size_gb=128,
        managed=True,
        storage_account=None,
        write_accelerator=False,
        max_shares=1,
        ade_encrypted=False,
        ade_flavour=None,
        sku="Premium_LRS",
        ephemeral=False,
        data_access_auth=False,
    )
    return dataclasses.replace(healthy, **changes)


def data_disks(count: int, **changes: Any) -> tuple[Disk, ...]:
    return tuple(disk(f"vm-app-data{lun}", lun, **changes) for lun in range(count))


def agent(**changes: Any) -> AgentInfo:
    healthy = AgentInfo(
        provision_vm_agent=True,
        allow_extension_operations=True,
        reported=True,
        version=RECENT_WINDOWS_AGENT,
        ready=True,
    )
    return dataclasses.replace(healthy, **changes)


def windows(**changes: Any) -> OSInfo:
    healthy = OSInfo(
        type=OSType.WINDOWS,
        image=ImageReference("MicrosoftWindowsServer", "WindowsServer", "2019-Datacenter"),
        name="Windows Server 2019 Datacenter",
        version="10.0.17763",
    )
    return dataclasses.replace(healthy, **changes)


def linux(**changes: Any) -> OSInfo:
    healthy = OSInfo(
        type=OSType.LINUX,
        image=ImageReference("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2"),
        name="ubuntu",
        version="22.04",
    )
    return dataclasses.replace(healthy, **changes)


def image(publisher: str | None, offer: str | None = None, sku: str | None = None) -> ImageReference:
    return ImageReference(publisher, offer, sku)


def storage_account(name: str = "stvhds", **changes: Any) -> StorageAccount:
    return dataclasses.replace(StorageAccount(name, "Allow", False), **changes)


def ade_extension(version: str = "2.2", kind: str = "AzureDiskEncryption") -> Extension:
    return Extension("Microsoft.Azure.Security", kind, version)


def vm(**changes: Any) -> VMFacts:
    """A running Windows Server 2019 VM in westeurope with a ready agent, two data disks and one NIC."""
    healthy = VMFacts(
        id=f"{SUBSCRIPTION}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-app",
        name="vm-app",
        resource_group="rg-app",
        region=REGION,
        os=windows(),
        agent=agent(),
        power_state=PowerState.RUNNING,
        os_disk=disk(),
        data_disks=data_disks(2),
        extensions=(),
        nics=(nic(),),
        storage_accounts=(),
        protection=Protection("NotProtected", None),
        security_type=SecurityType.STANDARD,
    )
    return dataclasses.replace(healthy, **changes)


def ctx(**changes: Any) -> CheckContext:
    healthy = CheckContext(
        vault_id=VAULT_ID,
        vault_region=REGION,
        policy_type=PolicyType.STANDARD,
        disk_selection=DiskSelection(),
        http_proxy=None,
        storage_prefixes=STORAGE_PREFIXES,
    )
    return dataclasses.replace(healthy, **changes)


CTX = ctx()
