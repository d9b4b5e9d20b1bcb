"""The names and arguments of the queues a retry block needs: a delay queue for each distinct
delay, whose messages expire back into the work queue, and the archive. The config derives its
declarations from them (amqpdispatcher.config.retry_queues), the retry policy its targets."""

from ..substitution import suffixed

# A quorum queue dead-letters at most once unless told otherwise; at least once needs
# reject-publish overflow.
_AT_LEAST_ONCE = {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}
_QUORUM = {"x-queue-type": "quorum"}


def milliseconds(seconds: float) -> int:
    """Seconds as RabbitMQ takes them: whole milliseconds."""
    return round(seconds * 1000)


def delay_queue_name(queue: str, seconds: float) -> str:
    """`<queue>.delay.<seconds>s`: orders.new.delay.5s, orders.new.delay.0.5s."""
    return suffixed(queue, f".delay.{_seconds_text(milliseconds(seconds))}s")


def _seconds_text(ms: int) -> str:
    """Seconds in plain decimals without trailing zeros, exact to the millisecond; unlike
    format's "g", never an exponent nor a rounding that would give two delays one name."""
    whole, fraction = divmod(ms, 1000)
    return f"{whole}.{fraction:03d}".rstrip("0").rstrip(".")


def default_archive_queue(queue: str) -> str:
    return suffixed(queue, ".archive")


def delay_arguments(queue: str, seconds: float, quorum: bool) -> dict:
    """A delay queue's: its messages expire after `seconds` back into `queue`."""
    return {
        **(_QUORUM if quorum else {}),
        "x-message-ttl": milliseconds(seconds),
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": queue,
        **(_AT_LEAST_ONCE if quorum else {}),
    }


def archive_arguments(ttl: float | None, quorum: bool) -> dict:
    arguments = dict(_QUORUM if quorum else {})
    if ttl is not None:
        arguments["x-message-ttl"] = milliseconds(ttl)
    return arguments
