"""Which broker a connection reached: the product and version it announces in connection.start."""

from __future__ import annotations

from dataclasses import dataclass

UNKNOWN = "unknown"


@dataclass(frozen=True)
class ServerInfo:
    product: str  # "RabbitMQ"
    version: str  # "3.10.8"

    def __str__(self) -> str:
        return f"{self.product} {self.version}"


def server_info(properties: dict | None) -> ServerInfo:
    """From the server properties as pika decoded them: text, or bytes where it was not UTF-8;
    a property the broker left out is "unknown"."""
    found = properties or {}
    return ServerInfo(_text(found.get("product")), _text(found.get("version")))


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) and value else UNKNOWN
