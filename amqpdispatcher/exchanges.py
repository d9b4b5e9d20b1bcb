"""Which exchanges the publisher may publish to: a publish to an exchange that does not exist
would have the broker close the channel it shares with every other publish."""

from __future__ import annotations

import gevent.lock

from .transport import AMQPError, Channel, ChannelClosed, Connection, PublishError, PublishRefused


class KnownExchanges:
    """The exchanges seen to exist on the current connection, each checked once with a passive
    declare on a channel of its own, one check at a time: a 404 closes that channel and would
    fail every other check waiting on it. Forgotten on a new connection, and whenever the
    broker says an exchange is missing after all."""

    def __init__(self) -> None:
        self._known: set[str] = set()
        self._checking = gevent.lock.Semaphore()
        self._channel: Channel | None = None

    def check(self, connection: Connection, exchange: str) -> None:
        """Returns if `exchange` exists; raises PublishRefused if not, PublishError if it
        cannot be told."""
        if not exchange or exchange in self._known:  # '' is the default exchange
            return
        with self._checking:
            if exchange not in self._known:
                self._ask(connection, exchange)
                self._known.add(exchange)

    def forget(self) -> None:
        self._known.clear()
        self._channel = None

    def _ask(self, connection: Connection, exchange: str) -> None:
        try:
            if self._channel is None or not self._channel.is_open:
                self._channel = connection.channel()
            self._channel.check_exchange(exchange)
        except ChannelClosed as closed:
            if closed.code:
                raise PublishRefused(f"cannot publish to exchange {exchange!r}: {closed}") from None
            raise PublishError(f"cannot publish: {closed}") from None
        except AMQPError as exc:
            raise PublishError(f"cannot publish: {exc}") from None
