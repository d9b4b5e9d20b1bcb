"""Message properties written byte by byte, for what pika cannot write: the float ('f') and
double ('d') field values that other clients (Java's, Node's amqplib) put in headers."""

from __future__ import annotations

import struct

import pika

HEADERS_FLAG = 1 << 13  # of the property flags: the headers are present


class Single(float):
    """A header value to be written as AMQP's 32-bit float; a plain float is written as a
    64-bit double."""


class RawProperties(pika.BasicProperties):
    """Properties with only `headers`, encoded here: a float among them, at any depth, is
    written as a double, a Single as a float, as other clients do."""

    def __init__(self, headers: dict) -> None:
        super().__init__(headers=headers)
        self._encoded = struct.pack(">H", HEADERS_FLAG) + encode_table(headers)

    def encode(self) -> list[bytes]:
        return [self._encoded]


def encode_table(table: dict) -> bytes:
    entries = b"".join(_shortstr(key) + _field(value) for key, value in table.items())
    return struct.pack(">I", len(entries)) + entries


def _field(value: object) -> bytes:
    if isinstance(value, Single):
        return b"f" + struct.pack(">f", value)
    if isinstance(value, float):
        return b"d" + struct.pack(">d", value)
    if isinstance(value, dict):
        return b"F" + encode_table(value)
    if isinstance(value, list):
        items = b"".join(map(_field, value))
        return b"A" + struct.pack(">I", len(items)) + items
    if isinstance(value, str):
        return b"S" + struct.pack(">I", len(value.encode())) + value.encode()
    raise TypeError(f"no encoding here for {value!r}")


def _shortstr(text: str) -> bytes:
    return struct.pack("B", len(text.encode())) + text.encode()
