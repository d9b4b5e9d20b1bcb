"""RetryPolicy, under the daemon's rules (amqpdispatcher.testing): where a failed message is
copied, with which headers, and what becomes of the original."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from amqpdispatcher import PermanentFailure, PublishError, RetryPolicy
from amqpdispatcher.config import parse_config
from amqpdispatcher.message import Message
from amqpdispatcher.retry.headers import (
    EXCEPTION_MESSAGE,
    EXCEPTION_TYPE,
    FAILED_AT,
    ORIGINAL_EXCHANGE,
    ORIGINAL_ROUTING_KEY,
    RETRY_COUNT,
)
from amqpdispatcher.testing import FakeAMQP, make_message, run_consumer
from amqpdispatcher.transport import sendable

from .channel import FakeDelivery

POLICY = RetryPolicy("orders.new", max_retries=4, backoff=[1, 5, 0.5])


class Failing:
    def __init__(self, exception: BaseException) -> None:
        self.exception = exception
        self.shut_down_with: BaseException | None = None

    def consume(self, amqp, msg) -> None:
        raise self.exception

    def shutdown(self, exception) -> None:
        self.shut_down_with = exception


def first_delivery(**headers):
    return make_message(
        {"order": 7},
        headers=headers or None,
        exchange="orders",
        routing_key="orders.created",
        message_id="m-1",
        delivery_mode=2,
        priority=3,
    )


def fail(message, exception: BaseException | None = None, policy=POLICY):
    return run_consumer(Failing(exception or ValueError("no stock")), message, policy=policy)


@pytest.mark.parametrize(
    ("count", "queue"),
    [
        (None, "orders.new.delay.1s"),
        (1, "orders.new.delay.5s"),
        (2, "orders.new.delay.0.5s"),
        (3, "orders.new.delay.0.5s"),  # the last delay repeats
    ],
)
def test_a_failure_is_copied_to_the_delay_queue_of_its_retry_then_acked(count, queue):
    headers = {"tenant": "north"} if count is None else {"tenant": "north", RETRY_COUNT: count}
    outcome = fail(first_delivery(**headers))
    assert (outcome.answer, outcome.replaced) == ("ack", True)
    (copy,) = outcome.published
    assert (copy.exchange, copy.routing_key, copy.mandatory) == ("", queue, True)
    assert copy.headers == {
        "tenant": "north",
        RETRY_COUNT: (count or 0) + 1,
        ORIGINAL_EXCHANGE: "orders",
        ORIGINAL_ROUTING_KEY: "orders.created",
    }


def test_the_copy_has_the_body_and_properties_of_the_original():
    message = first_delivery()
    (copy,) = fail(message).published
    assert copy.body == message.body
    without_headers = {k: v for k, v in copy.properties.items() if k != "headers"}
    assert without_headers == {
        "content_type": "application/json",
        "message_id": "m-1",
        "delivery_mode": 2,
        "priority": 3,
    }


def test_the_original_exchange_and_routing_key_are_kept_from_the_first_failure():
    retried = make_message(
        b"x",
        headers={RETRY_COUNT: 1, ORIGINAL_EXCHANGE: "orders", ORIGINAL_ROUTING_KEY: "created"},
        exchange="",
        routing_key="orders.new",
    )
    (copy,) = fail(retried).published
    assert copy.headers[ORIGINAL_EXCHANGE] == "orders"
    assert copy.headers[ORIGINAL_ROUTING_KEY] == "created"


@pytest.mark.parametrize("count", ["2", True, -3, Decimal("2"), None])
def test_a_count_that_is_not_one_counts_as_none(count):
    (copy,) = fail(make_message(b"x", headers={RETRY_COUNT: count})).published
    assert copy.routing_key == "orders.new.delay.1s"
    assert copy.headers[RETRY_COUNT] == 1


def test_out_of_retries_the_message_is_archived_with_the_failure():
    before = datetime.now(timezone.utc)
    outcome = fail(first_delivery(**{RETRY_COUNT: 4, "tenant": "north"}))
    assert (outcome.answer, outcome.replaced) == ("ack", True)
    (copy,) = outcome.published
    assert (copy.exchange, copy.routing_key, copy.mandatory) == ("", "orders.new.archive", True)
    failed_at = copy.headers.pop(FAILED_AT)
    assert copy.headers == {
        "tenant": "north",
        RETRY_COUNT: 4,
        EXCEPTION_TYPE: "ValueError",
        EXCEPTION_MESSAGE: "no stock",
        ORIGINAL_EXCHANGE: "orders",
        ORIGINAL_ROUTING_KEY: "orders.created",
    }
    at = datetime.fromisoformat(failed_at)
    assert at.utcoffset() == timedelta(0)
    assert before <= at <= datetime.now(timezone.utc)
    assert copy.body == first_delivery().body
    assert copy.properties["message_id"] == "m-1"


class Unstable(PermanentFailure):
    pass


@pytest.mark.parametrize("exception", [PermanentFailure("bad order"), Unstable("bad order")])
def test_a_permanent_failure_is_archived_at_once(exception):
    (copy,) = fail(first_delivery(), exception).published
    assert copy.routing_key == "orders.new.archive"
    assert copy.headers[RETRY_COUNT] == 0
    assert copy.headers[EXCEPTION_TYPE] == type(exception).__name__
    assert copy.headers[EXCEPTION_MESSAGE] == "bad order"


def test_with_no_retries_the_first_failure_is_archived():
    policy = RetryPolicy("q", max_retries=0, backoff=[1], archive_queue="failed")
    (copy,) = fail(first_delivery(), policy=policy).published
    assert copy.routing_key == "failed"


def test_a_long_exception_message_is_cut_short():
    (copy,) = fail(first_delivery(), PermanentFailure("x" * 5000)).published
    assert len(copy.headers[EXCEPTION_MESSAGE]) == 1000


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no")


def test_an_exception_that_cannot_be_shown_is_still_archived():
    (copy,) = fail(first_delivery(**{RETRY_COUNT: 4}), Unprintable()).published
    assert copy.headers[EXCEPTION_MESSAGE] == "<Unprintable that cannot be shown>"


def test_when_the_copy_is_not_confirmed_the_original_is_rejected_with_requeue():
    amqp = FakeAMQP()
    amqp.publish_error = PublishError("unroutable: NO_ROUTE (312)")
    consumer = Failing(ValueError("no stock"))
    outcome = run_consumer(consumer, first_delivery(), amqp=amqp, policy=POLICY)
    assert (outcome.answer, outcome.requeue, outcome.replaced) == ("reject", True, True)
    assert outcome.published == []
    assert isinstance(consumer.shut_down_with, ValueError)


def test_a_message_the_consumer_answered_is_left_alone():
    class AnswersThenRaises:
        def consume(self, amqp, msg) -> None:
            amqp.nack(requeue=False)
            raise ValueError("after the answer")

        def shutdown(self, exception) -> None:
            pass

    outcome = run_consumer(AnswersThenRaises(), first_delivery(), policy=POLICY)
    assert (outcome.answer, outcome.requeue, outcome.published) == ("nack", False, [])


def test_built_from_the_config():
    config = parse_config(
        {
            "consumers": [
                {
                    "consumer": "m:C",
                    "queue": "orders.new",
                    "retry": {"max_retries": 1, "backoff": [0.5], "archive_queue": "failed"},
                }
            ]
        },
        "cfg.yaml",
    )
    policy = RetryPolicy.for_consumer(config.consumers[0])
    assert (policy.queue, policy.max_retries, policy.backoff, policy.archive_queue) == (
        "orders.new",
        1,
        (0.5,),
        "failed",
    )
    assert fail(first_delivery(), policy=policy).published[0].routing_key == "orders.new.delay.0.5s"


def test_the_archive_is_named_after_the_queue_by_default():
    assert (
        RetryPolicy("orders.new", max_retries=1, backoff=[1]).archive_queue == "orders.new.archive"
    )


def test_a_backoff_is_needed():
    with pytest.raises(ValueError, match="backoff needs at least one delay"):
        RetryPolicy("q", max_retries=1, backoff=[])


def test_float_headers_of_another_client_are_copied_as_decimals():
    """pika reads AMQP's doubles as floats but cannot write them: without the conversion, the
    copy could never be published and the message would loop back to its queue."""
    delivery = FakeDelivery(1, b"{}", {"headers": {"score": 0.25, "ratios": [1.5, 1e300]}})
    outcome = run_consumer(Failing(ValueError("x")), Message(delivery), policy=POLICY)
    (copy,) = outcome.published
    assert copy.headers["score"] == Decimal("0.25")
    assert copy.headers["ratios"] == [Decimal("1.5"), "1e+300"]
    assert outcome.answer == "ack"


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        (0.1, Decimal("0.1")),
        (-2.0, Decimal("-2")),
        (123456.789, Decimal("123456.789")),
        (1 / 3, "0.3333333333333333"),  # 16 digits: more than 32 bits unscaled
        (1e300, "1e+300"),
        (float("inf"), "inf"),
        (float("nan"), "nan"),
        ({"deep": [0.5]}, {"deep": [Decimal("0.5")]}),
        ("text", "text"),
        (7, 7),
    ],
)
def test_sendable_values(value, sent):
    assert sendable(value) == sent
