"""A pool of consumer instances serving one queue on one channel."""

from __future__ import annotations

import logging
import time
from functools import partial

import gevent
import gevent.queue
from greenlet import greenlet

from . import backoff, topology
from .acks import Acks
from .config import ConsumerSpec, QueueSpec
from .connection import AMQPError, Channel, ChannelClosed, Connection, Delivery
from .message import Message
from .proxy import AMQPProxy
from .publisher import Publisher

log = logging.getLogger("amqp-dispatcher.pool")

DRAIN_POLL = 0.01
KILL_TIMEOUT = 1.0


class PoolError(Exception):
    """A pool could not start; the text names the consumer's YAML path."""


class ConsumerPool:
    """`consumer_count` instances of one class. Each delivery runs in a greenlet of its own that
    waits for an idle instance, so consumers that yield (gevent I/O) overlap up to the pool size.

    The instances outlive channels and connections: after a reconnection the daemon attaches
    the pool to the new connection; after a channel error or a consumer cancelled by the broker,
    the pool subscribes again by itself, with backoff, until it succeeds or the daemon stops.
    """

    def __init__(
        self,
        spec: ConsumerSpec,
        consumer_class: type,
        queue: QueueSpec | None,
        publisher: Publisher,
    ) -> None:
        self.spec = spec
        self._class = consumer_class
        self._queue = queue
        self._publisher = publisher
        self._instances: set = set()
        self._idle: gevent.queue.Queue = gevent.queue.Queue()
        self._running: set = set()  # the greenlets handling a delivery
        self._hub = gevent.get_hub()
        self._connection: Connection | None = None
        self._channel: Channel | None = None
        self._acks: Acks | None = None
        self._task_name = f"{spec.consumer} on {spec.queue!r}"
        self._consumer_tag: str | None = None
        self._recovery: gevent.Greenlet | None = None
        self._stopping = False

    def create_instances(self) -> None:
        try:
            for _ in range(self.spec.consumer_count):
                self._add(self._class())
        except Exception as exc:
            raise PoolError(
                f"{self.spec.path}: cannot create {self.spec.consumer}: {exc!r}"
            ) from None

    def attach(self, connection: Connection, first: bool) -> None:
        """Consume on `connection`. A refusal is a PoolError the `first` time; after that the
        pool keeps retrying by itself. A lost connection raises AMQPError for the daemon."""
        if self._recovery is not None:
            self._recovery.kill()  # it was working on the lost connection
        self._connection = connection
        try:
            self._subscribe()
        except ChannelClosed as exc:
            if not exc.code:
                raise
            if first:
                raise PoolError(
                    f"{self.spec.path}: cannot consume {self.spec.queue!r}: {exc}"
                ) from None
            self._recover(f"cannot consume: {exc}")

    def cancel(self) -> None:
        """Stop taking deliveries; those received but not started stay unanswered and go back
        to the queue when the channel closes."""
        self._stopping = True
        if self._recovery is not None:
            self._recovery.kill()
        if self._consumer_tag is not None and self._channel.is_open:
            try:
                self._channel.cancel(self._consumer_tag)
            except AMQPError as exc:
                log.info("cancelling the consumer of %r failed: %s", self.spec.queue, exc)

    def drain(self, timeout: float) -> None:
        """Let running `consume` calls finish; interrupt those still running after `timeout`."""
        self._wait_until_idle(timeout)
        if not self._running:
            return
        log.warning(
            "%s on %r: consume still running after the %gs grace period; interrupted, "
            "the broker will redeliver its message",
            self.spec.consumer,
            self.spec.queue,
            timeout,
        )
        for task in list(self._running):
            gevent.kill(task)
        self._wait_until_idle(KILL_TIMEOUT)  # a consumer might swallow GreenletExit

    def _wait_until_idle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._running and time.monotonic() < deadline:
            gevent.sleep(DRAIN_POLL)

    def retire_instances(self) -> None:
        """shutdown(None) on every instance; the channel closes with the connection."""
        for instance in list(self._instances):
            self._retire(instance, None)

    def _subscribe(self) -> None:
        if self._channel is None or not self._channel.is_open:
            channel = self._connection.channel()
            channel.qos(self.spec.prefetch_count)
            channel.closed.rawlink(self._on_channel_closed)
            self._channel = channel
        if self._acks is None or self._acks.channel is not self._channel:
            self._acks = Acks(self._channel, self.spec.queue)
        self._consumer_tag = self._channel.consume(
            self.spec.queue, partial(self._on_delivery, self._acks), self._on_cancelled
        )
        log.info(
            "consuming %r with %d x %s, prefetch %d",
            self.spec.queue,
            self.spec.consumer_count,
            self.spec.consumer,
            self.spec.prefetch_count,
        )

    def flush(self) -> None:
        """Send the acks held back for coalescing; before the connection closes."""
        if self._acks is not None and self._acks.channel.is_open:
            self._acks.flush()

    def _on_delivery(self, acks: Acks, delivery: Delivery) -> None:
        acks.delivered(delivery.delivery_tag)
        if not self._stopping:
            # A bare greenlet, started on the hub's next turn: the cheapest hand-off out of the
            # hub, cheaper than gevent.spawn_raw, which also records the spawning tree.
            task = greenlet(self._handle, self._hub)
            task.name = self._task_name  # for the blocked-loop warning
            self._running.add(task)
            self._hub.loop.run_callback(task.switch, acks, delivery)

    def _handle(self, acks: Acks, delivery: Delivery) -> None:
        try:
            self._consume(acks, delivery)
        finally:
            self._running.discard(gevent.getcurrent())

    def _consume(self, acks: Acks, delivery: Delivery) -> None:
        instance = self._idle.get()
        if self._stopping or not acks.channel.is_open:
            self._idle.put(instance)  # unanswered: the broker redelivers it
            return
        proxy = AMQPProxy(acks, delivery.delivery_tag, self._publisher)
        try:
            instance.consume(proxy, Message(delivery))
        except Exception as exc:
            log.exception(
                "%s raised on queue %r, delivery %d; replacing the instance",
                self.spec.consumer,
                self.spec.queue,
                delivery.delivery_tag,
            )
            if proxy.answer is None:
                proxy.reject()
            self._retire(instance, exc)
            self._add(self._replacement())
        else:
            if proxy.answer is None:
                proxy.ack()
            self._idle.put(instance)

    def _add(self, instance: object) -> None:
        self._instances.add(instance)
        self._idle.put(instance)

    def _retire(self, instance: object, exception: BaseException | None) -> None:
        self._instances.discard(instance)
        try:
            instance.shutdown(exception)
        except Exception:
            log.exception("%s.shutdown raised", self.spec.consumer)

    def _replacement(self) -> object:
        for delay in backoff.delays(first=1.0):
            try:
                return self._class()
            except Exception:
                log.exception(
                    "cannot create a new %s; retrying in %.1fs", self.spec.consumer, delay
                )
                gevent.sleep(delay)

    def _on_cancelled(self) -> None:
        if not self._stopping:
            self._recover("the broker cancelled the consumer")

    def _on_channel_closed(self, closed) -> None:
        if not self._stopping and closed.value.code:
            self._recover(f"the broker closed the channel: {closed.value}")

    def _recover(self, reason: str) -> None:
        """Subscribe again in the background; callable from the hub."""
        log.warning("%s on %r: %s; subscribing again", self.spec.path, self.spec.queue, reason)
        if self._recovery is None or self._recovery.dead:
            self._recovery = gevent.spawn(self._resubscribe)

    def _resubscribe(self) -> None:
        for delay in backoff.delays():
            if self._stopping or not self._connection.is_open:
                return  # the daemon attaches the pool again after reconnecting
            try:
                if self._queue is not None:
                    topology.redeclare_queue(self._connection, self._queue)
                self._subscribe()
                return
            except (AMQPError, topology.TopologyError) as exc:
                log.warning(
                    "%s on %r: cannot subscribe (%s); retrying in %.1fs",
                    self.spec.path,
                    self.spec.queue,
                    exc,
                    delay,
                )
            gevent.sleep(delay)
