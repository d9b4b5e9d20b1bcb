"""The failure policy of a consumer with a `retry` block: a failed message is copied to a delay
queue, to come back after its delay, or, once out of retries or failed for good, to the archive;
the original is acked only once the broker confirmed the copy."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ..config import ConsumerSpec, default_archive_queue
from ..excerpt import clip
from ..middleware import FailurePolicy, Hooks
from ..transport import sendable
from .headers import (
    EXCEPTION_MESSAGE,
    EXCEPTION_TYPE,
    FAILED_AT,
    ORIGINAL_EXCHANGE,
    ORIGINAL_ROUTING_KEY,
    RETRY_COUNT,
)
from .queues import delay_queue_name

if TYPE_CHECKING:
    from ..message import Message
    from ..proxy import AMQPProxy

MAX_EXCEPTION_MESSAGE = 1000  # characters: the headers must fit a frame, whatever the exception


class PermanentFailure(Exception):
    """Raised by a consumer for a message that will never succeed: with a `retry` block, the
    message goes to the archive at once, without retries."""


class RetryPolicy(FailurePolicy):
    """Retries a failed message `max_retries` times, the nth retry after `backoff[n - 1]`
    seconds (the last value repeating), through the delay queues of `queue`; then, or at once
    for a PermanentFailure, archives it in `archive_queue` (`<queue>.archive` by default).
    Publishes through `amqp.publish`, which waits for the broker's confirm, and acks only then:
    should the publish raise, the daemon rejects the message with requeue. The instance that
    raised is replaced, as with RequeueAndReplace."""

    def __init__(
        self,
        queue: str,
        max_retries: int,
        backoff: Sequence[float],
        archive_queue: str | None = None,
    ) -> None:
        if not backoff:
            raise ValueError("RetryPolicy: backoff needs at least one delay")
        self.queue = queue
        self.max_retries = max_retries
        self.backoff = tuple(backoff)
        self.archive_queue = archive_queue or default_archive_queue(queue)
        self._delay_queues = tuple(delay_queue_name(queue, seconds) for seconds in self.backoff)
        self._consumer: ConsumerSpec | None = None
        self._hooks = Hooks()

    @classmethod
    def for_consumer(cls, consumer: ConsumerSpec, hooks: Hooks | None = None) -> RetryPolicy:
        """The policy of a consumers entry of the config, from its `retry` block; it tells
        `hooks` of each copy retried or archived (after_retry, after_archive)."""
        retry = consumer.retry
        if retry is None:
            raise ValueError(f"{consumer.path}: has no retry block")
        policy = cls(consumer.queue, retry.max_retries, retry.backoff, retry.archive_queue)
        if hooks:
            policy._consumer, policy._hooks = consumer, hooks
        return policy

    def answer(self, amqp: AMQPProxy, message: Message, exception: BaseException) -> None:
        headers = sendable(message.headers)  # a header of another client may be a float
        count = retry_count(headers)
        info = message.delivery_info
        # A retried message comes back through the default exchange: keep the first ones.
        headers.setdefault(ORIGINAL_EXCHANGE, info["exchange"])
        headers.setdefault(ORIGINAL_ROUTING_KEY, info["routing_key"])
        archived = isinstance(exception, PermanentFailure) or count >= self.max_retries
        if archived:
            headers[EXCEPTION_TYPE] = type(exception).__name__
            headers[EXCEPTION_MESSAGE] = clip(_text(exception), MAX_EXCEPTION_MESSAGE)
            headers[RETRY_COUNT] = count
            headers[FAILED_AT] = datetime.now(timezone.utc).isoformat(timespec="microseconds")
            queue = self.archive_queue
        else:
            headers[RETRY_COUNT] = count + 1
            queue = self._delay_queues[min(count, len(self._delay_queues) - 1)]
        properties = {k: v for k, v in message.properties.items() if k != "headers"}
        amqp.publish("", queue, headers, message.body, mandatory=True, **properties)
        amqp.ack()
        if not self._hooks:
            return
        if archived:
            self._hooks("after_archive", self._consumer, message, exception)
        else:
            self._hooks("after_retry", self._consumer, message, count + 1)

    def replaces_instance(self, exception: BaseException) -> bool:
        return True


def retry_count(headers: dict) -> int:
    """The retries a message has had: its x-retry-count, 0 when absent or not a count."""
    count = headers.get(RETRY_COUNT)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        return 0
    return count


def _text(exception: BaseException) -> str:
    try:
        return str(exception)
    except Exception:  # a __str__ that raises must not keep the message from its queue
        return f"<{type(exception).__name__} that cannot be shown>"
