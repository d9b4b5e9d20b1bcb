"""The `amqp` object a consumer receives with each message: answers it and publishes."""

from __future__ import annotations

import json
from collections.abc import Mapping

from .acks import Acks
from .excerpt import excerpt
from .publisher import COPIES, Publisher

JSON_CONTENT_TYPE = "application/json"


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

    @property
    def answerable(self) -> bool:
        """Whether the message's channel is still open, so that an answer can reach the broker.
        Once it closed, the broker delivers the message again, whatever is done with it here."""
        return self._acks.answerable

    @property
    def max_properties_size(self) -> int:
        """The bytes a message's properties, its headers included, may take: the frame size
        negotiated with the broker, less a frame's own overhead."""
        return self._acks.max_properties_size

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
        _check_publish_arguments(headers, body)
        if headers is not None:
            properties["headers"] = headers
        self._publisher.publish(exchange, routing_key, body, properties, mandatory)

    def publish_json(
        self,
        exchange: str,
        routing_key: str,
        obj: object,
        headers: dict | None = None,
        mandatory: bool = False,
        **properties,
    ) -> None:
        """Publish `obj` as compact UTF-8 JSON, with content_type application/json unless
        `properties` name another; otherwise as `publish`."""
        properties.setdefault("content_type", JSON_CONTENT_TYPE)
        self.publish(exchange, routing_key, headers, encode_json(obj), mandatory, **properties)

    def publish_copy(self, queue: str, headers: dict, body: bytes, properties: dict) -> None:
        """For failure policies: publish a copy of a message to `queue`, through the default
        exchange, mandatory, and wait until the broker confirms it. Copies have a channel of
        their own, so that no consumer's publish can touch them. Raises as `publish`."""
        properties = {**properties, "headers": headers}
        self._publisher.publish("", queue, body, properties, mandatory=True, lane=COPIES)

    def _answer(self, how: str) -> None:
        if self.answer is not None:
            raise AlreadyAnswered(
                f"delivery {self._delivery_tag} was already answered with {self.answer}"
            )
        self.answer = how


def encode_json(obj: object) -> bytes:
    """Compact JSON in UTF-8. Raises TypeError for what JSON cannot carry, ValueError for NaN
    and the infinities, which JSON has no words for."""
    try:
        text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"cannot encode {excerpt(obj)} as JSON: {exc}") from None
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate, as json.loads makes of "\ud800"
        raise ValueError(f"cannot encode {excerpt(obj)} as JSON: not UTF-8") from None


def _check_publish_arguments(headers: object, body: object) -> None:
    """The mistakes publish's positional order invites, named before pika would stumble."""
    if headers is not None and not isinstance(headers, Mapping):
        raise TypeError(
            f"publish: headers, the third argument, must be a dict or None, got "
            f"{excerpt(headers)}; the order is publish(exchange, routing_key, headers, body): "
            "pass the body fourth, or as body=..."
        )
    if isinstance(body, (Mapping, list)):
        raise TypeError(
            f"publish: body must be bytes or str, got a {type(body).__name__}; "
            "amqp.publish_json(exchange, routing_key, obj) publishes it as JSON"
        )
    if not isinstance(body, (bytes, str)):
        raise TypeError(f"publish: body must be bytes or str, got {excerpt(body)}")
