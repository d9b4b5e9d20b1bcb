"""In-memory stand-ins for the transport, for tests without a broker: a channel that records
the answers it would send, deliveries (the publisher is amqpdispatcher.testing's), and the pika
channel under the transport's own Channel.
Duck-typed: nothing here imports pika; the transport is imported in this one place only, for
the error a closed channel raises."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from types import SimpleNamespace

import gevent

from amqpdispatcher.transport import HEADER_FRAME_OVERHEAD, ChannelClosed

DEFAULT_FRAME_MAX = 131072  # RabbitMQ's and pika's


class FakeDelivery:
    """What Message, Dispatch and Acks read of a delivery."""

    def __init__(self, delivery_tag: int, body: bytes = b"", properties: dict | None = None):
        self.delivery_tag = delivery_tag
        self.body = body
        self.properties = properties or {}
        self.redelivered = False
        self.exchange = ""
        self.routing_key = "q"
        self.consumer_tag = "ctag"


class FakeChannel:
    """Records each answer as ("ack", tag, multiple), ("nack", tag, requeue) or ("reject",
    tag, requeue) in `sent`. Once closed, answers raise ChannelClosed and are not recorded."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int, bool]] = []
        self.is_open = True
        self.max_properties_size = DEFAULT_FRAME_MAX - HEADER_FRAME_OVERHEAD  # for retry copies
        self._tags = count(1)

    def ack(self, delivery_tag: int, multiple: bool = False) -> None:
        self._send("ack", delivery_tag, multiple)

    def nack(self, delivery_tag: int, requeue: bool) -> None:
        self._send("nack", delivery_tag, requeue)

    def reject(self, delivery_tag: int, requeue: bool) -> None:
        self._send("reject", delivery_tag, requeue)

    @property
    def answers(self) -> dict[int, str]:
        """What each delivery was answered with, whatever the coalescing: "ack" (a multiple-ack
        spread over the tags it covers), "nack", "reject", "nack requeue", "reject requeue"."""
        answers: dict[int, str] = {}
        for how, tag, flag in self.sent:
            if how != "ack":
                answers[tag] = f"{how} requeue" if flag else how
            elif flag:
                answers.update(dict.fromkeys(set(range(1, tag + 1)) - answers.keys(), "ack"))
            else:
                answers[tag] = "ack"
        return dict(sorted(answers.items()))

    def close(self) -> None:
        self.is_open = False

    def deliver(self, on_delivery: Callable[[FakeDelivery], None], body: bytes = b"") -> int:
        """Hand `on_delivery` the next delivery from the hub, as the transport does, once the
        loop turns; returns its tag."""
        delivery = FakeDelivery(next(self._tags), body)
        gevent.get_hub().loop.run_callback(on_delivery, delivery)
        return delivery.delivery_tag

    def _send(self, how: str, delivery_tag: int, flag: bool) -> None:
        if not self.is_open:
            raise ChannelClosed(0, "channel closed")
        self.sent.append((how, delivery_tag, flag))


class PikaChannel:
    """What the transport's Channel uses of a pika channel when it is made, set up and closed;
    `qos` records the arguments of basic_qos, pika's defaults included."""

    def __init__(self) -> None:
        self.connection = SimpleNamespace(params=SimpleNamespace(frame_max=131072))
        self.on_close = None
        self.qos: list[dict] = []

    def add_on_close_callback(self, callback) -> None:
        self.on_close = callback

    def add_on_cancel_callback(self, callback) -> None:
        pass

    def basic_qos(self, prefetch_size=0, prefetch_count=0, global_qos=False, callback=None):
        self.qos.append(
            {"prefetch_size": prefetch_size, "prefetch_count": prefetch_count, "global": global_qos}
        )
        callback(None)
