"""A message to publish, checked before anything is sent: a property the broker refuses would
close the channel."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import NamedTuple

import pika
import pika.data

from ..excerpt import excerpt
from ..fieldtable import TableWalk
from ..limits import MAX_SHORTSTR
from .properties import PROPERTY_NAMES

MAX_EXPIRATION = 315_360_000_000  # ten years in milliseconds, RabbitMQ's limit

_PROPERTY_SET = frozenset(PROPERTY_NAMES)


class Outgoing(NamedTuple):
    """A message checked against what AMQP carries and the broker accepts, ready to publish,
    and to publish again. `encoded_properties` are its properties as they go on the wire, encoded
    once."""

    exchange: str
    routing_key: str
    body: bytes
    properties: pika.BasicProperties
    mandatory: bool
    encoded_properties: bytes

    @property
    def properties_size(self) -> int:
        return len(self.encoded_properties)


def outgoing(
    exchange: str,
    routing_key: str,
    body: bytes | str,
    properties: dict,
    mandatory: bool = False,
) -> Outgoing:
    """Check a message before anything is sent: a property the broker refuses would close the
    channel. Raises TypeError or ValueError naming the argument or property at fault. A str
    body is encoded as UTF-8."""
    _check_shortstr("exchange", exchange)
    _check_shortstr("routing_key", routing_key)
    if not properties:
        return Outgoing(exchange, routing_key, _body(body), _NO_PROPERTIES, mandatory, _NOTHING_SET)
    basic = _basic_properties(properties)
    return Outgoing(exchange, routing_key, _body(body), basic, mandatory, _encoded(basic))


def _check_shortstr(name: str, value, expected: str = "a str") -> bytes:
    if isinstance(value, bytes):
        encoded = value
    elif isinstance(value, str):
        encoded = _utf8(name, value)
    else:
        raise TypeError(f"{name}: expected {expected}, got {excerpt(value)}")
    if len(encoded) > MAX_SHORTSTR:
        raise ValueError(f"{name}: at most {MAX_SHORTSTR} bytes, got {len(encoded)}")
    return encoded


def _check_expiration(name: str, value) -> None:
    expected = "a str of digits (milliseconds)"
    digits = _check_shortstr(name, value, expected)
    if not digits.isdigit() or int(digits) > MAX_EXPIRATION:
        raise ValueError(
            f"{name}: expected {expected} up to {MAX_EXPIRATION}, got {excerpt(value)}"
        )


def _check_int(low: int, high: int, expected: str, name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name}: expected {expected}, got {excerpt(value)}")
    if not low <= value <= high:
        raise ValueError(f"{name}: expected {expected}, got {excerpt(value)}")


def _int_in(low: int, high: int, expected: str | None = None) -> Callable:
    return partial(_check_int, low, high, expected or f"an int from {low} to {high}")


def _check_headers(name: str, value) -> None:
    """The type only: the content is checked as it is encoded, by `_encoded`."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name}: expected a dict, got {excerpt(value)}")


_PROPERTY_CHECKS: dict[str, Callable[[str, object], None]] = {
    **{name: _check_shortstr for name in PROPERTY_NAMES},
    "headers": _check_headers,
    "delivery_mode": _int_in(1, 2, "1 (transient) or 2 (persistent)"),
    "priority": _int_in(0, 255),
    "expiration": _check_expiration,
    "timestamp": _int_in(0, 2**64 - 1),
}
_NO_PROPERTIES = pika.BasicProperties()  # shared: pika only reads the properties it sends
_NOTHING_SET = b"".join(_NO_PROPERTIES.encode())
_FIELD_TYPES = (str, bytes, bool, int, Decimal, datetime, type(None))


def _basic_properties(properties: dict) -> pika.BasicProperties:
    unknown = properties.keys() - _PROPERTY_SET
    if unknown:
        raise TypeError(f"unknown message properties: {', '.join(sorted(unknown))}")
    for name, value in properties.items():
        if value is not None:
            _PROPERTY_CHECKS[name](name, value)
    return pika.BasicProperties(**properties)


def _encoded(properties: pika.BasicProperties) -> bytes:
    """Every property but the headers is checked before: only they can fail to encode."""
    try:
        return b"".join(properties.encode())
    except Exception as exc:
        _HEADERS.table(properties.headers, "headers")
        raise ValueError(f"headers: cannot be encoded: {type(exc).__name__}") from None


def _check_key(where: str, key: object) -> bool:
    _check_shortstr(f"{where}: key", key)
    return True


def _check_value(where: str, value: object) -> None:
    if not isinstance(value, _FIELD_TYPES):
        raise TypeError(
            f"{where}: AMQP headers cannot carry {type(value).__name__} values, only str, bytes, "
            "bool, int, Decimal, datetime, None, and lists and dicts of them"
        )
    try:
        pika.data.encode_value([], value)
    except Exception:
        raise ValueError(f"{where}: out of AMQP's range: {excerpt(value)}") from None


def _value_place(where: str, key: object) -> str:
    return f"{where}[{excerpt(key)}]"


# Finds what in the headers AMQP cannot carry, to name it.
_HEADERS = TableWalk(_check_key, _check_value, _value_place)


def sendable(value: object) -> object:
    """A header value as delivered, made one that can be sent again. pika reads AMQP's float and
    double but cannot write them: a float becomes the Decimal of its shortest repr when AMQP's
    decimal (a scale of at most 255 digits, a 32-bit unscaled value) holds it, its str()
    otherwise. Any other value pika cannot encode again (an unsigned 64-bit int above the signed
    range, say) becomes its str() too. Lists and tables are gone through."""
    if isinstance(value, float):
        return _decimal(value)
    if isinstance(value, dict):
        return {key: sendable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [sendable(item) for item in value]
    try:
        pika.data.encode_value([], value)
    except Exception:
        return str(value)
    return value


def header_size(key: str, value: object) -> int:
    """The bytes the header `key`: `value` takes in an encoded table."""
    return pika.data.encode_table([], {key: value}) - 4  # the table's own length


def _decimal(value: float) -> Decimal | str:
    if not math.isfinite(value):
        return str(value)
    number = Decimal(repr(value)).normalize()
    scale = max(0, -number.as_tuple().exponent)
    unscaled = int(number.scaleb(scale))
    return number if scale <= 255 and -(2**31) <= unscaled < 2**31 else str(value)


def _body(body) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return _utf8("body", body)
    raise TypeError(f"body: expected bytes or str, got {excerpt(body)}")


def _utf8(name: str, value: str) -> bytes:
    try:
        return value.encode()
    except UnicodeEncodeError:
        raise ValueError(f"{name}: not encodable as UTF-8: {excerpt(value)}") from None
