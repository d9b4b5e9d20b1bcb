import textwrap

import pytest

from amqpdispatcher.config import (
    BindingSpec,
    ConfigError,
    ConsumerSpec,
    ExchangeSpec,
    QueueSpec,
    load_config,
    parse_config,
)

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
        ),
    )
    assert config.consumers == (
        ConsumerSpec("app.consumers:Outer.Worker", "work", 4, 0, "consumers[0]"),
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
  - {consumer: m:C, queue: q, consumer_count: null, prefetch_count: null}
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
    config = parse_config(minimal(exchanges=None, queues=None), "cfg.yaml")
    assert (config.exchanges, config.queues) == ((), ())


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
        (
            {"consumers": [{"consumer": "m:C", "queue": "q", "prefech_count": 2}]},
            "consumers[0].prefech_count: unknown key (did you mean 'prefetch_count'?)",
        ),
        (minimal(queues=[{"queue": "q", "zzz": 1}]), "queues[0].zzz: unknown key"),
        (
            {"consumers": [{"consumer": "m:C", "queue": "q", "consumer_count": True}]},
            "consumers[0].consumer_count: expected an integer >= 1, got True",
        ),
        (
            {"consumers": [{"consumer": "m:C", "queue": "q", "consumer_count": 0}]},
            "consumers[0].consumer_count: expected an integer >= 1, got 0",
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
            "queues[0].x_expires: expected an integer >= 1, got 0",
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
        f"{path}: consumers[0].prefetch_count: expected an integer >= 0, got 'ten'",
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
