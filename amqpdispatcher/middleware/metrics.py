"""The daemon's Prometheus metrics, counted as middleware.

The hooks only add to plain numbers, which metricfiles.py copies into prometheus-client's
metrics a few times a second: prometheus-client's own metric objects take a lock per update,
and write to a file, which would cost the consume path more than the rest of the counting.
Hooks and copies all run on the worker's event loop, so the numbers need no lock."""

from __future__ import annotations

import bisect
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..interruption import TimeLimitExceeded
from .middleware import BROKER_CANCELLED, CONSUMER_TIMEOUT, Middleware

if TYPE_CHECKING:
    from ..config import ConsumerSpec
    from ..message import Message
    from ..transport import ServerInfo
    from ..url import Target

# prometheus-client's: the directory of the files each worker writes its metrics to
# (metricfiles.py), for the arbiter to serve them summed (http.py).
METRICS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
ANSWERS = ("ack", "nack", "reject")
# Seconds, prometheus-client's default buckets: from a quick handler to a slow one.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


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
        self.broker: ServerInfo | None = None  # the broker last connected to

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
            if isinstance(exception, TimeLimitExceeded):
                pool.time_limits += 1

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

    def after_broker_identified(self, target: Target, server: ServerInfo) -> None:
        self.broker = server

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
        elif reason.startswith(BROKER_CANCELLED):
            self._pools[consumer].consumer_cancellations += 1


class _Pool:
    """The numbers of the pools of one queue and consumer class, each named as its metric."""

    def __init__(self, spec: ConsumerSpec) -> None:
        self.labels = [spec.queue, spec.consumer]
        self.deliveries = self.consume_errors = self.retries = self.archived = 0
        self.consumer_timeouts = self.instances = self.entries = 0
        self.time_limits = self.consumer_cancellations = 0
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
