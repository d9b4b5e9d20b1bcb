"""Publisher confirms: which message a basic.return is about, with several mandatory messages in
flight at once."""

from types import SimpleNamespace

import pika
import pytest

from amqpdispatcher.transport import PublishError, outgoing
from amqpdispatcher.transport.confirms import Confirms


def returned(confirms: Confirms, exchange: str, routing_key: str, body: bytes) -> None:
    method = pika.spec.Basic.Return(312, "NO_ROUTE", exchange, routing_key)
    confirms.on_return(None, method, pika.BasicProperties(), body)


def ack(confirms: Confirms, delivery_tag: int, multiple: bool = False) -> None:
    confirms.on_confirm(SimpleNamespace(method=pika.spec.Basic.Ack(delivery_tag, multiple)))


def outcome(result) -> str:
    if not result.ready():
        return "pending"
    try:
        result.get(block=False)
    except PublishError as exc:
        return str(exc)
    return "confirmed"


def send(confirms: Confirms, routing_key: str, body: bytes, mandatory: bool = True):
    return confirms.sent(outgoing("", routing_key, body, {}, mandatory))


def test_a_return_fails_only_the_message_it_carries_whatever_the_multiple_ack():
    confirms = Confirms()
    results = [send(confirms, "q", b"a"), send(confirms, "gone", b"b"), send(confirms, "q", b"c")]
    returned(confirms, "", "gone", b"b")
    ack(confirms, 3, multiple=True)
    assert [outcome(r) for r in results] == ["confirmed", "unroutable: NO_ROUTE (312)", "confirmed"]


def test_identical_messages_in_flight_all_fail_rather_than_one_be_lost():
    confirms = Confirms()
    results = [send(confirms, "gone", b"same"), send(confirms, "gone", b"same")]
    returned(confirms, "", "gone", b"same")
    ack(confirms, 1)
    ack(confirms, 2)
    assert [outcome(r) for r in results] == ["unroutable: NO_ROUTE (312)"] * 2


def test_a_message_confirmed_before_the_return_is_not_taken_for_it():
    confirms = Confirms()
    first = send(confirms, "q", b"same")
    ack(confirms, 1)
    second = send(confirms, "q", b"same")
    returned(confirms, "", "q", b"same")
    ack(confirms, 2)
    assert (outcome(first), outcome(second)) == ("confirmed", "unroutable: NO_ROUTE (312)")


def test_a_message_sent_without_mandatory_is_never_taken_as_returned():
    confirms = Confirms()
    plain = send(confirms, "gone", b"x", mandatory=False)
    mandatory = send(confirms, "gone", b"x")
    returned(confirms, "", "gone", b"x")
    ack(confirms, 2, multiple=True)
    assert (outcome(plain), outcome(mandatory)) == ("confirmed", "unroutable: NO_ROUTE (312)")


@pytest.mark.parametrize("multiple", [False, True])
def test_a_nack_fails_its_messages(multiple):
    confirms = Confirms()
    results = [send(confirms, "q", b"a"), send(confirms, "q", b"b")]
    confirms.on_confirm(SimpleNamespace(method=pika.spec.Basic.Nack(2, multiple)))
    expected = "the broker nacked the message"
    assert outcome(results[1]) == expected
    assert outcome(results[0]) == (expected if multiple else "pending")
