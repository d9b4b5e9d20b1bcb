"""The `amqp` object a consumer receives: answers once, publishes through the publisher."""

import pytest

from amqpdispatcher.acks import Acks
from amqpdispatcher.proxy import AlreadyAnswered, AMQPProxy
from amqpdispatcher.testing.fake_amqp import RecordingPublisher


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def proxy(channel, publisher) -> AMQPProxy:
    acks = Acks(channel, "q")
    acks.delivered(7)
    return AMQPProxy(acks, 7, publisher)


@pytest.mark.parametrize("first", ["ack", "nack", "reject"])
@pytest.mark.parametrize("second", ["ack", "nack", "reject"])
def test_a_message_is_answered_once(proxy, channel, first, second):
    getattr(proxy, first)()
    with pytest.raises(AlreadyAnswered, match=f"^delivery 7 was already answered with {first}$"):
        getattr(proxy, second)()
    assert proxy.answer == first
    proxy._acks.flush()
    assert [how for how, _, _ in channel.sent] == [first]


def test_publish_hands_its_arguments_to_the_publisher(proxy, publisher):
    proxy.publish("ex", "key", {"trace": "t1"}, "body", True, content_type="text/plain")
    proxy.publish("ex", "other")
    first, second = publisher.published
    assert (first.exchange, first.routing_key, first.body, first.mandatory) == (
        "ex",
        "key",
        b"body",
        True,
    )
    assert first.properties == {"content_type": "text/plain", "headers": {"trace": "t1"}}
    assert (second.exchange, second.routing_key, second.body, second.properties) == (
        "ex",
        "other",
        b"",
        {},
    )
    assert not second.mandatory
    assert proxy.answer is None
