"""A pool of consumer instances serving one queue on one channel."""

from __future__ import annotations

import logging
from collections import deque
from functools import partial

import gevent
from greenlet import GreenletExit, greenlet

from . import backoff, topology
from .acks import Acks
from .config import ConsumerSpec, QueueSpec
from .errors import DispatcherError
from .message import Message
from .proxy import AMQPProxy
from .publisher import Publisher
from .transport import AMQPError, Channel, ChannelClosed, Connection, Delivery

log = logging.getLogger("amqp-dispatcher.pool")


class PoolError(DispatcherError):
    """A pool could not start; the text names the consumer's YAML path."""

    names_yaml_paths = True


class Interrupted(GreenletExit):
    """Thrown into a running `consume` when the stop no longer waits for it: the daemon's own,
    told apart from anything a consumer raises, and like any GreenletExit a quiet end of the
    greenlet."""


class ConsumerPool:
    """`consumer_count` instances of one class. A delivery that finds an idle instance runs in a
    greenlet of its own with it, so consumers that yield (gevent I/O) overlap up to the pool
    size; one that finds none waits in the backlog, and the next instance to finish takes it.
    So a large prefetch costs a queue entry per waiting message, not a greenlet.

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
        self._idle: list = []  # instances with nothing to do; only while the backlog is empty
        self._backlog: deque[tuple[Acks, Delivery]] = deque()
        self._running: set[greenlet] = set()  # each working through deliveries with an instance
        self._hub = gevent.get_hub()
        self._connection: Connection | None = None
        self._channel: Channel | None = None
        self._acks: Acks | None = None
        self._task_name = f"{spec.consumer} on {spec.queue!r}"
        self._consumer_tag: str | None = None
        self._watched: Channel | None = None  # the channel whose closing starts a recovery
        self._recovery: gevent.Greenlet | None = None
        self._stopping = False

    def create_instances(self) -> None:
        try:
            for _ in range(self.spec.consumer_count):
                self._idle.append(self._new_instance())
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # sys.exit() in __init__ too
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
        self._backlog.clear()
        if self._recovery is not None:
            self._recovery.kill()
        if self._consumer_tag is not None and self._channel.is_open:
            try:
                self._channel.cancel(self._consumer_tag)
            except AMQPError as exc:
                log.info("cancelling the consumer of %r failed: %s", self.spec.queue, exc)

    @property
    def busy(self) -> bool:
        """Whether a `consume` call is still running."""
        return bool(self._running)

    def interrupt(self, why: str) -> None:
        """Kill the running `consume` calls; their messages stay unanswered."""
        if not self._running:
            return
        log.warning(
            "%s on %r: consume still running %s; interrupted, the broker will redeliver its "
            "message",
            self.spec.consumer,
            self.spec.queue,
            why,
        )
        for task in list(self._running):
            gevent.kill(task, Interrupted)

    def retire_instances(self) -> list[gevent.Greenlet]:
        """shutdown(None) on every instance, each in a greenlet of its own, for the caller to
        wait for; the channel closes with the connection."""
        return [gevent.spawn(self._retire, instance, None) for instance in list(self._instances)]

    def _subscribe(self) -> None:
        if self._channel is None or not self._channel.is_open:
            channel = self._connection.channel()
            channel.qos(self.spec.prefetch_count)
            self._channel = channel
        if self._acks is None or self._acks.channel is not self._channel:
            self._acks = Acks(self._channel, self.spec.queue)
        self._consumer_tag = self._channel.consume(
            self.spec.queue, partial(self._on_delivery, self._acks), self._on_cancelled
        )
        if self._watched is not self._channel:
            # Only now: a refusal while subscribing is for the caller of _subscribe to handle.
            self._watched = self._channel
            self._channel.closed.rawlink(self._on_channel_closed)
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
        if self._stopping:
            return
        if not self._idle:
            self._backlog.append((acks, delivery))
            return
        # A bare greenlet, started on the hub's next turn: the cheapest hand-off out of the
        # hub, cheaper than gevent.spawn_raw, which also records the spawning tree.
        task = greenlet(self._work, self._hub)
        task.name = self._task_name  # for the blocked-loop warning
        self._running.add(task)
        self._hub.loop.run_callback(task.switch, self._idle.pop(), acks, delivery)

    def _work(self, instance: object, acks: Acks, delivery: Delivery) -> None:
        """Consume `delivery`, then whatever waits in the backlog, then go idle."""
        try:
            while True:
                instance = self._consume(instance, acks, delivery)
                waiting = self._next_waiting()
                if waiting is None:
                    break
                acks, delivery = waiting
            self._idle.append(instance)
        finally:
            self._running.discard(gevent.getcurrent())

    def _next_waiting(self) -> tuple[Acks, Delivery] | None:
        if self._backlog:
            gevent.sleep(0)  # the hub runs between two messages, as between two greenlets
        while self._backlog and not self._stopping:
            acks, delivery = self._backlog.popleft()
            if acks.channel.is_open:  # else unanswered: the broker redelivers it
                return acks, delivery
        return None

    def _consume(self, instance: object, acks: Acks, delivery: Delivery) -> object:
        """Consume one delivery; returns the instance to go on with: `instance`, or its
        replacement if it raised. Whatever it raises, bar the daemon's own Interrupted, is a
        failure of that message: gevent.Timeout, SystemExit and GreenletExit included."""
        if self._stopping or not acks.channel.is_open:
            return instance  # unanswered: the broker redelivers it
        proxy = AMQPProxy(acks, delivery.delivery_tag, self._publisher)
        try:
            instance.consume(proxy, Message(delivery))
        except Interrupted:
            raise
        except BaseException as exc:
            log.exception(
                "%s raised on queue %r, delivery %d; replacing the instance",
                self.spec.consumer,
                self.spec.queue,
                delivery.delivery_tag,
            )
            if proxy.answer is None:
                proxy.reject()
            self._retire(instance, exc)
            return self._replacement()
        if proxy.answer is None:
            proxy.ack()
        return instance

    def _retire(self, instance: object, exception: BaseException | None) -> None:
        self._instances.discard(instance)
        try:
            instance.shutdown(exception)
        except Interrupted:
            raise
        except BaseException:
            log.exception("%s.shutdown raised", self.spec.consumer)

    def _new_instance(self) -> object:
        instance = self._class()
        self._instances.add(instance)
        return instance

    def _replacement(self) -> object:
        for delay in backoff.delays(first=1.0):
            try:
                return self._new_instance()
            except Interrupted:
                raise
            except BaseException:
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
