"""Settling a message whose consume call raised, for the daemon and for the test helpers
(amqpdispatcher.testing): the failure policy answers it, asked again later should it say
AnswerLater. Once the message's channel closed, it is not answered at all: the broker delivers
it again."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..backoff import delays
from ..interruption import Interrupted
from ..message import Message
from .answerable import Answerable
from .policy import AnswerLater, FailurePolicy

log = logging.getLogger("amqp-dispatcher.pool")

FIRST_PAUSE = 1.0  # seconds before a policy that said AnswerLater is asked again


def settle_failure(
    policy: FailurePolicy,
    amqp: Answerable,
    message: Message,
    exception: BaseException,
    pause: Callable[[float], bool] | None = None,
) -> bool:
    """Have `policy` answer a failed message; returns whether the instance is to be replaced.
    A policy that raises AnswerLater is asked again after `pause(seconds)`, with backoff, while
    the message's channel is open and `pause` returns true (false: the daemon is stopping);
    the message is left unanswered otherwise, as without `pause` (the test helpers). A policy
    that raises otherwise, or leaves the message unanswered, has it rejected with requeue, and
    the instance replaced."""
    later = False
    try:
        if amqp.answer is None:
            later = not _answer(policy, amqp, message, exception, pause)
        replace = policy.replaces_instance(exception)
    except Interrupted:
        raise
    except BaseException:
        log.exception("failure policy %s raised", type(policy).__name__)
        replace = True
    if amqp.answer is None and amqp.answerable and not later:
        amqp.reject()
        replace = True
    return replace


def _answer(
    policy: FailurePolicy,
    amqp: Answerable,
    message: Message,
    exception: BaseException,
    pause: Callable[[float], bool] | None,
) -> bool:
    """Whether the policy was done with the message: it answered, raised, or the channel
    closed; False when it said AnswerLater and there is no `pause`, or no going on after it."""
    backoff = None
    while amqp.answerable:
        try:
            policy.answer(amqp, message, exception)
        except AnswerLater as why:
            if backoff is None:
                backoff = delays(first=FIRST_PAUSE)
                log.warning(
                    "delivery %d cannot be answered yet: %s; it stays unacked, and its consumer "
                    "instance paused, until it can be",
                    amqp.delivery_tag,
                    why,
                )
            if pause is None or not pause(next(backoff)):
                return False
            continue
        if backoff is not None:
            log.info("delivery %d answered after all: %s", amqp.delivery_tag, amqp.answer)
        return True
    return True
