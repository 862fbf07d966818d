"""The connection limit of kopf's session: every stream kopf holds open, plus room for requests."""

from __future__ import annotations

import pytest
from azbackup.config import OperatorConfig
from azbackup.controllers.login import REQUEST_CONNECTIONS, connection_limit
from azbackup.kinds import KINDS

STREAMS = len(KINDS) + 1  # a watch stream per kind, plus kopf's peering


@pytest.mark.parametrize(("namespaces", "expected"), [
    pytest.param((), STREAMS + 2 + REQUEST_CONNECTIONS, id="cluster-wide: a stream per kind, namespace and CRD scans"),
    pytest.param(("team-a",), STREAMS + REQUEST_CONNECTIONS, id="one namespace: every kind and peering"),
    pytest.param(("team-a", "team-b", "team-c"), 3 * STREAMS + REQUEST_CONNECTIONS, id="three namespaces"),
    pytest.param(("team-*",), 0, id="a glob: unknown number of streams, no limit"),
    pytest.param(("team-a", "ops-[0-9]"), 0, id="a glob among exact names"),
])
def test_connection_limit(namespaces: tuple[str, ...], expected: int) -> None:
    assert connection_limit(OperatorConfig(namespaces=namespaces)) == expected
