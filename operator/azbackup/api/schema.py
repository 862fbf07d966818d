"""Small builders for structural OpenAPI v3 schemas, so every CRD field carries a description.

Each builder refuses an empty description: `kubectl explain` is how users learn the API, and a field
without one is a hole in the documentation that nothing else would catch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Schema = dict[str, Any]


def _base(kind: str, description: str, **extra: object) -> Schema:
    if not description.strip():
        raise ValueError("every schema node needs a description")
    node: Schema = {"type": kind, "description": " ".join(description.split())}
    node.update({k: v for k, v in extra.items() if v is not None})
    return node


def rule(expression: str, message: str, *, field_path: str | None = None,
         reason: str | None = None, optional_old_self: bool | None = None) -> Schema:
    """One `x-kubernetes-validations` CEL rule; the message should say what to do instead."""
    out: Schema = {"rule": expression, "message": message}
    if field_path:
        out["fieldPath"] = field_path
    if reason:
        out["reason"] = reason
    if optional_old_self is not None:
        out["optionalOldSelf"] = optional_old_self
    return out


def string(description: str, *, enum: Sequence[str] | None = None, pattern: str | None = None,
           min_length: int | None = None, max_length: int | None = None, default: str | None = None,
           fmt: str | None = None, rules: Sequence[Schema] = ()) -> Schema:
    node = _base("string", description, enum=list(enum) if enum else None, pattern=pattern,
                 minLength=min_length, maxLength=max_length, default=default, format=fmt)
    if rules:
        node["x-kubernetes-validations"] = list(rules)
    return node


def integer(description: str, *, minimum: int | None = None, maximum: int | None = None,
            default: int | None = None, enum: Sequence[int] | None = None,
            rules: Sequence[Schema] = ()) -> Schema:
    node = _base("integer", description, minimum=minimum, maximum=maximum, default=default,
                 enum=list(enum) if enum else None)
    if rules:
        node["x-kubernetes-validations"] = list(rules)
    return node


def boolean(description: str, *, default: bool | None = None) -> Schema:
    return _base("boolean", description, default=default)


def array(description: str, items: Schema, *, min_items: int | None = None, max_items: int | None = None,
          unique: bool = False, list_type: str | None = None, rules: Sequence[Schema] = ()) -> Schema:
    node = _base("array", description, items=items, minItems=min_items, maxItems=max_items)
    if unique:
        # Structural schemas forbid uniqueItems; a set list gives the same guarantee server-side.
        node["x-kubernetes-list-type"] = "set"
    elif list_type:
        node["x-kubernetes-list-type"] = list_type
    if rules:
        node["x-kubernetes-validations"] = list(rules)
    return node


def string_map(description: str, *, max_properties: int | None = None, value: Schema | None = None,
               rules: Sequence[Schema] = ()) -> Schema:
    node = _base("object", description, maxProperties=max_properties)
    node["additionalProperties"] = value or {"type": "string"}
    if rules:
        node["x-kubernetes-validations"] = list(rules)
    return node


def obj(description: str, properties: Mapping[str, Schema], *, required: Sequence[str] = (),
        rules: Sequence[Schema] = (), default: Mapping[str, Any] | None = None,
        min_properties: int | None = None, max_properties: int | None = None) -> Schema:
    node = _base("object", description, minProperties=min_properties, maxProperties=max_properties)
    node["properties"] = dict(properties)
    if required:
        node["required"] = list(required)
    if default is not None:
        node["default"] = dict(default)
    if rules:
        node["x-kubernetes-validations"] = list(rules)
    return node


def date_time(description: str) -> Schema:
    return string(description, fmt="date-time")


def walk(node: Schema, path: str = "") -> list[tuple[str, Schema]]:
    """Every schema node with its dotted path, depth first (used by tests and the docs generator)."""
    out = [(path, node)]
    for name, child in (node.get("properties") or {}).items():
        out.extend(walk(child, f"{path}.{name}" if path else name))
    items = node.get("items")
    if isinstance(items, dict):
        out.extend(walk(items, f"{path}[]"))
    extra = node.get("additionalProperties")
    if isinstance(extra, dict) and "description" in extra:
        out.extend(walk(extra, f"{path}{{}}"))
    return out
