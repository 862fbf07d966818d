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

from azbackup import checks
from azbackup.azure import errors, lists
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
  Blocked, Unknown), REASON (the first blocking reason, or the warnings' reasons), FAILED CHECKS (for
  Unknown: the blocking checks that could not decide), then the counts. json / yaml: every check's
  name, result, reason and message per VM, and a summary. VMs are ordered by resource group, then name.

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
    return Gathered(request, vault_id, vault_location, tuple(done))


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


def build_row(vm: f.VMFacts, ctx: f.CheckContext, results: Sequence[checks.CheckResult],
              skipped: Collection[str] = ()) -> Row:
    """One VM's verdict, with the operator's rules: a blocking failure blocks, a blocking Unknown waits."""
    considered = [r for r in results if r.name not in skipped]
    failures, unknowns = checks.blocking_failures(considered), checks.blocking_unknowns(considered)
    warnings = [r for r in considered if r.result is checks.Result.WARNING]
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
               ctx.vault_region, outcome, reason, message, failed, rows)


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
    rows = sorted((build_row(e.vm, e.context, e.results, skipped) for e in gathered.vms),
                  key=lambda r: (r.resource_group.lower(), r.name.lower(), r.id.lower()))
    return Report(request.subscription_id, gathered.vault_id, gathered.vault_location, request.policy_type,
                  request.protection_status, tuple(rows))


def exit_code(report: Report) -> int:
    """0 when every VM can be protected (warnings allowed), 1 when any is Blocked or Unknown."""
    return 1 if any(row.result in (Outcome.BLOCKED, Outcome.UNKNOWN) for row in report.rows) else 0


# -- rendering (pure) -------------------------------------------------------------------------------

COLUMNS = ("VM", "RESOURCE GROUP", "LOCATION", "OS", "RESULT", "REASON", "FAILED CHECKS")


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
    else:
        needed = Counter(row.vault_location for row in report.rows if row.vault_location)
        regions = ", ".join(f"{region} ({n} VM{'' if n == 1 else 's'})" for region, n in sorted(needed.items()))
        lines.insert(0, "No vault given: SameRegion assumed a vault in each VM's own region"
                        + (f"; vaults needed in {regions}." if regions else "."))
    if not report.protection_status:
        lines.append("NotProtectedElsewhere was not checked (--skip-protection-status).")
    return lines


def render_table(report: Report) -> str:
    cells = [COLUMNS, *((r.name, r.resource_group, r.location or "-", r.os_type or "-", str(r.result), r.reason or "-",
                         ",".join(r.failed) or "-") for r in report.rows)]
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
            "checks": [dataclasses.asdict(c) for c in r.checks],
        } for r in report.rows],
        "summary": {
            "total": len(report.rows), "protectable": counts[Outcome.PROTECTABLE],
            "protectableWithWarnings": counts[Outcome.WARNINGS], "blocked": counts[Outcome.BLOCKED],
            "unknown": counts[Outcome.UNKNOWN], "exitCode": exit_code(report),
        },
    }


def render(report: Report, fmt: Format) -> str:
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
                        help="output format (default table)")
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
    sys.stdout.write(render(report, Format(args.output)))
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
