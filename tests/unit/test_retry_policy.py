"""RetryPolicy, under the daemon's rules (amqpdispatcher.testing): where a failed message is
copied, with which headers, and what becomes of the original."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from amqpdispatcher import PermanentFailure, PublishError, RetryPolicy
from amqpdispatcher.config import parse_config
from amqpdispatcher.message import Message
from amqpdispatcher.retry.headers import (
    COPY_REFUSED,
    DROPPED_HEADERS,
    EXCEPTION_MESSAGE,
    EXCEPTION_TYPE,
    FAILED_AT,
    ORIGINAL_EXCHANGE,
    ORIGINAL_ROUTING_KEY,
    ORIGINAL_USER_ID,
    RETRY_COUNT,
)
from amqpdispatcher.testing import FakeAMQP, make_message, run_consumer
from amqpdispatcher.transport import PublishRefused, sendable

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


def test_a_copy_that_cannot_be_published_now_leaves_the_message_unanswered_for_later(caplog):
    """The daemon then keeps it unacked, pauses the instance and tries again (failure/settle.py):
    never back to its queue at full speed."""
    amqp = FakeAMQP()
    amqp.publish_error = PublishError("cannot publish: no broker reachable")
    consumer = Failing(ValueError("no stock"))
    outcome = run_consumer(consumer, first_delivery(), amqp=amqp, policy=POLICY)
    assert (outcome.answer, outcome.requeue, outcome.replaced) == (None, None, True)
    assert outcome.published == []
    assert isinstance(consumer.shut_down_with, ValueError)
    assert "delivery 1 cannot be answered yet: its copy for 'orders.new.delay.1s'" in caplog.text


class RefusesFirst(FakeAMQP):
    """Refuses the first `refusals` copies, as the broker refuses a message of its own."""

    def __init__(self, refusals: int = 1) -> None:
        super().__init__()
        self.refusals = refusals

    def publish_copy(self, queue: str, headers: dict, body: bytes, properties: dict) -> None:
        if self.refusals:
            self.refusals -= 1
            raise PublishRefused(f"unroutable: NO_ROUTE (312) for {queue}")
        super().publish_copy(queue, headers, body, properties)


def test_a_refused_copy_gives_way_to_a_minimal_copy_in_the_archive(caplog):
    amqp = RefusesFirst()
    trace = {"traceparent": f"00-{'a' * 32}-{'b' * 16}-01", "tracestate": b"k=v"}
    message = first_delivery(tenant="north", **{RETRY_COUNT: 1}, **trace)
    outcome = run_consumer(Failing(ValueError("no stock")), message, amqp=amqp, policy=POLICY)
    assert outcome.answer == "ack"
    (archived,) = outcome.published
    assert archived.routing_key == "orders.new.archive"
    assert archived.body == message.body
    assert archived.properties["message_id"] == "m-1"
    assert "tenant" not in archived.headers
    assert archived.headers[COPY_REFUSED] == (
        "'orders.new.delay.5s': unroutable: NO_ROUTE (312) for orders.new.delay.5s"
    )
    assert (archived.headers[EXCEPTION_TYPE], archived.headers[RETRY_COUNT]) == ("ValueError", 1)
    assert archived.headers[ORIGINAL_EXCHANGE] == "orders"
    assert {name: archived.headers[name] for name in trace} == trace  # the trace is kept
    assert "archiving a minimal copy in 'orders.new.archive' instead" in caplog.text


def test_when_the_archive_refuses_the_minimal_copy_too_the_message_is_dead_lettered(caplog):
    amqp = RefusesFirst(refusals=2)
    outcome = run_consumer(Failing(ValueError("x")), first_delivery(), amqp=amqp, policy=POLICY)
    assert (outcome.answer, outcome.requeue, outcome.published) == ("reject", False, [])
    assert "rejecting the message without requeue" in caplog.text


def test_nothing_is_copied_nor_answered_once_the_channel_of_the_message_closed():
    amqp = FakeAMQP()
    amqp._acks.answerable = False
    outcome = run_consumer(Failing(ValueError("x")), first_delivery(), amqp=amqp, policy=POLICY)
    assert (outcome.answer, outcome.published, outcome.replaced) == (None, [], True)


def test_headers_that_do_not_fit_a_frame_are_left_out_largest_first():
    room = FakeAMQP().max_properties_size
    big = "b" * (room - 60)  # fits as delivered; not with the retry headers added
    outcome = fail(first_delivery(big=big, small="kept"))
    (copy,) = outcome.published
    assert "big" not in copy.headers
    assert copy.headers["small"] == "kept"
    assert copy.headers[DROPPED_HEADERS] == "big"
    assert copy.headers[RETRY_COUNT] == 1


def test_the_failure_texts_are_cut_in_bytes():
    long_type = type("E" * 5000, (Exception,), {})
    message = first_delivery(**{RETRY_COUNT: 4})
    (copy,) = fail(message, long_type("é" * 5000)).published
    assert len(copy.headers[EXCEPTION_TYPE].encode()) <= 255
    assert len(copy.headers[EXCEPTION_MESSAGE].encode()) <= 1000
    assert copy.headers[EXCEPTION_MESSAGE].endswith("é...")


def test_a_user_id_moves_into_a_header_since_the_broker_takes_it_only_from_its_user():
    (copy,) = fail(make_message(b"{}", user_id="billing")).published
    assert "user_id" not in copy.properties
    assert copy.headers[ORIGINAL_USER_ID] == "billing"


def test_a_retried_failure_is_one_warning_line_with_the_traceback_only_the_first_time(caplog):
    caplog.set_level(logging.DEBUG, "amqp-dispatcher.pool")
    policy = RetryPolicy("orders.new", max_retries=2, backoff=[1, 5])
    spec = parse_config({"consumers": [{"consumer": "m:C", "queue": "orders.new"}]}, "c")
    consumer = spec.consumers[0]
    for count in (0, 1, 2):
        message = first_delivery(**{RETRY_COUNT: count} if count else {})
        policy.log_failure(consumer, message, ValueError(f"no stock\nat try {count}"))
    first, second, debug, archived = caplog.records
    assert (first.levelname, first.exc_info is not None) == ("WARNING", True)
    assert first.getMessage() == (
        "m:C raised on queue 'orders.new', delivery 1: ValueError: no stock...; retry 1 of 2 in 1s"
    )
    assert (second.levelname, second.exc_info) == ("WARNING", None)
    assert "retry 2 of 2 in 5s" in second.getMessage()
    assert (debug.levelname, debug.exc_info is not None) == ("DEBUG", True)
    assert (archived.levelname, archived.exc_info is not None) == ("ERROR", True)
    assert archived.getMessage().endswith("delivery 1; archiving it")


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
        (2**64 - 1, "18446744073709551615"),  # AMQP's unsigned 64 bits: pika writes signed only
        (Decimal("1e-300"), "1E-300"),  # too fine a scale for AMQP's decimal
    ],
)
def test_sendable_values(value, sent):
    assert sendable(value) == sent
