"""Reading ARM and Kubernetes JSON without a KeyError at every level."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def dig(obj: Mapping[str, Any] | None, *path: str) -> Any:
    """The value at `path` (keys, outermost first), or None where any level is missing or not an object."""
    node: Any = obj
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node
