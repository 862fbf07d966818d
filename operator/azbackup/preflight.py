"""`azbackup preflight`: every check of the guide against every VM of a subscription, read-only.

Gathering reads what the operator reads, in the same batches: one fleet load per subscription, one
backupStatus per VM (only for NotProtectedElsewhere), the Storage service-tag prefixes once per region
and only for VMs whose NSG rules name CIDRs, and one vault GET when only a vault id is given. It never
writes to Azure and never talks to Kubernetes. Everything after gathering (rows, rendering, exit code)
is pure.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import enum
import json
import logging
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import yaml

from azbackup import checks, preflight_html
from azbackup.azure import errors, inventory, lists
from azbackup.azure import gateway as gw
from azbackup.azure.credentials import CLIENT_SECRET, CredentialSource
from azbackup.azure.rest import rest
from azbackup.checks import facts as f
from azbackup.checks import gather
from azbackup.kinds import contract
from azbackup.reasons import Reason

DESCRIPTION = """\
Read-only: run every prerequisite check of Azure's guide against every selected VM of a subscription and
print which VMs can be protected, and why not. It creates nothing in Azure and never touches Kubernetes."""

EPILOG = """\
output:
  table (default): VM, RESOURCE GROUP, LOCATION, OS, RESULT (Protectable, Protectable with warnings,
  Blocked, Unknown), REASON (the first blocking reason, or the warnings' reasons), CHECKS (the checks that
  block; for Unknown those that could not decide; on a row with warnings those that warned), then the
  counts and the vault context. json / yaml: every check's name, result, reason and message per VM, the
  advice (cheapest fix first), and a summary. html: one self-contained page (no network) with the summary
  as charts, the regions where vaults are needed, a sortable, filterable table and each VM's checks and
  advice; give FILE to write it there. VMs are ordered by resource group, then name.

exit codes:
  0  every selected VM can be protected (warnings allowed; also when no VM matches the selection)
  1  at least one VM is Blocked, or Unknown (a blocking check could not decide, so protection is not assured)
  2  usage error, or Azure refused or failed a read (authentication, authorization, not found, unreachable):
     the operator's stable reason and the message are printed on stderr

Credentials are the operator's: DefaultAzureCredential from the environment (AZURE_TENANT_ID,
AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, workload identity, managed identity), or --tenant-id and --client-id
with the secret read from AZURE_CLIENT_SECRET only, never from the command line.
"""

_CONCURRENCY = 16  # backupStatus calls in flight; the gateway's token buckets pace them below ARM's limits
_VAULT_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.RecoveryServices"
    r"/vaults/(?P<name>[^/]+)$", re.IGNORECASE)
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_SKIPPED = "Skipped"


class Outcome(enum.StrEnum):
    PROTECTABLE = "Protectable"
    WARNINGS = "Protectable with warnings"
    BLOCKED = "Blocked"
    UNKNOWN = "Unknown"


class Format(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
    YAML = "yaml"
    HTML = "html"  # one self-contained page (preflight_html)


class VaultMissing(errors.AzbackupError):
    reason = Reason.VAULT_NOT_FOUND


class UsageError(ValueError):
    """Flags that do not make a request; exit code 2 like argparse's own errors."""


@dataclasses.dataclass(frozen=True)
class TagFilter:
    """`key=value` (the tag has this value) or `key` (the tag exists); tag names are case-insensitive."""

    key: str
    value: str | None = None

    @classmethod
    def parse(cls, text: str) -> TagFilter:
        key, sep, value = text.partition("=")
        if not key.strip():
            raise argparse.ArgumentTypeError(f"tag filter {text!r}: expected KEY=VALUE or KEY")
        return cls(key.strip(), value if sep else None)

    def holds(self, tags: Mapping[str, str]) -> bool:
        value = next((v for k, v in tags.items() if k.lower() == self.key.lower()), None)
        return value is not None if self.value is None else value == self.value


@dataclasses.dataclass(frozen=True)
class Selection:
    """Which VMs of the subscription to check: every filter given must hold (none given: all VMs)."""

    resource_groups: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    tags: tuple[TagFilter, ...] = ()

    def matches(self, vm: f.VMFacts, tags: Mapping[str, str]) -> bool:
        if self.resource_groups and vm.resource_group.lower() not in {g.lower() for g in self.resource_groups}:
            return False
        if self.locations and f.normalize_region(vm.region or "") not in {
                f.normalize_region(loc) for loc in self.locations}:
            return False
        return all(tag.holds(tags) for tag in self.tags)


@dataclasses.dataclass(frozen=True)
class Request:
    """What to check, and against which (possibly hypothetical) vault and policy."""

    subscription_id: str
    selection: Selection = Selection()
    vault_id: str = ""
    """An existing vault's id: NotProtectedElsewhere passes for VMs it already protects."""
    vault_location: str | None = None
    """None with no vault id: SameRegion assumes a vault in each VM's own region."""
    policy_type: f.PolicyType = f.PolicyType.ENHANCED
    http_proxy: str | None = None
    protection_status: bool = True
    """False: no backupStatus calls; NotProtectedElsewhere is reported Skipped."""


@dataclasses.dataclass(frozen=True)
class Evaluated:
    vm: f.VMFacts
    context: f.CheckContext
    results: tuple[checks.CheckResult, ...]


@dataclasses.dataclass(frozen=True)
class Gathered:
    request: Request
    vault_id: str
    vault_location: str | None
    vms: tuple[Evaluated, ...]
    # The state of each VM's item in the vaults the report names (the --vault-id vault, and vaults that
    # protect a selected VM elsewhere): lower-cased vault id -> lower-cased VM id -> Protected,
    # ProtectionStopped, SoftDeleted, ... One item list per such vault.
    vault_items: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)


# -- gathering (I/O) --------------------------------------------------------------------------------


async def run(settings: gw.AzureSettings, source: CredentialSource, request: Request) -> Gathered:
    """Read the facts and evaluate the checks; raises errors.AzbackupError when Azure refuses a read."""
    gateway = gw.Gateway(settings)
    await gateway.start()
    try:
        return await survey(gateway.clients(request.subscription_id, source), request)
    finally:
        await gateway.close()


async def survey(clients: gw.Clients, request: Request) -> Gathered:
    """The selected VMs of one subscription with their check results; only reads, never writes."""
    vault_id, vault_location = request.vault_id, request.vault_location
    if vault_id and vault_location is None:
        vault_id, vault_location = await read_vault(clients, vault_id)
    fleet = await gather.load_fleet(lists.SubscriptionLists(clients.send_request, clients.subscription_id))
    selected = [vm for key, vm in fleet.vms.items()
                if request.selection.matches(vm, _tags(fleet.raw.get(key, {})))]
    # A private Inventory gives the operator's single flight: concurrent VMs of one region share one
    # service-tag read.
    cache, limit = contract.new_inventory(time.monotonic), asyncio.Semaphore(_CONCURRENCY)

    async def protection(vm: f.VMFacts) -> f.Protection | None:
        region = vm.region or vault_location
        if not (request.protection_status and region):
            return None
        answer = await cache.protection(clients, vm.id, region, 0.0)
        return gather.protection(answer.protection_status, answer.vault_id)

    async def prefixes(region: str) -> tuple[str, ...] | None:
        return await cache.storage_prefixes(clients, region).get(float("inf"))

    async def evaluate(vm: f.VMFacts) -> Evaluated:
        async with limit:
            vm, found = await gather.complete(vm, protection, prefixes)
        ctx = context(request, vm, vault_id, vault_location, found)
        return Evaluated(vm, ctx, tuple(checks.evaluate(vm, ctx)))

    tasks = [asyncio.ensure_future(evaluate(vm)) for vm in selected]
    try:
        done = await asyncio.gather(*tasks)
    finally:
        for task in tasks:  # the first Azure error ends the run: stop the calls still waiting
            task.cancel()
    items = {key: await _item_states(clients, key) for key in _vaults_named(vault_id, done)}
    return Gathered(request, vault_id, vault_location, tuple(done), items)


def _vaults_named(vault_id: str, done: Sequence[Evaluated]) -> list[str]:
    """The given vault, and the vaults that protect a selected VM elsewhere (their advice depends on the
    item's state there: protected, stopped or soft-deleted)."""
    named = {vault_id.lower()} if vault_id else set()
    for e in done:
        other = e.vm.protection.vault_id if e.vm.protection else None
        if other and any(r.reason is Reason.ALREADY_PROTECTED_BY_OTHER_VAULT for r in e.results):
            named.add(other.lower())
    return sorted(named)


async def _item_states(clients: gw.Clients, vault_id: str) -> dict[str, str]:
    """One paged list of the vault's protected items: VM id -> its protection state (or SoftDeleted)."""
    match = _VAULT_ID.match(vault_id)
    if match is None:
        return {}
    try:
        listed = await inventory.load_vault_items(clients, match["name"], match["rg"])
    except errors.AzbackupError:
        return {}  # another team's vault we may not read: the advice stays general
    states = {}
    for vm, item in listed.items.items():
        props = item.get("properties") or {}
        states[vm] = "SoftDeleted" if props.get("isScheduledForDeferredDelete") else str(
            props.get("protectionState") or "Unknown")
    return states


async def read_vault(clients: gw.Clients, vault_id: str) -> tuple[str, str]:
    """The vault's canonical id and its location (one GET)."""
    match = _VAULT_ID.match(vault_id)
    if match is None:
        raise errors.InvalidSpec(f"{vault_id} is not a Recovery Services vault id")
    try:
        with errors.guard():
            vault = rest(await clients.vaults.vaults.get(match["rg"], match["name"]))
    except errors.NotFound as exc:
        if exc.code == "ResourceGroupNotFound":
            raise
        raise VaultMissing(f"vault {vault_id} does not exist (or the identity cannot read it)",
                           code=exc.code, status=exc.status) from exc
    return str(vault.get("id") or vault_id), str(vault.get("location") or "")


def _tags(raw: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (raw.get("tags") or {}).items()}


# -- rows (pure) ------------------------------------------------------------------------------------


def context(request: Request, vm: f.VMFacts, vault_id: str, vault_location: str | None,
            prefixes: tuple[str, ...] | None) -> f.CheckContext:
    """The check context: the given vault, or a vault in the VM's own region; every disk selected."""
    return f.CheckContext(vault_id=vault_id, vault_region=vault_location or vm.region or "",
                          policy_type=request.policy_type, http_proxy=request.http_proxy,
                          storage_prefixes=prefixes)


@dataclasses.dataclass(frozen=True)
class CheckRow:
    name: str
    result: str  # Passed | Failed | Warning | Unknown, or Skipped when the fact was not asked for
    reason: str
    message: str


@dataclasses.dataclass(frozen=True)
class Row:
    id: str
    name: str
    resource_group: str
    location: str
    os_type: str  # Windows | Linux, from the OS disk
    os: str  # what the guest reports, see os_label
    vault_location: str  # the vault region the checks assumed
    result: Outcome
    reason: str  # the first blocking reason, or the warnings' reasons; "" when every check passed
    message: str
    failed: tuple[str, ...]  # blocking checks that failed (for Unknown: those that could not decide)
    checks: tuple[CheckRow, ...]
    warned: tuple[str, ...] = ()  # checks that warned
    advice: str = ""  # what to do, the cheapest fix first
    vault_item: str | None = None  # the VM's item in the checked vault: Protected, ProtectionStopped, SoftDeleted...

    @property
    def named_checks(self) -> tuple[str, ...]:
        """The checks the row is about: those that block (or could not decide), else those that warned."""
        return self.failed or self.warned


def build_row(vm: f.VMFacts, ctx: f.CheckContext, results: Sequence[checks.CheckResult],
              skipped: Collection[str] = (), vault_items: Mapping[str, Mapping[str, str]] | None = None) -> Row:
    """One VM's verdict, with the operator's rules: a blocking failure blocks, a blocking Unknown waits."""
    considered = [r for r in results if r.name not in skipped]
    failures, unknowns = checks.blocking_failures(considered), checks.blocking_unknowns(considered)
    warnings = [r for r in considered if r.result is checks.Result.WARNING]
    items = vault_items or {}
    here = items.get(ctx.vault_id.lower(), {}).get(vm.id.lower()) if ctx.vault_id else None
    if failures:
        outcome, reason, message, failed = (Outcome.BLOCKED, str(failures[0].reason),
                                            _joined(failures), tuple(r.name for r in failures))
    elif unknowns:
        outcome, reason, message, failed = (Outcome.UNKNOWN, str(unknowns[0].reason),
                                            _joined(unknowns), tuple(r.name for r in unknowns))
    elif warnings:
        outcome, failed = Outcome.WARNINGS, ()
        reason, message = ", ".join(dict.fromkeys(str(r.reason) for r in warnings)), _joined(warnings)
    else:
        outcome, reason, message, failed = Outcome.PROTECTABLE, "", "every check passed", ()
    rows = tuple(
        CheckRow(r.name, _SKIPPED, str(Reason.FACT_UNAVAILABLE), "not read (--skip-protection-status)")
        if r.name in skipped else CheckRow(r.name, str(r.result), str(r.reason), r.message) for r in results)
    return Row(vm.id, vm.name, vm.resource_group, vm.region or "", str(vm.os.type or ""), os_label(vm.os),
               ctx.vault_region, outcome, reason, message, failed, rows,
               warned=tuple(r.name for r in warnings),
               advice=advice(vm, failures, unknowns, warnings, here, items), vault_item=here)


def advice(vm: f.VMFacts, failures: Sequence[checks.CheckResult], unknowns: Sequence[checks.CheckResult],
           warnings: Sequence[checks.CheckResult], here: str | None, items: Mapping[str, Mapping[str, str]]) -> str:
    """What to do about a row, the cheapest fix first. Every check's message ends in what to do; a VM another
    vault holds gets advice by the state of its item there (protected, stopped or soft-deleted)."""
    if failures:
        first = failures[0]
        other = vm.protection.vault_id if vm.protection else None
        if first.reason is Reason.ALREADY_PROTECTED_BY_OTHER_VAULT and other:
            return elsewhere_advice(other, items.get(other.lower(), {}).get(vm.id.lower()))
        return first.message
    if unknowns:
        return f"Not decided yet: {unknowns[0].message} Run preflight again once Azure reports it."
    if here == "SoftDeleted":
        return ("Its backup item in this vault is soft-deleted (protection stopped, data kept for the soft-delete "
                "retention): undelete it here to resume protection; a ProtectedVM for this vault does that.")
    if here == "ProtectionStopped":
        return "This vault holds its item with protection stopped: a ProtectedVM for this vault resumes it."
    if here:
        return f"Already protected by this vault (protectionState {here}): nothing to do."
    if warnings:
        return " ".join(r.message for r in warnings)
    return "Nothing to do: it can be protected as it is."


def elsewhere_advice(vault_id: str, state: str | None) -> str:
    name = vault_id.rstrip("/").rsplit("/", 1)[-1]
    keep = f"azbackup preflight --vault-id {vault_id}"
    if state == "SoftDeleted":
        return (f"Its backup item in vault {name} is soft-deleted: protection there is already stopped, and the vault "
                "keeps the data (and the VM) for the soft-delete retention. Cheapest: protect it in "
                f"{name} again by undeleting the item (check with `{keep}`). To protect it in another vault, undelete "
                f"it in {name}, then stop protection with 'Delete backup data' while soft delete is off, or wait "
                "until the retention ends.")
    if state == "ProtectionStopped":
        return (f"Vault {name} holds it with protection stopped (recovery points kept). Cheapest: resume protection "
                f"in {name} (check with `{keep}`). To protect it in another vault, delete its backup data in {name} "
                "first.")
    return (f"Vault {name} protects it. Keep it there (`{keep}` checks it against that vault), or stop protection "
            f"in {name} and delete its backup data before protecting it in another vault.")


def _joined(results: Sequence[checks.CheckResult]) -> str:
    return " ".join(f"{r.name}: {r.message}" for r in results)


def os_label(os_info: f.OSInfo) -> str:
    """What the guest reports ("Windows Server 2019 Datacenter", "ubuntu 22.04"), else the disk's OS type."""
    if os_info.name and os_info.type is f.OSType.WINDOWS:
        return os_info.name
    if os_info.name:
        return f"{os_info.name} {os_info.version or ''}".strip()
    return str(os_info.type or "")


@dataclasses.dataclass(frozen=True)
class Report:
    subscription_id: str
    vault_id: str
    vault_location: str | None
    policy_type: f.PolicyType
    protection_status: bool
    rows: tuple[Row, ...]

    @property
    def counts(self) -> Counter[Outcome]:
        return Counter(row.result for row in self.rows)


def build_report(gathered: Gathered) -> Report:
    """Rows in a stable order: resource group, then name (both case-insensitive), then id."""
    request = gathered.request
    skipped = () if request.protection_status else ("NotProtectedElsewhere",)
    rows = sorted((build_row(e.vm, e.context, e.results, skipped, gathered.vault_items) for e in gathered.vms),
                  key=lambda r: (r.resource_group.lower(), r.name.lower(), r.id.lower()))
    return Report(request.subscription_id, gathered.vault_id, gathered.vault_location, request.policy_type,
                  request.protection_status, tuple(rows))


def exit_code(report: Report) -> int:
    """0 when every VM can be protected (warnings allowed), 1 when any is Blocked or Unknown."""
    return 1 if any(row.result in (Outcome.BLOCKED, Outcome.UNKNOWN) for row in report.rows) else 0


# -- rendering (pure) -------------------------------------------------------------------------------

# CHECKS: the checks that block a Blocked row (could not decide for Unknown), or that warned.
COLUMNS = ("VM", "RESOURCE GROUP", "LOCATION", "OS", "RESULT", "REASON", "CHECKS")


def summary_line(report: Report) -> str:
    counts = report.counts
    total = len(report.rows)
    parts = ", ".join(f"{counts[o]} {o}" for o in Outcome)
    return f"{total} VM{'' if total == 1 else 's'}: {parts}"


def context_lines(report: Report) -> list[str]:
    lines = [f"Policy type {report.policy_type}."]
    if report.vault_location:
        vault = f"vault {report.vault_id}" if report.vault_id else "a vault"
        lines.insert(0, f"Checked against {vault} in {report.vault_location}.")
        held = [r for r in report.rows if r.vault_item]
        if report.vault_id:
            shown = ", ".join(f"{r.name} ({_item_note(r.vault_item)})" for r in held)
            lines.insert(1, f"This vault already holds {len(held)} of the selected VMs"
                            + (f": {shown}." if held else "."))
    else:
        regions = ", ".join(f"{region} ({n} VM{'' if n == 1 else 's'})" for region, n in vaults_needed(report).items())
        lines.insert(0, "No vault given: SameRegion assumed a vault in each VM's own region"
                        + (f"; vaults needed in {regions}." if regions else "."))
    if not report.protection_status:
        lines.append("NotProtectedElsewhere was not checked (--skip-protection-status).")
    return lines


def _item_note(state: str | None) -> str:
    return "soft-deleted: undelete it to resume" if state == "SoftDeleted" else str(state)


def vaults_needed(report: Report) -> dict[str, int]:
    """Without a vault: the regions where a vault is needed, with the number of VMs each would protect."""
    if report.vault_location:
        return {}
    return dict(sorted(Counter(row.vault_location for row in report.rows if row.vault_location).items()))


def render_table(report: Report) -> str:
    cells = [COLUMNS, *((r.name, r.resource_group, r.location or "-", r.os_type or "-", str(r.result), r.reason or "-",
                         ",".join(r.named_checks) or "-") for r in report.rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    lines = ["   ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join([*lines, "", summary_line(report) + ".", *context_lines(report)]) + "\n"


def document(report: Report) -> dict[str, Any]:
    """The JSON/YAML report: plain strings, lists and numbers only."""
    counts = report.counts
    return {
        "subscriptionId": report.subscription_id,
        "vault": {"id": report.vault_id or None, "location": report.vault_location},
        "policyType": str(report.policy_type),
        "protectionStatus": "read" if report.protection_status else "skipped",
        "vms": [{
            "id": r.id, "name": r.name, "resourceGroup": r.resource_group, "location": r.location or None,
            "osType": r.os_type or None, "os": r.os or None, "vaultLocation": r.vault_location or None,
            "result": str(r.result), "reason": r.reason or None, "message": r.message, "failedChecks": list(r.failed),
            "warnedChecks": list(r.warned), "advice": r.advice, "vaultItem": r.vault_item,
            "checks": [dataclasses.asdict(c) for c in r.checks],
        } for r in report.rows],
        "vaultsNeeded": vaults_needed(report) or None,
        "summary": {
            "total": len(report.rows), "protectable": counts[Outcome.PROTECTABLE],
            "protectableWithWarnings": counts[Outcome.WARNINGS], "blocked": counts[Outcome.BLOCKED],
            "unknown": counts[Outcome.UNKNOWN], "exitCode": exit_code(report),
        },
    }


def render(report: Report, fmt: Format) -> str:
    if fmt is Format.HTML:
        return preflight_html.render(document(report), [summary_line(report) + ".", *context_lines(report)])
    if fmt is Format.JSON:
        return json.dumps(document(report), indent=2) + "\n"
    if fmt is Format.YAML:
        return str(yaml.safe_dump(document(report), sort_keys=False, allow_unicode=True))
    return render_table(report)


# -- command line -----------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    what = parser.add_argument_group("what to check")
    what.add_argument("-s", "--subscription", metavar="ID", help="subscription id (default: the --vault-id's)")
    what.add_argument("-g", "--resource-group", action="append", default=[], dest="resource_groups", metavar="RG",
                      help="only VMs of this resource group; repeat for several")
    what.add_argument("-l", "--location", action="append", default=[], dest="locations", metavar="REGION",
                      help="only VMs in this region; repeat for several")
    what.add_argument("--tag", action="append", default=[], dest="tags", type=TagFilter.parse, metavar="KEY[=VALUE]",
                      help="only VMs with this tag (and value); repeat: every one must hold")
    against = parser.add_argument_group("what to check against")
    against.add_argument("--vault-location", metavar="REGION",
                         help="region of the vault to be (default: each VM's own region)")
    against.add_argument("--vault-id", metavar="ID", help="an existing vault: its location is read with one GET "
                         "(unless --vault-location is given) and VMs it already protects pass")
    against.add_argument("--policy-type", choices=[str(p) for p in f.PolicyType], default=str(f.PolicyType.ENHANCED),
                         help="policy type of the intended policy (default Enhanced)")
    against.add_argument("--http-proxy", metavar="URL", help="the HTTP proxy the VMs will use (satisfies NetworkPath)")
    against.add_argument("--skip-protection-status", action="store_true",
                         help="make no backupStatus call per VM; NotProtectedElsewhere is reported Skipped")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the Azure SDK's warnings on stderr")
    parser.add_argument("-o", "--output", choices=[str(x) for x in Format], default=str(Format.TABLE),
                        help="output format (default table); html is one self-contained page with charts")
    parser.add_argument("file", nargs="?", metavar="FILE", help="write the report to FILE instead of stdout")
    azure = parser.add_argument_group("Azure (as `azbackup run`)")
    azure.add_argument("--arm-endpoint", metavar="URL", help="Azure Resource Manager endpoint (AZBACKUP_ARM_ENDPOINT)")
    azure.add_argument("--authority-host", metavar="URL", help="Entra ID authority host (AZURE_AUTHORITY_HOST)")
    azure.add_argument("--ca-bundle", metavar="PEM", help="extra CA certificates to trust, PEM (AZBACKUP_CA_BUNDLE)")
    azure.add_argument("--tenant-id", metavar="GUID",
                       help=f"with --client-id: a client-secret identity, the secret read from {CLIENT_SECRET}")
    azure.add_argument("--client-id", metavar="GUID", help="see --tenant-id")


def main(args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> int:
    """Run `azbackup preflight`: print the report on stdout, errors on stderr; the exit code of EPILOG."""
    try:
        request, source = request_of(args, env)
        settings = gw.AzureSettings.from_env(env, arm_endpoint=_stripped(args.arm_endpoint),
                                             authority_host=_stripped(args.authority_host), ca_bundle=args.ca_bundle)
        if settings.ca_bundle and not os.path.isfile(settings.ca_bundle):
            raise UsageError(f"CA bundle {settings.ca_bundle} is not a file")
    except UsageError as exc:
        print(f"azbackup preflight: error: {exc}", file=sys.stderr)
        return 2
    if not args.verbose:
        # azure-identity logs every failed token request at length; the one-line reason below says it all.
        logging.getLogger("azure").setLevel(logging.CRITICAL)
    try:
        report = build_report(asyncio.run(run(settings, source, request)))
    except errors.AzbackupError as exc:
        print(f"azbackup preflight: {exc.reason}: {exc.message}", file=sys.stderr)
        return 2
    if not report.rows:
        print("azbackup preflight: no VM matches the selection", file=sys.stderr)
    text = render(report, Format(args.output))
    if args.file:
        with open(args.file, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return exit_code(report)


def _stripped(url: str | None) -> str | None:
    return url.rstrip("/") if url else None


def request_of(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[Request, CredentialSource]:
    """The request and identity the flags describe."""
    vault_id = (args.vault_id or "").strip()
    match = _VAULT_ID.match(vault_id) if vault_id else None
    if vault_id and match is None:
        raise UsageError(f"--vault-id {vault_id!r} is not a Recovery Services vault id "
                         "(/subscriptions/…/resourceGroups/…/providers/Microsoft.RecoveryServices/vaults/…)")
    subscription = args.subscription or (match["sub"] if match else None)
    if not subscription or not _GUID.match(subscription):
        raise UsageError("--subscription must be a subscription id (a GUID)")
    if match and match["sub"].lower() != subscription.lower():
        raise UsageError(f"{Reason.SUBSCRIPTION_MISMATCH}: the vault is in subscription {match['sub']}; "
                         "Azure VM Backup protects VMs of the vault's own subscription only")
    if bool(args.tenant_id) != bool(args.client_id):
        raise UsageError("--tenant-id and --client-id go together")
    source = CredentialSource.default()
    if args.tenant_id:
        if not env.get(CLIENT_SECRET):
            raise UsageError(f"--tenant-id/--client-id need the secret in {CLIENT_SECRET} "
                             "(it is never taken from the command line)")
        source = CredentialSource("secret", f"cli:{args.tenant_id}/{args.client_id}", args.tenant_id,
                                  args.client_id, secret=env[CLIENT_SECRET])
    selection = Selection(tuple(args.resource_groups), tuple(args.locations), tuple(args.tags))
    request = Request(subscription, selection, vault_id=vault_id, vault_location=args.vault_location or None,
                      policy_type=f.PolicyType(args.policy_type), http_proxy=args.http_proxy or None,
                      protection_status=not args.skip_protection_status)
    return request, source
