"""What a failure policy, and the settling of a failed message, use of the `amqp` object a
consumer received: proxy.AMQPProxy has it all, without this package importing the proxy."""

from __future__ import annotations

from typing import Protocol


class Answerable(Protocol):
    answer: str | None  # "ack", "nack" or "reject" once answered

    @property
    def delivery_tag(self) -> int: ...

    @property
    def answerable(self) -> bool: ...

    @property
    def max_properties_size(self) -> int: ...

    def ack(self) -> None: ...

    def nack(self, requeue: bool = True) -> None: ...

    def reject(self, requeue: bool = True) -> None: ...

    def publish_copy(self, queue: str, headers: dict, body: bytes, properties: dict) -> None: ...
