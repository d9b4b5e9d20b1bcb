"""Load and validate the YAML config; every problem is collected so all can be fixed at once."""

import copy
import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml


class ConfigError(Exception):
    """Carries every problem found; each is one line 'YAML.path: message'."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(f"{source}: {problem}" for problem in self.problems))


@dataclass(frozen=True)
class ExchangeSpec:
    name: str
    type: str
    durable: bool
    auto_delete: bool
    internal: bool
    passive: bool
    arguments: dict
    path: str


@dataclass(frozen=True)
class BindingSpec:
    exchange: str
    routing_key: str
    arguments: dict
    path: str


@dataclass(frozen=True)
class QueueSpec:
    name: str
    durable: bool
    auto_delete: bool
    exclusive: bool
    passive: bool
    arguments: dict
    bindings: tuple[BindingSpec, ...]
    path: str


@dataclass(frozen=True)
class ConsumerSpec:
    consumer: str
    queue: str
    consumer_count: int
    prefetch_count: int
    path: str


@dataclass(frozen=True)
class Config:
    source: str
    startup_handler: str | None
    exchanges: tuple[ExchangeSpec, ...]
    queues: tuple[QueueSpec, ...]
    consumers: tuple[ConsumerSpec, ...]


def load_config(path: str) -> Config:
    return parse_config(_read_yaml(path), source=path)


def parse_config(data: object, source: str) -> Config:
    if not isinstance(data, dict):
        raise ConfigError(source, [f"(top level): expected a mapping, got {data!r}"])
    problems: list[str] = []
    values = _fields(data, "", _TOP_LEVEL_FIELDS, problems)
    if problems:
        raise ConfigError(source, problems)
    return Config(source=source, **values)


def _read_yaml(path: str) -> object:
    try:
        # Binary mode lets PyYAML detect the encoding and report bad bytes as a YAMLError.
        with open(path, "rb") as stream:
            return yaml.safe_load(stream)
    except OSError as error:
        raise ConfigError(path, [f"cannot read: {error.strerror or error}"]) from None
    except yaml.YAMLError as error:
        raise ConfigError(path, [_describe_yaml_error(error)]) from None


def _describe_yaml_error(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark and error.problem:
        mark = error.problem_mark
        return f"line {mark.line + 1}, column {mark.column + 1}: {error.problem}"
    return " ".join(str(error).split())


# Section parsers: each takes a mapping and its YAML path, appends problems, returns a spec.


def _exchange(entry: dict, path: str, problems: list[str]) -> ExchangeSpec:
    values = _fields(entry, path, _EXCHANGE_FIELDS, problems)
    return ExchangeSpec(name=values.pop("exchange"), path=path, **values)


def _queue(entry: dict, path: str, problems: list[str]) -> QueueSpec:
    values = _fields(entry, path, _QUEUE_FIELDS, problems)
    arguments = _merge_queue_arguments(values, path, problems)
    _check_replicated(values, arguments.get("x-queue-type"), path, problems)
    return QueueSpec(
        name=values["queue"],
        durable=values["durable"],
        auto_delete=values["auto_delete"],
        exclusive=values["exclusive"],
        passive=values["passive"],
        arguments=arguments,
        bindings=values["bindings"],
        path=path,
    )


def _merge_queue_arguments(values: dict, path: str, problems: list[str]) -> dict:
    """Turn the x_ shorthand keys into broker arguments and add the explicit ones."""
    merged = {
        key.replace("_", "-"): values[key] for key in _QUEUE_X_KEYS if values[key] is not None
    }
    for name, value in values["arguments"].items():
        if name in merged:
            problems.append(f"{path}.arguments.{name}: also set by {name.replace('-', '_')}")
        merged[name] = value
    return merged


def _check_replicated(values: dict, queue_type: object, path: str, problems: list[str]) -> None:
    """RabbitMQ refuses quorum and stream queues that are transient, exclusive or auto-delete."""
    if queue_type not in ("quorum", "stream"):
        return
    for key, refused in (("durable", False), ("exclusive", True), ("auto_delete", True)):
        if values[key] is refused:
            expected = str(not refused).lower()
            problems.append(f"{path}.{key}: must be {expected} for a {queue_type} queue")


def _binding(entry: dict, path: str, problems: list[str]) -> BindingSpec:
    return BindingSpec(path=path, **_fields(entry, path, _BINDING_FIELDS, problems))


def _consumer(entry: dict, path: str, problems: list[str]) -> ConsumerSpec:
    return ConsumerSpec(path=path, **_fields(entry, path, _CONSUMER_FIELDS, problems))


# Generic machinery. A parser takes (value, path, problems) and returns the parsed value,
# or None after appending a problem.

_Parser = Callable[[Any, str, list[str]], Any]
_REQUIRED = object()


def _fields(
    entry: dict, path: str, schema: dict[str, tuple[_Parser, Any]], problems: list[str]
) -> dict[str, Any]:
    """Parse entry's keys in document order; fill defaults for missing, null or bad values."""
    values = {}
    for key, value in entry.items():
        where = _join(path, key)
        if key not in schema:
            problems.append(f"{where}: unknown key{_did_you_mean(key, schema)}")
        elif value is not None:
            parsed = schema[key][0](value, where, problems)
            if parsed is not None:
                values[key] = parsed
    for key, (_, default) in schema.items():
        if default is _REQUIRED and entry.get(key) is None:
            problems.append(f"{_join(path, key)}: is required")
        values.setdefault(key, None if default is _REQUIRED else copy.copy(default))
    return values


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _did_you_mean(key: object, schema: dict[str, Any]) -> str:
    matches = difflib.get_close_matches(str(key), list(schema), n=1)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def _list_of(
    parse_entry: Callable[[dict, str, list[str]], Any],
    unique: str | None = None,
    non_empty: bool = False,
) -> _Parser:
    """Parser for a list of mappings; `unique` names the key whose value must not repeat."""

    def parse(value: Any, path: str, problems: list[str]) -> tuple | None:
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list, got {value!r}")
            return None
        if non_empty and not value:
            problems.append(f"{path}: expected at least one entry")
        specs, seen = [], {}
        for index, entry in enumerate(value):
            where = f"{path}[{index}]"
            if not isinstance(entry, dict):
                problems.append(f"{where}: expected a mapping, got {entry!r}")
                continue
            spec = parse_entry(entry, where, problems)
            specs.append(spec)
            if unique and spec.name is not None:
                first = seen.setdefault(spec.name, where)
                if first != where:
                    problems.append(
                        f"{where}.{unique}: duplicate {unique} {spec.name!r}, also at {first}"
                    )
        return tuple(specs)

    return parse


def _scalar(expected: str, accepts: Callable[[Any], bool]) -> _Parser:
    def parse(value: Any, path: str, problems: list[str]) -> Any:
        if accepts(value):
            return value
        problems.append(f"{path}: expected {expected}, got {value!r}")
        return None

    return parse


def _int_at_least(minimum: int) -> _Parser:
    # bool is a subclass of int, but `consumer_count: true` is a mistake, not 1.
    return _scalar(f"an integer >= {minimum}", lambda v: _is_int(v) and v >= minimum)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _one_of(*choices: str) -> _Parser:
    return _scalar("one of " + ", ".join(choices), lambda v: isinstance(v, str) and v in choices)


def _is_import_path(value: object) -> bool:
    if not isinstance(value, str) or value.count(":") != 1:
        return False
    return all(part.isidentifier() for side in value.split(":") for part in side.split("."))


_BOOL = _scalar("a boolean", lambda v: isinstance(v, bool))
_STRING = _scalar("a string", lambda v: isinstance(v, str))
_NAME = _scalar("a non-empty string", lambda v: isinstance(v, str) and v != "")
_IMPORT_PATH = _scalar("'module:attribute'", _is_import_path)
_ARGUMENTS = _scalar(
    "a mapping with string keys",
    lambda v: isinstance(v, dict) and all(isinstance(k, str) for k in v),
)

_EXCHANGE_FIELDS = {
    "exchange": (_NAME, _REQUIRED),
    "type": (_one_of("direct", "topic", "fanout", "headers"), "direct"),
    "durable": (_BOOL, True),
    "auto_delete": (_BOOL, False),
    "internal": (_BOOL, False),
    "passive": (_BOOL, False),
    "arguments": (_ARGUMENTS, {}),
}

_BINDING_FIELDS = {
    "exchange": (_NAME, _REQUIRED),  # '' is the default exchange, which cannot be bound
    "routing_key": (_STRING, ""),
    "arguments": (_ARGUMENTS, {}),
}

_QUEUE_FIELDS = {
    "queue": (_NAME, _REQUIRED),
    "durable": (_BOOL, True),
    "auto_delete": (_BOOL, False),
    "exclusive": (_BOOL, False),
    "passive": (_BOOL, False),
    "x_dead_letter_exchange": (_STRING, None),
    "x_dead_letter_routing_key": (_STRING, None),
    "x_max_length": (_int_at_least(0), None),
    "x_expires": (_int_at_least(1), None),
    "x_message_ttl": (_int_at_least(0), None),
    "x_queue_type": (_one_of("classic", "quorum", "stream"), None),
    "arguments": (_ARGUMENTS, {}),
    "bindings": (_list_of(_binding), ()),
}
_QUEUE_X_KEYS = tuple(key for key in _QUEUE_FIELDS if key.startswith("x_"))

_CONSUMER_FIELDS = {
    "consumer": (_IMPORT_PATH, _REQUIRED),
    "queue": (_NAME, _REQUIRED),
    "consumer_count": (_int_at_least(1), 1),
    "prefetch_count": (_int_at_least(0), 1),
}

_TOP_LEVEL_FIELDS = {
    "startup_handler": (_IMPORT_PATH, None),
    "exchanges": (_list_of(_exchange, unique="exchange"), ()),
    "queues": (_list_of(_queue, unique="queue"), ()),
    "consumers": (_list_of(_consumer, non_empty=True), _REQUIRED),
}
