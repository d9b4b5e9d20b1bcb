"""The `amqp` object without a broker: it checks what the daemon's checks, and records."""

from __future__ import annotations

from ..message import Message
from ..proxy import AMQPProxy
from ..transport import HEADER_FRAME_OVERHEAD, Outgoing, delivery_of, outgoing

DEFAULT_FRAME_MAX = 131072  # RabbitMQ's and pika's


class Published(Message):
    """A message a consumer published, as a consumer of it would receive it (delivery tag 1,
    not redelivered), and where it was sent."""

    __slots__ = ("mandatory",)

    def __init__(self, message: Outgoing) -> None:
        super().__init__(delivery_of(message, 1, False, ""))
        self.mandatory = message.mandatory

    @property
    def exchange(self) -> str:
        return self.delivery_info["exchange"]

    @property
    def routing_key(self) -> str:
        return self.delivery_info["routing_key"]

    def __repr__(self) -> str:
        return f"<Published to {self.exchange!r} with key {self.routing_key!r}: {self.body!r}>"


class RecordingPublisher:
    """Stands in for the daemon's Publisher: checks each message with the same code, and records
    it in `published`, or raises `error` when set."""

    def __init__(self) -> None:
        self.published: list[Published] = []
        self.error: BaseException | None = None

    def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes | str,
        properties: dict,
        mandatory: bool = False,
        lane: str = "",
    ) -> None:
        message = outgoing(exchange, routing_key, body, properties, mandatory)
        if self.error is not None:
            raise self.error
        self.published.append(Published(message))


class FakeAMQP(AMQPProxy):
    """The daemon's `amqp` object on a recorder instead of a broker. It answers once, as the
    daemon's does (AlreadyAnswered), and checks publish's arguments and properties with the
    same code. `answer` is "ack", "nack", "reject" or None; `requeue` the flag of a nack or
    reject; `published` what the broker would have confirmed. Set `publish_error` to have each
    publish raise it after its checks, as a PublishError would when the broker does not take
    a message."""

    __slots__ = ("requeue",)

    def __init__(self, delivery_tag: int = 1) -> None:
        super().__init__(_Answers(self), delivery_tag, RecordingPublisher())
        self.requeue: bool | None = None

    @property
    def published(self) -> list[Published]:
        return self._publisher.published

    @property
    def publish_error(self) -> BaseException | None:
        return self._publisher.error

    @publish_error.setter
    def publish_error(self, error: BaseException | None) -> None:
        self._publisher.error = error


class _Answers:
    """What the daemon's Acks would send, as the FakeAMQP's `requeue`; the channel open, with
    the frame size of RabbitMQ's default."""

    answerable = True
    max_properties_size = DEFAULT_FRAME_MAX - HEADER_FRAME_OVERHEAD

    def __init__(self, amqp: FakeAMQP) -> None:
        self._amqp = amqp

    def ack(self, delivery_tag: int) -> None:
        pass

    def nack(self, delivery_tag: int, requeue: bool) -> None:
        self._amqp.requeue = requeue

    reject = nack
