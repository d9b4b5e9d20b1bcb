"""A pool of consumer instances serving one queue on one channel."""

from __future__ import annotations

import logging
from collections.abc import Callable

import gevent
import gevent.pool
import gevent.queue

from .config import ConsumerSpec
from .connection import AMQPError, Channel, Connection, Delivery
from .message import Message
from .proxy import AMQPProxy
from .publisher import Publisher

log = logging.getLogger("amqp-dispatcher.pool")

REPLACE_RETRY_CAP = 30.0


class PoolError(Exception):
    """A pool could not start; the text names the consumer's YAML path."""


class ConsumerPool:
    """`consumer_count` instances of one class. Each delivery runs in a greenlet of its own that
    waits for an idle instance, so consumers that yield (gevent I/O) overlap up to the pool size.
    """

    def __init__(
        self,
        spec: ConsumerSpec,
        consumer_class: type,
        connection: Connection,
        publisher: Publisher,
        on_fatal: Callable[[str], None],
    ) -> None:
        self.spec = spec
        self._class = consumer_class
        self._connection = connection
        self._publisher = publisher
        self._on_fatal = on_fatal
        self._instances: set = set()
        self._idle: gevent.queue.Queue = gevent.queue.Queue()
        self._tasks = gevent.pool.Group()
        self._channel: Channel | None = None
        self._consumer_tag: str | None = None
        self._stopping = False

    @property
    def size(self) -> int:
        return len(self._instances)

    def start(self) -> None:
        try:
            for _ in range(self.spec.consumer_count):
                self._add(self._class())
        except Exception as exc:
            raise PoolError(
                f"{self.spec.path}: cannot create {self.spec.consumer}: {exc!r}"
            ) from exc
        try:
            self._channel = self._connection.channel()
            self._channel.qos(self.spec.prefetch_count)
            self._consumer_tag = self._channel.consume(
                self.spec.queue, self._on_delivery, self._on_cancelled
            )
        except AMQPError as exc:
            raise PoolError(
                f"{self.spec.path}: cannot consume {self.spec.queue!r}: {exc}"
            ) from None
        self._channel.closed.rawlink(self._on_channel_closed)
        log.info(
            "consuming %r with %d x %s, prefetch %d",
            self.spec.queue,
            self.spec.consumer_count,
            self.spec.consumer,
            self.spec.prefetch_count,
        )

    def cancel(self) -> None:
        """Stop taking deliveries; those received but not started stay unanswered and go back
        to the queue when the channel closes."""
        self._stopping = True
        if self._consumer_tag is not None and not self._channel.closed.ready():
            try:
                self._channel.cancel(self._consumer_tag)
            except AMQPError as exc:
                log.info("cancelling the consumer of %r failed: %s", self.spec.queue, exc)

    def drain(self, timeout: float) -> None:
        """Let running `consume` calls finish; interrupt those still running after `timeout`."""
        if not self._tasks.join(timeout):
            log.warning(
                "%s on %r: consume still running after the %gs grace period; interrupted, "
                "the broker will redeliver its message",
                self.spec.consumer,
                self.spec.queue,
                timeout,
            )
            self._tasks.kill()

    def close(self) -> None:
        for instance in list(self._instances):
            self._retire(instance, None)
        if self._channel is not None:
            self._channel.close()

    def _on_delivery(self, delivery: Delivery) -> None:
        if not self._stopping:
            self._tasks.spawn(self._handle, delivery)

    def _handle(self, delivery: Delivery) -> None:
        instance = self._idle.get()
        if self._stopping:
            self._idle.put(instance)
            return
        proxy = AMQPProxy(self._channel, delivery.delivery_tag, self._publisher)
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
                self._answer(proxy.reject, delivery)
            self._retire(instance, exc)
            self._add(self._replacement())
        else:
            if proxy.answer is None:
                self._answer(proxy.ack, delivery)
            self._idle.put(instance)

    def _answer(self, answer: Callable[[], None], delivery: Delivery) -> None:
        try:
            answer()
        except AMQPError as exc:
            log.info(
                "cannot answer delivery %d of %r (%s); the broker will redeliver it",
                delivery.delivery_tag,
                self.spec.queue,
                exc,
            )

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
        delay = 1.0
        while True:
            try:
                return self._class()
            except Exception:
                log.exception("cannot create a new %s; retrying in %gs", self.spec.consumer, delay)
                gevent.sleep(delay)
                delay = min(delay * 2, REPLACE_RETRY_CAP)

    def _on_cancelled(self) -> None:
        self._on_fatal(
            f"{self.spec.path}: the broker cancelled the consumer of {self.spec.queue!r}"
        )

    def _on_channel_closed(self, closed) -> None:
        if not self._stopping:
            self._on_fatal(
                f"{self.spec.path}: the channel consuming {self.spec.queue!r} closed: "
                f"{closed.value}"
            )
