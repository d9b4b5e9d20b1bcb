"""Coalescing acks: one `basic.ack multiple=True` for a run of finished deliveries.

With an ack per message the broker, not Python, is the bottleneck, so acks are held until
the event loop's next turn and then sent together: one multiple-ack for those below the oldest
delivery still in flight, and one ack each for those above it, since a multiple-ack must never
cover a delivery still being handled. Nacks and rejects go out at once. So what a crash can
cost is at most one loop turn of finished work, which the broker redelivers, as it would the
work in flight.

The bookkeeping stays proportional to the deliveries in flight, however long one of them runs
and however many are answered meanwhile, and each answer costs O(1) amortised."""

from __future__ import annotations

import logging
from collections import deque

import gevent

from .transport import AMQPError, Channel

log = logging.getLogger("amqp-dispatcher.pool")

COMPACT_SLACK = 64


class Acks:
    """The answers for one channel's deliveries; `delivered` must see every tag, in order."""

    def __init__(self, channel: Channel, queue: str) -> None:
        self.channel = channel
        self._queue = queue
        self._in_flight: set[int] = set()
        # Delivery order, to find the oldest tag in flight. Answered tags leave it lazily: from
        # the head, or all at once when they outnumber the tags in flight.
        self._order: deque[int] = deque()
        self._held: list[int] = []
        self._scheduled = False

    @property
    def answerable(self) -> bool:
        """Whether an answer can still reach the broker: once the channel closed, the broker
        delivers its unanswered messages again."""
        return self.channel.is_open

    @property
    def max_properties_size(self) -> int:
        return self.channel.max_properties_size

    def delivered(self, tag: int) -> None:
        self._in_flight.add(tag)
        self._order.append(tag)
        if len(self._order) > 2 * len(self._in_flight) + COMPACT_SLACK:
            self._order = deque(tag for tag in self._order if tag in self._in_flight)

    def ack(self, tag: int) -> None:
        self._in_flight.discard(tag)
        self._held.append(tag)
        if not self._scheduled:
            self._scheduled = True
            gevent.get_hub().loop.run_callback(self.flush)

    def nack(self, tag: int, requeue: bool) -> None:
        self._in_flight.discard(tag)
        self._send("nack", self.channel.nack, tag, requeue)

    def reject(self, tag: int, requeue: bool) -> None:
        self._in_flight.discard(tag)
        self._send("reject", self.channel.reject, tag, requeue)

    def flush(self) -> None:
        """Send the held acks; runs in the hub, and before the channel closes."""
        self._scheduled = False
        if not self._held:
            return
        held, oldest = self._held, self._oldest_in_flight()
        below = held if oldest is None else [tag for tag in held if tag < oldest]
        if below:
            self._send("ack", self.channel.ack, max(below), True)
        if len(below) < len(held):
            for tag in held:
                if tag > oldest:
                    self._send("ack", self.channel.ack, tag, False)
        self._held.clear()

    def _oldest_in_flight(self) -> int | None:
        order, in_flight = self._order, self._in_flight
        while order and order[0] not in in_flight:
            order.popleft()
        return order[0] if order else None

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
