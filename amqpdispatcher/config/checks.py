"""The checks every section is built of. A parser takes (value, path, problems) and returns the
value parsed, or None after appending a problem; `fields` runs one per key of a mapping."""

import copy
import difflib
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

from ..limits import DECIMAL, MAX_SHORTSTR, UINT32_MAX
from ..substitution import shown
from .environment import BROKEN, typed
from .paths import join

Parser = Callable[[Any, str, list[str]], Any]
Schema = dict[str, tuple[Parser, Any]]  # key: (parser, its default)
REQUIRED = object()  # the default of a key that must be given
_DIGITS = re.compile(r"[0-9]+")


def fields(entry: dict, path: str, schema: Schema, problems: list[str]) -> dict[str, Any]:
    """Parse entry's keys in document order; fill defaults for missing, null or bad values."""
    values = {}
    for key, value in entry.items():
        where = join(path, key)
        if key not in schema:
            problems.append(f"{where}: unknown key{_did_you_mean(key, schema)}")
        elif value is not None and value is not BROKEN:
            parsed = schema[key][0](value, where, problems)
            if parsed is not None:
                values[key] = parsed
    for key, (_, default) in schema.items():
        if default is REQUIRED and entry.get(key) is None:
            problems.append(f"{join(path, key)}: is required")
        values.setdefault(key, None if default is REQUIRED else copy.copy(default))
    return values


def _did_you_mean(key: object, schema: Schema) -> str:
    if not isinstance(key, str):
        return ""
    matches = difflib.get_close_matches(key, list(schema), n=1)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def is_mapping(value: Any, path: str, problems: list[str]) -> bool:
    if isinstance(value, dict):
        return True
    problems.append(f"{path}: expected a mapping, got {shown(value)}")
    return False


def is_list(value: Any, path: str, problems: list[str]) -> bool:
    if isinstance(value, list):
        return True
    problems.append(f"{path}: expected a list, got {shown(value)}")
    return False


def list_of(
    parse_entry: Callable[[dict, str, list[str]], Any],
    unique: str | None = None,
    non_empty: bool = False,
) -> Parser:
    """Parser for a list of mappings; `unique` names the key whose value must not repeat."""

    def parse(value: Any, path: str, problems: list[str]) -> tuple | None:
        if not is_list(value, path, problems):
            return None
        if non_empty and not value:
            problems.append(f"{path}: expected at least one entry")
        specs, first_places = [], {}
        for where, entry in _mappings(value, path, problems):
            spec = parse_entry(entry, where, problems)
            specs.append(spec)
            if unique:
                _check_unique(spec.name, unique, where, first_places, problems)
        return tuple(specs)

    return parse


def _mappings(entries: list, path: str, problems: list[str]) -> Iterator[tuple[str, dict]]:
    """The entries that are mappings, with their paths, in order; the others are problems."""
    for index, entry in enumerate(entries):
        where = f"{path}[{index}]"
        if entry is not BROKEN and is_mapping(entry, where, problems):
            yield where, entry


def _check_unique(
    name: object, key: str, where: str, first_places: dict, problems: list[str]
) -> None:
    if name is None:
        return
    first = first_places.setdefault(name, where)
    if first != where:
        problems.append(f"{where}.{key}: duplicate {key} {shown(name)}, also at {first}")


def scalars(parse_item: Parser) -> Parser:
    """Parser for a list of scalars, each parsed by `parse_item`."""

    def parse(value: Any, path: str, problems: list[str]) -> tuple | None:
        if not is_list(value, path, problems):
            return None
        return tuple(
            parse_item(item, f"{path}[{index}]", problems)
            for index, item in enumerate(value)
            if item is not BROKEN
        )

    return parse


def scalar(
    expected: str, accepts: Callable[[Any], bool], read: Callable[[str], Any] | None = None
) -> Parser:
    """Parser for a value `accepts` takes; with `read`, a value that is exactly one environment
    reference is read by it first (see environment.typed)."""

    def parse(value: Any, path: str, problems: list[str]) -> Any:
        value_typed = typed(value, read) if read else value
        if accepts(value_typed):
            return value_typed
        problems.append(f"{path}: expected {expected}, got {shown(value)}")
        return None

    return parse


def int_between(minimum: int, maximum: int) -> Parser:
    # bool is a subclass of int, but `consumer_count: true` is a mistake, not 1.
    return scalar(
        f"an integer from {minimum} to {maximum}",
        lambda v: is_int(v) and minimum <= v <= maximum,
        read_int,
    )


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def one_of(*choices: str) -> Parser:
    return scalar("one of " + ", ".join(choices), lambda v: isinstance(v, str) and v in choices)


def text(expected: str, non_empty: bool = False, max_bytes: int | None = None) -> Parser:
    """Parser for a string that pika can encode: UTF-8, at most max_bytes once encoded."""

    def parse(value: Any, path: str, problems: list[str]) -> str | None:
        if not isinstance(value, str) or (non_empty and not value):
            problems.append(f"{path}: expected {expected}, got {shown(value)}")
            return None
        problem = text_problem(value, max_bytes)
        if problem:
            problems.append(f"{path}: {problem}")
            return None
        return value

    return parse


def text_problem(value: str, max_bytes: int | None) -> str | None:
    try:
        size = len(value.encode())
    except UnicodeEncodeError:  # a lone surrogate, from an escape such as "\ud800"
        return f"cannot be encoded as UTF-8: {shown(value)}"
    if max_bytes is not None and size > max_bytes:
        return f"too long: {size} bytes in UTF-8, at most {max_bytes} allowed"
    return None


def _is_import_path(value: object) -> bool:
    if not isinstance(value, str) or value.count(":") != 1:
        return False
    return all(part.isidentifier() for side in value.split(":") for part in side.split("."))


def _is_seconds(value: object) -> bool:
    """A number of seconds > 0, in whole milliseconds, that fits a TTL (32 bits of them)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < math.inf:
        return False
    ms = value * 1000
    return abs(ms - round(ms)) < 1e-6 and 1 <= round(ms) <= UINT32_MAX


# The readers of a value that is exactly one environment reference: the text it was replaced
# by, as the setting's type, or as it is when it does not read as one (the check then names it).


def read_int(value: str) -> int | str:
    if not _DIGITS.fullmatch(value):
        return value
    try:
        return int(value)
    except ValueError:  # more digits than int() converts
        return value


def _read_number(value: str) -> int | float | str:
    if not DECIMAL.fullmatch(value):
        return value
    return int(value) if _DIGITS.fullmatch(value) else float(value)


def _read_bool(value: str) -> bool | str:
    return {"true": True, "false": False}.get(value.lower(), value)


BOOL = scalar("a boolean", lambda v: isinstance(v, bool), _read_bool)
STRING = text("a string")
SHORT_STRING = text("a string", max_bytes=MAX_SHORTSTR)
NAME = text("a non-empty string", non_empty=True, max_bytes=MAX_SHORTSTR)
IMPORT_PATH = scalar("'module:attribute'", _is_import_path)


def seconds_up_to(maximum: float) -> Parser:
    """Parser for a number of seconds > 0, in whole milliseconds, at most `maximum`."""
    return scalar(
        f"seconds > 0 in whole milliseconds, at most {maximum:.10g}",
        lambda v: _is_seconds(v) and v <= maximum,
        _read_number,
    )


SECONDS = seconds_up_to(UINT32_MAX / 1000)
