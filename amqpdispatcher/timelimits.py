"""The daemon's own limit on a consume call's time, `time_limit` of a consumers entry.

Since RabbitMQ 4.3 the broker no longer enforces consumer_timeout on classic queues, and on
quorum queues it cancels the consumer of a client that accepts basic.cancel: a call that hangs
would hold its message, and its instance, for ever. The daemon's limit holds on every queue type
and broker version. A call past it has TimeLimitExceeded thrown into the greenlet that runs it,
or waits for its thread (executors.py): the message is a failure, settled by the entry's failure
policy, and the instance is replaced. The throw lands where the call yields to the loop; code
that never yields (executor: thread is for that) is interrupted only when it does."""

from __future__ import annotations

import logging
from collections.abc import Callable

import gevent

from .config import ConsumerSpec
from .interruption import TimeLimitExceeded
from .message import Message
from .proxy import AMQPProxy

log = logging.getLogger("amqp-dispatcher.pool")

Consume = Callable[[object, AMQPProxy, Message], BaseException | None]


def limited(spec: ConsumerSpec, consume: Consume) -> Consume:
    """The entry's consume call (an executor's), under its time limit if it has one: chosen
    once per entry, so that an entry without a limit pays nothing per message."""
    if spec.time_limit is None:
        return consume
    return _TimeLimit(spec, consume).consume


class _TimeLimit:
    __slots__ = ("_consume", "_seconds", "_spec")

    def __init__(self, spec: ConsumerSpec, consume: Consume) -> None:
        self._spec = spec
        self._seconds = spec.time_limit
        self._consume = consume

    def consume(self, instance: object, amqp: AMQPProxy, message: Message) -> BaseException | None:
        """The executor's consume, which returns what `instance.consume` raised: the throw can
        only land inside that call, since the rest (the default ack) never yields."""
        exceeded = TimeLimitExceeded(self._seconds)
        with gevent.Timeout(self._seconds, exceeded):
            exception = self._consume(instance, amqp, message)
        if exception is exceeded:
            log.warning(
                "%s: %s on %r: delivery %d ran past its time_limit of %gs; interrupted, and "
                "handled as a failure",
                self._spec.path,
                self._spec.consumer,
                self._spec.queue,
                amqp.delivery_tag,
                self._seconds,
            )
        return exception
