"""Checks of response bodies: against Azure's example files (key paths and JSON types) and against the
SDK models (every key is a known REST field of the model, with a compatible type)."""

from __future__ import annotations

import datetime
import enum
import importlib
import inspect
import json
import sys
import types
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "arm-examples"
#: Azure's examples this repository carries itself (data/arm-examples/SOURCES.md): a name here is absolute, so
#: `EXAMPLES / name` reads it too
LOCAL_EXAMPLES = Path(__file__).resolve().parent / "data" / "arm-examples"

#: Maps whose keys are data, not schema (any key is fine below these paths).
FREE_MAPS = (
    "tags",
    "properties.extendedInfo.propertyBag",
    "identity.userAssignedIdentities",
    "properties.recoveryPointMoveReadinessInfo",
    "properties.effectiveSecurityRules[].tagMap",
    "tagMap",
    "properties.settings",
)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "str"
    return "list" if isinstance(value, list) else "dict"


def walk(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (path, JSON type) of a body; list elements are `[]`, free maps stop the descent."""
    yield path, json_type(value)
    if any(path == m or path.endswith("." + m) for m in FREE_MAPS):
        return
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v, f"{path}[]")


def example_bodies(file: str, element: str | None = None) -> list[Any]:
    """The 2xx response bodies of an example file; `element` picks list items (`value[]`) or a sub-path."""
    doc = json.loads((EXAMPLES / file).read_text())
    out = []
    for code, response in doc["responses"].items():
        body = response.get("body")
        if not code.startswith("2") or body is None:
            continue
        if element is None:
            out.append(body)
            continue
        items = [body]
        for part in element.split("."):
            nxt = []
            for it in items:
                if part.endswith("[]"):
                    nxt.extend((it or {}).get(part[:-2]) or [])
                else:
                    nxt.append((it or {}).get(part))
            items = [i for i in nxt if i is not None]
        out.extend(items)
    return out


def example_tree(sources: list[tuple[str, str | None]]) -> dict[str, set[str]]:
    tree: dict[str, set[str]] = {}
    for file, element in sources:
        for body in example_bodies(file, element):
            for path, kind in walk(body):
                tree.setdefault(path, set()).add(kind)
    return tree


def compare_with_examples(
    body: Any, kind: str, trees: Mapping[str, Mapping[str, set[str]]], nested: Mapping[str, str]
) -> tuple[set[tuple[str, str]], list[str]]:
    """`((kind, path) not in the examples, type mismatches)`; `nested` maps a sub-path to another kind."""
    extras: set[tuple[str, str]] = set()
    mismatches: list[str] = []
    for path, json_kind in walk(body):
        sub = next((p for p in nested if path == p or path.startswith(p + ".") or path.startswith(p + "[]")), None)
        where, rel = (nested[sub], path[len(sub) :].lstrip(".")) if sub is not None else (kind, path)
        known = trees[where].get(rel)
        if known is None:
            extras.add((where, rel))
        elif json_kind != "null" and "null" not in known and json_kind not in known:
            mismatches.append(f"{path}: {json_kind}, examples have {sorted(known)}")
    return extras, mismatches


# -- SDK models ---------------------------------------------------------------------------------


def _hints(cls: type) -> dict[str, Any]:
    models = importlib.import_module(cls.__module__.rsplit(".", 1)[0])
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        for attr, ann in inspect.get_annotations(klass).items():
            env = {**vars(sys.modules[klass.__module__]), "_models": models, "datetime": datetime}
            try:
                out[attr] = typing._eval_type(typing.ForwardRef(ann) if isinstance(ann, str) else ann, env, env)  # type: ignore[attr-defined]
            except Exception:
                out[attr] = Any
    return out


def _rest_fields(cls: type) -> dict[str, tuple[str, Any]]:
    cls()  # the model computes its field table on first instantiation
    hints = _hints(cls)
    return {rf._rest_name: (attr, hints.get(attr, Any)) for attr, rf in cls._attr_to_rest_field.items()}  # type: ignore[attr-defined]


def _discriminated(cls: type, data: Mapping[str, Any]) -> type:
    """The subclass a body deserializes to, searching nested discriminator maps too."""
    mapping = getattr(cls, "__mapping__", None)
    if not mapping:
        return cls
    cls()  # the model computes its field table on first instantiation
    field = next((rf for rf in cls._attr_to_rest_field.values() if rf._is_discriminator), None)  # type: ignore[attr-defined]
    if field is None:
        return cls
    value = data.get(field._rest_name)
    queue = list(mapping.items())
    while queue:
        key, sub = queue.pop(0)
        if key == value:
            return _discriminated(sub, data) if sub is not cls else sub
        queue.extend(getattr(sub, "__mapping__", {}).items())
    return cls


def check_model(value: Any, tp: Any, path: str = "") -> list[str]:
    """Problems of `value` as an instance of the SDK annotation `tp` (empty when it conforms)."""
    if tp is Any or tp is object:
        return []
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return []
        results = [check_model(value, a, path) for a in typing.get_args(tp) if a is not type(None)]
        return [] if any(not r for r in results) else min(results, key=len)
    if origin is typing.Literal:
        return [] if value in typing.get_args(tp) else [f"{path}: {value!r} not in {typing.get_args(tp)}"]
    if value is None:
        return []
    if origin in (list, typing.List):  # noqa: UP006
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        (item,) = typing.get_args(tp) or (Any,)
        return [p for i, v in enumerate(value) for p in check_model(v, item, f"{path}[{i}]")]
    if origin in (dict, typing.Dict, Mapping):  # noqa: UP006
        if not isinstance(value, dict):
            return [f"{path}: expected an object"]
        args = typing.get_args(tp)
        return [p for k, v in value.items() for p in check_model(v, args[1] if args else Any, f"{path}.{k}")]
    if isinstance(tp, type):
        if any(b.__name__ == "Model" and b.__module__.endswith("model_base") for b in tp.__mro__):
            if not isinstance(value, dict):
                return [f"{path}: expected an object for {tp.__name__}"]
            cls = _discriminated(tp, value)
            fields = _rest_fields(cls)
            problems = []
            for k, v in value.items():
                if k not in fields:
                    problems.append(f"{path}.{k}: not a field of {cls.__name__}")
                else:
                    problems.extend(check_model(v, fields[k][1], f"{path}.{k}"))
            return problems
        if issubclass(tp, bool):
            return [] if isinstance(value, bool) else [f"{path}: expected bool"]
        if issubclass(tp, enum.Enum) or issubclass(tp, str):
            return [] if isinstance(value, str) else [f"{path}: expected a string"]
        if issubclass(tp, int):
            return [] if isinstance(value, int) and not isinstance(value, bool) else [f"{path}: expected int"]
        if issubclass(tp, float):
            return (
                [] if isinstance(value, int | float) and not isinstance(value, bool) else [f"{path}: expected number"]
            )
        if issubclass(tp, datetime.datetime | datetime.date | datetime.time | datetime.timedelta | bytes):
            return [] if isinstance(value, str) else [f"{path}: expected a string ({tp.__name__})"]
    return []


# -- Azure's examples, per operation ------------------------------------------------------------

#: Example files that do not name their operation.
OPERATION_OF_FILE = {"network__NetworkSecurityGroupGet.json": "NetworkSecurityGroups_Get"}


def examples_by_operation() -> dict[str, list[tuple[str, Any]]]:
    """`operationId -> [(file, 2xx response body)]` over every example file."""
    out: dict[str, list[tuple[str, Any]]] = {}
    for path in sorted(EXAMPLES.glob("*.json")):
        doc = json.loads(path.read_text())
        operation = doc.get("operationId") or OPERATION_OF_FILE.get(path.name)
        for code, response in doc.get("responses", {}).items():
            if operation and code.startswith("2") and response.get("body") is not None:
                out.setdefault(operation, []).append((path.name, response["body"]))
    return out


def element_paths(body: Any) -> dict[str, set[str]]:
    """`path -> JSON types` of a body, list pages read element by element (`value[].x` -> `x`)."""
    out: dict[str, set[str]] = {}
    for path, kind in walk(body):
        if path in ("value", "value[]"):
            continue
        out.setdefault(path.removeprefix("value[]."), set()).add(kind)
    return out


def missing_from(example: Any, answers: list[dict[str, set[str]]], optional: Mapping[str, str]) -> list[str]:
    """Key paths of `example` (with their JSON types) that no answer has; keys whose example value is
    null show absence, and `optional` (path -> why) lists the keys Azure gives only in some states."""
    have: dict[str, set[str]] = {}
    for paths in answers:
        for path, kinds in paths.items():
            have.setdefault(path, set()).update(kinds)
    out = []
    for path, kinds in element_paths(example).items():
        kinds = kinds - {"null"}
        if not kinds or any(path == o or path.startswith((o + ".", o + "[]")) for o in optional):
            continue
        if path not in have:
            out.append(path)
        elif not kinds & have[path]:
            out.append(f"{path} ({'/'.join(sorted(kinds))}, answered {'/'.join(sorted(have[path]))})")
    return out
