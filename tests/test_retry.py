"""consumers[].retry against the broker: failed messages wait in delay queues and come back,
then go to the archive with their failure; the daemon run as a subprocess."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from daemons import consumer_config
from test_daemon import listing
from waiting import wait_for

GENEROUS = 10.0  # seconds a retry may come after its delay: the test only rules out a stall


def retry_config(broker, retry: dict, **queue_keys) -> tuple[dict, str]:
    """The Scripted consumer on a queue of its own with `retry`; every queue the retry block
    derives is deleted at the end."""
    queue = broker.queue_name("retry")
    config = consumer_config(queue, **queue_keys)
    config["consumers"][0]["retry"] = retry
    delays = {f"{queue}.delay.{seconds:g}s" for seconds in retry["backoff"]}
    broker.queues.extend([*delays, f"{queue}.archive"])
    return config, queue


def started(daemon_factory, config):
    return daemon_factory(config).start().wait_ready()


def retry_counts(daemon) -> list:
    return [record["headers"].get("x-retry-count") for record in daemon.records("consume")]


def assert_all_empty(broker, daemon, queue: str) -> None:
    """Once the daemon stopped, so that nothing unacked hides in it."""
    assert daemon.stop() == 0
    for name in [queue, *broker.queues]:
        if name.startswith(queue):
            assert broker.messages(name) == 0, name


def fails_twice_then_succeeds(broker, daemon_factory, **queue_keys) -> None:
    backoff = [0.3, 0.6]
    config, queue = retry_config(broker, {"max_retries": 3, "backoff": backoff}, **queue_keys)
    daemon = started(daemon_factory, config)
    broker.publish(queue, {"id": "flaky", "do": [["raise-below-retry", 2]]})
    wait_for(lambda: daemon.records("done"), what="the third delivery done")
    consumed = daemon.records("consume")
    assert retry_counts(daemon) == [None, 1, 2]
    for delay, earlier, later in zip(backoff, consumed[:-1], consumed[1:], strict=True):
        assert delay <= later["t"] - earlier["t"] < delay + GENEROUS
    assert_all_empty(broker, daemon, queue)
    assert len(daemon.records("consume")) == 3  # acked: not delivered again


def test_a_message_that_fails_twice_is_retried_after_each_delay_then_acked(broker, daemon_factory):
    fails_twice_then_succeeds(broker, daemon_factory)


def test_with_a_quorum_work_queue_likewise(broker, daemon_factory):
    fails_twice_then_succeeds(broker, daemon_factory, durable=True, x_queue_type="quorum")


def test_the_retry_queues_are_quorum_like_the_work_queue(node, node_broker, daemon_factory):
    retry = {"max_retries": 1, "backoff": [0.5]}
    config, queue = retry_config(node_broker, retry, durable=True, x_queue_type="quorum")
    daemon = daemon_factory(config, node).start().wait_ready()
    queues = listing(node, "list_queues", "type", "durable", "arguments")
    assert daemon.stop() == 0
    for name in (queue, f"{queue}.delay.0.5s", f"{queue}.archive"):
        assert queues[name][:2] == ["quorum", "true"], name
    delay_arguments = queues[f"{queue}.delay.0.5s"][2]
    assert '{"x-dead-letter-strategy","at-least-once"}' in delay_arguments
    assert '{"x-message-ttl",500}' in delay_arguments


def archived(broker, queue: str) -> tuple:
    archive = f"{queue}.archive"
    wait_for(lambda: broker.messages(archive) == 1, what="the message archived")
    (message,) = broker.get_all(archive)
    return message


def test_a_message_that_always_fails_is_archived_after_max_retries(broker, daemon_factory):
    config, queue = retry_config(broker, {"max_retries": 2, "backoff": [0.1]})
    exchange = broker.exchange_name()
    config["exchanges"] = [{"exchange": exchange, "durable": False}]
    config["queues"][0]["bindings"] = [{"exchange": exchange, "routing_key": "orders.created"}]
    daemon = started(daemon_factory, config)
    work = {"id": "poison", "do": ["raise"]}
    broker.publish(
        "orders.created",
        work,
        exchange=exchange,
        message_id="m-1",
        content_type="application/json",
        headers={"tenant": "north"},
    )
    method, properties, body = archived(broker, queue)
    assert retry_counts(daemon) == [None, 1, 2]
    assert json.loads(body) == work
    assert (properties.message_id, properties.content_type) == ("m-1", "application/json")
    assert properties.delivery_mode == 2
    headers = properties.headers
    assert headers["tenant"] == "north"
    assert headers["x-retry-count"] == 2
    assert headers["x-exception-type"] == "RuntimeError"
    assert headers["x-exception-message"] == "scripted failure"
    assert headers["x-original-exchange"] == exchange
    assert headers["x-original-routing-key"] == "orders.created"
    failed_at = datetime.fromisoformat(headers["x-failed-at"])
    assert failed_at.utcoffset() == timedelta(0)
    assert_all_empty(broker, daemon, queue)
    assert len(daemon.records("consume")) == 3


def test_a_permanent_failure_is_archived_after_one_delivery(broker, daemon_factory):
    config, queue = retry_config(broker, {"max_retries": 5, "backoff": [0.1]})
    daemon = started(daemon_factory, config)
    broker.publish(queue, {"id": "hopeless", "do": ["raise-permanent"]})
    _, properties, _ = archived(broker, queue)
    assert properties.headers["x-exception-type"] == "PermanentFailure"
    assert properties.headers["x-exception-message"] == "scripted: never going to work"
    assert properties.headers["x-retry-count"] == 0
    assert (
        properties.headers["x-original-exchange"],
        properties.headers["x-original-routing-key"],
    ) == ("", queue)
    assert_all_empty(broker, daemon, queue)
    assert retry_counts(daemon) == [None]
