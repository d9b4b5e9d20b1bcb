"""One pool's subscription to its queue: its channel, and subscribing again after the broker
closed the channel or cancelled the consumer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

import gevent

from . import backoff, topology
from .acks import Acks
from .config import ConsumerSpec, QueueSpec
from .errors import BrokerRefusal
from .middleware import BROKER_CANCELLED, CONSUMER_TIMEOUT, Hooks
from .substitution import shown
from .transport import AMQPError, Channel, Connection, Delivery

log = logging.getLogger("amqp-dispatcher.pool")


class Subscription:
    """After a reconnection the daemon attaches the subscription to the new connection; after
    a channel error or a consumer cancelled by the broker, it subscribes again by itself, with
    backoff, until it succeeds or the daemon stops."""

    def __init__(
        self,
        spec: ConsumerSpec,
        queue: QueueSpec | None,
        on_delivery: Callable[[Acks, Delivery], None],
        hooks: Hooks,
    ) -> None:
        self._spec = spec
        self._queue = queue  # declared again before subscribing again, if the config declares it
        self._on_delivery = on_delivery
        self._hooks = hooks
        self._connection: Connection | None = None
        self._channel: Channel | None = None
        self._acks: Acks | None = None
        self._consumer_tag: str | None = None
        self._watched: Channel | None = None  # the channel whose closing starts a recovery
        self._recovery: gevent.Greenlet | None = None
        self._stopping = False

    def attach(self, connection: Connection) -> None:
        """Consume on `connection`. Raises BrokerRefusal if the broker refuses, AMQPError if
        the connection is lost."""
        if self._recovery is not None:
            self._recovery.kill()  # it was working on the lost connection
        self._connection = connection
        where = f"{self._spec.path}: cannot consume {shown(self._spec.queue)}"
        with topology.refusal(where, self._spec.queue):
            self._subscribe()

    def cancel(self) -> None:
        self._stopping = True
        if self._recovery is not None:
            self._recovery.kill()
        if self._consumer_tag is not None and self._channel.is_open:
            try:
                self._channel.cancel(self._consumer_tag)
            except AMQPError as exc:
                log.info("cancelling the consumer of %r failed: %s", self._spec.queue, exc)
            self._stopped("the daemon is stopping")

    def flush(self) -> None:
        """Send the acks held back for coalescing; before the connection closes."""
        if self._acks is not None and self._acks.channel.is_open:
            self._acks.flush()

    def _subscribe(self) -> None:
        if self._channel is None or not self._channel.is_open:
            channel = self._connection.channel()
            channel.qos(self._spec.prefetch_count)
            self._channel = channel
        if self._acks is None or self._acks.channel is not self._channel:
            self._acks = Acks(self._channel, self._spec.queue)
        self._consumer_tag = self._channel.consume(
            self._spec.queue, partial(self._on_delivery, self._acks), self._on_cancelled
        )
        if self._watched is not self._channel:
            # Only now: a refusal while subscribing is for the caller of _subscribe to handle.
            self._watched = self._channel
            self._channel.closed.rawlink(self._on_channel_closed)
        log.info(
            "consuming %r with %d x %s, prefetch %d",
            self._spec.queue,
            self._spec.consumer_count,
            self._spec.consumer,
            self._spec.prefetch_count,
        )
        if self._hooks:
            self._hooks("after_consuming_started", self._spec)

    def _stopped(self, reason: str) -> None:
        """Once per subscription that ends."""
        if self._consumer_tag is None:
            return
        self._consumer_tag = None
        if self._hooks:
            self._hooks("after_consuming_stopped", self._spec, reason)

    def _on_cancelled(self) -> None:
        if not self._stopping:
            self.recover("the broker cancelled the consumer", BROKER_CANCELLED)

    def _on_channel_closed(self, closed) -> None:
        if self._stopping:
            return
        error = closed.value
        if error.ack_timed_out:
            self._log_ack_timeout(error)
            self._resume(f"{CONSUMER_TIMEOUT} {error}")
        elif error.code:
            self.recover(f"the broker closed the channel: {error}")
        else:  # with its connection: the daemon attaches the subscription again
            self._stopped(f"the channel closed: {error}")

    def _log_ack_timeout(self, error: AMQPError) -> None:
        """The broker counts from the delivery, so a message waiting behind a long call, in the
        pool's prefetch, can overrun too. A consume call still running goes on to its end; its
        answer can no longer reach the broker, which delivers its message again."""
        log.error(
            "%s (%s): a delivery from %r went unanswered past the broker's delivery "
            "acknowledgement timeout, and the broker closed the channel (%s); its unanswered "
            "messages go back to the queue and are delivered again; subscribing again. If "
            "messages may wait that long for their answer, raise RabbitMQ's consumer_timeout "
            "(rabbitmq.conf; per queue, from RabbitMQ 3.12, the x-consumer-timeout queue "
            "argument or the consumer-timeout policy key)",
            self._spec.path,
            self._spec.consumer,
            self._spec.queue,
            error,
        )

    def recover(self, reason: str, kind: str = "") -> None:
        """Subscribe again in the background, with backoff; callable from the hub. `kind`, such
        as BROKER_CANCELLED, starts the reason the hooks are given."""
        log.warning("%s on %r: %s; subscribing again", self._spec.path, self._spec.queue, reason)
        self._resume(f"{kind} {reason}" if kind else reason)

    def _resume(self, reason: str) -> None:
        self._stopped(reason)
        if self._recovery is None or self._recovery.dead:
            self._recovery = gevent.spawn(self._resubscribe)

    def _resubscribe(self) -> None:
        for delay in backoff.delays():
            if self._stopping or not self._connection.is_open:
                return  # the daemon attaches the subscription again after reconnecting
            try:
                if self._queue is not None:
                    topology.redeclare_queue(self._connection, self._queue)
                self._subscribe()
                return
            except (AMQPError, BrokerRefusal) as exc:
                log.warning(
                    "%s on %r: cannot subscribe (%s); retrying in %.1fs",
                    self._spec.path,
                    self._spec.queue,
                    exc,
                    delay,
                )
            gevent.sleep(delay)
