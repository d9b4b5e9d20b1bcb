"""The message a consumer receives."""

from __future__ import annotations

import json
from typing import Any

from .transport import Delivery


class Message:
    __slots__ = ("_delivery",)

    def __init__(self, delivery: Delivery) -> None:
        self._delivery = delivery

    @property
    def body(self) -> bytes:
        return self._delivery.body

    @property
    def text(self) -> str:
        """The body decoded with the message's content_encoding, UTF-8 when it names none."""
        return self.body.decode(self.properties.get("content_encoding") or "utf-8")

    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def properties(self) -> dict:
        """The basic properties that are set: content_type, headers, message_id, timestamp..."""
        return self._delivery.properties

    @property
    def headers(self) -> dict:
        return self.properties.get("headers") or {}

    @property
    def delivery_info(self) -> dict:
        delivery = self._delivery
        return {
            "consumer_tag": delivery.consumer_tag,
            "delivery_tag": delivery.delivery_tag,
            "redelivered": delivery.redelivered,
            "exchange": delivery.exchange,
            "routing_key": delivery.routing_key,
        }

    def __repr__(self) -> str:
        return f"<Message delivery_tag={self._delivery.delivery_tag} {len(self.body)} bytes>"
