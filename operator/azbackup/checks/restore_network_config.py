"""RestoreNetworkConfig: a portal "create VM" restore would keep the VM's network setup (a warning only)."""

from __future__ import annotations

from typing import Final

from azbackup.reasons import Reason
from azbackup.toolkit import ids

from . import facts, result

NAME: Final = "RestoreNetworkConfig"
BLOCKS: Final = False
_NICS_TODAY: Final = (
    " (Since the 2018 guide the support matrix has changed for NICs: a restored VM gets as many NICs as"
    " the original, though the restore guide still lists several NICs as a special configuration.)"
)


def restore_network_config(vm: facts.VMFacts, ctx: facts.CheckContext) -> result.CheckResult:
    # The guide and today's restore doc ("Restore VMs with special network configurations"): VMs behind a
    # load balancer, with several NICs or several reserved IP addresses are restored with the "restore
    # disks" option and then created from the generated template or PowerShell. Today's support matrix
    # adds that a restored VM gets as many NICs as the backed-up one; the message says so.
    nics = vm.nics
    if nics is None or any(nic.public_ip_ids is None or nic.backend_pools is None for nic in nics):
        return result.unknown(NAME, f"The network interfaces of VM {vm.name} are not known yet.")
    dropped = []
    if len(nics) > 1:
        dropped.append(f"{len(nics)} NICs ({', '.join(nic.name for nic in nics)})")
    pools = sorted({ids.name(pool) for nic in nics for pool in nic.backend_pools or ()})
    if pools:
        dropped.append(f"load balancer backend pool {', '.join(pools)}")
    public_ips = [ids.name(ip) for nic in nics for ip in nic.public_ip_ids or ()]
    if len(public_ips) > 1:
        dropped.append(f"{len(public_ips)} public IP addresses ({', '.join(public_ips)})")
    if not dropped:
        return result.passed(NAME, f"VM {vm.name} has a plain network setup; any restore option keeps it.")
    return result.warning(
        NAME,
        Reason.RESTORE_NETWORK_CONFIG,
        f"VM {vm.name} has {'; '.join(dropped)}. A portal 'Create new' restore does not rebuild these: "
        "restore it with 'Restore disks' and create the VM from the generated template or with PowerShell, "
        f"then reattach them.{_NICS_TODAY if len(nics) > 1 else ''}",
    )
