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


def counted(count: int, noun: str) -> str:
    """'1 queue', '2 queues'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
