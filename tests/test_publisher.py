"""The publisher in-process, against the real broker."""

import logging
import uuid

import gevent
import pytest
from brokers import BROKER
from pika.adapters.base_connection import BaseConnection
from waiting import wait_for

from amqpdispatcher.publisher import COPIES, Publisher
from amqpdispatcher.transport import PublishError, PublishRefused

DEADLINE = 20.0  # generous: only there to fail rather than hang


@pytest.fixture
def publisher():
    publisher = Publisher([BROKER], "test-publisher")
    yield publisher
    publisher.close()


def test_concurrent_first_publishes_are_all_confirmed(broker, publisher):
    queue = broker.queue_name()
    broker.channel.queue_declare(queue)
    tasks = []
    for n in range(200):  # arriving while the channel opens; every other one mandatory
        tasks.append(gevent.spawn(publisher.publish, "", queue, b"m%d" % n, {}, n % 2 == 0))
        gevent.sleep(0.0001)
    gevent.joinall(tasks, raise_error=True)
    wait_for(lambda: broker.messages(queue) == 200)


def test_a_malformed_mandatory_publish_does_not_block_later_ones(broker, publisher):
    queue = broker.queue_name()
    broker.channel.queue_declare(queue)
    publisher.publish("", queue, b"first", {}, mandatory=True)  # the channel is up
    with pytest.raises(TypeError, match="expiration: expected a str of digits"):
        publisher.publish("", queue, b"bad", {"expiration": 60000}, mandatory=True)
    with gevent.Timeout(DEADLINE):
        publisher.publish("", queue, b"after", {}, mandatory=True)
    wait_for(lambda: broker.messages(queue) == 2)


class Injected(BaseException):
    pass


def test_a_failure_inside_pika_does_not_block_later_mandatory_ones(broker, publisher, monkeypatch):
    queue = broker.queue_name()
    broker.channel.queue_declare(queue)
    publisher.publish("", queue, b"first", {}, mandatory=True)
    emit = BaseConnection._adapter_emit_data  # where a publish's bytes reach pika's transport

    def failing_once(*args, **kwargs):
        monkeypatch.setattr(BaseConnection, "_adapter_emit_data", emit)
        raise Injected

    monkeypatch.setattr(BaseConnection, "_adapter_emit_data", failing_once)
    with pytest.raises(Injected):
        publisher.publish("", queue, b"lost", {}, mandatory=True)
    with gevent.Timeout(DEADLINE):
        publisher.publish("", queue, b"after", {}, mandatory=True)
    wait_for(lambda: broker.messages(queue) == 2)


def test_mandatory_publishes_in_flight_together_each_get_their_own_outcome(broker, publisher):
    queue = broker.queue_name()
    broker.channel.queue_declare(queue)
    missing = f"test.missing.{uuid.uuid4().hex[:8]}"  # never declared: unroutable
    publisher.publish("", queue, b"first", {})  # the channel is up: the rest go out at once
    outcomes = {}

    def publish(n: int) -> None:
        try:
            publisher.publish("", missing if n % 3 == 0 else queue, b"m%d" % n, {}, True)
        except PublishError as exc:
            outcomes[n] = str(exc)
        else:
            outcomes[n] = "confirmed"

    gevent.joinall([gevent.spawn(publish, n) for n in range(60)], raise_error=True)
    for n in range(60):
        assert outcomes[n] == ("unroutable: NO_ROUTE (312)" if n % 3 == 0 else "confirmed"), n
    wait_for(lambda: broker.messages(queue) == 1 + 40)


def test_headers_too_large_for_a_frame_are_refused_and_the_connection_stays(broker, publisher):
    queue = broker.queue_name()
    broker.channel.queue_declare(queue)
    publisher.publish("", queue, b"first", {})
    with pytest.raises(ValueError) as failure:
        publisher.publish("", queue, b"big", {"headers": {"a": "x" * 140000}})
    assert str(failure.value) == (
        "headers: too large: the properties take 140013 bytes, the connection's frame size "
        "allows 131052"  # frame_max 131072, the default of pika and RabbitMQ
    )
    publisher.publish("", queue, b"after", {})
    assert publisher._connection.is_open
    wait_for(lambda: broker.messages(queue) == 2)


def test_a_publish_to_a_missing_exchange_fails_alone_and_duplicates_nothing(broker, publisher):
    """12 publishes at once, 2 of them to an exchange that does not exist, 3 rounds: the
    broker would close a channel they shared, and the others published again would arrive
    twice. The exchange is checked first, on a channel of its own."""
    queue, missing = broker.queue_name(), broker.exchange_name("missing")
    broker.channel.queue_declare(queue)
    exchanges = ["", "", "", missing, "", "", "", "", missing, "", "", ""]
    for round in range(3):
        tasks = [  # every other one mandatory
            gevent.spawn(publisher.publish, exchange, queue, b"%d-%d" % (round, n), {}, n % 2)
            for n, exchange in enumerate(exchanges)
        ]
        gevent.joinall(tasks, timeout=DEADLINE)
        failed = {n: task.exception for n, task in enumerate(tasks) if not task.successful()}
        assert failed.keys() == {3, 8}
        for error in failed.values():
            assert isinstance(error, PublishRefused)
            assert str(error) == (
                f"cannot publish to exchange '{missing}': "
                f"NOT_FOUND - no exchange '{missing}' in vhost '{BROKER.vhost}' (404)"
            )
    assert broker.messages(queue) == 30  # each confirmed, so each in the queue: exactly 30


def test_a_publish_with_the_user_id_of_another_user_fails_alone(broker, publisher):
    queue = broker.queue_name()
    broker.channel.queue_declare(queue)
    own = {"user_id": BROKER.username}
    tasks = [gevent.spawn(publisher.publish, "", queue, b"%d" % n, own) for n in range(5)]
    tasks.append(gevent.spawn(publisher.publish, "", queue, b"forged", {"user_id": "mallory"}))
    gevent.joinall(tasks, timeout=DEADLINE)
    assert [task.successful() for task in tasks] == [True] * 5 + [False]
    assert isinstance(tasks[-1].exception, PublishRefused)
    assert "PRECONDITION_FAILED" in str(tasks[-1].exception)
    assert broker.messages(queue) == 5


def test_when_the_broker_closes_a_shared_channel_only_the_publishes_at_fault_fail(
    broker, publisher
):
    """An exchange deleted after its check: the one error no check foresees. The messages the
    closed channel had not confirmed are published again, each alone: at least once. Copies,
    on a channel of their own, are not touched."""
    queue, copies, doomed = broker.queue_name(), broker.queue_name(), broker.exchange_name()
    broker.channel.queue_declare(queue)
    broker.channel.queue_declare(copies)
    broker.channel.exchange_declare(doomed)
    publisher.publish(doomed, queue, b"checked", {})  # unroutable, but the exchange is known
    broker.channel.exchange_delete(doomed)
    exchanges = ["", "", "", doomed, "", "", "", "", doomed, "", "", ""]
    tasks = [
        gevent.spawn(publisher.publish, exchange, queue, b"m%d" % n, {}, n % 2 == 0)
        for n, exchange in enumerate(exchanges)
    ]
    tasks += [
        gevent.spawn(publisher.publish, "", copies, b"c%d" % n, {}, True, COPIES) for n in range(6)
    ]
    gevent.joinall(tasks, timeout=DEADLINE)
    failed = {n: task.exception for n, task in enumerate(tasks) if not task.successful()}
    assert failed.keys() == {3, 8}
    for error in failed.values():
        assert isinstance(error, PublishError)
    wait_for(lambda: broker.messages(queue) >= 10)  # at least once: duplicates may occur
    assert broker.messages(copies) == 6


def test_closing_after_publishing_logs_no_error(broker, caplog):
    queue = broker.queue_name()
    broker.channel.queue_declare(queue)
    caplog.set_level(logging.INFO, "amqp-dispatcher")
    publisher = Publisher([BROKER], "test-publisher")
    publisher.publish("", queue, b"x", {})
    publisher.close()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
