"""A message as the broker delivered it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pika

from .pika_internals import decode_floats
from .properties import PROPERTY_NAMES

if TYPE_CHECKING:
    from .outgoing import Outgoing

decode_floats()


class Delivery:
    """One message as the broker delivered it. pika's objects stay inside; the properties
    become a dict only when asked for, which most consumers never do."""

    __slots__ = ("body", "_method", "_raw_properties", "_properties")

    def __init__(self, method: pika.spec.Basic.Deliver, properties, body: bytes) -> None:
        self.body = body
        self._method = method
        self._raw_properties = properties
        self._properties: dict | None = None

    @property
    def delivery_tag(self) -> int:
        return self._method.delivery_tag

    @property
    def redelivered(self) -> bool:
        return self._method.redelivered

    @property
    def exchange(self) -> str:
        return self._method.exchange

    @property
    def routing_key(self) -> str:
        return self._method.routing_key

    @property
    def consumer_tag(self) -> str:
        """'' for a message got with basic.get."""
        return getattr(self._method, "consumer_tag", "")

    @property
    def properties(self) -> dict:
        if self._properties is None:
            self._properties = _properties_dict(self._raw_properties)
        return self._properties


def delivery_of(
    message: Outgoing, delivery_tag: int, redelivered: bool, consumer_tag: str
) -> Delivery:
    """The delivery the broker would make of `message`, without a broker, for tests. Its
    properties go through AMQP's encoding and back, so that a test sees what a consumer would:
    a naive datetime in a header, say, comes back in UTC."""
    method = pika.spec.Basic.Deliver(
        consumer_tag, delivery_tag, redelivered, message.exchange, message.routing_key
    )
    properties = pika.BasicProperties()
    properties.decode(b"".join(message.properties.encode()))
    return Delivery(method, properties, message.body)


def _properties_dict(properties: pika.BasicProperties) -> dict:
    values = {name: getattr(properties, name) for name in PROPERTY_NAMES}
    return {name: value for name, value in values.items() if value is not None}
