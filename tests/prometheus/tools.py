"""prometheus and promtool, pinned in hack/versions.env and built by hack/build-prometheus.sh (cached)."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "charts" / "azbackup-operator" / "files" / "alerts.yaml"
RULE_TESTS = Path(__file__).resolve().parent / "alerts_test.yaml"


@functools.cache
def bin_dir() -> Path:
    """The directory holding prometheus and promtool; builds them on the first call (cold: minutes)."""
    out = subprocess.run(["bash", str(REPO / "hack" / "build-prometheus.sh")], text=True, capture_output=True,
                         check=False, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"hack/build-prometheus.sh failed ({out.returncode}):\n{out.stderr[-4000:]}")
    return Path(out.stdout.strip())
