"""The `amqp` object a consumer receives with each message: answers it and publishes."""

from __future__ import annotations

from .acks import Acks
from .publisher import Publisher


class AlreadyAnswered(RuntimeError):
    """A message can be acked, nacked or rejected once."""


class AMQPProxy:
    __slots__ = ("_acks", "_delivery_tag", "_publisher", "answer")

    def __init__(self, acks: Acks, delivery_tag: int, publisher: Publisher) -> None:
        self._acks = acks
        self._delivery_tag = delivery_tag
        self._publisher = publisher
        self.answer: str | None = None

    @property
    def delivery_tag(self) -> int:
        return self._delivery_tag

    def ack(self) -> None:
        self._answer("ack")
        self._acks.ack(self._delivery_tag)

    def nack(self, requeue: bool = True) -> None:
        self._answer("nack")
        self._acks.nack(self._delivery_tag, requeue)

    def reject(self, requeue: bool = True) -> None:
        self._answer("reject")
        self._acks.reject(self._delivery_tag, requeue)

    def publish(
        self,
        exchange: str,
        routing_key: str,
        headers: dict | None = None,
        body: bytes | str = b"",
        mandatory: bool = False,
        **properties,
    ) -> None:
        """Publish a message and wait until the broker confirms it; raises PublishError if it
        does not. `properties` are AMQP basic properties (content_type, delivery_mode...); a
        str body is encoded as UTF-8."""
        if headers:
            properties["headers"] = headers
        self._publisher.publish(exchange, routing_key, body, properties, mandatory)

    def _answer(self, how: str) -> None:
        """Answer once. An answer that cannot reach the broker (its channel died meanwhile) is
        logged, not raised: the broker redelivers that message anyway."""
        if self.answer is not None:
            raise AlreadyAnswered(
                f"delivery {self._delivery_tag} was already answered with {self.answer}"
            )
        self.answer = how
