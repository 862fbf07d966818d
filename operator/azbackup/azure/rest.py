"""SDK models back to ARM's REST JSON, so the operator reads one shape whatever generator made the SDK."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azbackup.azure import errors


def rest(model: Any) -> dict[str, Any]:
    """The REST (camelCase) JSON of a response model, an already-plain mapping, or {} for None."""
    if model is None:
        return {}
    if isinstance(model, Mapping) and not hasattr(model, "as_dict"):
        return dict(model)
    if hasattr(model, "serialize") and not hasattr(model, "_attr_to_rest_field"):
        # autorest (msrest) models: serialize() gives REST names; as_dict() would give snake_case.
        return dict(model.serialize(keep_readonly=True))
    # TypeSpec "hybrid" models are mappings of their REST JSON.
    return dict(model.as_dict())


async def all_items(pages: Any) -> list[dict[str, Any]]:
    """All items of an SDK pager, as REST JSON (for small lists; bulk reads use `lists.collect`)."""
    with errors.guard():
        return [rest(item) async for item in pages]
