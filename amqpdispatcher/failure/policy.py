"""What becomes of a message whose consume raised, and of the instance that raised it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import ConsumerSpec
    from ..message import Message
    from .answerable import Answerable

log = logging.getLogger("amqp-dispatcher.pool")


class AnswerLater(Exception):
    """Raised by a failure policy that cannot answer a message for a reason that passes (no
    connection to publish a copy on, publishing blocked by the broker): the daemon keeps the
    message unacked, pauses the instance, and asks the policy again, with backoff, until it
    answers or the message's channel closes (the broker then delivers it again). The text says
    why, for the log."""


class FailurePolicy:
    """Decides, for each failed consume call, how the message is answered and whether the
    instance is replaced. Runs in the greenlet of the call, so it may publish (say to a retry
    queue) before it answers. Should it raise, or leave the message unanswered, the message is
    rejected with requeue: never lost; should it raise AnswerLater, it is asked again later."""

    def answer(self, amqp: Answerable, message: Message, exception: BaseException) -> None:
        """Answer the message, which consume left unanswered."""
        raise NotImplementedError

    def replaces_instance(self, exception: BaseException) -> bool:
        """Whether the instance that raised `exception` is shut down and replaced."""
        raise NotImplementedError

    def log_failure(
        self, consumer: ConsumerSpec, message: Message, exception: BaseException
    ) -> None:
        """Log the failed call, before `answer`: here, an ERROR with the traceback."""
        log.error(
            "%s raised on queue %r, delivery %d",
            consumer.consumer,
            consumer.queue,
            message.delivery_info["delivery_tag"],
            exc_info=exception,
        )


class RequeueAndReplace(FailurePolicy):
    """The default: the message goes back to its queue, and a new instance replaces the one
    that raised, which may be in a bad state."""

    def answer(self, amqp: Answerable, message: Message, exception: BaseException) -> None:
        amqp.reject(requeue=True)

    def replaces_instance(self, exception: BaseException) -> bool:
        return True
