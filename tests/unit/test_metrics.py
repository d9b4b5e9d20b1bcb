"""The metrics middleware, and the readiness read off it, fed by the dispatch path on the channel
double and by the retry policy under the daemon's rules."""

from __future__ import annotations

from collections.abc import Callable

import gevent.event
import gevent.events
import pytest

from amqpdispatcher import PermanentFailure, RetryPolicy, blocking
from amqpdispatcher.config import parse_config
from amqpdispatcher.metricfiles import MetricFiles
from amqpdispatcher.middleware import Hooks
from amqpdispatcher.middleware.metrics import Metrics
from amqpdispatcher.readiness import Readiness, across_workers
from amqpdispatcher.testing import make_message, run_consumer
from amqpdispatcher.url import parse_url

from .rig import consumer_spec, settle
from .scraping import Samples, sample, scrape

LABELS = {"queue": "q", "consumer": "tests.unit:Consumer"}
(TARGET,) = parse_url("amqp://guest:guest@localhost:5672/")


@pytest.fixture
def flushed(directory) -> Callable[[Metrics], Samples]:
    """The samples a scrape shows of what `metrics` counted, flushed by the worker's
    MetricFiles; the gauges without their worker and pid labels, this being the only worker."""
    files: dict[Metrics, MetricFiles] = {}

    def scraped(metrics: Metrics) -> Samples:
        if metrics not in files:
            files[metrics] = MetricFiles(metrics, 1)
        files[metrics].flush()
        return {
            (name, frozenset((k, v) for k, v in labels if k not in ("worker", "pid"))): value
            for (name, labels), value in scrape(directory).items()
        }

    return scraped


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return sample(samples, name, **LABELS, **labels)


def test_each_consume_is_counted_with_its_answer_and_duration(rig, flushed):
    metrics = Metrics([consumer_spec(2)])

    def consume(amqp, message):
        tag = amqp.delivery_tag
        if tag == 2:
            amqp.nack()
        elif tag == 3:
            raise ValueError("bad message")

    pool = rig(consume=consume, count=2, middleware=[metrics])
    pool.deliver(4)
    settle()
    assert value(flushed(metrics), "deliveries_total") == 4
    assert value(flushed(metrics), "answers_total", answer="ack") == 2
    assert value(flushed(metrics), "answers_total", answer="nack") == 1
    assert value(flushed(metrics), "answers_total", answer="reject") == 1
    assert value(flushed(metrics), "consume_errors_total") == 1
    assert value(flushed(metrics), "consume_duration_seconds_count") == 4
    assert value(flushed(metrics), "in_flight") == 0
    assert value(flushed(metrics), "instances") == 2  # the one that raised was replaced


def test_running_calls_are_in_flight(rig, flushed):
    metrics = Metrics([consumer_spec(3)])
    release = gevent.event.Event()
    pool = rig(consume=lambda amqp, message: release.wait(), count=3, middleware=[metrics])
    pool.deliver(2)
    settle()
    assert value(flushed(metrics), "in_flight") == 2
    release.set()
    settle()
    assert value(flushed(metrics), "in_flight") == 0


def test_an_instance_retired_and_not_yet_replaced_is_not_counted(rig, flushed):
    metrics = Metrics([consumer_spec(2)])
    pool = rig(count=2, middleware=[metrics])
    pool.instances.retire(pool.created[0], None)
    settle()
    assert value(flushed(metrics), "instances") == 1


def retry_spec():
    config = parse_config(
        {
            "consumers": [
                {
                    "consumer": "tests.unit:Consumer",
                    "queue": "q",
                    "retry": {"max_retries": 1, "backoff": [5]},
                }
            ]
        },
        "config.yml",
    )
    return config.consumers[0]


class Failing:
    def __init__(self, exception: BaseException) -> None:
        self.exception = exception

    def consume(self, amqp, msg) -> None:
        raise self.exception

    def shutdown(self, exception) -> None:
        pass


def test_retries_and_archives_are_counted_once_confirmed(flushed):
    spec = retry_spec()
    metrics = Metrics([spec])
    policy = RetryPolicy.for_consumer(spec, Hooks([metrics]))
    run_consumer(Failing(ValueError("once")), make_message("a"), policy=policy)
    retried = make_message("b", headers={"x-retry-count": 1})
    run_consumer(Failing(ValueError("again")), retried, policy=policy)
    run_consumer(Failing(PermanentFailure("never")), make_message("c"), policy=policy)
    assert value(flushed(metrics), "retries_total") == 1
    assert value(flushed(metrics), "archived_total") == 2


def test_publishes_connections_consumer_timeouts_and_cancellations(flushed):
    spec = consumer_spec()
    metrics = Metrics([spec])
    hooks = Hooks([metrics])
    hooks("after_publish", "", "a", True)
    hooks("after_publish", "", "b", False)
    hooks("after_publish", "", "c", False)
    for _ in range(3):
        hooks("after_connection_opened", TARGET)
    hooks("after_connection_lost", TARGET, ConnectionError("gone"))
    hooks("after_consuming_stopped", spec, "consumer_timeout: ran past 1800000 ms")
    hooks("after_consuming_stopped", spec, "cancelled: the broker cancelled the consumer")
    hooks("after_consuming_stopped", spec, "the daemon is stopping")
    samples = flushed(metrics)
    assert sample(samples, "publishes_total", result="confirmed") == 1
    assert sample(samples, "publishes_total", result="failed") == 2
    assert sample(samples, "reconnects_total") == 2
    assert sample(samples, "connected") == 0
    assert value(flushed(metrics), "consumer_timeouts_total") == 1
    assert value(flushed(metrics), "consumer_cancellations_total") == 1


def test_consuming_follows_the_subscription_and_the_connection(flushed):
    spec = consumer_spec()
    metrics = Metrics([spec])
    assert value(flushed(metrics), "consuming") == 0
    metrics.after_connection_opened(TARGET)
    metrics.after_consuming_started(spec)
    assert value(flushed(metrics), "consuming") == 1
    metrics.after_consuming_stopped(spec, "the broker cancelled the consumer")
    assert value(flushed(metrics), "consuming") == 0
    metrics.after_consuming_started(spec)
    metrics.after_connection_lost(TARGET, ConnectionError("gone"))
    assert value(flushed(metrics), "consuming") == 0


def test_the_blocked_loop_seconds_are_those_the_monitor_reported(flushed):
    metrics = Metrics([consumer_spec()])
    before = sample(flushed(metrics), "event_loop_blocked_seconds_total")
    for _ in range(2):
        blocking._on_event(gevent.events.EventLoopBlocked(gevent.getcurrent(), 0.25, []))
    after = sample(flushed(metrics), "event_loop_blocked_seconds_total")
    assert after - before == 0.5


def test_ready_once_connected_and_every_pool_consumes():
    first = consumer_spec()
    second = parse_config(
        {"consumers": [{"consumer": "a:B", "queue": "other"}]}, "config.yml"
    ).consumers[0]
    metrics = Metrics([first, second])
    readiness = Readiness(metrics)
    assert readiness.state() == {
        "ready": False,
        "connected": False,
        "consuming": {"q": False, "other": False},
        "publishing_blocked": False,
    }
    metrics.after_connection_opened(TARGET)
    metrics.after_consuming_started(first)
    assert readiness.state()["ready"] is False
    metrics.after_consuming_started(second)
    assert readiness.state() == {
        "ready": True,
        "connected": True,
        "consuming": {"q": True, "other": True},
        "publishing_blocked": False,
    }
    metrics.after_consuming_stopped(second, "the broker cancelled the consumer")
    assert readiness.state()["consuming"] == {"q": True, "other": False}
    metrics.after_consuming_started(second)
    metrics.after_connection_lost(TARGET, ConnectionError("gone"))
    assert readiness.state() == {
        "ready": False,
        "connected": False,
        "consuming": {"q": False, "other": False},
        "publishing_blocked": False,
    }


def test_a_queue_of_two_pools_consumes_once_both_do():
    first = consumer_spec()
    second = parse_config({"consumers": [{"consumer": "a:B", "queue": "q"}]}, "c").consumers[0]
    metrics = Metrics([first, second])
    readiness = Readiness(metrics)
    metrics.after_connection_opened(TARGET)
    metrics.after_consuming_started(first)
    assert readiness.state()["consuming"] == {"q": False}
    metrics.after_consuming_started(second)
    assert readiness.state()["ready"]
    assert readiness.state()["consuming"] == {"q": True}


def test_not_ready_while_the_broker_blocks_publishing(flushed):
    spec = consumer_spec()
    metrics = Metrics([spec])
    readiness = Readiness(metrics)
    metrics.after_connection_opened(TARGET)
    metrics.after_consuming_started(spec)
    metrics.after_publishing_blocked("low on memory")
    assert readiness.state()["ready"] is False
    assert readiness.state()["publishing_blocked"] is True
    assert sample(flushed(metrics), "publishing_blocked") == 1
    metrics.after_publishing_unblocked()
    assert readiness.state()["ready"] is True
    assert sample(flushed(metrics), "publishing_blocked") == 0


READY = {"ready": True, "connected": True, "consuming": {"q": True}, "publishing_blocked": False}
UNREADY = {**READY, "ready": False, "connected": False}


def test_the_daemon_is_ready_when_every_worker_is():
    assert across_workers({1: READY, 2: READY}, 2) == {
        "ready": True,
        "workers": {"1": READY, "2": READY},
    }
    assert across_workers({1: READY, 2: UNREADY}, 2) == {
        "ready": False,
        "workers": {"1": READY, "2": UNREADY},
    }


def test_a_worker_down_or_silent_is_not_ready():
    down = {"ready": False, "running": False}
    assert across_workers({1: READY, 2: None}, 2) == {
        "ready": False,
        "workers": {"1": READY, "2": down},
    }
    assert across_workers({1: READY}, 3) == {
        "ready": False,
        "workers": {"1": READY, "2": down, "3": down},
    }
    assert across_workers({}, 1)["ready"] is False
