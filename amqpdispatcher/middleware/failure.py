"""What becomes of a message whose consume raised, and of the instance that raised it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..message import Message
    from ..proxy import AMQPProxy


class FailurePolicy:
    """Decides, for each failed consume call, how the message is answered and whether the
    instance is replaced. Runs in the greenlet of the call, so it may publish (say to a retry
    queue) before it answers. Should it raise, or leave the message unanswered, the message is
    rejected with requeue: never lost."""

    def answer(self, amqp: AMQPProxy, message: Message, exception: BaseException) -> None:
        """Answer the message, which consume left unanswered."""
        raise NotImplementedError

    def replaces_instance(self, exception: BaseException) -> bool:
        """Whether the instance that raised `exception` is shut down and replaced."""
        raise NotImplementedError


class RequeueAndReplace(FailurePolicy):
    """The default: the message goes back to its queue, and a new instance replaces the one
    that raised, which may be in a bad state."""

    def answer(self, amqp: AMQPProxy, message: Message, exception: BaseException) -> None:
        amqp.reject(requeue=True)

    def replaces_instance(self, exception: BaseException) -> bool:
        return True
