"""Publishing on behalf of consumers."""

from __future__ import annotations

import logging

import gevent.lock

from .connection import Channel, Connection

log = logging.getLogger("amqp-dispatcher.publisher")


class Publisher:
    """Publishes on a channel of its own, so that a refused publish (say, to an exchange that
    does not exist, which makes the broker close the channel) never closes a consuming channel.
    A closed channel is reopened on the next publish."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._channel: Channel | None = None
        self._opening = gevent.lock.Semaphore()

    def publish(self, exchange: str, routing_key: str, body: bytes, properties: dict) -> None:
        self._open_channel().publish(exchange, routing_key, body, properties)

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()

    def _open_channel(self) -> Channel:
        with self._opening:
            if self._channel is None or self._channel.closed.ready():
                self._channel = self._connection.channel()
                self._channel.closed.rawlink(_log_closed)
            return self._channel


def _log_closed(closed) -> None:
    if closed.value.code:
        log.error("the broker closed the publishing channel: %s", closed.value)
