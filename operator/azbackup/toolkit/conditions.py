"""Conditions as stored in an object's status (the metav1.Condition shape)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

READY = "Ready"


def find(status: Mapping[str, Any], type_: str) -> Mapping[str, Any]:
    """The stored condition of that type, or {} when there is none."""
    return next((c for c in status.get("conditions") or () if isinstance(c, Mapping) and c.get("type") == type_),
                {})


def ready(status: Mapping[str, Any]) -> Mapping[str, Any]:
    return find(status, READY)


def is_ready(status: Mapping[str, Any], generation: int) -> bool:
    """Ready=True, computed for this generation of the spec (never a stale True)."""
    condition = ready(status)
    return condition.get("status") == "True" and condition.get("observedGeneration") == generation
