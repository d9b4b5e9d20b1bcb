"""What the retry policy's headers say of an archived message: the fields that `archive list`
shows and that `--where` filters on (where.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from .retry.headers import EXCEPTION_MESSAGE, EXCEPTION_TYPE, FAILED_AT, RETRY_COUNT

DELIVERY_COUNT = "x-delivery-count"  # a quorum queue's, on a message it delivers again


@dataclass(frozen=True)
class Archived:
    position: int  # 1 for the first message read from the archive
    message_id: str | None
    exception_type: str | None
    exception_message: str | None
    retry_count: int | None
    failed_at: str | None  # the header's text
    failed: datetime | None  # the header read as a time, None if absent or unreadable
    size: int  # of the body, in bytes
    delivery_count: int | None

    @classmethod
    def of(cls, position: int, properties: dict, body: bytes) -> Archived:
        headers = properties.get("headers", {})
        failed_at = _text(headers.get(FAILED_AT))
        return cls(
            position=position,
            message_id=_text(properties.get("message_id")),
            exception_type=_text(headers.get(EXCEPTION_TYPE)),
            exception_message=_text(headers.get(EXCEPTION_MESSAGE)),
            retry_count=_count(headers.get(RETRY_COUNT)),
            failed_at=failed_at,
            failed=parse_time(failed_at) if failed_at is not None else None,
            size=len(body),
            delivery_count=_count(headers.get(DELIVERY_COUNT)),
        )


def parse_time(text: str) -> datetime | None:
    """An ISO 8601 time, UTC when it names no offset; None if it is not one."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
