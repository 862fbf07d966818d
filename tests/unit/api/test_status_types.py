"""Every kind's typed status (`api/status.py`) and its CRD's status schema list the same fields, typed alike."""

from __future__ import annotations

import enum
import types
import typing

import pytest
from azbackup.api import status as api_status
from azbackup.api.schema import Schema
from azbackup.kinds import KINDS
from azbackup.kinds.contract import Kind

SCALARS: dict[object, str] = {str: "string", int: "integer", bool: "boolean", float: "number"}


def _stored(tp: object) -> object:
    """`X | None` is X as stored: None only removes a field in a write."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        [kept] = [arg for arg in typing.get_args(tp) if arg is not type(None)]
        return kept
    return tp


def mismatches(tp: object, node: Schema, path: str) -> list[str]:
    """Where the type and the schema node disagree (empty: they agree), by dotted path."""
    tp = _stored(tp)
    kind = node.get("type")
    if typing.is_typeddict(tp):
        hints = typing.get_type_hints(tp)
        props = node.get("properties") or {}
        if kind != "object":
            return [f"{path}: {tp.__name__} is an object, the schema says {kind}"]  # type: ignore[attr-defined]
        out = [f"{path}.{name}: in {tp.__name__} only" for name in sorted(set(hints) - set(props))]  # type: ignore[attr-defined]
        out += [f"{path}.{name}: in the schema only" for name in sorted(set(props) - set(hints))]
        for name in sorted(set(hints) & set(props)):
            out += mismatches(hints[name], props[name], f"{path}.{name}")
        return out
    origin = typing.get_origin(tp)
    if origin is list:
        [item] = typing.get_args(tp)
        return mismatches(item, node["items"], f"{path}[]") if kind == "array" else [f"{path}: list vs {kind}"]
    if origin is dict:
        _, value = typing.get_args(tp)
        extra = node.get("additionalProperties")
        if kind != "object" or not isinstance(extra, dict):
            return [f"{path}: a map vs {kind}"]
        return mismatches(value, extra, f"{path}{{}}")
    if isinstance(tp, type) and issubclass(tp, enum.StrEnum):
        if kind != "string":
            return [f"{path}: {tp.__name__} vs {kind}"]
        wanted = node.get("enum")
        if wanted is not None and sorted(wanted) != sorted(m.value for m in tp):
            return [f"{path}: states {sorted(m.value for m in tp)} vs the schema's enum {sorted(wanted)}"]
        return []
    if SCALARS.get(tp) != kind:
        return [f"{path}: {tp} vs {kind}"]
    return []


def status_schema(kind: Kind) -> Schema:
    schema: Schema = kind.crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
    return schema


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_the_typed_status_is_the_schemas(kind: Kind) -> None:
    assert mismatches(kind.status, status_schema(kind), "status") == []


def test_every_kind_declares_its_own_status_type() -> None:
    assert all(kind.status is not api_status.CommonStatus for kind in KINDS)
    assert len({kind.status for kind in KINDS}) == len(KINDS)


@pytest.mark.parametrize(("tp", "node", "want"), [
    pytest.param(api_status.Backoff, {"type": "object", "properties": {"until": {"type": "string"}}},
                 ["status.attempts: in Backoff only", "status.generation: in Backoff only"],
                 id="a-field-missing-from-the-schema-is-named"),
    pytest.param(api_status.Created, {"type": "object", "properties": {
        "virtualMachine": {"type": "string"}, "networkInterfaces": {"type": "array", "items": {"type": "string"}},
        "disks": {"type": "array", "items": {"type": "string"}}, "extra": {"type": "string"}}},
                 ["status.extra: in the schema only"], id="a-field-missing-from-the-type-is-named"),
    pytest.param(api_status.Backoff, {"type": "object", "properties": {
        "until": {"type": "string"}, "attempts": {"type": "string"}, "generation": {"type": "integer"}}},
                 ["status.attempts: <class 'int'> vs string"], id="a-type-mismatch-is-named"),
    pytest.param(api_status.JobPhase, {"type": "string", "enum": ["Pending", "Running"]},
                 ["status: states ['Failed', 'Pending', 'Running', 'Succeeded'] vs the schema's enum "
                  "['Pending', 'Running']"], id="a-state-machine-and-its-enum-must-agree"),
])
def test_mismatches_are_named(tp: object, node: Schema, want: list[str]) -> None:
    assert mismatches(tp, node, "status") == want
