"""amqpdispatcher.testing: the helpers consumer authors unit-test with."""

import datetime
import importlib.metadata
import json

import pytest

from amqpdispatcher import AlreadyAnswered, FailurePolicy, PublishError
from amqpdispatcher.testing import FakeAMQP, make_message, run_consumer


class Recorder:
    """A consumer that runs what the test gives it, and remembers its shutdown."""

    def __init__(self, consume=lambda amqp, msg: None, **options) -> None:
        self._consume = consume
        self.options = options
        self.shutdowns: list = []

    def consume(self, amqp, msg) -> None:
        self._consume(amqp, msg)

    def shutdown(self, exception) -> None:
        self.shutdowns.append(exception)


def test_a_dict_body_is_compact_utf8_json_with_its_content_type():
    msg = make_message({"name": "café", "n": [1, 2]})
    assert msg.body == '{"name":"café","n":[1,2]}'.encode()
    assert msg.properties == {"content_type": "application/json"}
    assert msg.json() == {"name": "café", "n": [1, 2]}


def test_a_str_body_is_utf8_and_a_content_type_given_is_kept():
    assert make_message("é").body == "é".encode()
    assert make_message([1], content_type="application/x-ndjson").properties == {
        "content_type": "application/x-ndjson"
    }


def test_a_message_carries_its_delivery_info_properties_and_headers():
    msg = make_message(
        b"raw",
        headers={"attempt": 2, "when": datetime.datetime(2026, 1, 2)},
        redelivered=True,
        routing_key="orders.new",
        exchange="orders",
        delivery_tag=9,
        message_id="m-1",
        priority=5,
    )
    assert msg.delivery_info == {
        "consumer_tag": "amq.ctag-test",
        "delivery_tag": 9,
        "redelivered": True,
        "exchange": "orders",
        "routing_key": "orders.new",
    }
    utc = datetime.timezone.utc  # headers come back as the wire gives them
    assert msg.headers == {"attempt": 2, "when": datetime.datetime(2026, 1, 2, tzinfo=utc)}
    assert msg.properties["message_id"] == "m-1" and msg.properties["priority"] == 5


@pytest.mark.parametrize(
    ("properties", "error", "match"),
    [
        ({"colour": "red"}, TypeError, "unknown message properties: colour"),
        ({"priority": "high"}, TypeError, "priority: expected an int from 0 to 255"),
        ({"headers": {"score": 0.5}}, TypeError, r"headers\['score'\]: AMQP headers cannot"),
        ({"expiration": 60000}, TypeError, "expiration: expected a str of digits"),
    ],
)
def test_make_message_checks_properties_as_publish_does(properties, error, match):
    with pytest.raises(error, match=match):
        make_message(b"", **properties)


def test_a_body_json_cannot_carry_is_refused():
    with pytest.raises(ValueError, match="cannot encode .* as JSON: Out of range float"):
        make_message({"x": float("nan")})
    with pytest.raises(TypeError, match="cannot encode .* as JSON: .*set is not JSON"):
        make_message([{1, 2}])


def test_the_fake_amqp_answers_once_and_records_the_requeue_flag():
    amqp = FakeAMQP()
    amqp.nack(requeue=False)
    assert (amqp.answer, amqp.requeue) == ("nack", False)
    with pytest.raises(AlreadyAnswered, match="delivery 1 was already answered with nack"):
        amqp.ack()


def test_the_fake_amqp_records_what_is_published_as_it_would_be_delivered():
    amqp = FakeAMQP()
    amqp.publish("ex", "key", {"trace": "t1"}, "body", True, content_type="text/plain")
    amqp.publish_json("", "replies", {"ok": True}, headers={"n": 1}, message_id="r1")
    first, second = amqp.published
    assert (first.exchange, first.routing_key, first.mandatory) == ("ex", "key", True)
    assert first.body == b"body" and first.headers == {"trace": "t1"}
    assert first.properties["content_type"] == "text/plain"
    assert (second.exchange, second.routing_key, second.mandatory) == ("", "replies", False)
    assert second.body == b'{"ok":true}' and second.json() == {"ok": True}
    assert second.properties == {
        "content_type": "application/json",
        "headers": {"n": 1},
        "message_id": "r1",
    }
    assert amqp.answer is None


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda amqp: amqp.publish("ex", "key", "a body"),
            r"^publish: headers, the third argument, must be a dict or None, got 'a body'; "
            r"the order is publish\(exchange, routing_key, headers, body\)",
        ),
        (
            lambda amqp: amqp.publish("ex", "key", None, {"id": 1}),
            r"^publish: body must be bytes or str, got a dict; amqp.publish_json\(exchange, "
            r"routing_key, obj\) publishes it as JSON$",
        ),
        (
            lambda amqp: amqp.publish("ex", "key", body=17),
            r"^publish: body must be bytes or str, got 17$",
        ),
        (
            lambda amqp: amqp.publish("ex", "key", colour="red"),
            r"^unknown message properties: colour$",
        ),
        (
            lambda amqp: amqp.publish_json("ex", "key", object()),
            r"^cannot encode <object object at .*> as JSON: Object of type object",
        ),
    ],
)
def test_publish_mistakes_say_what_was_expected(call, match):
    amqp = FakeAMQP()
    with pytest.raises(TypeError, match=match):
        call(amqp)
    assert amqp.published == []


def test_a_publish_error_set_on_the_fake_is_raised_after_the_checks():
    amqp = FakeAMQP()
    amqp.publish_error = PublishError("the broker did not confirm")
    with pytest.raises(TypeError):
        amqp.publish("ex", "key", "misplaced body")
    with pytest.raises(PublishError, match="the broker did not confirm"):
        amqp.publish("ex", "key", None, b"x")
    assert amqp.published == []


def test_a_call_that_returns_without_answering_acks():
    outcome = run_consumer(Recorder, make_message(b"x"))
    assert (outcome.answer, outcome.requeue, outcome.exception, outcome.replaced) == (
        "ack",
        None,
        None,
        False,
    )


def test_an_answer_given_by_the_consumer_stands():
    outcome = run_consumer(Recorder(lambda amqp, msg: amqp.reject(requeue=False)), make_message())
    assert (outcome.answer, outcome.requeue) == ("reject", False)


def test_a_call_that_raises_requeues_and_the_instance_is_shut_down_and_replaced():
    failure = LookupError("no such customer")

    def fail(amqp, msg):
        raise failure

    consumer = Recorder(fail)
    outcome = run_consumer(consumer, make_message())
    assert (outcome.answer, outcome.requeue, outcome.replaced) == ("reject", True, True)
    assert outcome.exception is failure
    assert consumer.shutdowns == [failure]


def test_answering_twice_counts_as_raising():
    def twice(amqp, msg):
        amqp.ack()
        amqp.ack()

    outcome = run_consumer(Recorder(twice), make_message())
    assert isinstance(outcome.exception, AlreadyAnswered)
    assert (outcome.answer, outcome.replaced) == ("ack", True)


def test_a_given_failure_policy_answers_and_decides_the_replacement():
    class DeadLetterAndKeep(FailurePolicy):
        def answer(self, amqp, message, exception):
            amqp.publish("", "failed", None, message.body)
            amqp.nack(requeue=False)

        def replaces_instance(self, exception):
            return False

    def fail(amqp, msg):
        raise ValueError("bad input")

    consumer = Recorder(fail)
    outcome = run_consumer(consumer, make_message(b"m"), policy=DeadLetterAndKeep())
    assert (outcome.answer, outcome.requeue, outcome.replaced) == ("nack", False, False)
    assert [(p.routing_key, p.body) for p in outcome.published] == [("failed", b"m")]
    assert consumer.shutdowns == []


def test_a_class_is_created_with_the_options_and_an_amqp_given_is_used():
    amqp = FakeAMQP()
    seen = []
    options = {"consume": lambda amqp, msg: seen.append(msg.body)}
    outcome = run_consumer(Recorder, make_message(b"m"), amqp=amqp, options=options)
    assert seen == [b"m"] and amqp.answer == outcome.answer == "ack"


def test_options_are_for_a_class_only():
    with pytest.raises(TypeError, match="options are for a class, not an instance"):
        run_consumer(Recorder(), make_message(), options={})


def test_the_plugin_is_registered_with_pytest():
    plugins = importlib.metadata.entry_points(group="pytest11")
    assert [p.value for p in plugins if p.name == "amqp-dispatcher"] == [
        "amqpdispatcher.testing.plugin"
    ]


def test_the_plugin_fixtures(amqp, make_message, run_consumer):
    assert isinstance(amqp, FakeAMQP) and amqp.answer is None
    outcome = run_consumer(Recorder, make_message({"a": 1}), amqp=amqp)
    assert outcome.answer == amqp.answer == "ack"
    assert json.loads(make_message({"a": 1}).body) == {"a": 1}
