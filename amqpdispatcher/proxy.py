"""The `amqp` object a consumer receives with each message: answers it and publishes."""

from __future__ import annotations

import logging
from collections.abc import Callable

from .connection import AMQPError, Channel
from .publisher import Publisher

log = logging.getLogger("amqp-dispatcher.pool")


class AlreadyAnswered(RuntimeError):
    """A message can be acked, nacked or rejected once."""


class AMQPProxy:
    __slots__ = ("_channel", "_delivery_tag", "_publisher", "_queue", "answer")

    def __init__(
        self, channel: Channel, delivery_tag: int, publisher: Publisher, queue: str
    ) -> None:
        self._channel = channel
        self._delivery_tag = delivery_tag
        self._publisher = publisher
        self._queue = queue
        self.answer: str | None = None

    def ack(self) -> None:
        self._answer("ack", self._channel.ack, self._delivery_tag)

    def nack(self, requeue: bool = True) -> None:
        self._answer("nack", self._channel.nack, self._delivery_tag, requeue)

    def reject(self, requeue: bool = True) -> None:
        self._answer("reject", self._channel.reject, self._delivery_tag, requeue)

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
        does not. `properties` are AMQP basic properties (content_type, delivery_mode...)."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        if headers:
            properties["headers"] = headers
        self._publisher.publish(exchange, routing_key, body, properties, mandatory)

    def _answer(self, how: str, send: Callable, *args) -> None:
        """Answer once. On a channel that died meanwhile the answer cannot reach the broker,
        which redelivers the message anyway: that is logged, not raised."""
        if self.answer is not None:
            raise AlreadyAnswered(
                f"delivery {self._delivery_tag} was already answered with {self.answer}"
            )
        self.answer = how
        try:
            send(*args)
        except AMQPError as exc:
            log.info(
                "cannot %s delivery %d of %r (%s); the broker will redeliver it",
                how,
                self._delivery_tag,
                self._queue,
                exc,
            )
