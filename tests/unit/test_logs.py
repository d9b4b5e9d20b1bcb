"""The JSON log format and its consume context, without a broker."""

import json
import logging
import sys
from collections.abc import Iterator
from datetime import datetime, timezone

import gevent
import pytest
from gevent.event import Event

from amqpdispatcher import Middleware
from amqpdispatcher.logs import DEFAULT_FORMAT, MAX_TEXT, JsonFormatter, TextFormatter
from amqpdispatcher.message import Message
from amqpdispatcher.middleware import logcontext

from .channel import FakeDelivery
from .rig import consumer_spec, settle

CONTEXT_KEYS = {"queue", "consumer", "delivery_tag", "message_id", "redelivered", "retry_count"}


def assert_has(line: dict, expected: dict) -> None:
    assert {key: line.get(key, "(absent)") for key in expected} == expected


log = logging.getLogger("tests.unit.consumer")


class Lines(logging.Handler):
    """Keeps each record formatted as JsonFormatter formats it, parsed back."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.raw: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.raw.append(self.format(record))

    @property
    def parsed(self) -> list[dict]:
        return [json.loads(line) for line in self.raw]

    def one(self, message: str) -> dict:
        (line,) = [line for line in self.parsed if line["message"] == message]
        return line


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


def test_a_record_outside_consume_has_the_base_fields_only(lines):
    before = datetime.now(timezone.utc)
    log.warning("two\nlines, %d args: %r", 2, "x")
    (raw,) = lines.raw
    assert "\n" not in raw
    line = json.loads(raw)
    assert line.keys() == {"time", "level", "logger", "message"}
    assert line["level"] == "WARNING"
    assert line["logger"] == "tests.unit.consumer"
    assert line["message"] == "two\nlines, 2 args: 'x'"
    assert line["time"].endswith("Z")
    moment = datetime.fromisoformat(line["time"][:-1]).replace(tzinfo=timezone.utc)
    assert abs((moment - before).total_seconds()) < 60  # UTC, not local time


def test_exc_info_is_the_formatted_traceback(lines):
    try:
        raise KeyError("missing")
    except KeyError:
        log.exception("failed")
    exc_info = lines.one("failed")["exc_info"]
    assert exc_info.startswith("Traceback (most recent call last):")
    assert exc_info.endswith("KeyError: 'missing'")
    assert "test_exc_info_is_the_formatted_traceback" in exc_info


def test_values_json_cannot_take_are_shown_with_repr(lines):
    enter, leave = logcontext.around([])
    delivery = FakeDelivery(5, properties={"headers": {"x-retry-count": b"\x01"}})

    def consume() -> None:
        enter.before_consume(consumer_spec(), None, Message(delivery))
        log.warning("odd header")

    gevent.spawn(consume).get()
    assert lines.one("odd header")["retry_count"] == "b'\\x01'"


def test_the_context_has_message_id_and_retry_count_when_the_message_has_them(lines):
    enter, leave = logcontext.around([])
    first = FakeDelivery(1)
    retried = FakeDelivery(2, properties={"message_id": "m-9", "headers": {"x-retry-count": 3}})
    retried.redelivered = True

    def consume(delivery: FakeDelivery, text: str) -> None:
        message = Message(delivery)
        enter.before_consume(consumer_spec(), None, message)
        log.warning(text)
        leave.after_consume(consumer_spec(), None, message, "ack", None)
        log.warning(f"{text}, after")

    gevent.joinall([gevent.spawn(consume, first, "first"), gevent.spawn(consume, retried, "2nd")])
    base = {"queue": "q", "consumer": "tests.unit:Consumer"}
    assert_has(
        lines.one("first"),
        {
            **base,
            "delivery_tag": 1,
            "redelivered": False,
            "retry_count": None,
        },
    )
    assert "message_id" not in lines.one("first")
    assert_has(
        lines.one("2nd"),
        {
            **base,
            "delivery_tag": 2,
            "message_id": "m-9",
            "redelivered": True,
            "retry_count": 3,
        },
    )
    for after in ("first, after", "2nd, after"):
        assert not CONTEXT_KEYS & lines.one(after).keys()


class LogsInHooks(Middleware):
    def before_consume(self, consumer, instance, message) -> None:
        log.warning("before %d", message.delivery_info["delivery_tag"])

    def after_consume(self, consumer, instance, message, answer, exception) -> None:
        log.warning("after %d", message.delivery_info["delivery_tag"])


def test_every_record_of_a_consume_call_has_its_own_context(rig, lines):
    gate = Event()

    def consume(amqp, message) -> None:
        log.warning("consuming %d", amqp.delivery_tag)
        gate.wait()  # the two calls overlap
        log.warning("resuming %d", amqp.delivery_tag)
        if amqp.delivery_tag == 2:
            raise RuntimeError("boom")

    pool = rig(consume=consume, count=2, middleware=logcontext.around([LogsInHooks()]))
    pool.deliver(2)
    settle()
    gate.set()
    settle()
    log.warning("outside")

    for tag in (1, 2):
        for text in ("before", "consuming", "resuming", "after"):
            assert lines.one(f"{text} {tag}")["delivery_tag"] == tag
    failed = lines.one("tests.unit:Consumer raised on queue 'q', delivery 2")
    assert failed["level"] == "ERROR"
    assert failed["delivery_tag"] == 2
    assert failed["exc_info"].endswith("RuntimeError: boom")
    assert not CONTEXT_KEYS & lines.one("outside").keys()


def test_the_context_costs_nothing_without_the_middleware(rig, lines):
    pool = rig(consume=lambda amqp, message: log.warning("consuming"))
    pool.deliver()
    settle()
    assert not CONTEXT_KEYS & lines.one("consuming").keys()
    assert not pool.hooks


def test_a_line_is_ascii_whatever_the_message(lines):
    log.warning("caf\u00e9 \ud800")
    (raw,) = lines.raw
    assert raw.isascii()
    assert json.loads(raw)["message"] == "caf\u00e9 \ud800"


HUGE = 5_000_123  # characters


def huge_record(**kwargs) -> logging.LogRecord:
    """An ERROR record whose message, and its exception's, are HUGE characters long."""
    try:
        raise RuntimeError("e" * HUGE)
    except RuntimeError:
        exc_info = sys.exc_info()
    return logging.LogRecord(
        "tests", logging.ERROR, __file__, 1, "%s", ("m" * HUGE,), exc_info, **kwargs
    )


CUT = f"... [cut: {HUGE:,} characters in all]"


def test_a_json_line_cuts_the_message_and_traceback_and_says_so():
    line = json.loads(JsonFormatter().format(huge_record(sinfo="s" * HUGE)))
    assert line["message"] == "m" * MAX_TEXT + CUT
    assert line["exc_info"].startswith("Traceback (most recent call last):")
    assert line["exc_info"].endswith(" characters in all]")
    assert line["stack_info"] == "s" * MAX_TEXT + CUT
    assert all(len(line[key]) < MAX_TEXT + 100 for key in ("message", "exc_info", "stack_info"))


def test_a_text_line_cuts_the_message_and_traceback_and_says_so():
    text = TextFormatter(DEFAULT_FORMAT).format(huge_record())
    assert f"{'m' * MAX_TEXT}{CUT}\nTraceback (most recent call last):" in text
    assert text.endswith(" characters in all]")
    assert len(text) < 2 * MAX_TEXT + 500


def test_text_up_to_the_bound_is_left_whole():
    record = logging.LogRecord("tests", logging.INFO, __file__, 1, "x" * MAX_TEXT, (), None)
    assert json.loads(JsonFormatter().format(record))["message"] == "x" * MAX_TEXT
    assert TextFormatter("%(message)s").format(record) == "x" * MAX_TEXT
