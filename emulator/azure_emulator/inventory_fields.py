"""The inventory document's small readers, shared by every part of its parsing: its error, required
fields, tags and references."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azure_emulator import ids


class InventoryError(ValueError):
    """The inventory document is not valid; the message names the offending entry."""


def required(doc: Mapping[str, Any], name: str, where: str) -> Any:
    if name not in doc or doc[name] in (None, ""):
        raise InventoryError(f"{where}: '{name}' is required")
    return doc[name]


def tags_of(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InventoryError(f"{where}: tags must be a mapping")
    return {str(k): str(v) for k, v in value.items()}


def split_ref(ref: str, default_rg: str, parts: int) -> tuple[str, ...]:
    """`name`, `rg/name` (or `vnet/subnet`, `rg/vnet/subnet`) or a full resource id."""
    parsed = ids.parse_resource_id(ref) if ref.startswith("/") else None
    if parsed is not None:
        return (parsed.resource_group, *parsed.names[-parts:])
    bits = ref.split("/")
    if len(bits) == parts:
        return (default_rg, *bits)
    if len(bits) == parts + 1:
        return tuple(bits)
    raise InventoryError(f"cannot read reference '{ref}'")
