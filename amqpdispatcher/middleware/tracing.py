"""OpenTelemetry traces (docs/tracing.rst): a CONSUMER span per delivery, continuing the
producer's trace from the message's W3C trace context headers; a PRODUCER span per consumer's
publish, whose context the published message carries; the retry policy's copies keep the
message's trace, and link each attempt to the one before. The only module that imports
OpenTelemetry, and imported only when tracing is on (loader.py).

Each span lives in a context variable of the greenlet it started in: the consume hooks all run
in the consume call's greenlet, and a publish's two hooks in the publishing greenlet, whose
contexts are their own (executors.py gives a thread executor's calls a copy of theirs)."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from importlib.metadata import version
from typing import TYPE_CHECKING

try:
    from opentelemetry import context, trace
    from opentelemetry.propagators.textmap import Getter
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
except ModuleNotFoundError as missing:
    if not (missing.name or "").startswith("opentelemetry"):
        raise
    raise ImportError(
        "OpenTelemetry is not installed: pip install 'amqp-dispatcher[otel]'"
    ) from None

from ..excerpt import first_line
from ..retry.copies import exception_text
from ..retry.headers import PREVIOUS_TRACEPARENT, RETRY_COUNT, TRACE_HEADERS
from .middleware import Middleware

if TYPE_CHECKING:
    from ..config import ConsumerSpec
    from ..message import Message

log = logging.getLogger("amqp-dispatcher.tracing")

SCOPE = "amqp-dispatcher"  # the instrumentation scope the spans are reported under
TRACEPARENT = TRACE_HEADERS[0]
MAX_STATUS = 200  # characters of the exception's text in an ERROR status
DEFAULT_EXCHANGE = "amq.default"  # semconv's name for it in a destination
_PROPAGATOR = TraceContextTextMapPropagator()


class Tracing(Middleware):
    """Spans from `tracer_provider`, by default the global one that the startup handler or
    opentelemetry-instrument sets."""

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        provider = tracer_provider or trace.get_tracer_provider()
        if isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)):
            log.warning(
                "tracing is on, but no OpenTelemetry tracer provider is set: spans go nowhere. "
                "Set one in the startup_handler (docs/tracing.rst), or run the daemon under "
                "opentelemetry-instrument"
            )
        self._tracer = provider.get_tracer(SCOPE, version("amqp-dispatcher"))
        # The consume span and the token that detaches its context, in the consume's greenlet.
        self._consuming: ContextVar[tuple[trace.Span, object] | None] = ContextVar(
            "amqp_dispatcher_consume_span", default=None
        )
        # A publish's span, from before_publish to after_publish, in the publishing greenlet.
        self._publishing: ContextVar[trace.Span | None] = ContextVar(
            "amqp_dispatcher_publish_span", default=None
        )

    def before_consume(self, consumer: ConsumerSpec, instance: object, message: Message) -> None:
        headers = message.headers
        previous = _previous_attempt(headers)
        span = self._tracer.start_span(
            f"process {consumer.queue}",
            _PROPAGATOR.extract(headers, getter=_HEADERS),
            kind=trace.SpanKind.CONSUMER,
            attributes=consume_attributes(consumer, message),
            links=(trace.Link(previous),) if previous is not None else None,
        )
        token = context.attach(trace.set_span_in_context(span))
        self._consuming.set((span, token))

    def after_consume(
        self,
        consumer: ConsumerSpec,
        instance: object,
        message: Message,
        answer: str | None,
        exception: BaseException | None,
    ) -> None:
        consuming = self._consuming.get()
        if consuming is None:
            return
        self._consuming.set(None)
        span, token = consuming
        context.detach(token)
        if answer is not None:
            span.set_attribute("amqp_dispatcher.answer", answer)
        if exception is not None:
            span.record_exception(exception)
            span.set_attribute("error.type", type(exception).__qualname__)
            description = f"{type(exception).__name__}: {exception_text(exception)}"
            span.set_status(trace.StatusCode.ERROR, first_line(description, MAX_STATUS))
        span.end()

    def before_publish(self, exchange: str, routing_key: str, headers: dict, copy: bool) -> None:
        if copy:
            self._publishing.set(None)
            self._mark_copy(headers)
            return
        span = self._tracer.start_span(
            f"publish {exchange or DEFAULT_EXCHANGE}",
            kind=trace.SpanKind.PRODUCER,
            attributes=publish_attributes(exchange, routing_key),
        )
        # Replacing the span of a message that encoding refused, which no after_publish ends:
        # nothing was sent, and that span is dropped unreported.
        self._publishing.set(span)
        _PROPAGATOR.inject(headers, trace.set_span_in_context(span))

    def after_publish(self, exchange: str, routing_key: str, confirmed: bool) -> None:
        span = self._publishing.get()
        if span is None:  # a copy's: the span is the failed consume's
            return
        self._publishing.set(None)
        if not confirmed:
            span.set_status(trace.StatusCode.ERROR, "not confirmed by the broker")
        span.end()

    def _mark_copy(self, headers: dict) -> None:
        """A retry or archive copy of the message being consumed keeps its trace context (or,
        for a message that came without one, gets the failed attempt's as its parent), and
        names the failed attempt, for the next one to link to."""
        consuming = self._consuming.get()
        if consuming is None:
            return
        attempt = trace.set_span_in_context(consuming[0])
        if TRACEPARENT not in headers:
            _PROPAGATOR.inject(headers, attempt)
        own: dict[str, str] = {}
        _PROPAGATOR.inject(own, attempt)
        if TRACEPARENT in own:
            headers[PREVIOUS_TRACEPARENT] = own[TRACEPARENT]


def consume_attributes(consumer: ConsumerSpec, message: Message) -> dict:
    """The consume span's attributes, by the messaging semantic conventions and ours."""
    info = message.delivery_info
    properties = message.properties
    attributes = {
        "messaging.system": "rabbitmq",
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "messaging.destination.name": _destination(
            info["exchange"], info["routing_key"], consumer.queue
        ),
        "messaging.rabbitmq.message.delivery_tag": info["delivery_tag"],
        "messaging.message.body.size": len(message.body),
        "amqp_dispatcher.consumer": consumer.consumer,
        "amqp_dispatcher.redelivered": info["redelivered"],
    }
    if info["routing_key"]:
        attributes["messaging.rabbitmq.destination.routing_key"] = info["routing_key"]
    for name, attribute in _PROPERTY_ATTRIBUTES:
        value = properties.get(name)
        if isinstance(value, str):
            attributes[attribute] = value
    count = message.headers.get(RETRY_COUNT)
    if type(count) is int:
        attributes["amqp_dispatcher.retry_count"] = count
    return attributes


def publish_attributes(exchange: str, routing_key: str) -> dict:
    attributes = {
        "messaging.system": "rabbitmq",
        "messaging.operation.type": "send",
        "messaging.operation.name": "publish",
        "messaging.destination.name": _destination(exchange, routing_key) or DEFAULT_EXCHANGE,
    }
    if routing_key:
        attributes["messaging.rabbitmq.destination.routing_key"] = routing_key
    return attributes


_PROPERTY_ATTRIBUTES = (
    ("message_id", "messaging.message.id"),
    ("correlation_id", "messaging.message.conversation_id"),
)


def _destination(exchange: str, routing_key: str, queue: str = "") -> str:
    """`exchange:routing key:queue`, as RabbitMQ's semantic conventions name a destination:
    without the empty names, nor the queue when it is the routing key."""
    names = (exchange, routing_key) if queue == routing_key else (exchange, routing_key, queue)
    return ":".join(name for name in names if name)


def _previous_attempt(headers: dict) -> trace.SpanContext | None:
    """The span context of the failed attempt a retried message names, if it names a valid
    one."""
    if PREVIOUS_TRACEPARENT not in headers:
        return None
    named = {TRACEPARENT: headers[PREVIOUS_TRACEPARENT]}
    attempt = trace.get_current_span(_PROPAGATOR.extract(named, getter=_HEADERS))
    span_context = attempt.get_span_context()
    return span_context if span_context.is_valid else None


class _HeaderGetter(Getter):
    """Message headers as a propagator reads them: a value may come as bytes, a longstr the
    publisher did not mark as text."""

    def get(self, carrier: dict, key: str) -> list[str] | None:
        value = carrier.get(key)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        return [value] if isinstance(value, str) else None

    def keys(self, carrier: dict) -> list[str]:
        return list(carrier)


_HEADERS = _HeaderGetter()
