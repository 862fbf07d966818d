"""`azbackup preflight`, the pure parts: rows from check results, the report, rendering, exit codes, flags."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
import yaml
from azbackup import checks, cli, preflight
from azbackup.azure.credentials import CredentialSource
from azbackup.checks.facts import OSInfo, PolicyType, Protection
from azbackup.checks.result import CheckResult, Result
from azbackup.preflight import CheckRow, Outcome, Report, Row
from azbackup.reasons import Reason

from tests.unit.checks.builders import REGION, VAULT_ID, ctx, linux, vm

NAMES = [check.name for check in checks.CHECKS]
SUB = "00000000-0000-0000-0000-000000000001"
RSV = f"/subscriptions/{SUB}/resourceGroups/rg-backup/providers/Microsoft.RecoveryServices/vaults/rsv"


def passed(name: str) -> CheckResult:
    return CheckResult(name, Result.PASSED, Reason.CHECK_PASSED, f"{name} ok")


def results(**changed: tuple[Result, Reason]) -> list[CheckResult]:
    """Every check Passed, in report order, except those named (name=(result, reason))."""
    return [CheckResult(n, *changed[n], f"{n} says no") if n in changed else passed(n) for n in NAMES]


FAILED_REGION = (Result.FAILED, Reason.REGION_MISMATCH)
FAILED_AGENT = (Result.FAILED, Reason.VM_AGENT_NOT_READY)
STOPPED = (Result.WARNING, Reason.VM_STOPPED)
AGENT_WARNING = (Result.WARNING, Reason.VM_AGENT_NOT_READY)
UNKNOWN = (Result.UNKNOWN, Reason.FACT_UNAVAILABLE)


@dataclasses.dataclass(frozen=True)
class RowCase:
    reason: str  # what the case shows
    results: list[CheckResult]
    want: tuple[Outcome, str, tuple[str, ...]]  # result, REASON, FAILED CHECKS
    skipped: tuple[str, ...] = ()


ROW_CASES = [
    RowCase("every check passed", results(), (Outcome.PROTECTABLE, "", ())),
    RowCase("one blocking failure blocks", results(SameRegion=FAILED_REGION),
            (Outcome.BLOCKED, "RegionMismatch", ("SameRegion",))),
    RowCase("the first failure in report order names the reason, every failure is listed",
            results(VMAgentReady=FAILED_AGENT, SameRegion=FAILED_REGION),
            (Outcome.BLOCKED, "RegionMismatch", ("SameRegion", "VMAgentReady"))),
    RowCase("a failure outranks warnings", results(SameRegion=FAILED_REGION, ApplicationConsistent=STOPPED),
            (Outcome.BLOCKED, "RegionMismatch", ("SameRegion",))),
    RowCase("a failure outranks an unknown", results(NotProtectedElsewhere=UNKNOWN, SameRegion=FAILED_REGION),
            (Outcome.BLOCKED, "RegionMismatch", ("SameRegion",))),
    RowCase("a blocking unknown leaves the VM unknown", results(NotProtectedElsewhere=UNKNOWN),
            (Outcome.UNKNOWN, "FactUnavailable", ("NotProtectedElsewhere",))),
    RowCase("an unknown of a warning-only check does not matter", results(ApplicationConsistent=UNKNOWN),
            (Outcome.PROTECTABLE, "", ())),
    RowCase("warnings list their reasons once each, in report order",
            results(ApplicationConsistent=STOPPED, VMAgentReady=AGENT_WARNING,
                    NoSharedDisks=(Result.WARNING, Reason.SHARED_DISK)),
            (Outcome.WARNINGS, "VMAgentNotReady, VMStopped, SharedDisk", ())),
    RowCase("a skipped check is not waited for", results(NotProtectedElsewhere=UNKNOWN),
            (Outcome.PROTECTABLE, "", ()), skipped=("NotProtectedElsewhere",)),
    RowCase("a skipped check does not hide another failure",
            results(NotProtectedElsewhere=UNKNOWN, DataDiskLimit=(Result.FAILED, Reason.TOO_MANY_DATA_DISKS)),
            (Outcome.BLOCKED, "TooManyDataDisks", ("DataDiskLimit",)), skipped=("NotProtectedElsewhere",)),
]


@pytest.mark.parametrize("case", ROW_CASES, ids=[c.reason for c in ROW_CASES])
def test_row_result_reason_and_failed_checks(case: RowCase) -> None:
    row = preflight.build_row(vm(), ctx(), case.results, case.skipped)
    assert (row.result, row.reason, row.failed) == case.want
    assert [c.name for c in row.checks] == NAMES


def test_row_carries_every_check_and_marks_skipped_ones() -> None:
    row = preflight.build_row(vm(), ctx(), results(SameRegion=FAILED_REGION, NotProtectedElsewhere=UNKNOWN),
                              skipped=("NotProtectedElsewhere",))
    assert row.checks[:3] == (
        CheckRow("SameRegion", "Failed", "RegionMismatch", "SameRegion says no"),
        CheckRow("NotProtectedElsewhere", "Skipped", "FactUnavailable", "not read (--skip-protection-status)"),
        CheckRow("VMAgentReady", "Passed", "CheckPassed", "VMAgentReady ok"),
    )
    assert row.message == "SameRegion: SameRegion says no"
    assert (row.name, row.resource_group, row.location, row.os_type, row.os, row.vault_location) == (
        "vm-app", "rg-app", REGION, "Windows", "Windows Server 2019 Datacenter", REGION)


@pytest.mark.parametrize(("os_info", "want"), [
    pytest.param(linux(), "ubuntu 22.04", id="linux-name-and-version"),
    pytest.param(linux(version=None), "ubuntu", id="linux-name-only"),
    pytest.param(linux(name=None, version=None), "Linux", id="guest-unknown-gives-the-disk-os-type"),
])
def test_os_label(os_info: OSInfo, want: str) -> None:
    assert preflight.os_label(os_info) == want


@pytest.mark.parametrize(("vault_location", "vm_region", "want"), [
    pytest.param("westeurope", "northeurope", "westeurope", id="given-vault-location-wins"),
    pytest.param(None, "northeurope", "northeurope", id="no-vault-assumes-the-vms-region"),
    pytest.param(None, None, "", id="no-vault-no-region-leaves-it-empty"),
])
def test_context_vault_region(vault_location: str | None, vm_region: str | None, want: str) -> None:
    request = preflight.Request(SUB, policy_type=PolicyType.STANDARD, http_proxy="http://proxy:3128")
    got = preflight.context(request, vm(region=vm_region), VAULT_ID, vault_location, ("20.60.0.0/16",))
    assert (got.vault_region, got.vault_id, got.policy_type, got.http_proxy, got.storage_prefixes) == (
        want, VAULT_ID, PolicyType.STANDARD, "http://proxy:3128", ("20.60.0.0/16",))


# -- the report ---------------------------------------------------------------------------------------


def row(name: str, rg: str, outcome: Outcome, reason: str = "", failed: tuple[str, ...] = (),
        location: str = "westeurope", warned: tuple[str, ...] = (), vault_item: str | None = None) -> Row:
    return Row(f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}",
               name, rg, location, "Linux", "ubuntu 22.04", location, outcome, reason, f"{name} message", failed,
               (CheckRow("SameRegion", "Passed", "CheckPassed", "same region"),), warned=warned,
               vault_item=vault_item)


def report(*rows: Row, vault_location: str | None = "westeurope", protection_status: bool = True) -> Report:
    return Report(SUB, "", vault_location, PolicyType.ENHANCED, protection_status, rows)


def test_report_orders_by_resource_group_then_name() -> None:
    def evaluated(name: str, rg: str) -> preflight.Evaluated:
        return preflight.Evaluated(vm(name=name, resource_group=rg, id=f"/x/{rg}/{name}"), ctx(), tuple(results()))

    gathered = preflight.Gathered(preflight.Request(SUB), "", None, (
        evaluated("vm-b", "rg-web"), evaluated("VM-a", "rg-web"), evaluated("vm-z", "RG-apps"),
        evaluated("vm-c", "rg-data")))
    got = preflight.build_report(gathered)
    assert [(r.resource_group, r.name) for r in got.rows] == [
        ("RG-apps", "vm-z"), ("rg-data", "vm-c"), ("rg-web", "VM-a"), ("rg-web", "vm-b")]


@pytest.mark.parametrize(("outcomes", "want"), [
    pytest.param([], 0, id="no-vm-selected"),
    pytest.param([Outcome.PROTECTABLE, Outcome.WARNINGS], 0, id="warnings-allowed"),
    pytest.param([Outcome.PROTECTABLE, Outcome.BLOCKED], 1, id="one-blocked"),
    pytest.param([Outcome.PROTECTABLE, Outcome.UNKNOWN], 1, id="one-unknown"),
])
def test_exit_code(outcomes: list[Outcome], want: int) -> None:
    got = report(*(row(f"vm-{i}", "rg", o) for i, o in enumerate(outcomes)))
    assert preflight.exit_code(got) == want


SAMPLE = report(
    row("vm-web-01", "rg-web", Outcome.PROTECTABLE),
    row("vm-stopped", "rg-apps", Outcome.WARNINGS, "VMAgentNotReporting, VMStopped",
        warned=("VMAgentReady", "ApplicationConsistent")),
    row("vm-neu-app", "rg-neu", Outcome.BLOCKED, "RegionMismatch", ("SameRegion",), location="northeurope"),
)


def test_table() -> None:
    # CHECKS names the checks that block a row, or those that warned on a row with warnings.
    assert preflight.render(SAMPLE, preflight.Format.TABLE) == (
        "VM           RESOURCE GROUP   LOCATION      OS      RESULT                      REASON"
        "                           CHECKS\n"
        "vm-web-01    rg-web           westeurope    Linux   Protectable                 -"
        "                                -\n"
        "vm-stopped   rg-apps          westeurope    Linux   Protectable with warnings   VMAgentNotReporting, VMStopped"
        "   VMAgentReady,ApplicationConsistent\n"
        "vm-neu-app   rg-neu           northeurope   Linux   Blocked                     RegionMismatch"
        "                   SameRegion\n"
        "\n"
        "3 VMs: 1 Protectable, 1 Protectable with warnings, 1 Blocked, 0 Unknown.\n"
        "Checked against a vault in westeurope.\n"
        "Policy type Enhanced.\n")


@pytest.mark.parametrize(("got", "want"), [
    pytest.param(report(vault_location="westeurope"), ["Checked against a vault in westeurope."], id="location"),
    pytest.param(dataclasses.replace(report(), vault_id=RSV),
                 [f"Checked against vault {RSV} in westeurope.", "This vault already holds 0 of the selected VMs."],
                 id="vault-id"),
    pytest.param(dataclasses.replace(report(row("erp", "rg", Outcome.PROTECTABLE, vault_item="Protected"),
                                            row("old", "rg", Outcome.PROTECTABLE, vault_item="SoftDeleted"),
                                            row("new", "rg", Outcome.PROTECTABLE)), vault_id=RSV),
                 [f"Checked against vault {RSV} in westeurope.", "This vault already holds 2 of the selected VMs: "
                  "erp (Protected), old (soft-deleted: undelete it to resume)."],
                 id="vault-id-says-which-vms-it-already-holds"),
    pytest.param(report(row("a", "rg", Outcome.PROTECTABLE), row("b", "rg", Outcome.PROTECTABLE),
                        row("c", "rg", Outcome.BLOCKED, location="northeurope"), vault_location=None),
                 ["No vault given: SameRegion assumed a vault in each VM's own region; vaults needed in "
                  "northeurope (1 VM), westeurope (2 VMs)."], id="no-vault-names-the-regions-needed"),
    pytest.param(report(vault_location=None, protection_status=False),
                 ["No vault given: SameRegion assumed a vault in each VM's own region.",
                  "NotProtectedElsewhere was not checked (--skip-protection-status)."], id="skipped-status"),
])
def test_context_lines(got: Report, want: list[str]) -> None:
    assert [line for line in preflight.context_lines(got) if not line.startswith("Policy type")] == want


WANT_DOCUMENT = {
    "subscriptionId": SUB,
    "vault": {"id": None, "location": "westeurope"},
    "policyType": "Enhanced",
    "protectionStatus": "read",
    "vms": [{
        "id": f"/subscriptions/{SUB}/resourceGroups/rg-neu/providers/Microsoft.Compute/virtualMachines/vm-neu-app",
        "name": "vm-neu-app", "resourceGroup": "rg-neu", "location": "northeurope", "osType": "Linux",
        "os": "ubuntu 22.04", "vaultLocation": "northeurope", "result": "Blocked", "reason": "RegionMismatch",
        "message": "vm-neu-app message", "failedChecks": ["SameRegion"], "warnedChecks": [], "advice": "",
        "vaultItem": None,
        "checks": [{"name": "SameRegion", "result": "Passed", "reason": "CheckPassed", "message": "same region"}],
    }],
    "vaultsNeeded": None,
    "summary": {"total": 1, "protectable": 0, "protectableWithWarnings": 0, "blocked": 1, "unknown": 0,
                "exitCode": 1},
}


@pytest.mark.parametrize(("fmt", "load"), [
    pytest.param(preflight.Format.JSON, json.loads, id="json"),
    pytest.param(preflight.Format.YAML, yaml.safe_load, id="yaml"),
])
def test_document_formats(fmt: preflight.Format, load: Callable[[str], Any]) -> None:
    got = report(row("vm-neu-app", "rg-neu", Outcome.BLOCKED, "RegionMismatch", ("SameRegion",),
                     location="northeurope"))
    assert load(preflight.render(got, fmt)) == WANT_DOCUMENT


OTHER = f"/subscriptions/{SUB}/resourceGroups/rg-legacy/providers/Microsoft.RecoveryServices/vaults/rsv-legacy"


@pytest.mark.parametrize(("state", "want"), [
    pytest.param("Protected", "Keep it there", id="protected-elsewhere-keep-it-or-stop-it"),
    pytest.param("ProtectionStopped", "resume protection in rsv-legacy", id="stopped-elsewhere-resume-it"),
    pytest.param("SoftDeleted", "protection there is already stopped", id="soft-deleted-elsewhere-is-not-told-to-stop"),
    pytest.param(None, "Keep it there", id="unreadable-vault-gets-general-advice"),
])
def test_advice_for_a_vm_another_vault_holds(state: str | None, want: str) -> None:
    subject = vm(protection=Protection("Protected", OTHER))
    items = {OTHER.lower(): {subject.id.lower(): state}} if state else {}
    got = preflight.build_row(subject, ctx(), checks.evaluate(subject, ctx()), (), items)
    assert (got.result, got.reason) == (Outcome.BLOCKED, "AlreadyProtectedByOtherVault")
    assert want in got.advice
    assert f"--vault-id {OTHER}" in got.advice
    if state == "SoftDeleted":
        assert "Stop protection in" not in got.advice


@pytest.mark.parametrize(("state", "want"), [
    pytest.param("Protected", "Already protected by this vault", id="already-in-this-vault"),
    pytest.param("SoftDeleted", "undelete it here", id="soft-deleted-in-this-vault"),
])
def test_advice_for_a_vm_the_checked_vault_holds(state: str, want: str) -> None:
    subject = vm(protection=Protection("Protected", VAULT_ID))
    got = preflight.build_row(subject, ctx(), checks.evaluate(subject, ctx()), (),
                              {VAULT_ID.lower(): {subject.id.lower(): state}})
    assert (got.result, got.vault_item) == (Outcome.PROTECTABLE, state)
    assert want in got.advice


def test_a_warning_row_names_its_warned_checks() -> None:
    got = preflight.build_row(vm(), ctx(), results(ApplicationConsistent=STOPPED))
    assert (got.result, got.failed, got.warned, got.named_checks) == (
        Outcome.WARNINGS, (), ("ApplicationConsistent",), ("ApplicationConsistent",))


# -- selection ----------------------------------------------------------------------------------------

TAGS = {"Backup": "daily", "env": "prod"}


@pytest.mark.parametrize(("text", "want"), [
    pytest.param("backup=daily", True, id="name-is-case-insensitive"),
    pytest.param("Backup=Daily", False, id="value-is-case-sensitive"),
    pytest.param("env", True, id="key-alone-means-exists"),
    pytest.param("owner", False, id="absent-key"),
    pytest.param("env=", False, id="empty-value-is-a-value"),
    pytest.param("note=a=b", False, id="value-may-hold-equals"),
])
def test_tag_filter(text: str, want: bool) -> None:
    assert preflight.TagFilter.parse(text).holds(TAGS) is want


def test_tag_filter_parses_value_with_equals() -> None:
    assert preflight.TagFilter.parse("note=a=b") == preflight.TagFilter("note", "a=b")


@pytest.mark.parametrize(("selection", "want"), [
    pytest.param(preflight.Selection(), True, id="no-filter-selects-all"),
    pytest.param(preflight.Selection(resource_groups=("RG-APP",)), True, id="resource-group-case-insensitive"),
    pytest.param(preflight.Selection(resource_groups=("rg-web", "rg-app")), True, id="any-of-several-groups"),
    pytest.param(preflight.Selection(resource_groups=("rg-web",)), False, id="other-resource-group"),
    pytest.param(preflight.Selection(locations=("West Europe",)), True, id="location-normalized"),
    pytest.param(preflight.Selection(locations=("northeurope",)), False, id="other-location"),
    pytest.param(preflight.Selection(tags=(preflight.TagFilter("env", "prod"), preflight.TagFilter("backup"))),
                 True, id="every-tag-holds"),
    pytest.param(preflight.Selection(tags=(preflight.TagFilter("env", "prod"), preflight.TagFilter("owner"))),
                 False, id="one-tag-fails"),
])
def test_selection(selection: preflight.Selection, want: bool) -> None:
    assert selection.matches(vm(), TAGS) is want


# -- flags --------------------------------------------------------------------------------------------

ENV = {"AZURE_CLIENT_SECRET": "s3cret"}


def request(*argv: str, env: Mapping[str, str] = ENV) -> tuple[preflight.Request, CredentialSource]:
    args = cli.build_parser().parse_args(["preflight", *argv])
    return preflight.request_of(args, env)


def test_flags_make_the_request() -> None:
    got, source = request("--subscription", SUB, "-g", "rg-web", "-g", "rg-apps", "-l", "westeurope",
                          "--tag", "backup=daily", "--vault-location", "westeurope", "--policy-type", "Standard",
                          "--skip-protection-status")
    assert got == preflight.Request(
        SUB, preflight.Selection(("rg-web", "rg-apps"), ("westeurope",), (preflight.TagFilter("backup", "daily"),)),
        vault_location="westeurope", policy_type=PolicyType.STANDARD, protection_status=False)
    assert source == CredentialSource.default()


def test_vault_id_gives_the_subscription() -> None:
    got, _ = request("--vault-id", RSV)
    assert (got.subscription_id, got.vault_id, got.vault_location) == (SUB, RSV, None)


def test_tenant_and_client_take_the_secret_from_the_environment_only() -> None:
    _, source = request("-s", SUB, "--tenant-id", "t", "--client-id", "c")
    assert source == CredentialSource("secret", "cli:t/c", "t", "c", secret="s3cret")
    assert "s3cret" not in repr(source)
    with pytest.raises(SystemExit):
        request("-s", SUB, "--client-secret", "s3cret")


@pytest.mark.parametrize(("argv", "env", "message"), [
    pytest.param([], ENV, "--subscription must be a subscription id", id="no-subscription"),
    pytest.param(["-s", "prod"], ENV, "--subscription must be a subscription id", id="not-a-guid"),
    pytest.param(["--vault-id", "/subscriptions/x/vaults/v"], ENV, "is not a Recovery Services vault id",
                 id="bad-vault-id"),
    pytest.param(["-s", "00000000-0000-0000-0000-000000000002", "--vault-id", RSV], ENV, "SubscriptionMismatch",
                 id="vault-in-another-subscription"),
    pytest.param(["-s", SUB, "--tenant-id", "t"], ENV, "go together", id="tenant-without-client"),
    pytest.param(["-s", SUB, "--tenant-id", "t", "--client-id", "c"], {}, "AZURE_CLIENT_SECRET",
                 id="client-without-secret"),
])
def test_usage_errors(argv: list[str], env: Mapping[str, str], message: str) -> None:
    with pytest.raises(preflight.UsageError, match=message):
        request(*argv, env=env)


def test_usage_error_exits_2_without_calling_azure(capsys: pytest.CaptureFixture[str]) -> None:
    args = cli.build_parser().parse_args(["preflight", "-s", "prod"])
    assert preflight.main(args, {}) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", "azbackup preflight: error: --subscription must be a subscription id (a GUID)\n")


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["preflight", "--help"])
    text = capsys.readouterr().out
    assert "exit codes:" in text
    assert all(f"  {code}  " in text for code in (0, 1, 2))


# -- the html page ------------------------------------------------------------------------------------


def test_html_page_carries_the_counts_charts_and_rows_and_escapes_text() -> None:
    evil = row("vm-<b>x</b>", "rg", Outcome.BLOCKED, "RegionMismatch", ("SameRegion",), location="northeurope")
    page = preflight.render(report(*SAMPLE.rows, evil, vault_location=None), preflight.Format.HTML)
    assert '<span class="n" data-count="total">4</span>' in page
    assert '<span class="n" data-count="Blocked">2</span>' in page
    assert '<g class="bar" data-label="RegionMismatch" data-value="2">' in page
    assert '<g class="bar" data-label="VMAgentNotReporting" data-value="1">' in page
    assert '<li data-region="northeurope" data-vms="2">' in page
    assert "vm-&lt;b&gt;x&lt;/b&gt;" in page
    assert "<b>x</b>" not in page.split('<script id="report-data"')[0]
    assert "</b>" not in page.split('<script id="report-data"')[1].split("</script>")[0]
    assert page.count('<tr data-result=') == 4
