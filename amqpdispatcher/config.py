"""Load and validate the YAML config; every problem is collected so all can be fixed at once."""

import copy
import difflib
import keyword
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import yaml

from .errors import ConfigurationError
from .excerpt import clip, excerpt
from .substitution import Substituted, SubstitutionError, expand, shown, suffixed

MAX_NAME_BYTES = 255  # AMQP short strings: names, routing keys, argument keys
MAX_PREFETCH_COUNT = 65535  # basic.qos prefetch_count is a 16-bit field
MAX_CONSUMER_COUNT = 10_000
MAX_RETRIES = 2**31 - 1  # x-retry-count then fits a signed 32-bit header value
MAX_PORT = 65535
DEFAULT_HTTP_ADDRESS = "127.0.0.1"
DEFAULT_HTTP_REQUEST_TIMEOUT = 10.0  # seconds for a request line, headers and answer
MAX_YAML_VALUES = 100_000  # after alias expansion
MAX_YAML_DEPTH = 50
LOG_FORMATS = ("text", "json")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_UINT32_MAX = 2**32 - 1
_MERGE_TAG = "tag:yaml.org,2002:merge"
_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")


class ConfigError(ConfigurationError):
    """Carries every problem found; each is one line 'YAML.path: message'. `partial` is the
    config as far as it could be read, a bad value left at its default or None, when the YAML
    itself was read: --validate shows the warnings about it beside the problems."""

    def __init__(self, source: str, problems: list[str], partial: "Config | None" = None) -> None:
        self.source = source
        self.problems = list(problems)
        self.partial = partial
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
    argument_paths: dict[str, str] = field(default_factory=dict)  # YAML path of each argument


@dataclass(frozen=True)
class RetrySpec:
    """A consumer's `retry` block: seconds throughout, the archive queue's name resolved."""

    max_retries: int
    backoff: tuple[float, ...]
    archive_queue: str
    archive_ttl: float | None
    path: str  # of the block, such as consumers[0].retry


@dataclass(frozen=True)
class ConsumerSpec:
    consumer: str
    queue: str
    consumer_count: int
    prefetch_count: int
    path: str
    # The constructor's keyword arguments; left out of the hash, so that middleware can still
    # key a dict by the spec.
    options: dict[str, Any] = field(default_factory=dict, hash=False)
    retry: RetrySpec | None = field(default=None, hash=False)


@dataclass(frozen=True)
class HttpSpec:
    """The `http` block: where the metrics and probes are served (the command line wins)."""

    port: int | None
    address: str
    request_timeout: float = DEFAULT_HTTP_REQUEST_TIMEOUT


@dataclass(frozen=True)
class Config:
    source: str
    startup_handler: str | None
    middleware: tuple[str, ...]
    exchanges: tuple[ExchangeSpec, ...]
    queues: tuple[QueueSpec, ...]
    consumers: tuple[ConsumerSpec, ...]
    # The delay and archive queues of the consumers' retry blocks (amqpdispatcher.retry.queues),
    # declared after `queues`.
    retry_queues: tuple[QueueSpec, ...] = ()
    log_format: str = "text"  # one of LOG_FORMATS; --log-format wins
    http: HttpSpec = HttpSpec(port=None, address=DEFAULT_HTTP_ADDRESS)


def load_config(path: str, environ: Mapping[str, str] = os.environ) -> Config:
    """The config in the file at `path`, its environment references read from `environ`."""
    problems: list[str] = []
    data = _read_yaml(path, problems)
    return _build_config(data, path, environ, problems)


def parse_config(data: object, source: str, environ: Mapping[str, str] = os.environ) -> Config:
    return _build_config(data, source, environ, [])


def _build_config(
    data: object, source: str, environ: Mapping[str, str], problems: list[str]
) -> Config:
    if not isinstance(data, dict):
        problems.append(f"(top level): expected a mapping, got {excerpt(data)}")
        raise ConfigError(source, problems)
    data = _substitute(data, "", environ, problems)
    values = _fields(data, "", _TOP_LEVEL_FIELDS, problems)
    # Imported here: the derivation builds on this module's specs.
    from .retry.queues import retry_queues

    values["consumers"] = values["consumers"] or ()
    values["retry_queues"] = retry_queues(values["queues"], values["consumers"], problems)
    config = Config(source=source, **values)
    if problems:
        raise ConfigError(source, problems, partial=config)
    return config


# Reading YAML. Hostile input (alias bombs, deep nesting, recursive aliases) is refused from
# the composed node graph, before construction builds anything from it.


def _read_yaml(path: str, problems: list[str]) -> object:
    """The document's data; duplicate keys are appended to problems, fatal errors raised."""
    try:
        # Binary mode lets PyYAML detect the encoding and report bad bytes as a YAMLError.
        with open(path, "rb") as stream:
            return _load_yaml(stream, problems)
    except OSError as error:
        raise ConfigError(path, [f"cannot read: {error.strerror or error}"]) from None
    except yaml.YAMLError as error:
        raise ConfigError(path, [_describe_yaml_error(error)]) from None


def _load_yaml(stream: BinaryIO, problems: list[str]) -> object:
    loader = _Loader(stream)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        walk = _NodeWalk()
        walk.visit(root, "", 1)
        problems.extend(walk.duplicates)
        return loader.construct_document(root)
    finally:
        loader.dispose()


class _Loader(yaml.SafeLoader):
    """SafeLoader that stops at MAX_YAML_DEPTH instead of at Python's recursion limit, and turns
    the errors PyYAML lets escape from some scalars (a 13th month, an int of 5000 digits, a
    malformed !!timestamp) into YAML errors with a position."""

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        if self._depth == MAX_YAML_DEPTH:
            raise _too_deep(self.peek_event().start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, AttributeError) as error:
            problem = f"bad {node.tag.rsplit(':', 1)[-1]} value: {error}"
            raise yaml.MarkedYAMLError(problem=problem, problem_mark=node.start_mark) from None


class _NodeWalk:
    """Visits the node graph as construction will expand it, each alias as often as it is
    used, so an alias bomb is refused after MAX_YAML_VALUES visits rather than after filling
    the memory. Collects duplicate keys on the way, each reported once."""

    def __init__(self) -> None:
        self.duplicates: list[str] = []
        self._visits = 0
        self._seen: set[int] = set()
        self._open: set[int] = set()  # the nodes enclosing the current one

    def visit(self, node: yaml.Node, path: str, depth: int) -> None:
        if id(node) in self._open:
            raise _refused("an alias refers to a value that contains it", node.start_mark)
        self._visits += 1
        if self._visits > MAX_YAML_VALUES:
            raise _refused(f"more than {MAX_YAML_VALUES} values, counting aliases at each use")
        if depth > MAX_YAML_DEPTH:
            raise _too_deep(node.start_mark)
        first_visit = id(node) not in self._seen
        self._seen.add(id(node))
        self._open.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.visit(item, f"{path}[{index}]", depth + 1)
        elif isinstance(node, yaml.MappingNode):
            if first_visit:
                self._check_keys(node, path)
            for key_node, value_node in node.value:
                where = _join(path, _key_label(key_node))
                self.visit(key_node, where, depth + 1)
                self.visit(value_node, where, depth + 1)
        self._open.discard(id(node))

    def _check_keys(self, node: yaml.MappingNode, path: str) -> None:
        """Merge keys (<<) are left out: the keys they bring in may be overridden."""
        first_marks: dict[tuple[str, str], yaml.Mark] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            key, mark = (key_node.tag, key_node.value), key_node.start_mark
            if key in first_marks:
                self.duplicates.append(
                    f"{_join(path, key_node.value)}: duplicate key at {_position(mark)}"
                    f" (first at {_position(first_marks[key])})"
                )
            else:
                first_marks[key] = mark


def _key_label(key_node: yaml.Node) -> str:
    return key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"


def _refused(problem: str, mark: yaml.Mark | None = None) -> yaml.MarkedYAMLError:
    return yaml.MarkedYAMLError(problem=problem, problem_mark=mark)


def _too_deep(mark: yaml.Mark) -> yaml.MarkedYAMLError:
    return _refused(f"nested more than {MAX_YAML_DEPTH} levels deep", mark)


def _position(mark: yaml.Mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _describe_yaml_error(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark and error.problem:
        return clip(f"{_position(error.problem_mark)}: {error.problem}", limit=200)
    return clip(" ".join(str(error).split()), limit=200)


# Environment references, replaced in string values before the sections are parsed. A value
# with a bad reference becomes _BROKEN: its problem is reported, and the parsers pass over it.

_BROKEN = object()


def _substitute(value: Any, path: str, environ: Mapping[str, str], problems: list[str]) -> Any:
    """`value` with the references in its strings replaced; mapping keys are left as written."""
    if isinstance(value, str):
        try:
            return expand(value, environ)
        except SubstitutionError as error:
            problems.extend(f"{path}: {problem}" for problem in error.problems)
            return _BROKEN
    if isinstance(value, dict):
        return {
            key: _substitute(item, _join(path, key), environ, problems)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            _substitute(item, f"{path}[{index}]", environ, problems)
            for index, item in enumerate(value)
        ]
    return value


def _typed(value: Any, read: Callable[[str], Any]) -> Any:
    """A value that is exactly one reference, read by `read` as the setting's own type; any
    other value as it is."""
    return read(value) if isinstance(value, Substituted) and value.single else value


def _read_int(text: str) -> int | str:
    if not _DIGITS.fullmatch(text):
        return text
    try:
        return int(text)
    except ValueError:  # more digits than int() converts
        return text


def _read_number(text: str) -> int | float | str:
    if not _DECIMAL.fullmatch(text):
        return text
    return int(text) if _DIGITS.fullmatch(text) else float(text)


def _read_bool(text: str) -> bool | str:
    return {"true": True, "false": False}.get(text.lower(), text)


# Section parsers: each takes a mapping and its YAML path, appends problems, returns a spec.


def _exchange(entry: dict, path: str, problems: list[str]) -> ExchangeSpec:
    values = _fields(entry, path, _EXCHANGE_FIELDS, problems)
    return ExchangeSpec(name=values.pop("exchange"), path=path, **values)


def _queue(entry: dict, path: str, problems: list[str]) -> QueueSpec:
    values = _fields(entry, path, _QUEUE_FIELDS, problems)
    arguments, argument_paths = _merge_queue_arguments(values, path, problems)
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
        argument_paths=argument_paths,
    )


def _merge_queue_arguments(
    values: dict, path: str, problems: list[str]
) -> tuple[dict, dict[str, str]]:
    """Turn the x_ shorthand keys into broker arguments and add the explicit ones; return them
    with the YAML path each comes from."""
    merged, paths = {}, {}
    for key in _QUEUE_X_KEYS:
        if values[key] is not None:
            name = key.replace("_", "-")
            merged[name], paths[name] = values[key], f"{path}.{key}"
    for name, value in values["arguments"].items():
        if name in merged:
            problems.append(f"{path}.arguments.{name}: also set by {name.replace('-', '_')}")
        merged[name], paths[name] = value, _join(f"{path}.arguments", name)
    return merged, paths


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
    values = _fields(entry, path, _CONSUMER_FIELDS, problems)
    retry, queue = values.pop("retry"), values["queue"]
    if retry is None or queue is None:
        return ConsumerSpec(path=path, **values)
    spec = RetrySpec(
        max_retries=retry["max_retries"],
        backoff=retry["backoff"],
        archive_queue=retry["archive_queue"] or default_archive_queue(queue),
        archive_ttl=retry["archive_ttl"],
        path=f"{path}.retry",
    )
    return ConsumerSpec(path=path, retry=spec, **values)


def _http(value: Any, path: str, problems: list[str]) -> HttpSpec | None:
    if not isinstance(value, dict):
        problems.append(f"{path}: expected a mapping, got {shown(value)}")
        return None
    return HttpSpec(**_fields(value, path, _HTTP_FIELDS, problems))


def _retry(value: Any, path: str, problems: list[str]) -> dict | None:
    """The block's values, or None if it has a problem."""
    if not isinstance(value, dict):
        problems.append(f"{path}: expected a mapping, got {shown(value)}")
        return None
    found = len(problems)
    values = _fields(value, path, _RETRY_FIELDS, problems)
    if values["backoff"] == ():
        problems.append(f"{path}.backoff: expected at least one delay")
    return values if len(problems) == found else None


def default_archive_queue(queue: str) -> str:
    return suffixed(queue, ".archive")


def milliseconds(seconds: float) -> int:
    """Seconds as RabbitMQ takes them: whole milliseconds."""
    return round(seconds * 1000)


def _is_seconds(value: object) -> bool:
    """A number of seconds > 0, in whole milliseconds, that fits a TTL (32 bits of them)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < math.inf:
        return False
    ms = value * 1000
    return abs(ms - round(ms)) < 1e-6 and 1 <= round(ms) <= _UINT32_MAX


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
        elif value is not None and value is not _BROKEN:
            parsed = schema[key][0](value, where, problems)
            if parsed is not None:
                values[key] = parsed
    for key, (_, default) in schema.items():
        if default is _REQUIRED and entry.get(key) is None:
            problems.append(f"{_join(path, key)}: is required")
        values.setdefault(key, None if default is _REQUIRED else copy.copy(default))
    return values


def _join(path: str, key: object) -> str:
    label = clip(key) if isinstance(key, str) and key.isprintable() else excerpt(key)
    return f"{path}.{label}" if path else label


def _did_you_mean(key: object, schema: dict[str, Any]) -> str:
    if not isinstance(key, str):
        return ""
    matches = difflib.get_close_matches(key, list(schema), n=1)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def _list_of(
    parse_entry: Callable[[dict, str, list[str]], Any],
    unique: str | None = None,
    non_empty: bool = False,
) -> _Parser:
    """Parser for a list of mappings; `unique` names the key whose value must not repeat."""

    def parse(value: Any, path: str, problems: list[str]) -> tuple | None:
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list, got {shown(value)}")
            return None
        if non_empty and not value:
            problems.append(f"{path}: expected at least one entry")
        specs, seen = [], {}
        for index, entry in enumerate(value):
            where = f"{path}[{index}]"
            if entry is _BROKEN:
                continue
            if not isinstance(entry, dict):
                problems.append(f"{where}: expected a mapping, got {shown(entry)}")
                continue
            spec = parse_entry(entry, where, problems)
            specs.append(spec)
            if unique and spec.name is not None:
                first = seen.setdefault(spec.name, where)
                if first != where:
                    problems.append(
                        f"{where}.{unique}: duplicate {unique} {shown(spec.name)}, also at {first}"
                    )
        return tuple(specs)

    return parse


def _scalars(parse_item: _Parser) -> _Parser:
    """Parser for a list of scalars, each parsed by `parse_item`."""

    def parse(value: Any, path: str, problems: list[str]) -> tuple | None:
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list, got {shown(value)}")
            return None
        return tuple(
            parse_item(item, f"{path}[{index}]", problems)
            for index, item in enumerate(value)
            if item is not _BROKEN
        )

    return parse


def _scalar(
    expected: str, accepts: Callable[[Any], bool], read: Callable[[str], Any] | None = None
) -> _Parser:
    """Parser for a value `accepts` takes; with `read`, a value that is exactly one environment
    reference is read by it first (see _typed)."""

    def parse(value: Any, path: str, problems: list[str]) -> Any:
        typed = _typed(value, read) if read else value
        if accepts(typed):
            return typed
        problems.append(f"{path}: expected {expected}, got {shown(value)}")
        return None

    return parse


def _int_between(minimum: int, maximum: int) -> _Parser:
    # bool is a subclass of int, but `consumer_count: true` is a mistake, not 1.
    return _scalar(
        f"an integer from {minimum} to {maximum}",
        lambda v: _is_int(v) and minimum <= v <= maximum,
        _read_int,
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _one_of(*choices: str) -> _Parser:
    return _scalar("one of " + ", ".join(choices), lambda v: isinstance(v, str) and v in choices)


def _text(expected: str, non_empty: bool = False, max_bytes: int | None = None) -> _Parser:
    """Parser for a string that pika can encode: UTF-8, at most max_bytes once encoded."""

    def parse(value: Any, path: str, problems: list[str]) -> str | None:
        if not isinstance(value, str) or (non_empty and not value):
            problems.append(f"{path}: expected {expected}, got {shown(value)}")
            return None
        problem = _text_problem(value, max_bytes)
        if problem:
            problems.append(f"{path}: {problem}")
            return None
        return value

    return parse


def _text_problem(text: str, max_bytes: int | None) -> str | None:
    try:
        size = len(text.encode())
    except UnicodeEncodeError:  # a lone surrogate, from an escape such as "\ud800"
        return f"cannot be encoded as UTF-8: {shown(text)}"
    if max_bytes is not None and size > max_bytes:
        return f"too long: {size} bytes in UTF-8, at most {max_bytes} allowed"
    return None


def _arguments(value: Any, path: str, problems: list[str]) -> dict | None:
    if not isinstance(value, dict):
        problems.append(f"{path}: expected a mapping with string keys, got {shown(value)}")
        return None
    _check_table(value, path, problems)
    return value


def _options(value: Any, path: str, problems: list[str]) -> dict | None:
    """Keyword arguments for the consumer's constructor: names that Python can take."""
    if not isinstance(value, dict):
        problems.append(f"{path}: expected a mapping of option names to values, got {shown(value)}")
        return None
    for key in value:
        if not isinstance(key, str) or not key.isidentifier():
            problems.append(f"{_join(path, key)}: an option name must be a Python identifier")
        elif keyword.iskeyword(key):
            problems.append(f"{_join(path, key)}: an option name cannot be a Python keyword")
    return value


def _check_table(table: dict, path: str, problems: list[str]) -> None:
    """An AMQP field table: short-string keys, values as _check_field_value accepts."""
    for key, value in table.items():
        if not isinstance(key, str):
            problems.append(f"{path}: expected string keys, got {excerpt(key)}")
            continue
        where = _join(path, key)
        problem = _text_problem(key, MAX_NAME_BYTES)
        if problem:
            problems.append(f"{where}: key {problem}")
        _check_field_value(value, where, problems)


def _check_field_value(value: object, path: str, problems: list[str]) -> None:
    """Accept what pika encodes into a field table, except floats (it cannot) and
    timestamps (an unquoted date is more likely a mistake than a wish)."""
    if isinstance(value, str):
        problem = _text_problem(value, None)
        if problem:
            problems.append(f"{path}: {problem}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_field_value(item, f"{path}[{index}]", problems)
    elif isinstance(value, dict):
        _check_table(value, path, problems)
    elif isinstance(value, int):  # bool included
        if not _INT64_MIN <= value <= _INT64_MAX:
            problems.append(f"{path}: expected a signed 64-bit integer, got {shown(value)}")
    elif not (value is None or value is _BROKEN or isinstance(value, bytes)):
        problems.append(
            f"{path}: expected a string, integer, boolean, null, list or mapping,"
            f" got {shown(value)}"
        )


def _is_import_path(value: object) -> bool:
    if not isinstance(value, str) or value.count(":") != 1:
        return False
    return all(part.isidentifier() for side in value.split(":") for part in side.split("."))


_BOOL = _scalar("a boolean", lambda v: isinstance(v, bool), _read_bool)
_STRING = _text("a string")
_SHORT_STRING = _text("a string", max_bytes=MAX_NAME_BYTES)
_NAME = _text("a non-empty string", non_empty=True, max_bytes=MAX_NAME_BYTES)
_IMPORT_PATH = _scalar("'module:attribute'", _is_import_path)

_EXCHANGE_FIELDS = {
    "exchange": (_NAME, _REQUIRED),
    "type": (_one_of("direct", "topic", "fanout", "headers"), "direct"),
    "durable": (_BOOL, True),
    "auto_delete": (_BOOL, False),
    "internal": (_BOOL, False),
    "passive": (_BOOL, False),
    "arguments": (_arguments, {}),
}

_BINDING_FIELDS = {
    "exchange": (_NAME, _REQUIRED),  # '' is the default exchange, which cannot be bound
    "routing_key": (_SHORT_STRING, ""),
    "arguments": (_arguments, {}),
}

_QUEUE_FIELDS = {
    "queue": (_NAME, _REQUIRED),
    "durable": (_BOOL, True),
    "auto_delete": (_BOOL, False),
    "exclusive": (_BOOL, False),
    "passive": (_BOOL, False),
    "x_dead_letter_exchange": (_STRING, None),
    "x_dead_letter_routing_key": (_STRING, None),
    "x_max_length": (_int_between(0, _INT64_MAX), None),
    "x_expires": (_int_between(1, _UINT32_MAX), None),
    "x_message_ttl": (_int_between(0, _UINT32_MAX), None),
    "x_queue_type": (_one_of("classic", "quorum", "stream"), None),
    "arguments": (_arguments, {}),
    "bindings": (_list_of(_binding), ()),
}
_QUEUE_X_KEYS = tuple(key for key in _QUEUE_FIELDS if key.startswith("x_"))

_CONSUMER_FIELDS = {
    "consumer": (_IMPORT_PATH, _REQUIRED),
    "queue": (_NAME, _REQUIRED),
    "consumer_count": (_int_between(1, MAX_CONSUMER_COUNT), 1),
    "prefetch_count": (_int_between(0, MAX_PREFETCH_COUNT), 1),
    "options": (_options, {}),
    "retry": (_retry, None),
}

_SECONDS = _scalar(
    f"seconds > 0 in whole milliseconds, at most {_UINT32_MAX / 1000:.3f}",
    _is_seconds,
    _read_number,
)

_RETRY_FIELDS = {
    "max_retries": (_int_between(0, MAX_RETRIES), _REQUIRED),
    "backoff": (_scalars(_SECONDS), _REQUIRED),
    "archive_queue": (_NAME, None),
    "archive_ttl": (_SECONDS, None),
}

_HTTP_FIELDS = {
    "port": (_int_between(1, MAX_PORT), None),
    "address": (_text("a non-empty string", non_empty=True), DEFAULT_HTTP_ADDRESS),
    "request_timeout": (_SECONDS, DEFAULT_HTTP_REQUEST_TIMEOUT),
}

_TOP_LEVEL_FIELDS = {
    "startup_handler": (_IMPORT_PATH, None),
    "middleware": (_scalars(_IMPORT_PATH), ()),
    "exchanges": (_list_of(_exchange, unique="exchange"), ()),
    "queues": (_list_of(_queue, unique="queue"), ()),
    "consumers": (_list_of(_consumer, non_empty=True), _REQUIRED),
    "log_format": (_one_of(*LOG_FORMATS), "text"),
    "http": (_http, HttpSpec(port=None, address=DEFAULT_HTTP_ADDRESS)),
}
