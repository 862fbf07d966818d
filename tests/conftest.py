"""Shared test configuration: integration tests need the local control plane from hack/."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

# Property tests check behaviour, not speed: hypothesis's default 200 ms deadline per example turns a
# loaded CI machine into a flaky failure (timing belongs in bench/, never in a test).
settings.register_profile("azbackup", deadline=None)
settings.load_profile("azbackup")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


# Longest first, so that parallel workers (`make test`: pytest-xdist, --dist loadgroup) finish together:
# the real node's tests (one cluster per session, about 10 min) and Flux's start at once, each group on
# one worker, then Prometheus's (whose first test builds it when cold), and the many short unit tests fill
# the gaps at the end. Any order passes; this one is only faster.
ORDER = (
    "tests/realnode/", "tests/gitops/", "tests/prometheus/", "tests/integration/", "tests/emulator/", "tests/unit/",
)


def rank(item: pytest.Item) -> int:
    path = item.path.relative_to(REPO).as_posix()
    return next((i for i, prefix in enumerate(ORDER) if path.startswith(prefix)), len(ORDER))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
    items.sort(key=rank)
