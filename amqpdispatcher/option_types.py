"""A consumer's options checked against the annotations of its constructor's parameters, so
that `failure_rate: high` for a float is a config problem, not a failure at the start.

Hand-written rather than a dependency: only what YAML can give needs checking (None, bool,
int, float, str, bytes, lists and mappings of them), which takes a few lines; an annotation
this does not know, or one that cannot be resolved, is skipped, never a problem."""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any

from .substitution import shown

# The classes checked by isinstance; int and float turn bool away, float takes an int.
_CLASSES = {
    int: lambda v: isinstance(v, int) and not isinstance(v, bool),
    float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    bool: lambda v: isinstance(v, bool),
    str: lambda v: isinstance(v, str),
    bytes: lambda v: isinstance(v, bytes),
}


def type_problems(signature: inspect.Signature, owner: object, options: dict) -> list[str]:
    """'name: expected X, got Y', with the path inside the option, for each option whose value
    its parameter's annotation refuses. `owner` is what defines the signature (its module's
    names resolve string annotations)."""
    parameters = signature.parameters
    extra = next((p for p in parameters.values() if p.kind is p.VAR_KEYWORD), None)
    problems = []
    for name, value in options.items():
        parameter = parameters.get(name)
        if parameter is None or parameter.kind in _NOT_BY_KEYWORD:  # **options takes it
            parameter = extra
        if parameter is None or (value is None and parameter.default is None):
            continue  # `x: float = None` takes None
        problem = _check(value, _resolved(parameter.annotation, owner), name)
        if problem:
            problems.append(problem)
    return problems


_NOT_BY_KEYWORD = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.VAR_POSITIONAL)


def _resolved(annotation: object, owner: object) -> object:
    """The annotation, evaluated if it is a string; Any if it cannot be."""
    if not isinstance(annotation, str):
        return Any if annotation is inspect.Parameter.empty else annotation
    init = getattr(owner, "__init__", owner)
    namespace = getattr(inspect.unwrap(init), "__globals__", None)
    if namespace is None:
        return Any
    try:
        return eval(annotation, namespace)  # as typing.get_type_hints does
    except Exception:
        return Any


def _check(value: object, hint: object, path: str) -> str | None:
    """The first problem of `value` against `hint` at `path`, or None."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        matches = any(_check(value, arg, path) is None for arg in args)
    elif origin is typing.Literal:
        matches = any(type(value) is type(arg) and value == arg for arg in args)
    elif hint is None or hint is type(None):
        matches = value is None
    elif isinstance(hint, type) and hint in _CLASSES:
        matches = _CLASSES[hint](value)
    elif (origin or hint) is list or (origin or hint) is tuple:  # a tuple comes as a list
        return _check_items(value, origin or hint, args, path)
    elif (origin or hint) is dict:
        return _check_mapping(value, args, path)
    else:  # Any, or an annotation this does not check
        return None
    return None if matches else _mismatch(value, hint, path)


def _check_items(value: object, kind: type, args: tuple, path: str) -> str | None:
    if not isinstance(value, list):
        return _mismatch(value, kind, path)
    if kind is tuple and args and args[-1] is not Ellipsis:
        if len(args) != len(value):
            return f"{path}: expected {len(args)} items, got {len(value)}"
        hints = args
    else:
        hints = (args[0] if args else Any,) * len(value)
    for index, (item, hint) in enumerate(zip(value, hints, strict=True)):
        problem = _check(item, hint, f"{path}[{index}]")
        if problem:
            return problem
    return None


def _check_mapping(value: object, args: tuple, path: str) -> str | None:
    if not isinstance(value, dict):
        return _mismatch(value, dict, path)
    key_hint, value_hint = args or (Any, Any)
    for key, item in value.items():
        where = f"{path}.{key}"
        problem = _check(key, key_hint, f"{where} (the key)") or _check(item, value_hint, where)
        if problem:
            return problem
    return None


def _mismatch(value: object, hint: object, path: str) -> str:
    expected = hint.__name__ if isinstance(hint, type) else str(hint).replace("typing.", "")
    if isinstance(value, (list, dict)):  # named, not quoted: its items may be secrets
        got = "a list" if isinstance(value, list) else "a mapping"
    else:
        got = shown(value)
    return f"{path}: expected {expected}, got {got}"
