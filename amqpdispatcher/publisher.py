"""Publishing on behalf of consumers."""

from __future__ import annotations

import logging

import gevent.lock

from .middleware import Hooks
from .transport import (
    AMQPError,
    Channel,
    ChannelClosed,
    Connection,
    Outgoing,
    PublishError,
    connect,
    outgoing,
)
from .url import Target, shuffled

log = logging.getLogger("amqp-dispatcher.publisher")

ALONE_AT_ONCE = 16  # channels of their own open at once for messages published again


class Publisher:
    """Publishes over a connection of its own, as RabbitMQ advises, so that flow control on
    publishing never stalls consuming; in confirm mode, so that `publish` returns only once the
    broker has taken the message. A consumer that publishes, then acks, loses nothing.

    All publishes share one channel. When the broker closes it for an error, which names no
    message, each message it had not confirmed is published again on a channel of its own:
    only the one at fault fails. One published again may have reached its queue already, and
    then arrives twice: at least once, never lost.

    The connection is opened on the first publish and, after a loss, on the next one."""

    def __init__(self, targets: list[Target], name: str, hooks: Hooks | None = None) -> None:
        self._targets = targets
        self._hooks = hooks or Hooks()
        self._name = f"{name}-publisher"
        self._connection: Connection | None = None
        self._channel: Channel | None = None
        self._opening = gevent.lock.Semaphore()
        self._alone = gevent.lock.Semaphore(ALONE_AT_ONCE)

    def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes | str,
        properties: dict,
        mandatory: bool = False,
    ) -> None:
        """Raises PublishError unless the broker confirmed the message; TypeError or ValueError,
        before anything is sent, for a message AMQP cannot carry."""
        message = outgoing(exchange, routing_key, body, properties, mandatory)
        if not self._hooks:
            self._publish(message)
            return
        try:
            self._publish(message)
        except PublishError:
            self._hooks("after_publish", exchange, routing_key, False)
            raise
        self._hooks("after_publish", exchange, routing_key, True)

    def _publish(self, message: Outgoing) -> None:
        try:
            channel = self._open_channel()
        except AMQPError as exc:
            raise PublishError(f"cannot publish: {exc}") from None
        try:
            _confirmed(channel, message)
        except ChannelClosed as closed:
            if not closed.code:
                raise _unconfirmed(closed) from None
            self._publish_alone(message)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()

    def _publish_alone(self, message: Outgoing) -> None:
        with self._alone:
            try:
                with self._opening:
                    connection = self._open_connection()
                channel = connection.channel()
            except AMQPError as exc:
                raise PublishError(f"cannot publish: {exc}") from None
            try:
                channel.enable_confirms()
                _confirmed(channel, message)
            except ChannelClosed as closed:
                raise _unconfirmed(closed) from None
            finally:
                channel.close()

    def _open_channel(self) -> Channel:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        with self._opening:
            if self._channel is None or not self._channel.is_open:
                channel = self._open_connection().channel()
                channel.enable_confirms()
                channel.closed.rawlink(_log_closed)
                self._channel = channel  # for the fast path above only once fully set up
            return self._channel

    def _open_connection(self) -> Connection:
        """The open connection, opened anew if need be; call holding `_opening`."""
        if self._connection is None or not self._connection.is_open:
            self._connection = connect(shuffled(self._targets), self._name)
            self._connection.closed.rawlink(_log_lost)
        return self._connection


def _confirmed(channel: Channel, message: Outgoing) -> None:
    channel.publish(message).get()


def _unconfirmed(closed: ChannelClosed) -> PublishError:
    return PublishError(f"the channel closed before the broker confirmed: {closed}")


def _log_lost(closed) -> None:
    if closed.value is not None:
        log.warning(
            "publishing connection lost (%s); reopening it on the next publish", closed.value
        )


def _log_closed(closed) -> None:
    if closed.value.code:
        log.error(
            "the broker closed the publishing channel: %s; publishing again, each on a channel "
            "of its own, the messages it had not confirmed",
            closed.value,
        )
