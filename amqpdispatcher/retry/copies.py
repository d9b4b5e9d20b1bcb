"""The copies of a failed message that the retry policy publishes, made so that the broker
takes them: headers that cannot be encoded again become strings, the user_id (which the broker
takes only from the user publishing) moves into a header, and what does not fit a frame is
cut (the daemon's texts) or left out (the message's own headers, largest first)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, NamedTuple

from ..excerpt import clip_utf8
from ..transport import header_size, outgoing, sendable
from .headers import (
    DROPPED_HEADERS,
    EXCEPTION_MESSAGE,
    EXCEPTION_TYPE,
    FAILED_AT,
    ORIGINAL_EXCHANGE,
    ORIGINAL_ROUTING_KEY,
    ORIGINAL_USER_ID,
    RETRY_COUNT,
    TRACE_HEADERS,
)

if TYPE_CHECKING:
    from ..message import Message

MAX_EXCEPTION_TYPE = 255  # bytes
MAX_EXCEPTION_MESSAGE = 1000  # bytes: the headers must fit a frame, whatever the exception
MAX_DROPPED_NAMES = 1000  # bytes of the x-dropped-headers list
MAX_TRACE_HEADER = 512  # characters: what W3C asks a tracestate to be passed on with, at least
# What a minimal copy keeps of the properties: short values, none that the broker checks.
MINIMAL_PROPERTIES = (
    "content_type",
    "content_encoding",
    "delivery_mode",
    "priority",
    "correlation_id",
    "message_id",
    "timestamp",
    "type",
    "app_id",
)
_DAEMONS = {ORIGINAL_EXCHANGE, ORIGINAL_ROUTING_KEY, ORIGINAL_USER_ID, DROPPED_HEADERS}


class Copy(NamedTuple):
    queue: str
    headers: dict
    body: bytes
    properties: dict  # but the headers


def failure_headers(exception: BaseException, retry_count: int) -> dict:
    """What an archived copy says of its failure."""
    return {
        EXCEPTION_TYPE: clip_utf8(type(exception).__name__, MAX_EXCEPTION_TYPE),
        EXCEPTION_MESSAGE: clip_utf8(exception_text(exception), MAX_EXCEPTION_MESSAGE),
        RETRY_COUNT: retry_count,
        FAILED_AT: datetime.now(timezone.utc).isoformat(timespec="microseconds"),
    }


def copy_of(message: Message, queue: str, added: dict, room: int) -> Copy:
    """`message` for `queue` with the `added` headers, its properties within `room` bytes.
    Raises ValueError or TypeError if it cannot be made to fit or to be sent."""
    headers = sendable(message.headers)
    headers.setdefault(ORIGINAL_EXCHANGE, message.delivery_info["exchange"])
    headers.setdefault(ORIGINAL_ROUTING_KEY, message.delivery_info["routing_key"])
    properties = {k: v for k, v in message.properties.items() if k not in ("headers", "user_id")}
    user_id = message.properties.get("user_id")
    if user_id is not None:
        headers[ORIGINAL_USER_ID] = user_id
    headers.update(added)
    copy = Copy(queue, headers, message.body, properties)
    return _fitted(copy, message.headers.keys() - added.keys() - _DAEMONS, room)


def minimal_copy(message: Message, queue: str, added: dict) -> Copy:
    """The body, where it came from, its trace context, and the `added` headers: what the
    broker takes when it refused the full copy."""
    info = message.delivery_info
    original = {
        ORIGINAL_EXCHANGE: message.headers.get(ORIGINAL_EXCHANGE, info["exchange"]),
        ORIGINAL_ROUTING_KEY: message.headers.get(ORIGINAL_ROUTING_KEY, info["routing_key"]),
    }
    headers = {
        name: value if isinstance(value, str) else str(value) for name, value in original.items()
    }
    for name in TRACE_HEADERS:  # short, when they are what they should be
        value = message.headers.get(name)
        if isinstance(value, (str, bytes)) and len(value) <= MAX_TRACE_HEADER:
            headers[name] = value
    properties = {k: v for k, v in message.properties.items() if k in MINIMAL_PROPERTIES}
    return Copy(queue, {**headers, **added}, message.body, properties)


def exception_text(exception: BaseException) -> str:
    try:
        return str(exception)
    except Exception:  # a __str__ that raises must not keep the message from its queue
        return f"<{type(exception).__name__} that cannot be shown>"


def _fitted(copy: Copy, own: set, room: int) -> Copy:
    """`copy` without as many of its `own` headers, largest first, as its properties need to
    fit `room` bytes with the list of those left out."""
    size = _size(copy)
    if size <= room:
        return copy
    headers = dict(copy.headers)
    listing = header_size(DROPPED_HEADERS, "." * MAX_DROPPED_NAMES)
    sizes = {name: header_size(name, headers[name]) for name in own}
    dropped = []
    for name in sorted(sizes, key=sizes.__getitem__, reverse=True):
        if size + listing <= room:
            break
        del headers[name]
        size -= sizes[name]
        dropped.append(name)
    headers[DROPPED_HEADERS] = clip_utf8(", ".join(dropped), MAX_DROPPED_NAMES)
    return copy._replace(headers=headers)


def _size(copy: Copy) -> int:
    properties = {**copy.properties, "headers": copy.headers}
    return outgoing("", copy.queue, copy.body, properties).properties_size
