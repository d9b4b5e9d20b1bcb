"""The daemon's rule for one consume call, in one place for the daemon and for the test helpers
(amqpdispatcher.testing): a message left unanswered by a call that returns is acked; one whose
call raised is settled by the failure policy (failure/settle.py). Once the message's channel
closed, it is not answered at all: the broker delivers it again."""

from __future__ import annotations

from .interruption import Interrupted
from .message import Message
from .proxy import AMQPProxy


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
