"""BackupPolicy spec -> AzureIaasVM policy JSON (azure/policy_body), and the drift against what Azure returns
(kinds/policy_diff), checked on Azure's own examples."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from azbackup.api.specs import PolicySpec
from azbackup.azure import policy_body
from azbackup.kinds import policy_diff

EXAMPLES = Path(__file__).resolve().parents[4] / "shared" / "reference" / "arm-examples"

HOURLY = {"vaultRef": {"name": "v"}, "policyType": "Enhanced", "timeZone": "India Standard Time",
          "schedule": {"frequency": "Hourly", "hourly": {"intervalHours": 4, "windowStartTime": "08:00",
                                                         "windowDurationHours": 16}},
          "instantRestoreRetentionDays": 30, "consistency": "OnlyCrashConsistent",
          "retention": {"daily": {"count": 180}, "weekly": {"count": 12, "weekdays": ["Sunday"]},
                        "monthly": {"count": 60, "weekdays": ["Sunday"], "weeks": ["First"]},
                        "yearly": {"count": 10, "months": ["January"], "weekdays": ["Sunday"], "weeks": ["First"]}}}
WEEKLY_STANDARD = {"vaultRef": {"name": "v"}, "policyType": "Standard", "timeZone": "Pacific Standard Time",
                   "schedule": {"frequency": "Weekly", "time": "10:00", "weekdays": ["Monday", "Wednesday",
                                                                                    "Thursday"]},
                   "retention": {"weekly": {"count": 1, "weekdays": ["Monday", "Wednesday", "Thursday"]},
                                 "monthly": {"count": 2, "weekdays": ["Wednesday", "Thursday"],
                                             "weeks": ["First", "Third"]},
                                 "yearly": {"count": 4, "months": ["February", "November"],
                                            "weekdays": ["Monday", "Thursday"], "weeks": ["Fourth"]}}}


def example(name: str) -> dict[str, Any]:
    path = EXAMPLES / name
    if not path.exists():
        pytest.skip(f"{path} not found (the shared reference directory sits beside the repository)")
    body: dict[str, Any] = json.loads(path.read_text())["responses"]["200"]["body"]
    return body


@pytest.mark.parametrize(("spec", "file"), [
    pytest.param(HOURLY, "rsbackup__IaaS_v2_hourly.json", id="enhanced-hourly"),
    pytest.param(WEEKLY_STANDARD, "rsbackup__ProtectionPolicies_CreateOrUpdate_Complex.json", id="standard-weekly"),
])
def test_spec_matches_azures_own_example_with_no_diff(spec: dict[str, Any], file: str) -> None:
    parsed = PolicySpec.parse("p", spec)
    actual = example(file)
    if parsed.policy_type == "Standard":
        # The example omits instant-restore days; Azure applies 5 for weekly Standard policies.
        actual = copy.deepcopy(actual)
        actual["properties"]["instantRpRetentionRangeInDays"] = 5
    assert policy_diff.compare(parsed, actual) == ()


def test_changed_retention_is_a_diff() -> None:
    parsed = PolicySpec.parse("p", {**HOURLY, "retention": {**HOURLY["retention"], "daily": {"count": 90}}})
    diffs = policy_diff.compare(parsed, example("rsbackup__IaaS_v2_hourly.json"))
    assert diffs == ("retention.daily: Azure 180, spec 90",)


def test_weekly_standard_defaults_to_five_instant_restore_days() -> None:
    body = policy_body.desired_body(PolicySpec.parse("p", WEEKLY_STANDARD))
    assert body["properties"]["instantRpRetentionRangeInDays"] == 5


def test_unset_instant_restore_days_are_not_compared() -> None:
    spec = {**HOURLY}
    del spec["instantRestoreRetentionDays"]
    actual = copy.deepcopy(example("rsbackup__IaaS_v2_hourly.json"))
    actual["properties"]["instantRpRetentionRangeInDays"] = 7
    assert policy_diff.compare(PolicySpec.parse("p", spec), actual) == ()
