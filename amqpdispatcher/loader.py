"""Importing the operator's code named in the config as `module:attribute`."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

from .config import Config
from .errors import ConfigurationError


class LoadError(ConfigurationError):
    """User code named in the config cannot be loaded; one line per problem, with its YAML path."""

    names_yaml_paths = True

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def add_working_directory_to_path() -> None:
    """Make modules in the directory the daemon runs in importable, as `python -m` would."""
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)


def import_object(spec: str, where: str) -> Any:
    module_name, _, attribute = spec.partition(":")
    try:
        target = importlib.import_module(module_name)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # sys.exit() at import too: that module cannot be used
        raise LoadError([f"{where}: cannot import {module_name!r}: {one_line(exc)}"]) from None
    for name in attribute.split("."):
        try:
            target = getattr(target, name)
        except AttributeError:
            raise LoadError([f"{where}: {module_name!r} has no attribute {attribute!r}"]) from None
    return target


def load_startup_handler(config: Config) -> Callable[[], object] | None:
    if config.startup_handler is None:
        return None
    handler = import_object(config.startup_handler, "startup_handler")
    if not callable(handler):
        raise LoadError([f"startup_handler: {config.startup_handler!r} is not callable"])
    return handler


def load_consumer_classes(config: Config) -> dict[str, type]:
    """Every consumer class by its `module:Class`; a LoadError lists every one that fails."""
    classes, problems = {}, []
    for spec in config.consumers:
        try:
            classes[spec.consumer] = _consumer_class(spec.consumer, f"{spec.path}.consumer")
        except LoadError as exc:
            problems.extend(exc.problems)
    if problems:
        raise LoadError(problems)
    return classes


def _consumer_class(spec: str, where: str) -> type:
    cls = import_object(spec, where)
    if not isinstance(cls, type):
        raise LoadError([f"{where}: {spec!r} is not a class"])
    missing = [name for name in ("consume", "shutdown") if not callable(getattr(cls, name, None))]
    if missing:
        raise LoadError([f"{where}: {spec!r} has no {' or '.join(missing)} method"])
    return cls


def one_line(exc: BaseException) -> str:
    """'ExceptionType: first line of its message', for one-line error reports."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
