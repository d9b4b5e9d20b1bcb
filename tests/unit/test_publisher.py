"""The publisher refuses a malformed message before it connects, naming what is wrong; a
middleware adds headers to a copy of the message's own, and only one that overrides the hook."""

import pytest
from nodes import free_port

from amqpdispatcher import PublishError
from amqpdispatcher.middleware import Hooks, Middleware
from amqpdispatcher.publisher import CONSUMERS, COPIES, Publisher
from amqpdispatcher.url import parse_url

BAD_MESSAGES = [
    (
        {"properties": {"expiration": 60000}},
        TypeError,
        "expiration: expected a str of digits (milliseconds), got 60000",
    ),
    (
        {"properties": {"expiration": "1.5"}},
        ValueError,
        "expiration: expected a str of digits (milliseconds) up to 315360000000, got '1.5'",
    ),
    (
        {"properties": {"expiration": "315360000001"}},
        ValueError,
        "expiration: expected a str of digits (milliseconds) up to 315360000000, "
        "got '315360000001'",
    ),
    ({"properties": {"content_type": 5}}, TypeError, "content_type: expected a str, got 5"),
    (
        {"properties": {"message_id": "é" * 128}},
        ValueError,
        "message_id: at most 255 bytes, got 256",
    ),
    (
        {"properties": {"priority": 256}},
        ValueError,
        "priority: expected an int from 0 to 255, got 256",
    ),
    (
        {"properties": {"priority": "high"}},
        TypeError,
        "priority: expected an int from 0 to 255, got 'high'",
    ),
    (
        {"properties": {"delivery_mode": 3}},
        ValueError,
        "delivery_mode: expected 1 (transient) or 2 (persistent), got 3",
    ),
    (
        {"properties": {"delivery_mode": True}},
        TypeError,
        "delivery_mode: expected 1 (transient) or 2 (persistent), got True",
    ),
    (
        {"properties": {"timestamp": 1.5}},
        TypeError,
        "timestamp: expected an int from 0 to 18446744073709551615, got 1.5",
    ),
    ({"properties": {"headers": ["a"]}}, TypeError, "headers: expected a dict, got ['a']"),
    ({"properties": {"headers": {1: "a"}}}, TypeError, "headers: key: expected a str, got 1"),
    (
        {"properties": {"headers": {"k" * 256: 1}}},
        ValueError,
        "headers: key: at most 255 bytes, got 256",
    ),
    (
        {"properties": {"headers": {"score": 0.5}}},
        TypeError,
        "headers['score']: AMQP headers cannot carry float values, only str, bytes, bool, int, "
        "Decimal, datetime, None, and lists and dicts of them",
    ),
    (
        {"properties": {"headers": {"k": [{"n": 2**70}]}}},
        ValueError,
        "headers['k'][0]['n']: out of AMQP's range: 1180591620717411303424",
    ),
    ({"properties": {"colour": "red"}}, TypeError, "unknown message properties: colour"),
    ({"exchange": "x" * 300}, ValueError, "exchange: at most 255 bytes, got 300"),
    ({"routing_key": None}, TypeError, "routing_key: expected a str, got None"),
    (
        {"body": list(range(1000))},
        TypeError,
        f"body: expected bytes or str, got {list(range(1000))!r:.57}...",
    ),
]


@pytest.mark.parametrize(("message", "error", "text"), BAD_MESSAGES)
def test_a_malformed_message_is_refused_before_connecting(message, error, text):
    (unreachable,) = parse_url(f"amqp://guest:guest@127.0.0.1:{free_port()}/")
    message = {"exchange": "", "routing_key": "q", "body": b"x", "properties": {}, **message}
    with pytest.raises(error) as failure:
        Publisher([unreachable], "test-publisher").publish(mandatory=True, **message)
    assert str(failure.value) == text


class AddsHeaders(Middleware):
    def __init__(self) -> None:
        self.seen: list[tuple] = []

    def before_publish(self, exchange, routing_key, headers, copy) -> None:
        self.seen.append((exchange, routing_key, dict(headers), copy))
        headers["added"] = "yes"


@pytest.mark.parametrize(("lane", "copy"), [(CONSUMERS, False), (COPIES, True)])
def test_before_publish_adds_to_a_new_dict_the_consumers_own_left_as_it_was(lane, copy):
    (unreachable,) = parse_url(f"amqp://guest:guest@127.0.0.1:{free_port()}/")
    middleware = AddsHeaders()
    publisher = Publisher([unreachable], "test-publisher", Hooks([middleware]))
    own = {"tenant": "north"}
    with pytest.raises(PublishError):  # nothing answers: the hook ran before the connecting
        publisher.publish("x", "k", b"", {"headers": own}, lane=lane)
    assert middleware.seen == [("x", "k", {"tenant": "north"}, copy)]
    assert own == {"tenant": "north"}


def test_only_middleware_that_overrides_before_publish_is_asked_for_headers():
    assert not Hooks([Middleware()]).overrides("before_publish")
    assert Hooks([Middleware(), AddsHeaders()]).overrides("before_publish")
