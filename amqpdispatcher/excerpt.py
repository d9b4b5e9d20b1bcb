"""Text for messages. Values quoted in error messages are cut short: an error stays one
readable line, whatever the value (a config, a URL or a message can hold megabytes). Standard
library only, like url.py, which .ci/ensure-broker loads before anything is installed."""

from __future__ import annotations

LIMIT = 60


def excerpt(value: object, limit: int = LIMIT) -> str:
    """repr(value), at most `limit` characters."""
    try:
        text = repr(value)
    except ValueError:  # an int with more digits than str() converts
        text = f"<{type(value).__name__} too large to show>"
    return clip(text, limit)


def clip(text: str, limit: int = LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def clip_utf8(text: str, limit: int) -> str:
    """`text` cut to at most `limit` bytes of UTF-8, never inside a character, "..." marking a
    cut; what UTF-8 cannot encode (a lone surrogate) becomes "?"."""
    encoded = text.encode(errors="replace")
    if len(encoded) <= limit:
        return encoded.decode()
    return encoded[: limit - 3].decode(errors="ignore") + "..."


def first_line(text: str, limit: int = LIMIT) -> str:
    """The first line of `text`, at most `limit` characters, "..." marking a cut."""
    line, newline, _ = text.partition("\n")
    return clip(line + "..." if newline else line, limit)


def counted(count: int, noun: str) -> str:
    """'1 queue', '2 queues'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
