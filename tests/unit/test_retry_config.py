"""The retry block of a consumers entry, and the delay and archive queues derived from it."""

from __future__ import annotations

import pytest

from amqpdispatcher.config import ConfigError, RetrySpec, parse_config
from amqpdispatcher.retry.queues import delay_queue_name

ENV = {"RETRIES": "3", "DELAY": "0.25", "WORDS": "three"}


def parsed(retry: object, queues: list | None = None, queue: str = "orders.new", extra=()):
    consumers = [{"consumer": "m:C", "queue": queue, "retry": retry}, *extra]
    return parse_config({"queues": queues or [], "consumers": consumers}, "cfg.yaml", ENV)


def problems(retry: object, **kwargs) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parsed(retry, **kwargs)
    return info.value.problems


def by_name(config) -> dict:
    return {queue.name: queue for queue in config.retry_queues}


def test_the_block_is_parsed_with_the_archive_named_after_the_queue():
    config = parsed({"max_retries": 4, "backoff": [1, 5, 0.5]})
    assert config.consumers[0].retry == RetrySpec(
        max_retries=4,
        backoff=(1, 5, 0.5),
        archive_queue="orders.new.archive",
        archive_ttl=None,
        path="consumers[0].retry",
    )


def test_every_key_given():
    retry = {"max_retries": 0, "backoff": [2], "archive_queue": "failed", "archive_ttl": 86400}
    spec = parsed(retry).consumers[0].retry
    assert (spec.max_retries, spec.archive_queue, spec.archive_ttl) == (0, "failed", 86400)


def test_without_a_block_there_is_no_retry_and_no_queue():
    config = parse_config({"consumers": [{"consumer": "m:C", "queue": "q"}]}, "cfg.yaml")
    assert config.consumers[0].retry is None
    assert config.retry_queues == ()
    assert parsed(None).consumers[0].retry is None


def test_a_spec_with_a_retry_block_can_still_key_a_dict():
    spec = parsed({"max_retries": 1, "backoff": [1]}).consumers[0]
    assert {spec: 1}[spec] == 1


def test_a_single_reference_gives_a_number():
    spec = parsed({"max_retries": "${RETRIES}", "backoff": ["${DELAY}", 1]}).consumers[0].retry
    assert spec.max_retries == 3
    assert spec.backoff == (0.25, 1)


@pytest.mark.parametrize(
    ("retry", "problem"),
    [
        ("often", "consumers[0].retry: expected a mapping, got 'often'"),
        ({"backoff": [1]}, "consumers[0].retry.max_retries: is required"),
        ({"max_retries": 1}, "consumers[0].retry.backoff: is required"),
        (
            {"max_retries": -1, "backoff": [1]},
            "consumers[0].retry.max_retries: expected an integer from 0 to 2147483647, got -1",
        ),
        (
            {"max_retries": True, "backoff": [1]},
            "consumers[0].retry.max_retries: expected an integer from 0 to 2147483647, got True",
        ),
        (
            {"max_retries": "${WORDS}", "backoff": [1]},
            "consumers[0].retry.max_retries: expected an integer from 0 to 2147483647, "
            "got the value of ${WORDS} (not shown)",
        ),
        (
            {"max_retries": 1, "backoff": []},
            "consumers[0].retry.backoff: expected at least one delay",
        ),
        ({"max_retries": 1, "backoff": 5}, "consumers[0].retry.backoff: expected a list, got 5"),
        (
            {"max_retries": 1, "backoff": [1], "archive_queue": ""},
            "consumers[0].retry.archive_queue: expected a non-empty string, got ''",
        ),
        (
            {"max_retries": 1, "backof": [1]},
            "consumers[0].retry.backof: unknown key (did you mean 'backoff'?)",
        ),
    ],
)
def test_bad_blocks(retry, problem):
    assert problem in problems(retry)


SECONDS = "expected seconds > 0 in whole milliseconds, at most 4294967.295"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "0"),
        (-1, "-1"),
        (True, "True"),
        (0.0005, "0.0005"),
        (1.0005, "1.0005"),
        (4294967.296, "4294967.296"),
        (float("inf"), "inf"),
        (float("nan"), "nan"),
        ("soon", "'soon'"),
        ("${WORDS}", "the value of ${WORDS} (not shown)"),
    ],
)
def test_bad_seconds(value, shown):
    retry = {"max_retries": 1, "backoff": [1, value], "archive_ttl": value}
    assert problems(retry) == [
        f"consumers[0].retry.backoff[1]: {SECONDS}, got {shown}",
        f"consumers[0].retry.archive_ttl: {SECONDS}, got {shown}",
    ]


def test_seconds_at_the_limits_are_accepted():
    spec = parsed({"max_retries": 2, "backoff": [0.001, 4294967.295]}).consumers[0].retry
    assert spec.backoff == (0.001, 4294967.295)


def test_retry_problems_come_with_the_others():
    config = {
        "queues": [{"queue": "q", "durable": "yes"}],
        "consumers": [{"consumer": "m:C", "queue": "q", "retry": {"max_retries": "x"}}],
    }
    with pytest.raises(ConfigError) as info:
        parse_config(config, "cfg.yaml")
    assert info.value.problems == [
        "queues[0].durable: expected a boolean, got 'yes'",
        "consumers[0].retry.max_retries: expected an integer from 0 to 2147483647, got 'x'",
        "consumers[0].retry.backoff: is required",
    ]


# The derived queues.


@pytest.mark.parametrize(
    ("seconds", "name"),
    [
        (5, "orders.new.delay.5s"),
        (5.0, "orders.new.delay.5s"),
        (0.5, "orders.new.delay.0.5s"),
        (0.001, "orders.new.delay.0.001s"),
        (120, "orders.new.delay.120s"),
        (1.25, "orders.new.delay.1.25s"),
        (1000000, "orders.new.delay.1000000s"),
        (1234.567, "orders.new.delay.1234.567s"),
    ],
)
def test_delay_queue_names(seconds, name):
    assert delay_queue_name("orders.new", seconds) == name


def test_one_delay_queue_per_distinct_delay_expiring_into_the_work_queue_then_the_archive():
    config = parsed({"max_retries": 5, "backoff": [1, 5, 1, 0.5], "archive_ttl": 604800})
    assert [(q.name, q.arguments) for q in config.retry_queues] == [
        ("orders.new.delay.1s", delay_arguments(1000)),
        ("orders.new.delay.5s", delay_arguments(5000)),
        ("orders.new.delay.0.5s", delay_arguments(500)),
        ("orders.new.archive", {"x-message-ttl": 604800000}),
    ]
    for queue in config.retry_queues:
        assert (queue.durable, queue.auto_delete, queue.exclusive, queue.passive) == (
            True,
            False,
            False,
            False,
        )
        assert queue.bindings == ()
        assert queue.path == "consumers[0].retry"


def delay_arguments(ttl: int) -> dict:
    return {
        "x-message-ttl": ttl,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "orders.new",
    }


def test_delays_beyond_max_retries_get_no_queue():
    config = parsed({"max_retries": 2, "backoff": [1, 5, 30]})
    assert list(by_name(config)) == [
        "orders.new.delay.1s",
        "orders.new.delay.5s",
        "orders.new.archive",
    ]
    assert list(by_name(parsed({"max_retries": 0, "backoff": [1]}))) == ["orders.new.archive"]


def test_the_archive_has_no_ttl_unless_given():
    assert by_name(parsed({"max_retries": 0, "backoff": [1]}))["orders.new.archive"].arguments == {}


@pytest.mark.parametrize(
    ("queue_keys", "durable"),
    [({}, True), ({"durable": False}, False), ({"x_queue_type": "classic"}, True)],
)
def test_durable_like_the_work_queue(queue_keys, durable):
    queues = [{"queue": "orders.new", **queue_keys}]
    config = parsed({"max_retries": 1, "backoff": [1]}, queues=queues)
    assert [queue.durable for queue in config.retry_queues] == [durable, durable]
    assert all("x-queue-type" not in queue.arguments for queue in config.retry_queues)


def test_quorum_like_the_work_queue():
    queues = [{"queue": "orders.new", "x_queue_type": "quorum"}]
    config = parsed({"max_retries": 1, "backoff": [1], "archive_ttl": 60}, queues=queues)
    assert [(q.name, q.durable, q.arguments) for q in config.retry_queues] == [
        (
            "orders.new.delay.1s",
            True,
            {
                "x-queue-type": "quorum",
                **delay_arguments(1000),
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        ),
        ("orders.new.archive", True, {"x-queue-type": "quorum", "x-message-ttl": 60000}),
    ]


def test_entries_sharing_a_work_queue_share_its_queues():
    second = {"consumer": "m:D", "queue": "orders.new", "retry": {"max_retries": 2, "backoff": [5]}}
    config = parsed({"max_retries": 1, "backoff": [1]}, extra=[second])
    assert list(by_name(config)) == [
        "orders.new.delay.1s",
        "orders.new.archive",
        "orders.new.delay.5s",
    ]


def test_the_queues_are_declared_after_the_configs_own():
    config = parsed({"max_retries": 1, "backoff": [1]}, queues=[{"queue": "orders.new"}])
    assert [queue.name for queue in config.queues] == ["orders.new"]
    assert len(config.retry_queues) == 2


def test_a_derived_name_too_long_is_reported_where_it_comes_from():
    queue = "q" * 246  # its delay queue for 1s is 255 bytes long, its archive 254
    assert problems({"max_retries": 2, "backoff": [1, 0.5]}, queue=queue) == [
        f"consumers[0].retry.backoff[1]: the delay queue's name '{'q' * 56}... is too long: "
        "257 bytes in UTF-8, at most 255 allowed",
    ]
    assert problems({"max_retries": 0, "backoff": [1]}, queue="q" * 250) == [
        f"consumers[0].retry: the archive queue's name '{'q' * 56}... is too long: "
        "258 bytes in UTF-8, at most 255 allowed",
    ]


def test_a_derived_name_declared_under_queues_is_refused():
    queues = [{"queue": "orders.new"}, {"queue": "orders.new.delay.5s"}, {"queue": "failed"}]
    retry = {"max_retries": 2, "backoff": [1, 5], "archive_queue": "failed"}
    assert problems(retry, queues=queues) == [
        "consumers[0].retry.backoff[1]: the delay queue 'orders.new.delay.5s' is also declared "
        "under queues, at queues[1]; the daemon declares it itself",
        "consumers[0].retry: the archive queue 'failed' is also declared under queues, at "
        "queues[2]; the daemon declares it itself",
    ]


def test_a_derived_name_that_a_consumer_consumes_is_refused():
    other = {"consumer": "m:D", "queue": "elsewhere"}
    retry = {"max_retries": 0, "backoff": [1], "archive_queue": "elsewhere"}
    assert problems(retry, extra=[other]) == [
        "consumers[0].retry: the archive queue 'elsewhere' is the queue that consumers[1] consumes"
    ]
    itself = {"max_retries": 0, "backoff": [1], "archive_queue": "orders.new"}
    assert problems(itself) == [
        "consumers[0].retry: the archive queue 'orders.new' is the queue that consumers[0] consumes"
    ]


def test_one_name_derived_with_other_settings_is_refused():
    second = {
        "consumer": "m:D",
        "queue": "orders.new",
        "retry": {"max_retries": 1, "backoff": [1], "archive_ttl": 60},
    }
    third = {
        "consumer": "m:D",
        "queue": "orders.other",
        "retry": {"max_retries": 0, "backoff": [1], "archive_queue": "orders.new.delay.1s"},
    }
    assert problems({"max_retries": 1, "backoff": [1]}, extra=[second, third]) == [
        "consumers[1].retry: the archive queue 'orders.new.archive' is also derived by "
        "consumers[0].retry, with other settings",
        "consumers[2].retry: the archive queue 'orders.new.delay.1s' is also derived by "
        "consumers[0].retry, with other settings",
    ]
