"""`arguments` of exchanges, queues and bindings: AMQP field tables the broker is given as
they are written."""

from typing import Any

from ..excerpt import excerpt
from ..fieldtable import TableWalk
from ..limits import INT64_MAX, INT64_MIN, MAX_SHORTSTR
from ..substitution import shown
from .checks import text_problem
from .environment import BROKEN
from .paths import join


def arguments(value: Any, path: str, problems: list[str]) -> dict | None:
    if not isinstance(value, dict):
        problems.append(f"{path}: expected a mapping with string keys, got {shown(value)}")
        return None
    _walk(problems).table(value, path)
    return value


def _walk(problems: list[str]) -> TableWalk:
    def check_key(path: str, key: object) -> bool:
        if not isinstance(key, str):
            problems.append(f"{path}: expected string keys, got {excerpt(key)}")
            return False
        problem = text_problem(key, MAX_SHORTSTR)
        if problem:
            problems.append(f"{join(path, key)}: key {problem}")
        return True

    def check_value(path: str, value: object) -> None:
        problem = _value_problem(value)
        if problem:
            problems.append(f"{path}: {problem}")

    return TableWalk(check_key, check_value, join)


def _value_problem(value: object) -> str | None:
    """What pika encodes into a field table is accepted, except floats (it cannot) and
    timestamps (an unquoted date is more likely a mistake than a wish)."""
    if isinstance(value, str):
        return text_problem(value, None)
    if isinstance(value, int):  # bool included
        if not INT64_MIN <= value <= INT64_MAX:
            return f"expected a signed 64-bit integer, got {shown(value)}"
        return None
    if value is None or value is BROKEN or isinstance(value, bytes):
        return None
    return f"expected a string, integer, boolean, null, list or mapping, got {shown(value)}"
