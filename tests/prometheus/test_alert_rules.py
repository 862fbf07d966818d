"""The chart's alert rules (files/alerts.yaml) under Prometheus's own tools: `promtool check rules`, then
`promtool test rules` with a fire and a don't-fire case for every rule; the chart's PrometheusRule is the
same rules; every rule reads only exported series and links a runbook section of the README."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.prometheus import tools
from tests.unit import test_chart_static as chart

README = tools.REPO / "README.md"
RULES: dict[str, Any] = yaml.safe_load(tools.RULES.read_text())
ALERTS = [rule for group in RULES["groups"] for rule in group["rules"]]
NAMES = [rule["alert"] for rule in ALERTS]
# What the rules may name besides the operator's own series: Prometheus's per-target health.
PROMETHEUS_SERIES = {"up"}


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(tools.bin_dir() / "promtool"), *args], cwd=cwd, text=True, capture_output=True,
                          timeout=300, check=False)


def test_promtool_checks_the_rules_file() -> None:
    out = promtool("check", "rules", str(tools.RULES), cwd=tools.REPO)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in out.stdout


def test_every_rule_passes_its_promtool_unit_tests() -> None:
    out = promtool("test", "rules", tools.RULE_TESTS.name, cwd=tools.RULE_TESTS.parent)
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_rule_has_a_firing_and_a_quiet_case() -> None:
    cases = yaml.safe_load(tools.RULE_TESTS.read_text())["tests"]
    fired = {t["alertname"] for case in cases for t in case["alert_rule_test"] if t.get("exp_alerts")}
    quiet = {t["alertname"] for case in cases for t in case["alert_rule_test"] if not t.get("exp_alerts")}
    assert sorted(set(NAMES) - fired) == []
    assert sorted(set(NAMES) - quiet) == []


@pytest.mark.parametrize("rule", ALERTS, ids=NAMES)
def test_rule_reads_only_series_the_operator_exports(rule: dict[str, Any]) -> None:
    names = chart.metric_names(rule["expr"]) - PROMETHEUS_SERIES
    assert names, rule["expr"]
    assert [n for n in names if chart.exported_name(n) is None] == []


def readme_anchors() -> set[str]:
    """GitHub's anchors of the README's headings under "## Alerts"."""
    section = README.read_text().split("\n## Alerts\n", 1)[1].split("\n## ", 1)[0]
    return {re.sub(r"[^a-z0-9 _-]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"^#### (.+)$", section, re.MULTILINE)}


@pytest.mark.parametrize("rule", ALERTS, ids=NAMES)
def test_rule_links_its_runbook_in_the_readme(rule: dict[str, Any]) -> None:
    assert rule["annotations"]["runbook_url"] == f"README.md#{rule['alert'].lower()}"
    assert rule["alert"].lower() in readme_anchors()
    assert rule["labels"]["severity"] in ("warning", "critical")
    assert {"summary", "description"} <= set(rule["annotations"])


PROMETHEUS_RULE_API = ["--api-versions", "monitoring.coreos.com/v1/PrometheusRule"]


def render(values: dict[str, Any], *extra: str) -> list[dict[str, Any]]:
    args = ["template", chart.RELEASE, str(chart.CHART), "--namespace", chart.NAMESPACE,
            "--kube-version", chart.kube_version(), *extra]
    out = chart.run_helm(*args, values=values)
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc and doc["kind"] == "PrometheusRule"]


def test_chart_prometheus_rule_carries_exactly_the_rules_file() -> None:
    [rule] = render({}, *PROMETHEUS_RULE_API)
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["name"] == chart.FULLNAME
    assert rule["spec"] == RULES


@pytest.mark.parametrize(("values", "extra", "rendered"), [
    pytest.param({}, [], False, id="auto-without-the-api-renders-nothing"),
    pytest.param({}, PROMETHEUS_RULE_API, True, id="auto-with-the-api-renders-it"),
    pytest.param({"enabled": True}, [], True, id="true-renders-it-anyway"),
    pytest.param({"enabled": False}, PROMETHEUS_RULE_API, False, id="false-renders-nothing"),
])
def test_chart_prometheus_rule_follows_the_cluster_or_the_switch(values: dict[str, Any], extra: list[str],
                                                                 rendered: bool) -> None:
    assert bool(render({"metrics": {"prometheusRule": values}}, *extra)) is rendered


def test_chart_prometheus_rule_takes_labels_and_a_runbook_base_url() -> None:
    base = "https://git.example.com/azbackup/blob/v0.1.0/"
    [rule] = render({"metrics": {"prometheusRule": {"enabled": True, "labels": {"release": "prom"},
                                                    "runbookBaseURL": base}}})
    assert rule["metadata"]["labels"]["release"] == "prom"
    urls = [r["annotations"]["runbook_url"] for g in rule["spec"]["groups"] for r in g["rules"]]
    assert urls == [base + r["annotations"]["runbook_url"] for r in ALERTS]
    # everything else unchanged
    for got, want in zip((r for g in rule["spec"]["groups"] for r in g["rules"]), ALERTS, strict=True):
        assert {**got, "annotations": {}} == {**want, "annotations": {}}


def test_service_monitor_honours_the_operators_namespace_label() -> None:
    monitor = chart.one(chart.render({"metrics": {"serviceMonitor": {"enabled": True}}}), "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["honorLabels"] is True
