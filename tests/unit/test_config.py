import copy
import dataclasses
import datetime
import subprocess
import sys
import textwrap

import pytest

from amqpdispatcher.config import (
    MAX_THREADS,
    MAX_TIME_LIMIT,
    BindingSpec,
    Config,
    ConfigError,
    ConsumerSpec,
    ExchangeSpec,
    HttpSpec,
    QueueSpec,
    load_config,
    parse_config,
)
from amqpdispatcher.substitution import Substituted

FULL_CONFIG = """
startup_handler: app.hooks:on_start
exchanges:
  - exchange: events
    type: topic
    durable: false
    auto_delete: true
    internal: true
    passive: true
    arguments: {alternate-exchange: unrouted}
queues:
  - queue: work
    durable: true
    auto_delete: false
    exclusive: false
    passive: false
    x_dead_letter_exchange: ''
    x_dead_letter_routing_key: work.dead
    x_max_length: 1000
    x_expires: 60000
    x_message_ttl: 0
    x_queue_type: quorum
    arguments: {x-overflow: reject-publish}
    bindings:
      - exchange: events
        routing_key: 'work.#'
        arguments: {x-match: any}
consumers:
  - consumer: app.consumers:Outer.Worker
    queue: work
    consumer_count: 4
    prefetch_count: 0
    options: {shop: north, retries: 3, tags: [a, b], limits: {size: 1.5}, when: 2024-01-01}
"""


def write(tmp_path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(text))
    return str(path)


def problems_for(data: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, "cfg.yaml")
    return info.value.problems


def minimal(**top) -> dict:
    return {"consumers": [{"consumer": "m:C", "queue": "q"}], **top}


def test_full_config_round_trips(tmp_path):
    path = write(tmp_path, FULL_CONFIG)
    config = load_config(path)

    assert config.source == path
    assert config.startup_handler == "app.hooks:on_start"
    assert config.exchanges == (
        ExchangeSpec(
            "events",
            "topic",
            False,
            True,
            True,
            True,
            {"alternate-exchange": "unrouted"},
            "exchanges[0]",
        ),
    )
    binding = BindingSpec("events", "work.#", {"x-match": "any"}, "queues[0].bindings[0]")
    assert config.queues == (
        QueueSpec(
            name="work",
            durable=True,
            auto_delete=False,
            exclusive=False,
            passive=False,
            arguments={
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": "work.dead",
                "x-max-length": 1000,
                "x-expires": 60000,
                "x-message-ttl": 0,
                "x-queue-type": "quorum",
                "x-overflow": "reject-publish",
            },
            bindings=(binding,),
            path="queues[0]",
            argument_paths={
                "x-dead-letter-exchange": "queues[0].x_dead_letter_exchange",
                "x-dead-letter-routing-key": "queues[0].x_dead_letter_routing_key",
                "x-max-length": "queues[0].x_max_length",
                "x-expires": "queues[0].x_expires",
                "x-message-ttl": "queues[0].x_message_ttl",
                "x-queue-type": "queues[0].x_queue_type",
                "x-overflow": "queues[0].arguments.x-overflow",
            },
        ),
    )
    options = {
        "shop": "north",
        "retries": 3,
        "tags": ["a", "b"],
        "limits": {"size": 1.5},
        "when": datetime.date(2024, 1, 1),
    }
    assert config.consumers == (
        ConsumerSpec("app.consumers:Outer.Worker", "work", 4, 0, "consumers[0]", options),
    )


NULLS_CONFIG = """
startup_handler:
exchanges:
  - {exchange: e, type: null, durable: null, auto_delete: null, internal: null, passive: null,
     arguments: null}
queues:
  - {queue: q, durable: null, auto_delete: null, exclusive: null, passive: null,
     x_dead_letter_exchange: null, x_dead_letter_routing_key: null, x_max_length: null,
     x_expires: null, x_message_ttl: null, x_queue_type: null, arguments: null, bindings: null}
  - queue: bound
    bindings: [{exchange: e, routing_key: null, arguments: null}]
consumers:
  - {consumer: m:C, queue: q, consumer_count: null, prefetch_count: null, options: null}
"""


OMITTED_CONFIG = """
exchanges: [{exchange: e}]
queues: [{queue: q}, {queue: bound, bindings: [{exchange: e}]}]
consumers: [{consumer: m:C, queue: q}]
"""


@pytest.mark.parametrize("text", [NULLS_CONFIG, OMITTED_CONFIG])
def test_defaults_for_null_or_omitted_keys(tmp_path, text):
    config = load_config(write(tmp_path, text))

    assert config.startup_handler is None
    assert config.exchanges == (
        ExchangeSpec("e", "direct", True, False, False, False, {}, "exchanges[0]"),
    )
    binding = BindingSpec("e", "", {}, "queues[1].bindings[0]")
    assert config.queues == (
        QueueSpec("q", True, False, False, False, {}, (), "queues[0]"),
        QueueSpec("bound", True, False, False, False, {}, (binding,), "queues[1]"),
    )
    assert config.consumers == (ConsumerSpec("m:C", "q", 1, 1, "consumers[0]"),)


def test_sections_other_than_consumers_are_optional():
    config = parse_config(minimal(exchanges=None, queues=None, middleware=None), "cfg.yaml")
    assert (config.exchanges, config.queues, config.middleware) == ((), (), ())


def test_middleware_is_kept_in_order():
    config = parse_config(minimal(middleware=["b.c:Metrics", "a:Log"]), "cfg.yaml")
    assert config.middleware == ("b.c:Metrics", "a:Log")


def test_log_format_is_text_unless_the_yaml_says_json():
    assert parse_config(minimal(), "cfg.yaml").log_format == "text"
    assert parse_config(minimal(log_format="json"), "cfg.yaml").log_format == "json"


def test_default_arguments_are_not_shared():
    config = parse_config(minimal(exchanges=[{"exchange": "a"}, {"exchange": "b"}]), "cfg.yaml")
    assert config.exchanges[0].arguments is not config.exchanges[1].arguments


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({}, "consumers: is required"),
        ({"consumers": []}, "consumers: expected at least one entry"),
        ({"consumers": {"a": 1}}, "consumers: expected a list, got {'a': 1}"),
        ({"consumers": ["m:C"]}, "consumers[0]: expected a mapping, got 'm:C'"),
        (minimal(consumer=[]), "consumer: unknown key (did you mean 'consumers'?)"),
        (
            minimal(startup_handler="hooks"),
            "startup_handler: expected 'module:attribute', got 'hooks'",
        ),
        (minimal(middleware="m:M"), "middleware: expected a list, got 'm:M'"),
        (minimal(log_format="JSON"), "log_format: expected one of text, json, got 'JSON'"),
        (minimal(middleware=["m:M", "m"]), "middleware[1]: expected 'module:attribute', got 'm'"),
        (
            {"consumers": [{"consumer": "m:C", "queue": "q", "prefech_count": 2}]},
            "consumers[0].prefech_count: unknown key (did you mean 'prefetch_count'?)",
        ),
        (minimal(queues=[{"queue": "q", "zzz": 1}]), "queues[0].zzz: unknown key"),
        (
            {"consumers": [{"consumer": "m:C", "queue": "q", "consumer_count": True}]},
            "consumers[0].consumer_count: expected an integer from 1 to 10000, got True",
        ),
        (
            {"consumers": [{"consumer": "m:C", "queue": "q", "consumer_count": 0}]},
            "consumers[0].consumer_count: expected an integer from 1 to 10000, got 0",
        ),
        (
            minimal(queues=[{"queue": "q", "durable": 1}]),
            "queues[0].durable: expected a boolean, got 1",
        ),
        (
            {"consumers": [{"consumer": "m:C", "queue": 123}]},
            "consumers[0].queue: expected a non-empty string, got 123",
        ),
        ({"consumers": [{"consumer": "m:C"}]}, "consumers[0].queue: is required"),
        (
            minimal(exchanges=[{"exchange": "e", "type": "fan"}]),
            "exchanges[0].type: expected one of direct, topic, fanout, headers, got 'fan'",
        ),
        (
            minimal(exchanges=[{"exchange": "e", "arguments": ["x"]}]),
            "exchanges[0].arguments: expected a mapping with string keys, got ['x']",
        ),
        (
            minimal(queues=[{"queue": "q", "x_expires": 0}]),
            "queues[0].x_expires: expected an integer from 1 to 4294967295, got 0",
        ),
        (
            minimal(queues=[{"queue": "q", "x_queue_type": "lazy"}]),
            "queues[0].x_queue_type: expected one of classic, quorum, stream, got 'lazy'",
        ),
        (
            minimal(queues=[{"queue": "q", "bindings": [{"exchange": ""}]}]),
            "queues[0].bindings[0].exchange: expected a non-empty string, got ''",
        ),
        (
            minimal(queues=[{"queue": "q", "x_max_length": 5, "arguments": {"x-max-length": 6}}]),
            "queues[0].arguments.x-max-length: also set by x_max_length",
        ),
        (
            minimal(queues=[{"queue": "a"}, {"queue": "b"}, {"queue": "a"}]),
            "queues[2].queue: duplicate queue 'a', also at queues[0]",
        ),
        (
            minimal(exchanges=[{"exchange": "e"}, {"exchange": "e"}]),
            "exchanges[1].exchange: duplicate exchange 'e', also at exchanges[0]",
        ),
    ],
)
def test_single_problem(data, problem):
    assert problems_for(data) == [problem]


@pytest.mark.parametrize(
    "path",
    ["pkg", "pkg.mod:", ":Class", "pkg-x:Class", "a:b:c", "pkg.mod:Class.", "pkg..mod:Class", 5],
)
def test_bad_import_paths(path):
    assert problems_for({"consumers": [{"consumer": path, "queue": "q"}]}) == [
        f"consumers[0].consumer: expected 'module:attribute', got {path!r}"
    ]


@pytest.mark.parametrize("queue_type", ["quorum", "stream"])
def test_replicated_queue_refuses_transient_settings(queue_type):
    queue = {"queue": "q", "durable": False, "exclusive": True, "auto_delete": True}
    assert problems_for(minimal(queues=[{**queue, "x_queue_type": queue_type}])) == [
        f"queues[0].durable: must be true for a {queue_type} queue",
        f"queues[0].exclusive: must be false for a {queue_type} queue",
        f"queues[0].auto_delete: must be false for a {queue_type} queue",
    ]


def test_replicated_queue_type_given_as_argument_is_checked_too():
    queue = {"queue": "q", "durable": False, "arguments": {"x-queue-type": "quorum"}}
    assert problems_for(minimal(queues=[queue])) == [
        "queues[0].durable: must be true for a quorum queue"
    ]


def test_all_problems_reported_together_in_document_order(tmp_path):
    path = write(
        tmp_path,
        """
        queues:
          - queue: q
            durable: yes please
          - not a mapping
        consumers:
          - consumer: foo
            queue: q
            prefetch_count: ten
          - queue: ''
        colour: blue
        """,
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)

    assert info.value.source == path
    assert str(info.value).splitlines() == [
        f"{path}: queues[0].durable: expected a boolean, got 'yes please'",
        f"{path}: queues[1]: expected a mapping, got 'not a mapping'",
        f"{path}: consumers[0].consumer: expected 'module:attribute', got 'foo'",
        f"{path}: consumers[0].prefetch_count: expected an integer from 0 to 65535, got 'ten'",
        f"{path}: consumers[1].queue: expected a non-empty string, got ''",
        f"{path}: consumers[1].consumer: is required",
        f"{path}: colour: unknown key",
    ]


def test_python_tags_are_refused_not_executed(tmp_path):
    marker = tmp_path / "X"
    path = write(tmp_path, f'!!python/object/apply:os.system ["touch {marker}"]\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)

    assert info.value.problems == [
        "line 1, column 1: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'"
    ]
    assert not marker.exists()


def test_yaml_syntax_error_reports_line_and_column(tmp_path):
    path = write(tmp_path, "consumers:\n  - queue: q\n    consumer: a: b\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == ["line 3, column 16: mapping values are not allowed here"]


def test_unreadable_file(tmp_path):
    path = str(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: cannot read: No such file or directory"


@pytest.mark.parametrize(("text", "shown"), [("", "None"), ("- a\n", "['a']")])
def test_document_must_be_a_mapping(tmp_path, text, shown):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert info.value.problems == [f"(top level): expected a mapping, got {shown}"]


# Limits of the AMQP encoding and of the broker: refused by the config, not at start.

LONG_NAME = "é" * 128  # 128 characters, 256 bytes in UTF-8
TOO_LONG = "too long: 256 bytes in UTF-8, at most 255 allowed"
VALUE_TYPES = "expected a string, integer, boolean, null, list or mapping"


def consumer(**fields) -> dict:
    return {"consumers": [{"consumer": "m:C", "queue": "q", **fields}]}


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (
            consumer(prefetch_count=70000),
            "consumers[0].prefetch_count: expected an integer from 0 to 65535, got 70000",
        ),
        (
            consumer(consumer_count=50_000_000),
            "consumers[0].consumer_count: expected an integer from 1 to 10000, got 50000000",
        ),
        (
            minimal(queues=[{"queue": "q", "x_max_length": 99999999999999999999999}]),
            "queues[0].x_max_length: expected an integer from 0 to 9223372036854775807, "
            "got 99999999999999999999999",
        ),
        (
            minimal(queues=[{"queue": "q", "x_expires": 2**32}]),
            "queues[0].x_expires: expected an integer from 1 to 4294967295, got 4294967296",
        ),
        (
            minimal(queues=[{"queue": "q", "x_message_ttl": 2**32}]),
            "queues[0].x_message_ttl: expected an integer from 0 to 4294967295, got 4294967296",
        ),
        (minimal(queues=[{"queue": LONG_NAME}]), f"queues[0].queue: {TOO_LONG}"),
        (minimal(exchanges=[{"exchange": LONG_NAME}]), f"exchanges[0].exchange: {TOO_LONG}"),
        (consumer(queue=LONG_NAME), f"consumers[0].queue: {TOO_LONG}"),
        (
            minimal(queues=[{"queue": "q", "bindings": [{"exchange": LONG_NAME}]}]),
            f"queues[0].bindings[0].exchange: {TOO_LONG}",
        ),
        (
            minimal(
                queues=[{"queue": "q", "bindings": [{"exchange": "e", "routing_key": LONG_NAME}]}]
            ),
            f"queues[0].bindings[0].routing_key: {TOO_LONG}",
        ),
        (
            minimal(queues=[{"queue": "\ud800"}]),
            "queues[0].queue: cannot be encoded as UTF-8: '\\ud800'",
        ),
        (
            minimal(queues=[{"queue": "q", "x_dead_letter_routing_key": "\ud800"}]),
            "queues[0].x_dead_letter_routing_key: cannot be encoded as UTF-8: '\\ud800'",
        ),
    ],
)
def test_amqp_and_broker_limits(data, problem):
    assert problems_for(data) == [problem]


def test_values_at_the_limits_are_accepted():
    config = parse_config(
        {
            "exchanges": [{"exchange": "x" * 255}],
            "queues": [
                {
                    "queue": "é" * 127 + "q",
                    "x_max_length": 2**63 - 1,
                    "x_expires": 2**32 - 1,
                    "x_message_ttl": 2**32 - 1,
                    "bindings": [{"exchange": "x" * 255, "routing_key": "k" * 255}],
                }
            ],
            "consumers": [
                {"consumer": "m:C", "queue": "q", "consumer_count": 10000, "prefetch_count": 65535}
            ],
        },
        "cfg.yaml",
    )
    assert config.queues[0].arguments["x-max-length"] == 2**63 - 1
    assert (config.consumers[0].consumer_count, config.consumers[0].prefetch_count) == (
        10000,
        65535,
    )


def test_argument_values_pika_can_encode_are_accepted():
    arguments = {
        "string": "s",
        "bytes": b"\x00",
        "bool": True,
        "int": -(2**63),
        "null": None,
        "list": [1, "a", [2**63 - 1]],
        "table": {"k": {"nested": ["v"]}},
    }
    config = parse_config(minimal(exchanges=[{"exchange": "e", "arguments": arguments}]), "cfg")
    assert config.exchanges[0].arguments == arguments


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"x-foo": 1.5}, f"x-foo: {VALUE_TYPES}, got 1.5"),
        ({"x-foo": {"a"}}, f"x-foo: {VALUE_TYPES}, got {{'a'}}"),
        ({"x-foo": (1,)}, f"x-foo: {VALUE_TYPES}, got (1,)"),
        (
            {"x-foo": [1, "a", 2**63]},
            "x-foo[2]: expected a signed 64-bit integer, got 9223372036854775808",
        ),
        (
            {"x-foo": {"a": [{"b": -(2**63) - 1}]}},
            "x-foo.a[0].b: expected a signed 64-bit integer, got -9223372036854775809",
        ),
        ({"x-foo": {1: "a"}}, "x-foo: expected string keys, got 1"),
        ({"k" * 256: 1}, f"{'k' * 57}...: key too long: 256 bytes in UTF-8, at most 255 allowed"),
        ({"x-foo": ["\udfff"]}, "x-foo[0]: cannot be encoded as UTF-8: '\\udfff'"),
    ],
)
@pytest.mark.parametrize(
    ("place", "path"),
    [
        (lambda a: {"exchanges": [{"exchange": "e", "arguments": a}]}, "exchanges[0]"),
        (lambda a: {"queues": [{"queue": "q", "arguments": a}]}, "queues[0]"),
        (
            lambda a: {"queues": [{"queue": "q", "bindings": [{"exchange": "e", "arguments": a}]}]},
            "queues[0].bindings[0]",
        ),
    ],
    ids=["exchange", "queue", "binding"],
)
def test_argument_values_pika_cannot_encode_are_refused(arguments, problem, place, path):
    assert problems_for(minimal(**place(arguments))) == [f"{path}.arguments.{problem}"]


def test_timestamps_and_sets_from_yaml_are_refused_as_arguments(tmp_path):
    path = write(
        tmp_path,
        """
        queues:
          - queue: q
            arguments:
              x-date: 2024-01-01
              x-list: [1, 2, 2024-01-01 10:00:00]
              x-set: !!set {a}
        consumers: [{consumer: m:C, queue: q}]
        """,
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == [
        f"queues[0].arguments.x-date: {VALUE_TYPES}, got datetime.date(2024, 1, 1)",
        f"queues[0].arguments.x-list[2]: {VALUE_TYPES}, got datetime.datetime(2024, 1, 1, 10, 0)",
        f"queues[0].arguments.x-set: {VALUE_TYPES}, got {{'a'}}",
    ]


# Hostile YAML: each a one-line error, soon. These run in a subprocess so that a regression
# costs a timeout there, not this process's memory.

LOAD_SCRIPT = """
import sys
from amqpdispatcher.config import ConfigError, load_config
try:
    load_config(sys.argv[1])
except ConfigError as error:
    print(error)
"""


def load_in_subprocess(path: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", LOAD_SCRIPT, path], capture_output=True, text=True, timeout=10
    )
    assert result.stderr == ""
    return result.stdout


def alias_bomb(levels: int) -> str:
    names = "abcdefghijklmnop"[:levels]
    lines = ["a: &a [x,x,x,x,x,x,x,x,x]"]
    lines += [
        f"{name}: &{name} [{','.join([f'*{below}'] * 9)}]"
        for below, name in zip(names, names[1:], strict=False)
    ]
    return "\n".join([*lines, f"consumers: *{names[-1]}", ""])


@pytest.mark.parametrize("levels", [7, 9])
def test_alias_bomb_is_refused(tmp_path, levels):
    path = write(tmp_path, alias_bomb(levels))
    assert load_in_subprocess(path) == (
        f"{path}: more than 100000 values, counting aliases at each use\n"
    )


def test_deep_nesting_is_refused(tmp_path):
    path = write(tmp_path, "consumers: " + "[" * 600 + "]" * 600 + "\n")
    assert (
        load_in_subprocess(path) == f"{path}: line 1, column 61: nested more than 50 levels deep\n"
    )


def test_deep_nesting_through_aliases_is_refused(tmp_path):
    path = write(
        tmp_path,
        "deep: &deep " + "[" * 45 + "]" * 45 + "\nconsumers: " + "[" * 10 + "*deep" + "]" * 10,
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == ["line 1, column 52: nested more than 50 levels deep"]


def test_recursive_alias_is_refused(tmp_path):
    path = write(tmp_path, "consumers: &loop [m, *loop]\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == ["line 1, column 12: an alias refers to a value that contains it"]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("2024-13-45", "line 1, column 18: bad timestamp value: month must be in 1..12"),
        (
            "!!int abc",
            "line 1, column 18: bad int value: invalid literal for int() with base 10: 'abc'",
        ),
        ("0b_", "line 1, column 18: bad int value: invalid literal for int() with base 2: ''"),
    ],
)
def test_scalars_yaml_cannot_construct_are_reported_with_their_position(tmp_path, value, problem):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, f"startup_handler: {value}\n"))
    assert info.value.problems == [problem]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("'" + "x" * 100_000 + "'", "'" + "x" * 56 + "..."),
        ("{k: [" + "x, " * 10_000 + "]}", repr({"k": ["x"] * 10_000})[:57] + "..."),
        ("0x" + "f" * 5000, "<int too large to show>"),
    ],
)
def test_values_shown_in_errors_are_cut_short(tmp_path, value, shown):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, f"consumers: {value}\n"))
    assert info.value.problems == [f"consumers: expected a list, got {shown}"]


@pytest.mark.parametrize(
    ("key", "shown"),
    [("k" * 100_000, "k" * 57 + "..."), (16**5000, "<int too large to show>"), ("a\nb", "'a\\nb'")],
    ids=["long", "huge-int", "newline"],
)
def test_keys_in_error_paths_are_cut_short_on_one_line(key, shown):
    assert problems_for({**minimal(), key: 1}) == [f"{shown}: unknown key"]


def test_yaml_errors_are_cut_short(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "consumers: *" + "a" * 1000 + "\n"))
    (problem,) = info.value.problems
    assert problem.startswith("line 1, column 12: found undefined alias 'aaa")
    assert len(problem) == 200


# Duplicate keys: an error with both positions, whichever the level; merge keys still work.


def test_duplicate_keys_are_refused_with_their_positions(tmp_path):
    path = write(
        tmp_path,
        """
        consumers: [{consumer: m:C, queue: q}]
        queues:
          - queue: q
            durable: true
            durable: false
        consumers: [{consumer: m:C, queue: q, queue: r}]
        """,
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == [
        "consumers: duplicate key at line 7, column 1 (first at line 2, column 1)",
        "queues[0].durable: duplicate key at line 6, column 5 (first at line 5, column 5)",
        "consumers[0].queue: duplicate key at line 7, column 39 (first at line 7, column 29)",
    ]


def test_duplicate_keys_come_with_the_other_problems_once_each(tmp_path):
    path = write(
        tmp_path,
        """
        queues:
          - &q {queue: q, durable: true, durable: false}
          - *q
        consumers: [{consumer: m:C, queue: q, prefetch_count: -1}]
        """,
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == [
        "queues[0].durable: duplicate key at line 3, column 34 (first at line 3, column 19)",
        "queues[1].queue: duplicate queue 'q', also at queues[0]",
        "consumers[0].prefetch_count: expected an integer from 0 to 65535, got -1",
    ]


def test_merge_keys_may_override_without_being_duplicates(tmp_path):
    path = write(
        tmp_path,
        """
        queues:
          - &base {queue: a, durable: false, auto_delete: true}
          - &other {queue: b, durable: true}
          - <<: *base
            queue: c
            durable: true
          - <<: *base
            <<: *other
            queue: d
        consumers: [{consumer: m:C, queue: a}]
        """,
    )
    config = load_config(path)
    assert [queue.name for queue in config.queues] == ["a", "b", "c", "d"]
    assert (config.queues[2].durable, config.queues[2].auto_delete) == (True, True)


# Consumer options: keyword arguments for the constructor (loader.py checks them against it).


def test_options_default_to_a_mapping_of_their_own():
    config = parse_config({"consumers": [{"consumer": "m:C", "queue": "q"}] * 2}, "cfg.yaml")
    first, second = config.consumers
    assert first.options == {}
    assert first.options is not second.options


def test_a_spec_with_options_can_still_key_a_dict():
    config = parse_config(
        minimal(consumers=[{"consumer": "m:C", "queue": "q", "options": {"a": [1]}}]), "cfg"
    )
    (spec,) = config.consumers
    assert {spec: 1}[spec] == 1


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ([1], "consumers[0].options: expected a mapping of option names to values, got [1]"),
        (
            {"shop-name": 1},
            "consumers[0].options.shop-name: an option name must be a Python identifier",
        ),
        ({"1st": 1}, "consumers[0].options.1st: an option name must be a Python identifier"),
        ({3: 1}, "consumers[0].options.3: an option name must be a Python identifier"),
        ({"class": 1}, "consumers[0].options.class: an option name cannot be a Python keyword"),
    ],
)
def test_bad_options(options, problem):
    assert problems_for(
        minimal(consumers=[{"consumer": "m:C", "queue": "q", "options": options}])
    ) == [problem]


# Environment references in string values.

ENV = {"QUEUE": "jobs", "WORKERS": "4", "PASSWORD": "123456", "EMPTY": "", "FLAG": "TRUE"}


def loaded(tmp_path, text: str, environ: dict[str, str] = ENV):
    return load_config(write(tmp_path, text), environ)


def problems_loading(tmp_path, text: str, environ: dict[str, str] = ENV) -> list[str]:
    with pytest.raises(ConfigError) as info:
        loaded(tmp_path, text, environ)
    return info.value.problems


def test_references_in_names_are_replaced(tmp_path):
    config = loaded(
        tmp_path,
        """
        queues: [{queue: '${QUEUE}', x_dead_letter_exchange: '${QUEUE}.dead'}]
        consumers: [{consumer: 'app.${QUEUE}:C', queue: '${QUEUE}'}]
        """,
    )
    assert config.queues[0].name == "jobs"
    assert config.queues[0].arguments == {"x-dead-letter-exchange": "jobs.dead"}
    assert config.consumers[0].consumer == "app.jobs:C"
    assert config.consumers[0].queue == "jobs"


def test_the_environment_is_os_environ_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("AMQPD_TEST_QUEUE", "from-os")
    config = load_config(
        write(tmp_path, "consumers: [{consumer: m:C, queue: '${AMQPD_TEST_QUEUE}'}]")
    )
    assert config.consumers[0].queue == "from-os"


def parsed(environ: dict[str, str] = ENV, consumer: dict | None = None, **top) -> Config:
    consumers = [{"consumer": "m:C", "queue": "q", **(consumer or {})}]
    return parse_config({"consumers": consumers, **top}, "cfg.yaml", environ)


def problems_parsing(**kwargs) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parsed(**kwargs)
    return info.value.problems


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("consumer_count", "${WORKERS}", 4),
        ("consumer_count", "${UNSET:-7}", 7),
        ("consumer_count", "${EMPTY:-007}", 7),
        ("prefetch_count", "${WORKERS}", 4),
        ("prefetch_count", "${UNSET:-0}", 0),
    ],
)
def test_a_reference_alone_gives_an_integer_setting(key, text, expected):
    assert getattr(parsed(consumer={key: text}).consumers[0], key) == expected


@pytest.mark.parametrize("key", ["x_max_length", "x_expires", "x_message_ttl"])
def test_a_reference_alone_gives_an_integer_queue_argument(key):
    config = parsed(queues=[{"queue": "q", key: "${WORKERS}"}])
    (value,) = config.queues[0].arguments.values()
    assert value == 4 and type(value) is int


@pytest.mark.parametrize(
    ("text", "expected"),
    [("${FLAG}", True), ("${UNSET:-false}", False), ("${UNSET:-False}", False)],
)
@pytest.mark.parametrize("key", ["durable", "auto_delete", "exclusive", "passive"])
def test_a_reference_alone_gives_a_boolean_queue_setting(key, text, expected):
    assert getattr(parsed(queues=[{"queue": "q", key: text}]).queues[0], key) is expected


@pytest.mark.parametrize("key", ["durable", "auto_delete", "internal", "passive"])
def test_a_reference_alone_gives_a_boolean_exchange_setting(key):
    assert getattr(parsed(exchanges=[{"exchange": "e", key: "${FLAG}"}]).exchanges[0], key)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("${PASSWORD}", "the value of ${PASSWORD} (not shown)"),  # out of range
        ("${UNSET:-four}", "the value of ${UNSET:-four} (not shown)"),
        ("${UNSET:- 4}", "the value of ${UNSET:- 4} (not shown)"),
        ("${UNSET:--4}", "the value of ${UNSET:--4} (not shown)"),
        ("${UNSET:-4.0}", "the value of ${UNSET:-4.0} (not shown)"),
        (
            "${UNSET:-\u0664}",
            "the value of ${UNSET:-\u0664} (not shown)",
        ),  # ARABIC-INDIC DIGIT FOUR
        ("${EMPTY}", "the value of ${EMPTY} (not shown)"),
        ("${WORKERS}${WORKERS}", "the value of ${WORKERS}${WORKERS} (not shown)"),
        ("x${WORKERS}", "the value of x${WORKERS} (not shown)"),
        ("$${WORKERS}", "the value of $${WORKERS} (not shown)"),
        ("4", "'4'"),  # a string without references is not read as a number
    ],
)
def test_an_integer_setting_from_a_reference_must_be_decimal_digits(text, shown):
    assert problems_parsing(consumer={"consumer_count": text}) == [
        f"consumers[0].consumer_count: expected an integer from 1 to 10000, got {shown}"
    ]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("${UNSET:-yes}", "the value of ${UNSET:-yes} (not shown)"),
        ("${UNSET:-1}", "the value of ${UNSET:-1} (not shown)"),
        ("${EMPTY}", "the value of ${EMPTY} (not shown)"),
        ("${FLAG} ", "the value of ${FLAG}  (not shown)"),
        ("true", "'true'"),
    ],
)
def test_a_boolean_setting_from_a_reference_must_be_true_or_false(text, shown):
    assert problems_parsing(queues=[{"queue": "q", "durable": text}]) == [
        f"queues[0].durable: expected a boolean, got {shown}"
    ]


def test_references_elsewhere_stay_strings(tmp_path):
    config = loaded(
        tmp_path,
        """
        queues:
          - queue: q
            arguments: {x-max-priority: '${WORKERS}', x-flag: '${FLAG}'}
            bindings: [{exchange: e, routing_key: '${PASSWORD}'}]
        consumers:
          - consumer: m:C
            queue: q
            options:
              password: ${PASSWORD}
              switch: ${UNSET:-off}
              enabled: ${FLAG}
              nothing: ${UNSET:-null}
              nested: {list: ['${WORKERS}', 5]}
        """,
    )
    assert config.queues[0].arguments == {"x-max-priority": "4", "x-flag": "TRUE"}
    assert config.queues[0].bindings[0].routing_key == "123456"
    assert config.consumers[0].options == {
        "password": "123456",
        "switch": "off",
        "enabled": "TRUE",
        "nothing": "null",
        "nested": {"list": ["4", 5]},
    }


def test_a_copy_of_the_config_holds_plain_strings(tmp_path):
    """The config keeps the marker, so that later messages can hide the value; a consumer's
    options are a deep copy, plain strings only."""
    config = loaded(
        tmp_path,
        """
        startup_handler: 'app.${QUEUE}:start'
        middleware: ['app.${QUEUE}:M']
        exchanges: [{exchange: '${QUEUE}', type: '${UNSET:-topic}', arguments: {a: ['${QUEUE}']}}]
        queues:
          - queue: '${QUEUE}'
            x_dead_letter_routing_key: '${QUEUE}'
            x_queue_type: '${UNSET:-quorum}'
            arguments: {a: {b: '${QUEUE}'}}
            bindings: [{exchange: '${QUEUE}', routing_key: '${QUEUE}', arguments: {a: '${QUEUE}'}}]
        consumers:
          - {consumer: 'm:C', queue: '${QUEUE}', options: {a: ['${QUEUE}', {b: '${QUEUE}'}]}}
        """,
    )
    assert isinstance(config.queues[0].name, Substituted)
    strings = list(_strings(copy.deepcopy(config)))
    assert "jobs" in strings and "topic" in strings and "quorum" in strings
    assert {type(string) for string in strings} == {str}


def _strings(value):
    if dataclasses.is_dataclass(value):
        value = [getattr(value, field.name) for field in dataclasses.fields(value)]
    if isinstance(value, dict):
        value = [*value, *value.values()]
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def test_keys_are_not_substituted(tmp_path):
    config = loaded(
        tmp_path,
        """
        queues: [{queue: q, arguments: {'x-${QUEUE}': 1}}]
        consumers: [{consumer: m:C, queue: q, options: {a: {'${QUEUE}': '${UNSET}x'}}}]
        """,
        {**ENV, "UNSET": "set"},
    )
    assert config.queues[0].arguments == {"x-${QUEUE}": 1}
    assert config.consumers[0].options == {"a": {"${QUEUE}": "setx"}}


def test_a_bad_reference_is_reported_once_with_its_path(tmp_path):
    problems = problems_loading(
        tmp_path,
        """
        middleware: ['${MIDDLEWARE}']
        queues:
          - queue: '${Q}'
            durable: '${DURABLE}'
            arguments: {a: ['${A}']}
            bindings: ['${BINDING}']
        consumers:
          - consumer: '${CONSUMER}'
            queue: q
            consumer_count: '${WORKERS:-4'
            options: {password: '${DB_PASSWORD}'}
        """,
    )
    unset = "environment variable {0} is not set (write ${{{0}:-...}} to give a default)"
    assert problems == [
        "middleware[0]: " + unset.format("MIDDLEWARE"),
        "queues[0].queue: " + unset.format("Q"),
        "queues[0].durable: " + unset.format("DURABLE"),
        "queues[0].arguments.a[0]: " + unset.format("A"),
        "queues[0].bindings[0]: " + unset.format("BINDING"),
        "consumers[0].consumer: " + unset.format("CONSUMER"),
        "consumers[0].consumer_count: '${WORKERS:-4' has no closing '}'"
        " (write $${ for a literal ${)",
        "consumers[0].options.password: " + unset.format("DB_PASSWORD"),
    ]


def test_bad_references_come_with_the_other_problems(tmp_path):
    problems = problems_loading(
        tmp_path,
        """
        queues: [{queue: q, durable: maybe}]
        consumers: [{consumer: m:C, queue: '${NOPE}'}]
        """,
    )
    assert problems == [
        "consumers[0].queue: environment variable NOPE is not set"
        " (write ${NOPE:-...} to give a default)",
        "queues[0].durable: expected a boolean, got 'maybe'",
    ]


def test_the_http_block():
    assert parse_config(minimal(), "c").http == HttpSpec(port=None, address="127.0.0.1")
    config = parse_config(minimal(http={"port": 9102, "address": "0.0.0.0"}), "c")
    assert config.http == HttpSpec(port=9102, address="0.0.0.0")
    assert parse_config(minimal(http={"port": 9102}), "c").http.address == "127.0.0.1"
    port = parsed(environ={"METRICS_PORT": "9103"}, http={"port": "${METRICS_PORT}"})
    assert port.http.port == 9103
    assert parse_config(minimal(), "c").http.request_timeout == 10
    assert parse_config(minimal(http={"request_timeout": 0.5}), "c").http.request_timeout == 0.5


@pytest.mark.parametrize(
    ("http", "problem"),
    [
        (9102, "http: expected a mapping, got 9102"),
        ({"port": 0}, "http.port: expected an integer from 1 to 65535, got 0"),
        ({"port": 65536}, "http.port: expected an integer from 1 to 65535, got 65536"),
        ({"port": "metrics"}, "http.port: expected an integer from 1 to 65535, got 'metrics'"),
        ({"port": True}, "http.port: expected an integer from 1 to 65535, got True"),
        ({"port": 9102, "address": ""}, "http.address: expected a non-empty string, got ''"),
        ({"address": 127}, "http.address: expected a non-empty string, got 127"),
        ({"prot": 9102}, "http.prot: unknown key (did you mean 'port'?)"),
        (
            {"request_timeout": 0},
            "http.request_timeout: expected seconds > 0 in whole milliseconds, "
            "at most 4294967.295, got 0",
        ),
    ],
)
def test_http_block_problems(http, problem):
    assert problems_for(minimal(http=http)) == [problem]


SECRET = "s3cr3t-" + "x" * 300  # too long for a name, and neither an integer nor a boolean


@pytest.mark.parametrize(
    "config",
    [
        {"consumer": {"consumer_count": "${SECRET}"}},
        {"consumer": {"prefetch_count": "${SECRET}"}},
        {"consumer": {"queue": "${SECRET}"}},
        {"consumer": {"consumer": "${SECRET}"}},
        {"consumer": {"queue": "a${SECRET}", "retry": {"max_retries": 1, "backoff": [1]}}},
        {"consumer": {"retry": {"max_retries": "${SECRET}", "backoff": ["${SECRET}"]}}},
        {"consumer": {"retry": {"max_retries": 1, "backoff": [1], "archive_ttl": "${SECRET}"}}},
        {"queues": [{"queue": "${SECRET}"}]},
        {"queues": [{"queue": "q", "durable": "${SECRET}", "x_queue_type": "${SECRET}"}]},
        {"queues": [{"queue": "q", "x_message_ttl": "${SECRET}"}]},
        {"queues": [{"queue": "q", "bindings": [{"exchange": "e", "routing_key": "${SECRET}"}]}]},
        {"exchanges": [{"exchange": "e", "type": "${SECRET}"}]},
        {"exchanges": [{"exchange": "${SECRET}"}]},
        {"log_format": "${SECRET}", "http": {"port": "${SECRET}"}},
        {"startup_handler": "${SECRET}", "middleware": ["${SECRET}"]},
    ],
)
def test_a_substituted_value_is_named_never_shown(config):
    problems = problems_parsing(environ={**ENV, "SECRET": SECRET}, **config)
    assert problems
    assert not any("s3cr3t" in problem for problem in problems)


@pytest.mark.parametrize(
    "config",
    [
        {"queues": [{"queue": "${SHORT}"}, {"queue": "${SHORT}"}]},
        {
            "consumer": {"queue": "${SHORT}", "retry": {"max_retries": 1, "backoff": [1]}},
            "queues": [{"queue": "${SHORT}.archive"}],
        },
        {"queues": [{"queue": "q", "arguments": {"x-a": "${SURROGATE}"}}]},
    ],
)
def test_a_substituted_value_in_a_duplicate_or_bad_text_is_named_never_shown(config):
    environ = {**ENV, "SHORT": "s3cr3t", "SURROGATE": "s3cr3t\udc80"}
    problems = problems_parsing(environ=environ, **config)
    assert problems
    assert not any("s3cr3t" in problem for problem in problems)


def test_the_executor_is_gevent_unless_the_entry_says_thread():
    (default,) = parse_config(consumer(consumer_count=4), "cfg.yaml").consumers
    assert (default.executor, default.threads) == ("gevent", None)
    (threaded,) = parse_config(consumer(consumer_count=4, executor="thread"), "cfg.yaml").consumers
    assert (threaded.executor, threaded.threads) == ("thread", 4)  # one per instance
    (sized,) = parse_config(consumer(executor="thread", threads="${N:-50}"), "cfg.yaml").consumers
    assert sized.threads == 50


def test_the_default_threads_stop_at_the_bound():
    config = parse_config(consumer(consumer_count=5000, executor="thread"), "cfg.yaml")
    assert config.consumers[0].threads == MAX_THREADS


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        (
            {"executor": "threads"},
            "consumers[0].executor: expected one of gevent, thread, got 'threads'",
        ),
        ({"threads": 4}, "consumers[0].threads: only with executor: thread"),
        (
            {"executor": "gevent", "threads": 4},
            "consumers[0].threads: only with executor: thread",
        ),
        (
            {"executor": "thread", "threads": 0},
            f"consumers[0].threads: expected an integer from 1 to {MAX_THREADS}, got 0",
        ),
        (
            {"executor": "thread", "threads": MAX_THREADS + 1},
            f"consumers[0].threads: expected an integer from 1 to {MAX_THREADS}, "
            f"got {MAX_THREADS + 1}",
        ),
        (
            {"executor": "thread", "threads": True},
            f"consumers[0].threads: expected an integer from 1 to {MAX_THREADS}, got True",
        ),
    ],
)
def test_bad_executors_and_threads_are_named(fields, problem):
    assert problems_for(consumer(**fields)) == [problem]


def test_a_time_limit_is_seconds_and_none_by_default():
    (default,) = parse_config(consumer(), "cfg.yaml").consumers
    assert default.time_limit is None
    for given, parsed in ((0.5, 0.5), (30, 30), ("${LIMIT:-0.25}", 0.25), (MAX_TIME_LIMIT,) * 2):
        (limited,) = parse_config(consumer(time_limit=given), "cfg.yaml").consumers
        assert limited.time_limit == parsed


TIME_LIMIT = (
    f"consumers[0].time_limit: expected seconds > 0 in whole milliseconds, at most {MAX_TIME_LIMIT}"
)


@pytest.mark.parametrize(
    "given, shown",
    [
        (0, "0"),
        (-1, "-1"),
        (0.0001, "0.0001"),
        (MAX_TIME_LIMIT + 1, str(MAX_TIME_LIMIT + 1)),
        ("soon", "'soon'"),
        (True, "True"),
        (float("inf"), "inf"),
    ],
)
def test_a_bad_time_limit_is_named(given, shown):
    assert problems_for(consumer(time_limit=given)) == [f"{TIME_LIMIT}, got {shown}"]
