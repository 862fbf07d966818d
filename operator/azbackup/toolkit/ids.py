"""ARM resource ids: read their segments, compare them case-insensitively as ARM does."""

from __future__ import annotations


def lower(resource_id: str | None) -> str:
    """The id to compare or key by: ARM ids are case-insensitive."""
    return (resource_id or "").lower()


def same(a: str | None, b: str | None) -> bool:
    return lower(a).rstrip("/") == lower(b).rstrip("/")


def name(resource_id: str) -> str:
    """The last segment: a resource's name."""
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


def segment(resource_id: str, key: str) -> str:
    """The segment after `key` (matched case-insensitively: `resourceGroups`, `virtualMachines`), or ""."""
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    at = lowered.index(key.lower()) if key.lower() in lowered else -1
    return parts[at + 1] if 0 <= at < len(parts) - 1 else ""


def resource_group(resource_id: str) -> str:
    return segment(resource_id, "resourceGroups")


def _after_providers(parts: list[str]) -> int:
    lowered = [p.lower() for p in parts]
    return len(lowered) - 1 - lowered[::-1].index("providers") if "providers" in lowered else -1


def resource_type(resource_id: str) -> str:
    """'microsoft.compute/virtualmachines' for a VM id: the namespace and every type segment after it."""
    parts = [p for p in resource_id.lower().split("/") if p]
    at = _after_providers(parts)
    if at < 0:
        return ""
    rest = parts[at + 1:]
    return "/".join([rest[0], *rest[1::2]]) if rest else ""


def top_level(resource_id: str) -> str:
    """The id of the top-level resource (a VM for a VM's extension), lower-cased."""
    parts = [p for p in resource_id.split("/") if p]
    at = _after_providers(parts)
    if at < 0:
        return resource_id.lower()
    return "/" + "/".join(parts[:at + 4]).lower()
