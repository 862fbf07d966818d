"""NetworkPath: the VM's NSGs let it reach Azure Storage in its region on TCP 443, or a proxy is declared."""

from __future__ import annotations

import urllib.parse
from typing import Final

from azbackup.reasons import Reason

from . import facts, nsg, result, versions

NAME: Final = "NetworkPath"
BLOCKS: Final = True
PORT: Final = 443
_LOWEST_CUSTOM_PRIORITY: Final = 4096


def network_path(vm: facts.VMFacts, ctx: facts.CheckContext) -> result.CheckResult:
    # The guide: the backup extension needs outbound access to Azure Storage in the VM's region, opened
    # with NSG rules to service tag Storage.<region> or through an HTTP proxy.
    if ctx.http_proxy:
        return _proxy(ctx.http_proxy)
    nic = vm.primary_nic
    if vm.region is None or nic is None or nic.security_groups is None:
        return result.unknown(NAME, f"The region, primary NIC or NSGs of VM {vm.name} are not known yet.")
    target = nsg.to_storage(vm.region, PORT, ctx.storage_prefixes, nic)
    decision = nsg.evaluate_path(nic.security_groups, target)
    if decision.verdict is nsg.Verdict.ALLOWED:
        names = ", ".join(group.name for group in nic.security_groups) or "none"
        return result.passed(NAME, f"The NSGs of VM {vm.name} ({names}) allow {target.describe()}.")
    if decision.verdict is nsg.Verdict.UNDETERMINED or decision.nsg is None or decision.rule is None:
        return result.unknown(NAME, undetermined(vm, target, decision))
    message = denied(target, decision.nsg, decision.rule)
    if versions.agent_supported(vm):
        # Today's guide: "generally you don't need to explicitly allow outbound network access"; agents at
        # Azure's supported minimum reach storage through the host (168.63.129.16), and only older
        # agents need the storage path (troubleshooting doc, "Check if network access is required").
        return result.warning(
            NAME,
            Reason.NO_NETWORK_PATH,
            f"{message} Since the 2018 guide Azure changed: this VM's agent is recent enough to reach storage "
            "through the host, so add the rule only if backups fail with ExtensionSnapshotFailedNoNetwork.",
        )
    minimum = versions.show(versions.supported_minimum(vm.os.type)) if vm.os.type else "Azure's supported minimum"
    return result.failed(
        NAME,
        Reason.NO_NETWORK_PATH,
        f"{message} Only because the VM agent is older than Azure's supported minimum (or unknown) does it need "
        f"this path: the cheapest fix is to update the VM agent to {minimum} or later, which reaches Azure "
        "Storage through the host (168.63.129.16), so no NSG rule is needed.",
    )


def denied(target: nsg.Target, group: facts.NetworkSecurityGroup, rule: facts.SecurityRule) -> str:
    where = "NIC" if group.level is facts.NsgLevel.NIC else "subnet"
    head = f"The {where} NSG {group.name} denies {target.describe()} by rule {rule.name} (priority {rule.priority})."
    tag = f"Storage.{target.storage_region}" if target.storage_region else "Internet"
    if rule.priority <= 100:
        return f"{head} No rule can precede it: narrow it so it no longer covers {tag}, or declare an httpProxy."
    suggested = min(rule.priority - 1, _LOWEST_CUSTOM_PRIORITY)
    return (
        f"{head} Add an outbound rule in {group.name} that allows TCP {target.port} to service tag {tag} with "
        f"a priority number lower than {rule.priority} (for example {suggested}), or declare an httpProxy."
    )


def undetermined(vm: facts.VMFacts, target: nsg.Target, decision: nsg.Decision) -> str:
    group = decision.nsg.name if decision.nsg else "?"
    if decision.rule is None:
        return f"NSG {group} of VM {vm.name} has no rule that decides {target.describe()}; were its default rules read?"
    head = (
        f"Cannot tell whether NSG {group} of VM {vm.name} lets {target.describe()} out: rule {decision.rule.name} "
        f"(priority {decision.rule.priority}) may or may not match"
    )
    missing = [
        f"the Storage.{target.storage_region} prefixes"
        if target.storage_region and not target.storage_prefixes
        else "",
        "the VM's private IPs" if target.source_ips is None else "",
        "the VM's application security groups" if target.source_asgs is None else "",
    ]
    if any(missing):
        return f"{head}; not known yet: {', '.join(filter(None, missing))}."
    return (
        f"{head}: it names only part of the address space it is meant for (or a port range that cannot be "
        "read). Name the service tag instead of address prefixes."
    )


def _proxy(url: str) -> result.CheckResult:
    _, at, host = urllib.parse.urlsplit(url if "://" in url else f"http://{url}").netloc.rpartition("@")
    if at:
        # Never repeat the credentials: status, events and logs must not carry secrets.
        return result.failed(
            NAME,
            Reason.NO_NETWORK_PATH,
            f"The declared httpProxy {host} carries credentials; Azure Backup does not support "
            "authenticated proxies. Use a proxy that lets the VM through without them.",
        )
    return result.passed(
        NAME,
        f"An httpProxy ({url}) is declared; it is assumed to reach Azure Storage, so NSG rules are not "
        "evaluated. Azure Backup does not support authenticated proxies.",
    )
