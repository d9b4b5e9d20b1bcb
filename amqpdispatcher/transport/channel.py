"""A channel, its calls made blocking for greenlets."""

from __future__ import annotations

from collections.abc import Callable

import gevent.event
import pika
import pika.exceptions

from .confirms import Confirms
from .delivery import Delivery
from .errors import ChannelClosed
from .failures import describe
from .frame_reader import FrameReader
from .frame_writer import ack_sender, message_sender
from .outgoing import Outgoing

HEADER_FRAME_OVERHEAD = 20  # frame header and end, class id, weight and body size


class Channel:
    def __init__(
        self, pika_channel: pika.channel.Channel, reader: FrameReader | None = None
    ) -> None:
        self._pika = pika_channel
        self._reader = reader  # its connection's, to route confirms past pika's callbacks
        self._send = message_sender(pika_channel)
        self._ack = ack_sender(pika_channel)
        self._waiting: set[gevent.event.AsyncResult] = set()
        self.closed: gevent.event.AsyncResult = gevent.event.AsyncResult()
        self._confirms: Confirms | None = None
        self._on_cancelled: Callable[[], None] = lambda: None
        self._getting: gevent.event.AsyncResult | None = None  # the basic.get under way
        self.max_properties_size = pika_channel.connection.params.frame_max - HEADER_FRAME_OVERHEAD
        pika_channel.add_on_close_callback(self._on_close)
        pika_channel.add_on_cancel_callback(lambda _frame: self._on_cancelled())

    @property
    def is_open(self) -> bool:
        return not self.closed.ready()

    def enable_confirms(self) -> None:
        """Publisher confirms: from now on `publish` returns a result the broker settles."""
        self._confirms = Confirms()
        self._pika.add_on_return_callback(self._confirms.on_return)
        self._rpc(self._pika.confirm_delivery, ack_nack_callback=self._confirms.on_confirm)
        if self._reader is not None and self.is_open:  # else closed meanwhile: nothing to route
            self._reader.route_confirms(self._pika.channel_number, self._confirms.on_confirm)

    def declare_exchange(self, name: str, exchange_type: str, **flags) -> None:
        self._rpc(self._pika.exchange_declare, exchange=name, exchange_type=exchange_type, **flags)

    def check_exchange(self, name: str) -> None:
        """Whether exchange `name` exists: if not, the broker closes the channel (404) and this
        raises ChannelClosed."""
        self._rpc(self._pika.exchange_declare, exchange=name, passive=True)

    def declare_queue(self, name: str, **flags) -> None:
        self._rpc(self._pika.queue_declare, queue=name, **flags)

    def ready_messages(self, queue: str) -> int:
        """How many messages `queue` holds ready for delivery; the broker closes the channel
        (404) if there is no such queue."""
        return self.queue_counts(queue)[0]

    def queue_counts(self, queue: str) -> tuple[int, int]:
        """The messages `queue` holds ready for delivery, and its consumers, by a passive
        declare, which changes nothing; the broker closes the channel (404) if there is no such
        queue."""
        frame = self._rpc(self._pika.queue_declare, queue=queue, passive=True)
        return frame.method.message_count, frame.method.consumer_count

    def bind_queue(self, queue: str, exchange: str, routing_key: str, arguments: dict) -> None:
        self._rpc(
            self._pika.queue_bind,
            queue=queue,
            exchange=exchange,
            routing_key=routing_key,
            arguments=arguments,
        )

    def qos(self, prefetch_count: int) -> None:
        """Per consumer, never global: RabbitMQ 4.x deprecates global QoS, and 4.3 refuses it."""
        self._rpc(self._pika.basic_qos, prefetch_count=prefetch_count, global_qos=False)

    def consume(
        self,
        queue: str,
        on_delivery: Callable[[Delivery], None],
        on_cancelled: Callable[[], None],
    ) -> str:
        """Subscribe; both callbacks run in the hub and must not block."""

        def deliver(_channel, method, properties, body: bytes) -> None:
            on_delivery(Delivery(method, properties, body))

        self._on_cancelled = on_cancelled
        frame = self._rpc(self._pika.basic_consume, queue=queue, on_message_callback=deliver)
        return frame.method.consumer_tag

    def get(self, queue: str) -> Delivery | None:
        """One message from `queue`, to ack or reject, or None when the queue is empty. pika
        reports an empty queue to no basic_get callback, only to a Basic.GetEmpty one, added
        once per channel. One get at a time."""
        if self._getting is None:
            self._pika.add_callback(self._on_get_empty, [pika.spec.Basic.GetEmpty], one_shot=False)

        result = self._getting = gevent.event.AsyncResult()

        def got(_channel, method, properties, body: bytes) -> None:
            result.set(Delivery(method, properties, body))

        self._call(self._pika.basic_get, queue=queue, callback=got)
        return self.wait(result)

    def cancel(self, consumer_tag: str) -> None:
        """Cancel a subscription without waiting for the broker's reply, which a dead network
        would never send. pika requeues what still arrives for it."""
        if consumer_tag in self._pika.consumer_tags:
            self._call(self._pika.basic_cancel, consumer_tag=consumer_tag)

    def ack(self, delivery_tag: int, multiple: bool = False) -> None:
        self._call(self._ack, delivery_tag=delivery_tag, multiple=multiple)

    def nack(self, delivery_tag: int, requeue: bool) -> None:
        self._call(self._pika.basic_nack, delivery_tag=delivery_tag, requeue=requeue)

    def requeue_all(self) -> None:
        """Every message got on this channel and not yet acked back to its queue, with
        basic.nack rather than a close: since RabbitMQ 4.3 a quorum queue does not count a nack
        towards its delivery limit, while it counts the messages a closing channel returns."""
        self._call(self._pika.basic_nack, delivery_tag=0, multiple=True, requeue=True)

    def purge(self, queue: str) -> int:
        """Remove every ready message of `queue`; how many."""
        return self._rpc(self._pika.queue_purge, queue=queue).method.message_count

    def reject(self, delivery_tag: int, requeue: bool) -> None:
        self._call(self._pika.basic_reject, delivery_tag=delivery_tag, requeue=requeue)

    def publish(self, message: Outgoing) -> gevent.event.AsyncResult | None:
        """Send a message. In confirm mode, the result is settled when the broker confirms it,
        or fails: with PublishError if the broker nacks or returns it, with ChannelClosed if the
        channel closes first."""
        if message.properties_size > self.max_properties_size:
            raise ValueError(
                f"headers: too large: the properties take {message.properties_size} bytes, "
                f"the connection's frame size allows {self.max_properties_size}"
            )
        self._call(self._send, message=message)
        return None if self._confirms is None else self._confirms.sent(message)

    def close(self) -> None:
        if self._pika.is_open:
            self._pika.close()
        self.closed.wait()

    def wait(self, result: gevent.event.AsyncResult):
        """Block this greenlet on `result`, failing with ChannelClosed if the channel closes."""
        if self.closed.ready():
            raise self.closed.get()
        self._waiting.add(result)
        try:
            return result.get()
        finally:
            self._waiting.discard(result)

    def _rpc(self, method: Callable, **kwargs):
        result = gevent.event.AsyncResult()
        self._call(method, callback=result.set, **kwargs)
        return self.wait(result)

    def _call(self, method: Callable, **kwargs):
        try:
            return method(**kwargs)
        except pika.exceptions.ChannelWrongStateError:
            raise self.closed.get() if self.closed.ready() else ChannelClosed(0, "closed") from None

    def _on_get_empty(self, _frame) -> None:
        self._getting.set(None)

    def _on_close(self, _channel, reason: BaseException) -> None:
        if isinstance(reason, pika.exceptions.ChannelClosedByBroker):
            error = ChannelClosed(reason.reply_code, reason.reply_text)
        elif isinstance(reason, pika.exceptions.ChannelClosedByClient):
            error = ChannelClosed(0, reason.reply_text)
        else:
            error = ChannelClosed(0, describe(reason))
        self.closed.set(error)
        for result in list(self._waiting):
            result.set_exception(error)
        if self._confirms is not None:
            if self._reader is not None:
                self._reader.stop_routing(self._pika.channel_number)
            self._confirms.fail_all(error)
