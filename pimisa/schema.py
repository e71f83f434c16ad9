"""Validate JSON documents against dataclass type hints: one error per bad field.

The schema of a document is the dataclass it becomes (its fields and their annotations:
`str`, `int`, `bool`, `float`, `X | None`, `list[X]`, `dict[str, X]`, unions and nested
dataclasses), so the .pimb metadata schema cannot drift from `KernelMeta` and `Region`.
A field's extra rule (a range, a set of names) comes from `metadata={"check": fn}` on the
dataclass field: fn(value) returns a problem or None.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

MAX_DEPTH = 16
MAX_ERRORS = 20
INT64 = (-(1 << 63), (1 << 63) - 1)


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    name = {str: "a string", int: "an integer", float: "a number", list: "a list",
            dict: "an object"}.get(type(value))
    return name or type(value).__name__


def _type_name(hint: Any) -> str:
    if hint is type(None):
        return "null"
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(hint))
    if origin is list:
        return "a list"
    if origin is dict:
        return "an object"
    if dataclasses.is_dataclass(hint):
        return "an object"
    return {str: "a string", int: "an integer", bool: "a boolean", float: "a number"}.get(
        hint, str(hint))


def _matches(value: object, hint: Any) -> bool:
    """Shallow type test (containers are checked element by element by `validate`)."""
    if hint is type(None):
        return value is None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, a) for a in typing.get_args(hint))
    if origin is list:
        return isinstance(value, list)
    if origin is dict or dataclasses.is_dataclass(hint):
        return isinstance(value, dict)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, hint)


def validate(value: object, hint: Any, path: str, errors: list[str], depth: int = 0) -> None:
    """Append to `errors` a `path: problem` line for every field of `value` not of `hint`."""
    if len(errors) >= MAX_ERRORS:
        return
    if depth > MAX_DEPTH:
        errors.append(f"{path}: nested more than {MAX_DEPTH} levels deep")
        return
    if not _matches(value, hint):
        errors.append(f"{path}: expected {_type_name(hint)}, got {_describe(value)}")
        return
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            if _matches(value, arg):
                validate(value, arg, path, errors, depth)
                return
    if isinstance(value, int) and not isinstance(value, bool) and not (
            INT64[0] <= value <= INT64[1]):
        errors.append(f"{path}: {value} does not fit 64 bits")
    elif origin is list:
        (item,) = typing.get_args(hint)
        for i, element in enumerate(value):  # type: ignore[arg-type]
            validate(element, item, f"{path}[{i}]", errors, depth + 1)
    elif origin is dict:
        key_hint, item = typing.get_args(hint)
        for key, element in value.items():  # type: ignore[union-attr]
            if not isinstance(key, key_hint):
                errors.append(f"{path}: key {key!r} is not {_type_name(key_hint)}")
            step = f".{key}" if str(key).isidentifier() else f"[{str(key)[:40]!r}]"
            validate(element, item, path + step, errors, depth + 1)
    elif dataclasses.is_dataclass(hint):
        _validate_object(value, hint, path, errors, depth)  # type: ignore[arg-type]


def _validate_object(value: dict, cls: type, path: str, errors: list[str], depth: int) -> None:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in value:
        if key not in fields:
            errors.append(f"{path}: unknown field {str(key)[:40]!r}")
    for name, f in fields.items():
        where = f"{path}.{name}"
        if name not in value:
            required = f.default is dataclasses.MISSING and \
                f.default_factory is dataclasses.MISSING
            if required:
                errors.append(f"{where}: missing")
            continue
        before = len(errors)
        validate(value[name], hints[name], where, errors, depth + 1)
        check = f.metadata.get("check")
        if check is not None and len(errors) == before:
            problem = check(value[name])
            if problem:
                errors.append(f"{where}: {problem}")
