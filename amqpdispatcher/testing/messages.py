"""Messages as the daemon hands them to a consumer, built without a broker."""

from __future__ import annotations

from ..message import Message
from ..proxy import JSON_CONTENT_TYPE, encode_json
from ..transport import delivery_of, outgoing


def make_message(
    body: bytes | str | dict | list = b"",
    *,
    headers: dict | None = None,
    redelivered: bool = False,
    routing_key: str = "",
    exchange: str = "",
    delivery_tag: int = 1,
    consumer_tag: str = "amq.ctag-test",
    **properties,
) -> Message:
    """The `msg` a consumer receives. A dict or list body is encoded as `amqp.publish_json`
    encodes it (compact UTF-8 JSON, content_type application/json unless `properties` name
    another), a str body as UTF-8. `properties` are basic properties, checked as `publish`
    checks them: an unknown name or a wrong type raises TypeError."""
    if isinstance(body, (dict, list)):
        body = encode_json(body)
        properties.setdefault("content_type", JSON_CONTENT_TYPE)
    if headers is not None:
        properties["headers"] = headers
    message = outgoing(exchange, routing_key, body, properties)
    return Message(delivery_of(message, delivery_tag, redelivered, consumer_tag))
