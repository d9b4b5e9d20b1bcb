"""Publishing on behalf of consumers."""

from __future__ import annotations

import logging

import gevent.lock

from .connection import AMQPError, Channel, Connection, PublishError, connect
from .url import Target, shuffled

log = logging.getLogger("amqp-dispatcher.publisher")


class Publisher:
    """Publishes over a connection of its own, as RabbitMQ advises, so that flow control on
    publishing never stalls consuming; in confirm mode, so that `publish` returns only once the
    broker has taken the message. A consumer that publishes, then acks, loses nothing.

    The connection is opened on the first publish and, after a loss, on the next one."""

    def __init__(self, targets: list[Target], name: str) -> None:
        self._targets = targets
        self._name = f"{name}-publisher"
        self._connection: Connection | None = None
        self._channel: Channel | None = None
        self._opening = gevent.lock.Semaphore()

    def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        properties: dict,
        mandatory: bool = False,
    ) -> None:
        """Raises PublishError unless the broker confirmed the message."""
        try:
            channel = self._open_channel()
            confirmed = channel.publish(exchange, routing_key, body, properties, mandatory)
        except AMQPError as exc:
            raise PublishError(f"cannot publish: {exc}") from None
        confirmed.get()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()

    def _open_channel(self) -> Channel:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        with self._opening:
            if self._channel is None or not self._channel.is_open:
                if self._connection is None or not self._connection.is_open:
                    self._connection = connect(shuffled(self._targets), self._name)
                    self._connection.closed.rawlink(_log_lost)
                channel = self._connection.channel()
                channel.enable_confirms()
                channel.closed.rawlink(_log_closed)
                self._channel = channel  # for the fast path above only once fully set up
            return self._channel


def _log_lost(closed) -> None:
    if closed.value is not None:
        log.warning(
            "publishing connection lost (%s); reopening it on the next publish", closed.value
        )


def _log_closed(closed) -> None:
    if closed.value.code:
        log.error("the broker closed the publishing channel: %s", closed.value)
