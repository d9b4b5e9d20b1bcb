"""One message in full, for `archive show`: its properties, its headers (the broker's x-death
one entry a line), its body as text when it decodes to printable text, else as a hex dump."""

from __future__ import annotations

from .transport import Delivery

_INDENT = "  "
_WHITESPACE = str.maketrans("", "", "\n\r\t")
_ROW = 16  # bytes a line of the hex dump


def dump(position: int, delivery: Delivery, hex_only: bool = False) -> str:
    properties = delivery.properties
    lines = [f"position: {position}", f"redelivered: {'yes' if delivery.redelivered else 'no'}"]
    lines.append("properties:")
    lines += [
        f"{_INDENT}{name}: {_value(value)}"
        for name, value in sorted(properties.items())
        if name != "headers"
    ]
    lines.append("headers:")
    for name, value in sorted(properties.get("headers", {}).items()):
        if isinstance(value, list) and all(isinstance(entry, dict) for entry in value):
            lines.append(f"{_INDENT}{name}:")
            lines += [f"{_INDENT * 2}- {_table(entry)}" for entry in value]
        else:
            lines.append(f"{_INDENT}{name}: {_value(value)}")
    lines += _body(delivery.body, properties.get("content_encoding"), hex_only)
    return "\n".join(lines) + "\n"


def _body(body: bytes, encoding: str | None, hex_only: bool) -> list[str]:
    text = None if hex_only else _text(body, encoding or "utf-8")
    if text is not None:
        return [f"body ({len(body)} bytes, {encoding or 'utf-8'}):", text]
    return [f"body ({len(body)} bytes, hex):", *hex_dump(body)]


def _text(body: bytes, encoding: str) -> str | None:
    """The body decoded, if `encoding` is a text encoding Python knows, it decodes, and what it
    gives is printable (line breaks and tabs allowed)."""
    try:
        text = body.decode(encoding)  # LookupError too for a codec of bytes, zlib say
    except (LookupError, UnicodeDecodeError):
        return None
    return text if text.translate(_WHITESPACE).isprintable() else None


def hex_dump(data: bytes) -> list[str]:
    """`00000010  7b 22 69 64 22 3a 20 32 7d  |{"id": 2}|`: offset, bytes, and the printable
    ASCII ones."""
    rows = []
    for offset in range(0, len(data), _ROW):
        chunk = data[offset : offset + _ROW]
        shown = "".join(chr(byte) if 32 <= byte < 127 else "." for byte in chunk)
        rows.append(f"{offset:08x}  {chunk.hex(' '):<{_ROW * 3 - 1}}  |{shown}|")
    return rows


def _table(entry: dict) -> str:
    return ", ".join(f"{name}={_value(value)}" for name, value in entry.items())


def _value(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + _table(value) + "}"
    if isinstance(value, str):
        return value if value.isprintable() and value else repr(value)
    return str(value)
