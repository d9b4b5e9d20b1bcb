"""The daemon's Prometheus metrics, collected as middleware on a registry of their own.

The hooks only add to plain numbers, which a collector turns into Prometheus families when
/metrics is scraped: prometheus-client's own metric objects take a lock per update, which
costs the consume path more than the rest of the counting. Hooks and scrapes all run on the
daemon's event loop, so the numbers need no lock."""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from ..blocking import blocked_seconds
from .middleware import CONSUMER_TIMEOUT, Middleware

if TYPE_CHECKING:
    from ..config import ConsumerSpec
    from ..message import Message
    from ..url import Target

ANSWERS = ("ack", "nack", "reject")
# Seconds, prometheus-client's default buckets: from a quick handler to a slow one.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
_LABELS = ("queue", "consumer")


class Metrics(Middleware):
    """Counts what the hooks report, per pool labelled by `queue` and `consumer`. Every series
    of every pool exists from the start, at 0, so that rates and alerts see them at once."""

    def __init__(self, consumers: Sequence[ConsumerSpec]) -> None:
        self._pools: dict[ConsumerSpec, _Pool] = {}
        labelled: dict[tuple[str, str], _Pool] = {}  # two entries may share a queue and class
        for spec in consumers:
            pool = labelled.setdefault((spec.queue, spec.consumer), _Pool(spec))
            pool.instances += spec.consumer_count
            pool.entries += 1
            self._pools[spec] = pool
        self.pools = tuple(labelled.values())
        self.connected = 0
        self.connections = 0
        self.publishing_blocked = 0
        self.published = {True: 0, False: 0}
        self.registry = CollectorRegistry()
        self.registry.register(_Collector(self))

    def before_consume(self, consumer: ConsumerSpec, instance: object, message: Message) -> None:
        pool = self._pools[consumer]
        pool.deliveries += 1
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
            took = time.perf_counter() - started
            pool.buckets[bisect.bisect_left(BUCKETS, took)] += 1
            pool.seconds += took
        if answer is not None:
            pool.answers[answer] += 1
        if exception is not None:
            pool.consume_errors += 1

    def after_instance_retired(
        self, consumer: ConsumerSpec, instance: object, exception: BaseException | None
    ) -> None:
        self._pools[consumer].instances -= 1

    def after_instance_replaced(
        self, consumer: ConsumerSpec, old: object, new: object, exception: BaseException
    ) -> None:
        self._pools[consumer].instances += 1

    def after_retry(self, consumer: ConsumerSpec, message: Message, retry_count: int) -> None:
        self._pools[consumer].retries += 1

    def after_archive(
        self, consumer: ConsumerSpec, message: Message, exception: BaseException
    ) -> None:
        self._pools[consumer].archived += 1

    def after_publish(self, exchange: str, routing_key: str, confirmed: bool) -> None:
        self.published[confirmed] += 1

    def after_publishing_blocked(self, reason: str) -> None:
        self.publishing_blocked = 1

    def after_publishing_unblocked(self) -> None:
        self.publishing_blocked = 0

    def after_connection_opened(self, target: Target) -> None:
        self.connections += 1
        self.connected = 1

    def after_connection_lost(self, target: Target, reason: Exception) -> None:
        self.connected = 0
        for pool in self.pools:
            pool.subscribed.clear()  # the subscriptions went with the connection

    def after_consuming_started(self, consumer: ConsumerSpec) -> None:
        self._pools[consumer].subscribed.add(consumer)

    def after_consuming_stopped(self, consumer: ConsumerSpec, reason: str) -> None:
        self._pools[consumer].subscribed.discard(consumer)
        if reason.startswith(CONSUMER_TIMEOUT):
            self._pools[consumer].consumer_timeouts += 1


class _Pool:
    """The numbers of the pools of one queue and consumer class, each named as its metric."""

    def __init__(self, spec: ConsumerSpec) -> None:
        self.labels = [spec.queue, spec.consumer]
        self.deliveries = self.consume_errors = self.retries = self.archived = 0
        self.consumer_timeouts = self.instances = self.entries = 0
        self.subscribed: set[ConsumerSpec] = set()  # the entries consuming
        self.answers = dict.fromkeys(ANSWERS, 0)
        self.buckets = [0] * (len(BUCKETS) + 1)  # the last for longer than the last bound
        self.seconds = 0.0
        self.started: dict[Message, float] = {}  # the consume calls running, by message

    @property
    def in_flight(self) -> int:
        return len(self.started)

    @property
    def consuming(self) -> int:
        return int(len(self.subscribed) == self.entries)


class _Collector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        pools = self._metrics.pools
        yield from _pool_counters(pools)
        yield _durations(pools)
        yield from _pool_gauges(pools)
        yield from _daemon_metrics(self._metrics)


def _pool_counters(pools: Sequence[_Pool]) -> Iterator[Metric]:
    yield _per_pool(CounterMetricFamily, "deliveries", "Messages handed to consume", pools)
    yield _answers(pools)
    yield _per_pool(CounterMetricFamily, "consume_errors", "consume calls that raised", pools)
    yield _per_pool(
        CounterMetricFamily,
        "retries",
        "Failed messages sent to a delay queue for a retry",
        pools,
    )
    yield _per_pool(
        CounterMetricFamily, "archived", "Failed messages sent to the archive queue", pools
    )
    yield _per_pool(
        CounterMetricFamily,
        "consumer_timeouts",
        "Channels the broker closed because a consume ran past its consumer_timeout",
        pools,
    )


def _answers(pools: Sequence[_Pool]) -> CounterMetricFamily:
    family = CounterMetricFamily(
        _name("answers"), "Messages answered, by answer", labels=(*_LABELS, "answer")
    )
    for pool in pools:
        for answer, count in pool.answers.items():
            family.add_metric([*pool.labels, answer], count)
    return family


def _pool_gauges(pools: Sequence[_Pool]) -> Iterator[Metric]:
    yield _per_pool(GaugeMetricFamily, "in_flight", "consume calls running", pools)
    yield _per_pool(GaugeMetricFamily, "instances", "Consumer instances alive", pools)
    yield _per_pool(
        GaugeMetricFamily, "consuming", "1 while subscribed to the queue, else 0", pools
    )


def _daemon_metrics(metrics: Metrics) -> Iterator[Metric]:
    """The connection's, the publishing's and the event loop's."""
    yield GaugeMetricFamily(
        _name("connected"), "1 while connected to the broker, else 0", metrics.connected
    )
    yield GaugeMetricFamily(
        _name("publishing_blocked"),
        "1 while the broker blocks publishing (a memory or disk alarm), else 0",
        metrics.publishing_blocked,
    )
    yield CounterMetricFamily(
        _name("reconnects"),
        "Connections opened again after the first one",
        max(metrics.connections - 1, 0),
    )
    yield _publishes(metrics)
    yield CounterMetricFamily(
        _name("event_loop_blocked_seconds"),
        "How long the event loop was seen blocked by code that did not yield",
        blocked_seconds(),
    )


def _publishes(metrics: Metrics) -> CounterMetricFamily:
    family = CounterMetricFamily(
        _name("publishes"), "Messages published by consumers, by outcome", labels=["result"]
    )
    family.add_metric(["confirmed"], metrics.published[True])
    family.add_metric(["failed"], metrics.published[False])
    return family


def _per_pool(kind: type, name: str, help: str, pools: Sequence[_Pool]) -> Metric:
    family = kind(_name(name), help, labels=_LABELS)
    for pool in pools:
        family.add_metric(pool.labels, getattr(pool, name))
    return family


def _durations(pools: Sequence[_Pool]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(
        _name("consume_duration_seconds"),
        "How long consume calls took, their answer included",
        labels=_LABELS,
    )
    bounds = [floatToGoString(bound) for bound in BUCKETS] + ["+Inf"]
    for pool in pools:
        cumulative, total = [], 0
        for bound, count in zip(bounds, pool.buckets, strict=True):
            total += count
            cumulative.append((bound, total))
        family.add_metric(pool.labels, cumulative, pool.seconds)
    return family


def _name(name: str) -> str:
    return f"amqp_dispatcher_{name}"
