"""The daemon's rules for one consume call, in one place for the daemon and for the test
helpers (amqpdispatcher.testing): a message left unanswered by a call that returns is acked;
one whose call raised is answered by the failure policy."""

from __future__ import annotations

import logging

from .interruption import Interrupted
from .message import Message
from .middleware import FailurePolicy
from .proxy import AMQPProxy

log = logging.getLogger("amqp-dispatcher.pool")


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
    if amqp.answer is None:
        amqp.ack()
    return None


def settle_failure(
    policy: FailurePolicy, amqp: AMQPProxy, message: Message, exception: BaseException
) -> bool:
    """Have `policy` answer a failed message; returns whether the instance is to be replaced.
    A policy that raises, or leaves the message unanswered, has it rejected with requeue, and
    the instance replaced."""
    try:
        if amqp.answer is None:
            policy.answer(amqp, message, exception)
        replace = policy.replaces_instance(exception)
    except Interrupted:
        raise
    except BaseException:
        log.exception("failure policy %s raised", type(policy).__name__)
        replace = True
    if amqp.answer is None:
        amqp.reject()
        replace = True
    return replace
