"""The daemon's Prometheus metrics, collected as middleware on a registry of their own."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from ..blocking import blocked_seconds
from .middleware import Middleware

if TYPE_CHECKING:
    from ..config import ConsumerSpec
    from ..message import Message
    from ..url import Target

CONSUMER_TIMEOUT = "consumer_timeout:"  # how a reason of after_consuming_stopped starts for one
ANSWERS = ("ack", "nack", "reject")
_LABELS = ("queue", "consumer")


class Metrics(Middleware):
    """Counts what the hooks report, per pool labelled by `queue` and `consumer`. Every series
    of every pool exists from the start, at 0, so that rates and alerts see them at once."""

    def __init__(self, consumers: Sequence[ConsumerSpec]) -> None:
        self.registry = CollectorRegistry()
        family = _Families(self.registry)
        per_pool = _pool_families(family)
        self._pools = {spec: _Pool(per_pool, spec) for spec in consumers}
        self._connected = family.gauge("connected", "1 while connected to the broker, else 0")
        self._reconnects = family.counter(
            "reconnects", "Connections opened again after the first one"
        )
        publishes = family.counter(
            "publishes", "Messages published by consumers, by outcome", ("result",)
        )
        self._published = {True: publishes.labels("confirmed"), False: publishes.labels("failed")}
        self._opened = 0
        self.registry.register(_BlockedLoop())

    def before_consume(self, consumer: ConsumerSpec, instance: object, message: Message) -> None:
        pool = self._pools[consumer]
        pool.deliveries.inc()
        pool.in_flight.inc()
        pool.started[message] = time.perf_counter()

    def after_consume(
        self,
        consumer: ConsumerSpec,
        instance: object,
        message: Message,
        answer: str | None,
        exception: BaseException | None,
    ) -> None:
        pool = self._pools[consumer]
        started = pool.started.pop(message, None)
        if started is not None:
            pool.duration.observe(time.perf_counter() - started)
            pool.in_flight.dec()
        if answer is not None:
            pool.answers[answer].inc()
        if exception is not None:
            pool.errors.inc()

    def after_instance_retired(
        self, consumer: ConsumerSpec, instance: object, exception: BaseException | None
    ) -> None:
        self._pools[consumer].instances.dec()

    def after_instance_replaced(
        self, consumer: ConsumerSpec, old: object, new: object, exception: BaseException
    ) -> None:
        self._pools[consumer].instances.inc()

    def after_retry(self, consumer: ConsumerSpec, message: Message, retry_count: int) -> None:
        self._pools[consumer].retries.inc()

    def after_archive(
        self, consumer: ConsumerSpec, message: Message, exception: BaseException
    ) -> None:
        self._pools[consumer].archived.inc()

    def after_publish(self, exchange: str, routing_key: str, confirmed: bool) -> None:
        self._published[confirmed].inc()

    def after_connection_opened(self, target: Target) -> None:
        self._opened += 1
        if self._opened > 1:
            self._reconnects.inc()
        self._connected.set(1)

    def after_connection_lost(self, target: Target, reason: Exception) -> None:
        self._connected.set(0)

    def after_consuming_stopped(self, consumer: ConsumerSpec, reason: str) -> None:
        if reason.startswith(CONSUMER_TIMEOUT):
            self._pools[consumer].timeouts.inc()


class _Families:
    """Makes the metric families, each named amqp_dispatcher_*, on one registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def counter(self, name: str, help: str, labels: Sequence[str] = ()) -> Counter:
        return Counter(_name(name), help, labels, registry=self._registry)

    def gauge(self, name: str, help: str, labels: Sequence[str] = ()) -> Gauge:
        return Gauge(_name(name), help, labels, registry=self._registry)

    def histogram(self, name: str, help: str, labels: Sequence[str] = ()) -> Histogram:
        return Histogram(_name(name), help, labels, registry=self._registry)


class _Pool:
    """One pool's series, bound to its labels once rather than looked up per message."""

    def __init__(self, metrics: dict, spec: ConsumerSpec) -> None:
        labels = (spec.queue, spec.consumer)
        self.deliveries = metrics["deliveries"].labels(*labels)
        self.answers = {answer: metrics["answers"].labels(*labels, answer) for answer in ANSWERS}
        self.errors = metrics["errors"].labels(*labels)
        self.retries = metrics["retries"].labels(*labels)
        self.archived = metrics["archived"].labels(*labels)
        self.timeouts = metrics["timeouts"].labels(*labels)
        self.duration = metrics["duration"].labels(*labels)
        self.in_flight = metrics["in_flight"].labels(*labels)
        self.instances = metrics["instances"].labels(*labels)
        self.instances.inc(spec.consumer_count)  # two entries may share a queue and a class
        self.started: dict[Message, float] = {}  # the consume calls running, by message


def _pool_families(family: _Families) -> dict:
    return {
        "deliveries": family.counter("deliveries", "Messages handed to consume", _LABELS),
        "answers": family.counter("answers", "Messages answered, by answer", (*_LABELS, "answer")),
        "errors": family.counter("consume_errors", "consume calls that raised", _LABELS),
        "retries": family.counter(
            "retries", "Failed messages sent to a delay queue for a retry", _LABELS
        ),
        "archived": family.counter(
            "archived", "Failed messages sent to the archive queue", _LABELS
        ),
        "timeouts": family.counter(
            "consumer_timeouts",
            "Channels the broker closed because a consume ran past its consumer_timeout",
            _LABELS,
        ),
        "duration": family.histogram(
            "consume_duration_seconds", "How long consume calls took, answer included", _LABELS
        ),
        "in_flight": family.gauge("in_flight", "consume calls running", _LABELS),
        "instances": family.gauge("instances", "Consumer instances alive", _LABELS),
    }


class _BlockedLoop(Collector):
    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily(
            _name("event_loop_blocked_seconds"),
            "How long the event loop was seen blocked by code that did not yield",
            value=blocked_seconds(),
        )


def _name(name: str) -> str:
    return f"amqp_dispatcher_{name}"
