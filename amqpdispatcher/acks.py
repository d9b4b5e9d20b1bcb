"""Coalescing acks: one `basic.ack multiple=True` for a run of finished deliveries.

With an ack per message the broker, not Python, is the bottleneck, so acks are held until
the event loop's next turn and then sent as one multiple-ack for the longest run of answered
delivery tags that starts at the oldest outstanding one. A multiple-ack never reaches past a
delivery still in flight: answered tags beyond one are acked individually in the same turn.
Nacks and rejects go out at once. So what a crash can cost is at most one loop turn of
finished work, which the broker redelivers, as it would the work in flight."""

from __future__ import annotations

import logging
from collections import deque

import gevent

from .connection import AMQPError, Channel

log = logging.getLogger("amqp-dispatcher.pool")

_ACK, _SENT = "ack", "sent"


class Acks:
    """The answers for one channel's deliveries; `delivered` must see every tag, in order."""

    def __init__(self, channel: Channel, queue: str) -> None:
        self.channel = channel
        self._queue = queue
        self._outstanding: deque[int] = deque()
        self._answered: dict[int, str] = {}
        self._scheduled = False

    def delivered(self, tag: int) -> None:
        self._outstanding.append(tag)

    def ack(self, tag: int) -> None:
        self._answered[tag] = _ACK
        if not self._scheduled:
            self._scheduled = True
            gevent.get_hub().loop.run_callback(self.flush)

    def nack(self, tag: int, requeue: bool) -> None:
        self._answered[tag] = _SENT
        self._send("nack", self.channel.nack, tag, requeue)

    def reject(self, tag: int, requeue: bool) -> None:
        self._answered[tag] = _SENT
        self._send("reject", self.channel.reject, tag, requeue)

    def flush(self) -> None:
        """Send the held acks; runs in the hub, and before the channel closes."""
        self._scheduled = False
        last = None
        while self._outstanding and self._outstanding[0] in self._answered:
            tag = self._outstanding.popleft()
            if self._answered.pop(tag) == _ACK:
                last = tag
        if last is not None:
            self._send("ack", self.channel.ack, last, True)
        for tag in [tag for tag, state in self._answered.items() if state == _ACK]:
            self._answered[tag] = _SENT
            self._send("ack", self.channel.ack, tag, False)

    def _send(self, how: str, send, *args) -> None:
        try:
            send(*args)
        except AMQPError as exc:
            log.info(
                "cannot %s delivery %d of %r (%s); the broker will redeliver it",
                how,
                args[0],
                self._queue,
                exc,
            )
