"""The daemon's rules for one consume call, in one place for the daemon and for the test
helpers (amqpdispatcher.testing): a message left unanswered by a call that returns is acked;
one whose call raised is answered by the failure policy. Once the message's channel closed,
it is not answered at all: the broker delivers it again."""

from __future__ import annotations

import logging
from collections.abc import Callable

from . import backoff
from .interruption import Interrupted
from .message import Message
from .middleware import AnswerLater, FailurePolicy
from .proxy import AMQPProxy

log = logging.getLogger("amqp-dispatcher.pool")

FIRST_PAUSE = 1.0  # seconds before a policy that said AnswerLater is asked again


def consume(instance: object, amqp: AMQPProxy, message: Message) -> BaseException | None:
    """Call `instance.consume`; returns what it raised. Anything it raises, bar the daemon's own
    Interrupted, is a failure of that message: gevent.Timeout, SystemExit and GreenletExit
    included."""
    try:
        instance.consume(amqp, message)
    except Interrupted:
        raise
    except BaseException as exc:
        return exc
    if amqp.answer is None and amqp.answerable:
        amqp.ack()
    return None


def settle_failure(
    policy: FailurePolicy,
    amqp: AMQPProxy,
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
    amqp: AMQPProxy,
    message: Message,
    exception: BaseException,
    pause: Callable[[float], bool] | None,
) -> bool:
    """Whether the policy was done with the message: it answered, raised, or the channel
    closed; False when it said AnswerLater and there is no `pause`, or no going on after it."""
    delays = None
    while amqp.answerable:
        try:
            policy.answer(amqp, message, exception)
        except AnswerLater as why:
            if delays is None:
                delays = backoff.delays(first=FIRST_PAUSE)
                log.warning(
                    "delivery %d cannot be answered yet: %s; it stays unacked, and its consumer "
                    "instance paused, until it can be",
                    amqp.delivery_tag,
                    why,
                )
            if pause is None or not pause(next(delays)):
                return False
            continue
        if delays is not None:
            log.info("delivery %d answered after all: %s", amqp.delivery_tag, amqp.answer)
        return True
    return True
