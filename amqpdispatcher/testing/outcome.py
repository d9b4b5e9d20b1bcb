"""One consume call under the daemon's rules, and what became of its message."""

from __future__ import annotations

from dataclasses import dataclass

from .. import rules
from ..failure import FailurePolicy, RequeueAndReplace, settle_failure
from ..message import Message
from .fake_amqp import FakeAMQP, Published


@dataclass
class Outcome:
    answer: str | None
    """"ack", "nack" or "reject": how the daemon would have answered the message; None when
    the failure policy said AnswerLater, where the daemon keeps it unacked and tries again."""
    requeue: bool | None
    """For a nack or reject, whether the broker would put the message back in its queue."""
    exception: BaseException | None
    """What consume raised, if it did."""
    replaced: bool
    """Whether the daemon would replace the instance; shutdown(exception) was called on it."""
    published: list[Published]
    """What the consumer published, in order."""


def run_consumer(
    consumer: type | object,
    message: Message,
    *,
    amqp: FakeAMQP | None = None,
    policy: FailurePolicy | None = None,
    options: dict | None = None,
) -> Outcome:
    """Consume `message` with `consumer`, an instance or a class (then created with
    `options`, as the YAML's options would be), as the daemon would: a call that returns
    without answering acks the message; one that raises has it answered by the failure policy
    (the daemon's default unless `policy` is given), and shutdown(exception) called when the
    policy replaces the instance. What consume raises is returned in the Outcome, not raised;
    what shutdown raises is raised (the daemon would log it)."""
    if isinstance(consumer, type):
        instance = consumer(**(options or {}))
    elif options is not None:
        raise TypeError("run_consumer: options are for a class, not an instance")
    else:
        instance = consumer
    if amqp is None:
        amqp = FakeAMQP(message.delivery_info["delivery_tag"])
    exception = rules.consume(instance, amqp, message)
    replaced = False
    if exception is not None:
        replaced = settle_failure(policy or RequeueAndReplace(), amqp, message, exception)
        if replaced:
            instance.shutdown(exception)
    return Outcome(amqp.answer, amqp.requeue, exception, replaced, amqp.published)
