"""A subscription whose channel the broker closes: subscribing again, and what is logged and
told to middleware; the broker's delivery acknowledgement timeout told apart by its reply."""

from __future__ import annotations

import logging

import gevent.event
import pytest

from amqpdispatcher.middleware import Hooks, Middleware
from amqpdispatcher.subscription import Subscription
from amqpdispatcher.transport import ChannelClosed

from .rig import consumer_spec, settle

ACK_TIMEOUT = (
    "PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. Timeout value used: "
    "5000 ms. This timeout value can be configured, see consumers doc guide to learn more"
)


@pytest.mark.parametrize(
    "code, text, timed_out",
    [
        (406, ACK_TIMEOUT, True),
        (406, "PRECONDITION_FAILED - consumer ack timed out on channel 1", True),
        (406, "PRECONDITION_FAILED - unknown delivery tag 1001", False),
        (404, "NOT_FOUND - no queue 'q' in vhost '/'", False),
        (0, "Normal shutdown (200)", False),
    ],
)
def test_the_ack_timeout_is_told_by_the_brokers_reply(code, text, timed_out):
    assert ChannelClosed(code, text).ack_timed_out is timed_out


class SubscribedChannel:
    """What a subscription uses of a channel."""

    def __init__(self) -> None:
        self.closed = gevent.event.AsyncResult()
        self.consumed: list[str] = []

    @property
    def is_open(self) -> bool:
        return not self.closed.ready()

    def qos(self, prefetch_count: int) -> None:
        pass

    def consume(self, queue: str, on_delivery, on_cancelled) -> str:
        self.consumed.append(queue)
        return f"ctag-{len(self.consumed)}"

    def cancel(self, consumer_tag: str) -> None:
        pass


class Connection:
    is_open = True

    def __init__(self) -> None:
        self.channels: list[SubscribedChannel] = []

    def channel(self) -> SubscribedChannel:
        self.channels.append(SubscribedChannel())
        return self.channels[-1]


class Told(Middleware):
    def __init__(self) -> None:
        self.started = 0
        self.stopped: list[str] = []

    def after_consuming_started(self, consumer) -> None:
        self.started += 1

    def after_consuming_stopped(self, consumer, reason) -> None:
        self.stopped.append(reason)


@pytest.fixture
def subscribed():
    connection, told = Connection(), Told()
    subscription = Subscription(consumer_spec(), None, lambda acks, delivery: None, Hooks([told]))
    subscription.attach(connection)
    yield connection, told
    subscription.cancel()


def broker_closes(channel: SubscribedChannel, code: int, text: str) -> None:
    channel.closed.set(ChannelClosed(code, text))
    settle()


def test_a_channel_closed_for_the_ack_timeout_is_one_error_and_consumed_again(subscribed, caplog):
    connection, told = subscribed
    caplog.set_level(logging.INFO, "amqp-dispatcher.pool")
    broker_closes(connection.channels[0], 406, ACK_TIMEOUT)
    assert [channel.consumed for channel in connection.channels] == [["q"], ["q"]]
    assert told.started == 2
    assert told.stopped == [f"consumer_timeout: {ACK_TIMEOUT} (406)"]
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelno for r in loud] == [logging.ERROR]
    message = loud[0].getMessage()
    assert message.startswith("consumers[0] (tests.unit:Consumer): a delivery from 'q' went ")
    assert "raise RabbitMQ's consumer_timeout (rabbitmq.conf; per queue" in message


def test_a_channel_closed_for_another_error_is_a_warning_and_consumed_again(subscribed, caplog):
    connection, told = subscribed
    caplog.set_level(logging.INFO, "amqp-dispatcher.pool")
    broker_closes(connection.channels[0], 406, "PRECONDITION_FAILED - unknown delivery tag 9")
    assert [channel.consumed for channel in connection.channels] == [["q"], ["q"]]
    assert told.stopped == [
        "the broker closed the channel: PRECONDITION_FAILED - unknown delivery tag 9 (406)"
    ]
    assert [r.levelno for r in caplog.records if r.levelno >= logging.WARNING] == [logging.WARNING]
