"""Publishing on behalf of consumers."""

from __future__ import annotations

import logging
from functools import partial

import gevent.lock

from .exchanges import KnownExchanges
from .middleware import Hooks
from .probes import Probes
from .transport import (
    AMQPError,
    Channel,
    ChannelClosed,
    Connection,
    Outgoing,
    PublishError,
    PublishRefused,
    connect,
    outgoing,
)
from .url import Target, shuffled

log = logging.getLogger("amqp-dispatcher.publisher")

ALONE_AT_ONCE = 16  # channels of their own open at once for messages published again
CONSUMERS, COPIES = "consumers", "copies"  # the lanes: each its own channel


class Publisher:
    """Publishes over a connection of its own, as RabbitMQ advises, so that flow control on
    publishing never stalls consuming; in confirm mode, so that `publish` returns only once the
    broker has taken the message. A consumer that publishes, then acks, loses nothing.

    The broker closes a channel for an error of one message, and the messages published on it
    before that one may have reached their queues unconfirmed, so that publishing them again
    would duplicate them. So the errors a publish can be told in advance are kept off the
    shared channels: an exchange is checked to exist before the first publish to it (see
    exchanges.py), and a message whose user_id is not the publishing user's goes on a channel
    of its own. The consumers' publishes share one channel, and the retry policy's copies
    another, so that no consumer's publish can touch a copy. Should the broker close a shared
    channel for an error all the same, each message it had not confirmed is published again on
    a channel of its own: only the one at fault fails, and one published again may arrive
    twice: at least once, never lost.

    While the broker blocks publishing (a memory or disk alarm), a publish waits before it
    sends anything, so that nothing sent then can arrive after its publisher gave up on it.

    The connection is opened on the first publish and, after a loss, on the next one."""

    def __init__(self, targets: list[Target], name: str, hooks: Hooks | None = None) -> None:
        self._targets = targets
        self._hooks = hooks or Hooks()
        self._adds_headers = self._hooks.overrides("before_publish")
        self._name = f"{name}-publisher"
        self._connection: Connection | None = None
        self._channels: dict[str, Channel] = {}
        self._opening = gevent.lock.Semaphore()
        self._alone = gevent.lock.Semaphore(ALONE_AT_ONCE)
        self._exchanges = KnownExchanges()
        self._probes: Probes | None = None  # for the copies' channel

    def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes | str,
        properties: dict,
        mandatory: bool = False,
        lane: str = CONSUMERS,
    ) -> None:
        """Raises PublishError unless the broker confirmed the message (PublishRefused when it
        refused the message itself); TypeError or ValueError, before anything is sent, for a
        message AMQP cannot carry."""
        if not self._hooks:
            self._publish(outgoing(exchange, routing_key, body, properties, mandatory), lane)
            return
        if self._adds_headers:
            properties = self._with_headers_added(exchange, routing_key, properties, lane)
        try:
            self._publish(outgoing(exchange, routing_key, body, properties, mandatory), lane)
        except PublishError:
            self._hooks("after_publish", exchange, routing_key, False)
            raise
        self._hooks("after_publish", exchange, routing_key, True)

    def _with_headers_added(
        self, exchange: str, routing_key: str, properties: dict, lane: str
    ) -> dict:
        """`properties` with a new dict of headers, what the before_publish hooks added to the
        message's own; as they are if those are not a dict, which encoding refuses."""
        headers = properties.get("headers")
        if headers is not None and not isinstance(headers, dict):
            return properties
        added = dict(headers or ())
        self._hooks("before_publish", exchange, routing_key, added, lane == COPIES)
        return {**properties, "headers": added} if added or headers is not None else properties

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()

    def _publish(self, message: Outgoing, lane: str) -> None:
        connection = self._connected()
        connection.wait_unblocked()
        self._exchanges.check(connection, message.exchange)
        user_id = message.properties.user_id
        if user_id is not None and user_id != connection.target.username:
            self._publish_alone(connection, message)  # the broker may refuse it: 406
            return
        try:
            channel = self._channel(connection, lane)
        except AMQPError as exc:
            raise PublishError(f"cannot publish: {exc}") from None
        try:
            if lane == COPIES:
                self._probes.await_one()  # see probes.py
                connection.wait_unblocked()
            _confirmed(channel, message)
        except ChannelClosed as closed:
            if not closed.code:
                raise _unconfirmed(closed) from None
            self._exchanges.forget()  # the fault may be an exchange deleted since its check
            self._publish_alone(connection, message)

    def _publish_alone(self, connection: Connection, message: Outgoing) -> None:
        with self._alone:
            try:
                channel = connection.channel()
            except AMQPError as exc:
                raise PublishError(f"cannot publish: {exc}") from None
            try:
                channel.enable_confirms()
                _confirmed(channel, message)
            except ChannelClosed as closed:
                if closed.code:
                    raise PublishRefused(f"the broker refused the message: {closed}") from None
                raise _unconfirmed(closed) from None
            finally:
                channel.close()

    def _channel(self, connection: Connection, lane: str) -> Channel:
        channel = self._channels.get(lane)
        if channel is not None and channel.is_open:
            return channel
        with self._opening:
            channel = self._channels.get(lane)
            if channel is None or not channel.is_open:
                channel = connection.channel()
                channel.enable_confirms()
                channel.closed.rawlink(_log_closed)
                if lane == COPIES:
                    self._probes = Probes(channel)
                self._channels[lane] = channel  # for the fast path above once fully set up
            return channel

    def _connected(self) -> Connection:
        """The open connection, opened anew if need be."""
        connection = self._connection
        if connection is not None and connection.is_open:
            return connection
        with self._opening:
            if self._connection is None or not self._connection.is_open:
                lost = self._connection.target if self._connection is not None else None
                try:
                    self._connection = connect(shuffled(self._targets, last=lost), self._name)
                except AMQPError as exc:
                    raise PublishError(f"cannot publish: {exc}") from None
                self._channels.clear()
                self._exchanges.forget()
                self._connection.closed.rawlink(partial(self._on_lost, self._connection))
                self._connection.watch_blocking(self._on_blocking)
            return self._connection

    def _on_lost(self, connection: Connection, closed) -> None:
        if closed.value is not None:
            log.warning(
                "publishing connection lost (%s); reopening it on the next publish", closed.value
            )
        if connection.blocked and self._hooks:  # blocked no more: the next one starts afresh
            self._hooks("after_publishing_unblocked")

    def _on_blocking(self, reason: str | None) -> None:
        if reason is None:
            log.info("the broker unblocked publishing")
            if self._hooks:
                self._hooks("after_publishing_unblocked")
            return
        log.warning(
            "the broker blocked publishing (%s): publishes and retry copies wait until it "
            "unblocks it",
            reason,
        )
        if self._hooks:
            self._hooks("after_publishing_blocked", reason)


def _confirmed(channel: Channel, message: Outgoing) -> None:
    channel.publish(message).get()


def _unconfirmed(closed: ChannelClosed) -> PublishError:
    return PublishError(f"the channel closed before the broker confirmed: {closed}")


def _log_closed(closed) -> None:
    if closed.value.code:
        log.error(
            "the broker closed a publishing channel: %s; publishing again, each on a channel "
            "of its own, the messages it had not confirmed",
            closed.value,
        )
