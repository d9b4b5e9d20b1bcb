"""The failure policy of a consumer with a `retry` block: a failed message is copied to a delay
queue, to come back after its delay, or, once out of retries or failed for good, to the archive;
the original is acked only once the broker confirmed the copy."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..config import ConsumerSpec
from ..excerpt import clip, clip_utf8, first_line
from ..middleware import Hooks
from ..retry.copies import Copy, copy_of, exception_text, failure_headers, minimal_copy
from ..retry.headers import COPY_REFUSED, RETRY_COUNT
from ..retry.queues import default_archive_queue, delay_queue_name
from ..transport import PublishError, PublishRefused
from .policy import AnswerLater, FailurePolicy

if TYPE_CHECKING:
    from ..message import Message
    from .answerable import Answerable

log = logging.getLogger("amqp-dispatcher.pool")

MAX_REASON = 1000  # bytes of x-copy-refused
REASON_IN_LOG = 200  # characters of the exception's text in the WARNING of a retried failure
# What the broker, or the checks before it, refuse of a copy for a reason of the message's own.
REFUSALS = (PublishRefused, TypeError, ValueError)


class PermanentFailure(Exception):
    """Raised by a consumer for a message that will never succeed: with a `retry` block, the
    message goes to the archive at once, without retries."""


class RetryPolicy(FailurePolicy):
    """Retries a failed message `max_retries` times, the nth retry after `backoff[n - 1]`
    seconds (the last value repeating), through the delay queues of `queue`; then, or at once
    for a PermanentFailure, archives it in `archive_queue` (`<queue>.archive` by default).
    Publishes through `amqp.publish_copy`, which waits for the broker's confirm, and acks only
    then. A copy the broker cannot be reached for, or is blocked from taking, is tried again
    later, the message kept unacked meanwhile (AnswerLater); one the broker refuses for a reason
    of its own gives way to a minimal copy in the archive, which says why in x-copy-refused;
    should the archive refuse that too, the message is rejected without requeue, to its queue's
    dead-letter exchange. The instance that raised is replaced, as with RequeueAndReplace.

    A retried failure is logged as a one-line WARNING (with the traceback the first time, at
    DEBUG after), an archived one as an ERROR with its traceback."""

    def __init__(
        self,
        queue: str,
        max_retries: int,
        backoff: Sequence[float],
        archive_queue: str | None = None,
        *,
        consumer: ConsumerSpec | None = None,
        hooks: Hooks | None = None,
    ) -> None:
        """`hooks` are told of each copy retried or archived (after_retry, after_archive), for
        `consumer`."""
        if not backoff:
            raise ValueError("RetryPolicy: backoff needs at least one delay")
        self.queue = queue
        self.max_retries = max_retries
        self.backoff = tuple(backoff)
        self.archive_queue = archive_queue or default_archive_queue(queue)
        self._delay_queues = tuple(delay_queue_name(queue, seconds) for seconds in self.backoff)
        self._consumer = consumer
        self._hooks = hooks or Hooks()
        self._traceback_shown = False

    @classmethod
    def for_consumer(cls, consumer: ConsumerSpec, hooks: Hooks | None = None) -> RetryPolicy:
        """The policy of a consumers entry of the config, from its `retry` block, telling
        `hooks` of its copies."""
        retry = consumer.retry
        if retry is None:
            raise ValueError(f"{consumer.path}: has no retry block")
        return cls(
            consumer.queue,
            retry.max_retries,
            retry.backoff,
            retry.archive_queue,
            consumer=consumer,
            hooks=hooks,
        )

    def answer(self, amqp: Answerable, message: Message, exception: BaseException) -> None:
        count = retry_count(message.headers)
        archiving = self._archives(exception, count)
        if archiving:
            queue, added = self.archive_queue, failure_headers(exception, count)
        else:
            queue, added = self._delay_queue(count), {RETRY_COUNT: count + 1}
        try:
            _publish(amqp, copy_of(message, queue, added, amqp.max_properties_size))
        except REFUSALS as refusal:
            self._archive_minimal(amqp, message, exception, count, f"{queue!r}: {refusal}")
            return
        self._acked(amqp, message, exception, None if archiving else count + 1)

    def replaces_instance(self, exception: BaseException) -> bool:
        return True

    def log_failure(
        self, consumer: ConsumerSpec, message: Message, exception: BaseException
    ) -> None:
        count = retry_count(message.headers)
        where = (consumer.consumer, consumer.queue, message.delivery_info["delivery_tag"])
        if self._archives(exception, count):
            log.error(
                "%s raised on queue %r, delivery %d; archiving it", *where, exc_info=exception
            )
            return
        log.warning(
            "%s raised on queue %r, delivery %d: %s: %s; retry %d of %d in %gs",
            *where,
            clip(type(exception).__name__, REASON_IN_LOG),
            first_line(exception_text(exception), REASON_IN_LOG),
            count + 1,
            self.max_retries,
            self.backoff[self._step(count)],
            exc_info=None if self._traceback_shown else exception,
        )
        if self._traceback_shown:
            log.debug("the traceback of delivery %d", where[2], exc_info=exception)
        self._traceback_shown = True

    def _archives(self, exception: BaseException, count: int) -> bool:
        return isinstance(exception, PermanentFailure) or count >= self.max_retries

    def _delay_queue(self, count: int) -> str:
        return self._delay_queues[self._step(count)]

    def _step(self, count: int) -> int:
        """The index in `backoff` of the retry after `count` retries: the last value repeats."""
        return min(count, len(self.backoff) - 1)

    def _archive_minimal(
        self,
        amqp: Answerable,
        message: Message,
        exception: BaseException,
        count: int,
        refusal: str,
    ) -> None:
        log.error(
            "the copy of delivery %d was refused, %s; archiving a minimal copy in %r instead, "
            "which says why in %s",
            amqp.delivery_tag,
            refusal,
            self.archive_queue,
            COPY_REFUSED,
        )
        added = {**failure_headers(exception, count), COPY_REFUSED: clip_utf8(refusal, MAX_REASON)}
        try:
            _publish(amqp, minimal_copy(message, self.archive_queue, added))
        except REFUSALS as again:
            self._reject_unarchivable(amqp, again)
            return
        self._acked(amqp, message, exception, None)

    def _reject_unarchivable(self, amqp: Answerable, refusal: Exception) -> None:
        log.error(
            "the archive %r refused the minimal copy of delivery %d too (%s); rejecting the "
            "message without requeue: its queue's dead-letter exchange takes it, if it has "
            "one, otherwise the broker drops it",
            self.archive_queue,
            amqp.delivery_tag,
            refusal,
        )
        amqp.reject(requeue=False)

    def _acked(
        self, amqp: Answerable, message: Message, exception: BaseException, retry: int | None
    ) -> None:
        """Ack `message`, whose copy the broker confirmed (a retry, or the archive's when
        `retry` is None), and tell the hooks."""
        if not amqp.answerable:
            log.warning(
                "the channel of delivery %d closed while its copy was published: the broker "
                "delivers it again, and it is handled twice",
                amqp.delivery_tag,
            )
            return
        amqp.ack()
        if not self._hooks:
            return
        if retry is None:
            self._hooks("after_archive", self._consumer, message, exception)
        else:
            self._hooks("after_retry", self._consumer, message, retry)


def retry_count(headers: dict) -> int:
    """The retries a message has had: its x-retry-count, 0 when absent or not a count."""
    count = headers.get(RETRY_COUNT)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        return 0
    return count


def _publish(amqp: Answerable, copy: Copy) -> None:
    """Raises what REFUSALS names for a copy the broker refuses, AnswerLater for one it cannot
    take now."""
    try:
        amqp.publish_copy(copy.queue, copy.headers, copy.body, copy.properties)
    except PublishRefused:
        raise
    except PublishError as exc:
        raise AnswerLater(f"its copy for {copy.queue!r} cannot be published: {exc}") from None
