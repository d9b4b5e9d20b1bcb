"""Environment references, replaced in string values before the sections are checked. A value
with a bad reference becomes BROKEN: its problem is reported, and the checks pass over it."""

from collections.abc import Callable, Mapping
from typing import Any

from ..substitution import Substituted, SubstitutionError, expand
from .paths import join

BROKEN = object()


def substitute(value: Any, path: str, environ: Mapping[str, str], problems: list[str]) -> Any:
    """`value` with the references in its strings replaced; mapping keys are left as written."""
    if isinstance(value, str):
        try:
            return expand(value, environ)
        except SubstitutionError as error:
            problems.extend(f"{path}: {problem}" for problem in error.problems)
            return BROKEN
    if isinstance(value, dict):
        return {
            key: substitute(item, join(path, key), environ, problems) for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            substitute(item, f"{path}[{index}]", environ, problems)
            for index, item in enumerate(value)
        ]
    return value


def typed(value: Any, read: Callable[[str], Any]) -> Any:
    """A value that is exactly one reference, read by `read` as the setting's own type; any
    other value as it is."""
    return read(value) if isinstance(value, Substituted) and value.single else value
