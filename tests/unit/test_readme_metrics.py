"""The README's metrics table names exactly the metrics the operator exports."""

from __future__ import annotations

import re
from pathlib import Path

from azbackup import kinds, metrics

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_lists_every_exported_metric_and_no_other() -> None:
    section = README.read_text().split("## Metrics and logs", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `(azbackup_[a-z_]+)` \|", section, re.MULTILINE))
    assert listed == set(metrics.EXPORTED) | kinds.metric_names()
