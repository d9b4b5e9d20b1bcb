"""Importing the operator's code named in the config as `module:attribute`."""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from .config import Config, ConsumerSpec
from .errors import ConfigurationError, MayPassError
from .middleware import Middleware
from .option_types import type_problems
from .substitution import Substituted, named, shown

log = logging.getLogger("amqp-dispatcher")

TRACING = "amqpdispatcher.middleware.tracing:Tracing"  # what `tracing: true` adds


class LoadError(ConfigurationError):
    """User code named in the config cannot be loaded; one line per problem, with its YAML path."""

    names_yaml_paths = True

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class StartFailed(MayPassError):
    """Code named in the config failed at the start: the startup_handler raised, or a
    middleware could not be created. Perhaps something it needs is not up yet: a restart may
    mend it."""

    names_yaml_paths = True


def add_working_directory_to_path() -> None:
    """Make modules in the directory the daemon runs in importable, as `python -m` would."""
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)


def import_object(spec: str, where: str) -> Any:
    """The object `spec` names. A spec from the environment is named by the text it came from,
    and an import error by its type alone: its message would quote the spec."""
    module_name, _, attribute = spec.partition(":")
    secret = isinstance(spec, Substituted)
    try:
        target = importlib.import_module(module_name)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # sys.exit() at import too: that module cannot be used
        if secret:
            raise LoadError(
                [f"{where}: cannot import {shown(spec)}: {type(exc).__name__}"]
            ) from None
        raise LoadError([f"{where}: cannot import {module_name!r}: {one_line(exc)}"]) from None
    for name in attribute.split("."):
        try:
            target = getattr(target, name)
        except AttributeError:
            if secret:
                raise LoadError([f"{where}: {shown(spec)} names no attribute"]) from None
            raise LoadError([f"{where}: {module_name!r} has no attribute {attribute!r}"]) from None
    return target


def load_startup_handler(config: Config) -> Callable[[], object] | None:
    if config.startup_handler is None:
        return None
    handler = import_object(config.startup_handler, "startup_handler")
    if not callable(handler):
        raise LoadError([f"startup_handler: {shown(config.startup_handler)} is not callable"])
    return handler


def run_startup_handler(config: Config) -> None:
    """The config's startup handler, if any, imported and called; StartFailed if it raises."""
    handler = load_startup_handler(config)
    if handler is None:
        return
    try:
        handler()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        handler_name = named(config.startup_handler)
        log.exception("startup_handler %s raised", handler_name)
        raise StartFailed(f"startup_handler: {handler_name} raised {exc!r}") from None


def load_consumer_classes(config: Config) -> dict[str, type]:
    """Every consumer class by its `module:Class`; a LoadError lists every one that fails, and
    every entry whose options its class's constructor cannot take."""
    classes, problems = {}, []
    for spec in config.consumers:
        try:
            cls = _consumer_class(spec.consumer, f"{spec.path}.consumer")
        except LoadError as exc:
            problems.extend(exc.problems)
            continue
        classes[spec.consumer] = cls
        problems.extend(_option_problems(spec, cls))
    if problems:
        raise LoadError(problems)
    return classes


def load_middleware_classes(config: Config) -> list[type[Middleware]]:
    """Every middleware class in order, Tracing first with `tracing: true`; a LoadError lists
    every one that fails. Tracing is imported only then: it imports OpenTelemetry."""
    classes, problems = [], []
    tracing = None
    if config.tracing:
        try:
            tracing = import_object(TRACING, "tracing")
        except LoadError as exc:
            problems.extend(exc.problems)
        else:
            classes.append(tracing)
    for index, spec in enumerate(config.middleware):
        where = f"middleware[{index}]"
        try:
            cls = import_object(spec, where)
        except LoadError as exc:
            problems.extend(exc.problems)
            continue
        if not (isinstance(cls, type) and issubclass(cls, Middleware)):
            problems.append(
                f"{where}: {shown(spec)} is not a subclass of amqpdispatcher.Middleware"
            )
        elif tracing is not None and issubclass(cls, tracing):
            problems.append(f"{where}: {shown(spec)} traces, as `tracing: true` does: keep one")
        else:
            classes.append(cls)
    if problems:
        raise LoadError(problems)
    return classes


def create_middleware(config: Config) -> list[Middleware]:
    """An instance of each middleware class, in order."""
    middleware = []
    classes = load_middleware_classes(config)
    for (where, spec), cls in zip(_middleware_entries(config), classes, strict=True):
        try:
            middleware.append(cls())
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            raise StartFailed(f"{where}: cannot create {named(spec)}: {exc!r}") from None
    return middleware


def _middleware_entries(config: Config) -> list[tuple[str, str]]:
    """Where each middleware is named in the config, and its `module:Class`, in order."""
    tracing = [("tracing", TRACING)] if config.tracing else []
    listed = [(f"middleware[{index}]", spec) for index, spec in enumerate(config.middleware)]
    return tracing + listed


def _consumer_class(spec: str, where: str) -> type:
    cls = import_object(spec, where)
    if not isinstance(cls, type):
        raise LoadError([f"{where}: {shown(spec)} is not a class"])
    missing = [name for name in ("consume", "shutdown") if not callable(getattr(cls, name, None))]
    if missing:
        raise LoadError([f"{where}: {shown(spec)} has no {' or '.join(missing)} method"])
    return cls


def _option_problems(spec: ConsumerSpec, cls: type) -> list[str]:
    """Why `cls(**spec.options)` would not bind, or which option's value its parameter's
    annotation refuses, one line per option or parameter; none for a constructor whose
    signature cannot be read."""
    try:
        signature = inspect.signature(cls)
    except (ValueError, TypeError):
        return []
    try:
        signature.bind(**spec.options)
    except TypeError as exc:
        reasons = _unbound(signature, spec.options) or [f"cannot take these options: {exc}"]
        return [f"{spec.path}.options: {named(spec.consumer)} {reason}" for reason in reasons]
    return [
        f"{spec.path}.options.{problem}" for problem in type_problems(signature, cls, spec.options)
    ]


def _unbound(signature: inspect.Signature, options: dict[str, Any]) -> list[str]:
    """Each option no parameter takes by keyword, then each required parameter no option
    gives."""
    kinds = {name: parameter.kind for name, parameter in signature.parameters.items()}
    by_keyword = {name for name, kind in kinds.items() if kind in _BY_KEYWORD}
    takes_any = inspect.Parameter.VAR_KEYWORD in kinds.values()
    reasons = [
        f"takes no option {name!r}" for name in options if name not in by_keyword and not takes_any
    ]
    for name, parameter in signature.parameters.items():
        if parameter.default is not parameter.empty or parameter.kind in _VARIADIC:
            continue
        if parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
            reasons.append(f"needs a positional argument {name!r}, which no option can give")
        elif name not in options:
            reasons.append(f"needs option {name!r}")
    return reasons


_BY_KEYWORD = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def one_line(exc: BaseException) -> str:
    """'ExceptionType: first line of its message', for one-line error reports."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
