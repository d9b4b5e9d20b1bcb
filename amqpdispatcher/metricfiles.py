"""A worker's metrics, written where the arbiter's endpoint reads them: prometheus-client's
multiprocess files, in the directory named by $PROMETHEUS_MULTIPROC_DIR (http.py).

The metrics middleware keeps plain numbers on the consume path (middleware/metrics.py); every
FLUSH_INTERVAL, and once more at the stop, a greenlet copies them into prometheus-client
metrics, whose values live in one file per process. Counters and the duration histogram carry
no worker label: the arbiter's scrape sums them over every process that wrote them, those that
exited included. Gauges are labelled by worker and kept only for live processes (`liveall`):
once the arbiter calls mark_process_dead(pid), that process's gauges are gone."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import gevent
from prometheus_client import Counter, Gauge, Histogram, values

from .blocking import blocked_seconds
from .middleware.metrics import BUCKETS, METRICS_DIRECTORY, Metrics

if TYPE_CHECKING:
    from .transport import ServerInfo

FLUSH_INTERVAL = 0.5  # seconds: how stale a scrape's numbers may be, a killed worker's lost
_POOL_LABELS = ("queue", "consumer")

Read = Callable[[], float]


class MetricFiles:
    """What `metrics` counted in the worker numbered `worker`, copied into the files."""

    def __init__(self, metrics: Metrics, worker: int) -> None:
        use_multiprocess_values()
        self._added: list[tuple[Callable[[float], None], Read]] = []
        self._set: list[tuple[Callable[[Any], None], Callable[[], Any]]] = []
        self._sent: dict[Callable[[Any], None], Any] = {}
        self._greenlet: gevent.Greenlet | None = None
        self._pool_counters(metrics)
        self._durations(metrics)
        self._gauges(metrics, str(worker))
        self._daemon_counters(metrics)
        self.flush()  # every series, at 0 or more, from the start

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._flush_every_interval)

    def stop(self) -> None:
        """Flush once more, after the drain: what the worker counted last is not lost."""
        if self._greenlet is not None:
            self._greenlet.kill()
            self._greenlet = None
        self.flush()

    def flush(self) -> None:
        for add, read in self._added:
            now = read()
            delta = now - self._sent.get(add, 0)
            if delta:
                add(delta)
                self._sent[add] = now
        for set_, read in self._set:
            now = read()
            if self._sent.get(set_) != now:
                set_(now)
                self._sent[set_] = now

    def _flush_every_interval(self) -> None:
        while True:
            gevent.sleep(FLUSH_INTERVAL)
            self.flush()

    def _pool_counters(self, metrics: Metrics) -> None:
        for name, help in (
            ("deliveries", "Messages handed to consume"),
            ("consume_errors", "consume calls that raised"),
            ("retries", "Failed messages sent to a delay queue for a retry"),
            ("archived", "Failed messages sent to the archive queue"),
            (
                "consumer_timeouts",
                "Channels the broker closed because a consume ran past its consumer_timeout",
            ),
            ("time_limits", "consume calls interrupted at their entry's time_limit"),
            ("consumer_cancellations", "Consumers the broker cancelled (basic.cancel)"),
        ):
            counter = Counter(_name(name), help, _POOL_LABELS, registry=None)
            for pool in metrics.pools:
                self._add(counter.labels(*pool.labels).inc, partial(getattr, pool, name))
        answers = Counter(
            _name("answers"),
            "Messages answered, by answer",
            (*_POOL_LABELS, "answer"),
            registry=None,
        )
        for pool in metrics.pools:
            for answer in pool.answers:
                self._add(
                    answers.labels(*pool.labels, answer).inc, partial(pool.answers.get, answer)
                )

    def _durations(self, metrics: Metrics) -> None:
        histogram = Histogram(
            _name("consume_duration_seconds"),
            "How long consume calls took, their answer included",
            _POOL_LABELS,
            registry=None,
            buckets=BUCKETS,
        )
        for pool in metrics.pools:
            buckets, seconds = histogram_parts(histogram.labels(*pool.labels))
            for i, bucket in enumerate(buckets):
                self._add(bucket.inc, partial(pool.buckets.__getitem__, i))
            self._add(seconds.inc, partial(getattr, pool, "seconds"))

    def _gauges(self, metrics: Metrics, worker: str) -> None:
        for name, help in (
            ("in_flight", "consume calls running"),
            ("instances", "Consumer instances alive"),
            ("consuming", "1 while subscribed to the queue, else 0"),
        ):
            gauge = _gauge(name, help, (*_POOL_LABELS, "worker"))
            for pool in metrics.pools:
                self._set.append(
                    (gauge.labels(*pool.labels, worker).set, partial(getattr, pool, name))
                )
        for name, help in (
            ("connected", "1 while connected to the broker, else 0"),
            (
                "publishing_blocked",
                "1 while the broker blocks publishing (a memory or disk alarm), else 0",
            ),
        ):
            gauge = _gauge(name, help, ("worker",))
            self._set.append((gauge.labels(worker).set, partial(getattr, metrics, name)))
        info = _BrokerInfo(worker)
        self._set.append((info.show, partial(getattr, metrics, "broker")))

    def _daemon_counters(self, metrics: Metrics) -> None:
        """The connection's, the publishing's and the event loop's."""
        reconnects = Counter(
            _name("reconnects"), "Connections opened again after the first one", registry=None
        )
        self._add(reconnects.inc, lambda: max(metrics.connections - 1, 0))
        publishes = Counter(
            _name("publishes"),
            "Messages published by consumers, by outcome",
            ("result",),
            registry=None,
        )
        for result, confirmed in (("confirmed", True), ("failed", False)):
            self._add(publishes.labels(result).inc, partial(metrics.published.get, confirmed))
        blocked = Counter(
            _name("event_loop_blocked_seconds"),
            "How long the event loop was seen blocked by code that did not yield",
            registry=None,
        )
        self._add(blocked.inc, blocked_seconds)

    def _add(self, add: Callable[[float], None], read: Read) -> None:
        self._added.append((add, read))


class _BrokerInfo:
    """amqp_dispatcher_broker_info{product, version, worker}: 1 for the broker the worker last
    connected to; 0 for one it connected to before, should a reconnection reach another
    version (a rolling upgrade), since a multiprocess gauge cannot drop a series."""

    def __init__(self, worker: str) -> None:
        self._gauge = _gauge(
            "broker_info",
            "1 for the product and version of the broker last connected to",
            ("product", "version", "worker"),
        )
        self._worker = worker
        self._shown: ServerInfo | None = None

    def show(self, server: ServerInfo) -> None:
        if self._shown is not None:
            self._series(self._shown).set(0)
        self._series(server).set(1)
        self._shown = server

    def _series(self, server: ServerInfo) -> Gauge:
        return self._gauge.labels(server.product, server.version, self._worker)


def use_multiprocess_values() -> None:
    """Have prometheus-client keep the values of metrics made from now on in the files, even if
    it was imported before the arbiter set the directory (it chooses at its import)."""
    if not os.environ.get(METRICS_DIRECTORY):
        raise RuntimeError(f"${METRICS_DIRECTORY} is not set: the arbiter sets it for its workers")
    if values.ValueClass is values.MutexValue:
        values.ValueClass = values.MultiProcessValue()


def histogram_parts(histogram: Histogram) -> tuple[list, object]:
    """A labelled histogram's count per bucket (not cumulative) and its sum, each with .inc():
    prometheus-client's own attributes, which its public API only adds to by one observation at
    a time; tests/unit/test_metricfiles.py checks they are still what this expects."""
    if histogram._upper_bounds != [*BUCKETS, float("inf")]:
        raise RuntimeError(f"unexpected histogram buckets: {histogram._upper_bounds}")
    return histogram._buckets, histogram._sum


def _gauge(name: str, help: str, labels: tuple[str, ...]) -> Gauge:
    return Gauge(_name(name), help, labels, registry=None, multiprocess_mode="liveall")


def _name(name: str) -> str:
    return f"amqp_dispatcher_{name}"
