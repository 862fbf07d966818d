"""`azbackup preflight -o html FILE` in a real headless browser (Debian's chromium, driven by playwright-core):
the page renders without console errors and without network, its counts equal the JSON report's, its
table sorts and filters, and it leaves a screenshot for the docs.

The screenshot goes to the test's temporary directory, or to $AZBACKUP_SCREENSHOT_DIR when set
(`AZBACKUP_SCREENSHOT_DIR=docs pytest tests/integration/test_preflight_html.py` refreshes the README's).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_preflight import SUB, preflight

ROOT = Path(__file__).resolve().parents[2]
BROWSER = ROOT / "tests" / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def node_modules() -> Path:
    """playwright-core from tests/browser/package.json (installed once, without a bundled browser)."""
    if not (BROWSER / "node_modules" / "playwright-core").is_dir():
        subprocess.run(["npm", "install", "--prefix", str(BROWSER), "--no-audit", "--no-fund"], check=True,
                       capture_output=True, timeout=300,
                       env={**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"})
    return BROWSER / "node_modules"


@pytest.fixture
def browser_ready() -> None:
    if not Path(CHROMIUM).exists() or shutil.which("node") is None:
        pytest.skip(f"needs Debian's chromium ({CHROMIUM}) and node; make test installs them")
    node_modules()


def open_in_browser(page: Path, screenshot: Path, profile: Path) -> dict[str, Any]:
    run = subprocess.run(["node", str(BROWSER / "render.mjs"), str(page), str(screenshot), str(profile)],
                         capture_output=True, text=True, timeout=180, check=False,
                         env={**os.environ, "CHROMIUM": CHROMIUM})
    assert run.returncode == 0, run.stderr
    return dict(json.loads(run.stdout))


def test_the_html_report_renders_and_agrees_with_the_json_report(emulator: Any, tmp_path: Path,
                                                                  browser_ready: None) -> None:
    page = tmp_path / "preflight.html"
    run = preflight(emulator, "--subscription", SUB, "-o", "html", str(page))
    assert (run.returncode, run.stdout, run.stderr) == (1, "", "")
    doc = json.loads(preflight(emulator, "--subscription", SUB, "-o", "json").stdout)
    text = page.read_text()
    # Self-contained: no script, style, image or link that loads from elsewhere (messages may name URLs).
    assert re.findall(r"""(?:src|href)\s*=\s*["']?[a-z]+:|url\(|@import|<link\b""", text, re.IGNORECASE) == []

    shots = Path(os.environ.get("AZBACKUP_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    screenshot = shots / "preflight-report.png"
    seen = open_in_browser(page, screenshot, tmp_path / "chromium-profile")

    assert seen["errors"] == []
    assert seen["requests"] == []
    summary = doc["summary"]
    loaded = seen["loaded"]
    assert loaded["counts"] == {"total": summary["total"], "Protectable": summary["protectable"],
                                "Protectable with warnings": summary["protectableWithWarnings"],
                                "Blocked": summary["blocked"], "Unknown": summary["unknown"]}
    assert loaded["results"] == {k: v for k, v in loaded["counts"].items() if k != "total"}
    by_reason = Counter(r for vm in doc["vms"] if vm["reason"] for r in vm["reason"].split(", "))
    assert loaded["reasons"] == dict(by_reason)
    assert loaded["regions"] == doc["vaultsNeeded"] == {"northeurope": 1, "westeurope": 30}
    assert loaded["rows"] == [vm["name"] for vm in doc["vms"]]
    assert loaded["shown"] == len(doc["vms"])
    # Filtering and sorting, as a reader uses them.
    assert sorted(seen["blocked"]["rows"]) == sorted(vm["name"] for vm in doc["vms"] if vm["result"] == "Blocked")
    assert seen["blocked"]["shown"] == summary["blocked"]
    assert sorted(seen["filtered"]["rows"]) == sorted(vm["name"] for vm in doc["vms"]
                                                      if vm["resourceGroup"] == "rg-legacy")
    assert seen["sorted"]["rows"] == sorted((vm["name"] for vm in doc["vms"]), reverse=True)
    assert seen["opened"] == {"open": True, "checks": len(doc["vms"][0]["checks"])}
    assert screenshot.stat().st_size > 10_000
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
