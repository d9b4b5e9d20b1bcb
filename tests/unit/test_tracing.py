"""The Tracing middleware without a broker: the spans it makes of the hooks' arguments, the
trace context read from headers however they come, and the `tracing` key of the config."""

import subprocess
import sys

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from amqpdispatcher.config import ConfigError, ConsumerSpec, parse_config
from amqpdispatcher.middleware.tracing import Tracing
from amqpdispatcher.testing import make_message

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
CONSUMER = ConsumerSpec("app:Worker", "orders", consumer_count=1, prefetch_count=1, path="c[0]")


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Tracing(provider), exporter


def consumed(tracing, message, exception=None, answer="ack") -> None:
    tracing.before_consume(CONSUMER, None, message)
    tracing.after_consume(CONSUMER, None, message, answer, exception)


@pytest.mark.parametrize("value", [TRACEPARENT, TRACEPARENT.encode()])
def test_the_consume_span_continues_the_trace_of_the_headers_str_or_bytes(spans, value):
    tracing, exporter = spans
    message = make_message(
        b"12345",
        headers={"traceparent": value, "x-retry-count": 2},
        exchange="shop",
        routing_key="order.new",
        delivery_tag=7,
        redelivered=True,
        message_id="m-1",
        correlation_id="c-1",
    )
    consumed(tracing, message)
    (span,) = exporter.get_finished_spans()
    assert span.name == "process orders"
    assert span.kind is trace.SpanKind.CONSUMER
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert format(span.parent.span_id, "016x") == PARENT_ID
    assert span.parent.is_remote
    assert dict(span.attributes) == {
        "messaging.system": "rabbitmq",
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "messaging.destination.name": "shop:order.new:orders",
        "messaging.rabbitmq.destination.routing_key": "order.new",
        "messaging.rabbitmq.message.delivery_tag": 7,
        "messaging.message.body.size": 5,
        "messaging.message.id": "m-1",
        "messaging.message.conversation_id": "c-1",
        "amqp_dispatcher.consumer": "app:Worker",
        "amqp_dispatcher.redelivered": True,
        "amqp_dispatcher.retry_count": 2,
        "amqp_dispatcher.answer": "ack",
    }
    assert span.status.status_code is trace.StatusCode.UNSET


@pytest.mark.parametrize("headers", [None, {"traceparent": "garbage"}, {"traceparent": 5}])
def test_without_a_valid_trace_context_the_span_starts_a_trace(spans, headers):
    tracing, exporter = spans
    consumed(tracing, make_message(headers=headers, routing_key="orders"))
    (span,) = exporter.get_finished_spans()
    assert span.parent is None
    assert span.attributes["messaging.destination.name"] == "orders"  # the routing key is it


def test_a_failure_is_recorded_on_the_span(spans):
    tracing, exporter = spans
    consumed(tracing, make_message(), ValueError("bad order\nmore"), answer="reject")
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is trace.StatusCode.ERROR
    assert span.status.description == "ValueError: bad order..."
    assert span.attributes["error.type"] == "ValueError"
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == "ValueError"


def test_a_publish_in_consume_carries_a_producer_span_under_the_consume_span(spans):
    tracing, exporter = spans
    message = make_message(headers={"traceparent": TRACEPARENT})
    tracing.before_consume(CONSUMER, None, message)
    headers = {"own": 1}
    tracing.before_publish("shop", "order.paid", headers, False)
    tracing.after_publish("shop", "order.paid", True)
    tracing.after_consume(CONSUMER, None, message, "ack", None)
    publish, consume = exporter.get_finished_spans()
    assert (publish.name, publish.kind) == ("publish shop", trace.SpanKind.PRODUCER)
    assert publish.parent.span_id == consume.context.span_id
    assert publish.attributes["messaging.destination.name"] == "shop:order.paid"
    assert headers == {"own": 1, "traceparent": f"00-{TRACE_ID}-{publish.context.span_id:016x}-01"}


def test_a_copy_keeps_the_trace_and_names_the_failed_attempt_which_the_next_links_to(spans):
    tracing, exporter = spans
    message = make_message(headers={"traceparent": TRACEPARENT})
    tracing.before_consume(CONSUMER, None, message)
    copy = dict(message.headers)
    tracing.before_publish("", "orders.delay.1s", copy, True)
    tracing.after_publish("", "orders.delay.1s", True)
    tracing.after_consume(CONSUMER, None, message, "ack", RuntimeError("down"))
    consumed(tracing, make_message(headers=copy))
    first, second = exporter.get_finished_spans()  # no span of the copy's publish
    assert copy["traceparent"] == TRACEPARENT
    assert copy["x-previous-traceparent"] == f"00-{TRACE_ID}-{first.context.span_id:016x}-01"
    assert second.parent.span_id == first.parent.span_id  # siblings under the producer's span
    (link,) = second.links
    assert link.context.span_id == first.context.span_id


def test_a_copy_of_a_message_without_a_trace_context_continues_the_failed_attempts(spans):
    tracing, exporter = spans
    message = make_message()
    tracing.before_consume(CONSUMER, None, message)
    copy = {}
    tracing.before_publish("", "orders.delay.1s", copy, True)
    tracing.after_consume(CONSUMER, None, message, "ack", RuntimeError("down"))
    consumed(tracing, make_message(headers=copy))
    first, second = exporter.get_finished_spans()
    assert second.parent.span_id == first.context.span_id
    assert second.links[0].context.span_id == first.context.span_id


def test_tracing_is_off_unless_the_yaml_says_true():
    consumers = [{"consumer": "m:C", "queue": "q"}]
    assert parse_config({"consumers": consumers}, "cfg.yaml").tracing is False
    assert parse_config({"consumers": consumers, "tracing": True}, "cfg.yaml").tracing is True
    with pytest.raises(ConfigError) as caught:
        parse_config({"consumers": consumers, "tracing": "yes"}, "cfg.yaml")
    assert caught.value.problems == ["tracing: expected a boolean, got 'yes'"]


def test_a_tracing_middleware_without_a_provider_warns_that_spans_go_nowhere():
    # A process of its own: the global provider is set once per process, by whoever sets it.
    code = (
        "import logging; logging.basicConfig();"
        "from amqpdispatcher.middleware.tracing import Tracing; Tracing()"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "no OpenTelemetry tracer provider is set: spans go nowhere" in run.stderr


def test_the_span_of_a_publish_refused_before_sending_is_dropped(spans):
    tracing, exporter = spans
    message = make_message()
    tracing.before_consume(CONSUMER, None, message)
    tracing.before_publish("shop", "k", {}, False)  # then encoding raised: no after_publish
    tracing.before_publish("", "orders.delay.1s", {}, True)
    tracing.after_publish("", "orders.delay.1s", True)
    tracing.after_consume(CONSUMER, None, message, "ack", TypeError("float header"))
    assert [span.name for span in exporter.get_finished_spans()] == ["process orders"]
