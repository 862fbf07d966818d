"""`azbackup preflight -o html`: the report as one self-contained page a person can hand on.

Pure: the JSON document of the report in, one HTML string out. The page needs no network: its CSS,
its script and its charts (SVG) are inline. The counts, the charts and the table are rendered here, so
the page reads the same without script; the script only sorts, filters and counts what is shown.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

# Result -> (label, colour); the order of the summary and of the chart.
RESULTS = (
    ("Protectable", "#2e7d32"),
    ("Protectable with warnings", "#f9a825"),
    ("Blocked", "#c62828"),
    ("Unknown", "#6d6d6d"),
)
_SUMMARY_KEYS = {"Protectable": "protectable", "Protectable with warnings": "protectableWithWarnings",
                 "Blocked": "blocked", "Unknown": "unknown"}
_CHECK_COLOUR = {"Passed": "#2e7d32", "Warning": "#f9a825", "Failed": "#c62828", "Unknown": "#6d6d6d",
                 "Skipped": "#6d6d6d"}

CSS = """
:root { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b; }
body { margin: 0 auto; max-width: 1280px; padding: 24px; background: #fafafa; }
h1 { font-size: 1.5rem; margin: 0 0 4px; } h2 { font-size: 1.1rem; margin: 24px 0 8px; }
.context { color: #444; margin: 2px 0; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 16px 0; }
.card { background: #fff; border: 1px solid #ddd; border-left: 6px solid var(--c); border-radius: 6px;
        padding: 10px 16px; min-width: 150px; }
.card .n { font-size: 1.8rem; font-weight: 600; display: block; } .card .l { color: #555; }
.charts { display: flex; gap: 24px; flex-wrap: wrap; }
.chart { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 12px; flex: 1 1 420px; }
.chart svg text { font-size: 12px; fill: #1b1b1b; }
.regions li { margin: 2px 0; }
.controls { display: flex; gap: 12px; align-items: center; margin: 8px 0; flex-wrap: wrap; }
.controls input, .controls select { font: inherit; padding: 4px 8px; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #ddd; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #f0f0f0; cursor: pointer; user-select: none; white-space: nowrap; }
th[aria-sort="ascending"]::after { content: " \\25B2"; } th[aria-sort="descending"]::after { content: " \\25BC"; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; background: var(--c);
         font-size: 0.85rem; white-space: nowrap; }
.badge.warn { color: #1b1b1b; }
details summary { cursor: pointer; color: #0b57d0; }
.advice { margin: 6px 0; padding: 6px 8px; background: #f3f7ff; border-left: 3px solid #0b57d0; }
.checks { border: none; margin-top: 4px; } .checks td { border: none; padding: 2px 6px; font-size: 0.9rem; }
#vms td:first-child, #vms td:nth-child(2) { white-space: nowrap; } #vms td:nth-child(4) { max-width: 14em; }
#vms td:last-child { min-width: 30em; }
footer { color: #666; margin-top: 16px; font-size: 0.85rem; }
"""

SCRIPT = """
(function () {
  "use strict";
  var table = document.getElementById("vms");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var filter = document.getElementById("filter");
  var result = document.getElementById("result-filter");
  var shown = document.getElementById("shown");
  function apply() {
    var text = filter.value.trim().toLowerCase();
    var wanted = result.value;
    var n = 0;
    rows.forEach(function (row) {
      var ok = (!text || row.textContent.toLowerCase().indexOf(text) >= 0) &&
               (!wanted || row.getAttribute("data-result") === wanted);
      row.hidden = !ok;
      if (ok) { n += 1; }
    });
    shown.textContent = String(n);
  }
  function sortBy(th, index) {
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) { cell.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    rows.sort(function (a, b) {
      var x = a.cells[index].getAttribute("data-key") || a.cells[index].textContent;
      var y = b.cells[index].getAttribute("data-key") || b.cells[index].textContent;
      return (ascending ? 1 : -1) * x.localeCompare(y, undefined, {numeric: true, sensitivity: "base"});
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
    th.addEventListener("click", function () { sortBy(th, index); });
  });
  filter.addEventListener("input", apply);
  result.addEventListener("change", apply);
  apply();
})();
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _colour(result: str) -> str:
    return dict(RESULTS).get(result, "#6d6d6d")


def reason_counts(vms: Sequence[Mapping[str, Any]]) -> Counter[str]:
    """VMs by reason: a Blocked or Unknown VM counts under its reason, a VM with warnings under each of its
    warnings' reasons."""
    counts: Counter[str] = Counter()
    for vm in vms:
        if vm.get("reason"):
            for reason in str(vm["reason"]).split(", "):
                counts[reason] += 1
    return counts


def bar_chart(title: str, bars: Sequence[tuple[str, int, str]], chart_id: str) -> str:
    """A horizontal bar chart as inline SVG: one bar per (label, value, colour)."""
    label_width, bar_width, row_height = 230, 360, 24
    most = max((value for _, value, _ in bars), default=0) or 1
    height = row_height * len(bars) + 8
    parts = [f'<svg id="{chart_id}" role="img" aria-label="{_e(title)}" width="{label_width + bar_width + 60}" '
             f'height="{height}" viewBox="0 0 {label_width + bar_width + 60} {height}">', f"<title>{_e(title)}</title>"]
    for i, (label, value, colour) in enumerate(bars):
        y = i * row_height + 4
        width = round(bar_width * value / most) if value else 0
        parts.append(f'<g class="bar" data-label="{_e(label)}" data-value="{value}">'
                     f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end">{_e(label)}</text>'
                     f'<rect x="{label_width}" y="{y + 2}" width="{width}" height="{row_height - 8}" rx="3" '
                     f'fill="{colour}"></rect>'
                     f'<text x="{label_width + width + 6}" y="{y + 15}">{value}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _check_rows(checks: Sequence[Mapping[str, Any]]) -> str:
    return "".join(
        f'<tr><td><span class="badge{" warn" if c["result"] == "Warning" else ""}" '
        f'style="--c:{_CHECK_COLOUR.get(c["result"], "#6d6d6d")}">{_e(c["result"])}</span></td>'
        f'<td>{_e(c["name"])}</td><td>{_e(c["reason"])}</td><td>{_e(c["message"])}</td></tr>' for c in checks)


def _vm_row(vm: Mapping[str, Any]) -> str:
    named = vm.get("failedChecks") or vm.get("warnedChecks") or []
    result = str(vm["result"])
    badge = (f'<span class="badge{" warn" if result == "Protectable with warnings" else ""}" '
             f'style="--c:{_colour(result)}">{_e(result)}</span>')
    order = [r for r, _ in RESULTS].index(result) if result in dict(RESULTS) else 9
    details = (f'<details><summary>{len(vm["checks"])} checks, what to do</summary>'
               f'<div class="advice">{_e(vm.get("advice") or vm.get("message") or "")}</div>'
               f'<table class="checks">{_check_rows(vm["checks"])}</table></details>')
    return (f'<tr data-result="{_e(result)}" data-vm="{_e(vm["name"])}">'
            f'<td>{_e(vm["name"])}</td><td>{_e(vm["resourceGroup"])}</td><td>{_e(vm.get("location") or "-")}</td>'
            f'<td>{_e(vm.get("os") or vm.get("osType") or "-")}</td><td data-key="{order}">{badge}</td>'
            f'<td>{_e(vm.get("reason") or "-")}</td><td>{_e(", ".join(named) or "-")}</td><td>{details}</td></tr>')


def render(doc: Mapping[str, Any], context: Sequence[str]) -> str:
    """The page for a report document (`preflight.document`) and its context lines."""
    vms: Sequence[Mapping[str, Any]] = doc["vms"]
    summary = doc["summary"]
    cards = "".join(
        f'<div class="card" style="--c:{colour}"><span class="n" data-count="{_e(result)}">'
        f'{summary[_SUMMARY_KEYS[result]]}</span><span class="l">{_e(result)}</span></div>'
        for result, colour in RESULTS)
    total = (f'<div class="card" style="--c:#0b57d0"><span class="n" data-count="total">{summary["total"]}</span>'
             '<span class="l">VMs checked</span></div>')
    by_result = bar_chart("VMs by result", [(r, summary[_SUMMARY_KEYS[r]], c) for r, c in RESULTS], "chart-results")
    reasons = sorted(reason_counts(vms).items(), key=lambda rn: (-rn[1], rn[0]))
    blocked = {str(vm["reason"]) for vm in vms if vm["result"] in ("Blocked", "Unknown") and vm.get("reason")}
    by_reason = bar_chart("VMs by reason", [(r, n, "#c62828" if r in blocked else "#f9a825") for r, n in reasons],
                          "chart-reasons") if reasons else "<p>Every check passed on every VM.</p>"
    needed = doc.get("vaultsNeeded") or {}
    if needed:
        regions = ("<h2>Regions where vaults are needed</h2><ul class=\"regions\" id=\"regions\">" + "".join(
            f'<li data-region="{_e(region)}" data-vms="{n}"><b>{_e(region)}</b>: a vault for {n} '
            f'VM{"" if n == 1 else "s"}</li>' for region, n in needed.items()) + "</ul>")
    else:
        vault = doc.get("vault") or {}
        regions = (f'<h2>Vault</h2><p id="regions">Checked against {_e(vault.get("id") or "a vault")} in '
                   f'{_e(vault.get("location") or "-")}.</p>')
    options = "".join(f'<option value="{_e(r)}">{_e(r)}</option>' for r, _ in RESULTS)
    data = json.dumps(doc, sort_keys=True).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Azure VM Backup preflight: subscription {_e(doc["subscriptionId"])}</title>
<style>{CSS}</style>
</head>
<body>
<h1>Azure VM Backup preflight</h1>
<p class="context">Subscription {_e(doc["subscriptionId"])}; policy type {_e(doc["policyType"])}.</p>
{"".join(f'<p class="context">{_e(line)}</p>' for line in context)}
<div class="cards">{total}{cards}</div>
<div class="charts"><div class="chart"><h2>By result</h2>{by_result}</div>
<div class="chart"><h2>By reason</h2>{by_reason}</div></div>
{regions}
<h2>Virtual machines</h2>
<div class="controls">
<label>Filter <input id="filter" type="search" placeholder="name, group, reason, check..."></label>
<label>Result <select id="result-filter"><option value="">all</option>{options}</select></label>
<span><span id="shown">{len(vms)}</span> of {len(vms)} shown</span>
</div>
<table id="vms">
<thead><tr><th>VM</th><th>Resource group</th><th>Location</th><th>OS</th><th>Result</th><th>Reason</th>
<th>Checks</th><th>Details</th></tr></thead>
<tbody>
{"".join(_vm_row(vm) for vm in vms)}
</tbody>
</table>
<footer>Read-only report of <code>azbackup preflight</code>: nothing was created in Azure. Exit code
{summary["exitCode"]}.</footer>
<script id="report-data" type="application/json">{data}</script>
<script>{SCRIPT}</script>
</body>
</html>
"""
