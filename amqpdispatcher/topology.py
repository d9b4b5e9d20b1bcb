"""Declaring the config's exchanges, queues and bindings on the broker."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from .config import Config, QueueSpec
from .errors import BrokerRefusal
from .excerpt import counted
from .references import DEAD_LETTERING, Reference, undeclared_exchanges
from .substitution import hidden, shown
from .transport import Channel, ChannelClosed, Connection

log = logging.getLogger("amqp-dispatcher.topology")


NOT_FOUND = 404


def declare(connection: Connection, config: Config) -> None:
    """Exchanges first, then each queue with its bindings, the retry blocks' delay and archive
    queues last, on a channel closed afterwards. The first refusal stops it: the broker closes
    the channel on any declare error. Then the dead-letter exchanges the config does not
    declare are checked."""
    channel = connection.channel()
    for exchange in config.exchanges:
        with refusal(f"{exchange.path}: exchange {shown(exchange.name)}", exchange.name):
            channel.declare_exchange(
                exchange.name,
                exchange.type,
                durable=exchange.durable,
                auto_delete=exchange.auto_delete,
                internal=exchange.internal,
                passive=exchange.passive,
                arguments=exchange.arguments,
            )
    queues = (*config.queues, *config.retry_queues)
    for queue in queues:
        _declare_queue(channel, queue)
    channel.close()
    exchanges, queues = counted(len(config.exchanges), "exchange"), counted(len(queues), "queue")
    log.info("declared %s and %s", exchanges, queues)
    for reference in undeclared_exchanges(config):
        if reference.dead_letter:
            _check_dead_letter_exchange(connection, reference, config.source)


def redeclare_queue(connection: Connection, queue: QueueSpec) -> None:
    """Declare one queue and its bindings again, say after someone deleted it."""
    channel = connection.channel()
    _declare_queue(channel, queue)
    channel.close()


def _declare_queue(channel: Channel, queue: QueueSpec) -> None:
    with refusal(f"{queue.path}: queue {shown(queue.name)}", queue.name):
        channel.declare_queue(
            queue.name,
            durable=queue.durable,
            auto_delete=queue.auto_delete,
            exclusive=queue.exclusive,
            passive=queue.passive,
            arguments=queue.arguments,
        )
    for binding in queue.bindings:
        where = f"{binding.path}: binding of {shown(queue.name)} to {shown(binding.exchange)}"
        with refusal(where, queue.name, binding.exchange, binding.routing_key):
            channel.bind_queue(queue.name, binding.exchange, binding.routing_key, binding.arguments)


def _check_dead_letter_exchange(connection: Connection, reference: Reference, source: str) -> None:
    """Log a warning if the exchange is missing, for the broker would drop what is dead-lettered
    into it. A passive declare, on a channel of its own since a refusal closes the channel."""
    channel = connection.channel()
    try:
        channel.declare_exchange(reference.exchange, "direct", passive=True)
    except ChannelClosed as exc:
        if not exc.code:
            raise
        if exc.code == NOT_FOUND:
            log.warning(
                "%s: %s: dead-letter exchange %s does not exist: messages dead-lettered from "
                "queue %s (%s) are dropped",
                source,
                reference.path,
                shown(reference.exchange),
                shown(reference.queue),
                DEAD_LETTERING,
            )
        else:
            log.warning(
                "%s: %s: cannot check that dead-letter exchange %s exists: %s",
                source,
                reference.path,
                shown(reference.exchange),
                hidden(str(exc), [reference.exchange]),
            )
        return
    channel.close()


@contextmanager
def refusal(where: str, *names: str) -> Iterator[None]:
    """Turn the broker's refusal into a BrokerRefusal naming `where`, with `names` from the
    environment hidden in the broker's reply; a lost connection passes through."""
    try:
        yield
    except ChannelClosed as exc:
        if not exc.code:
            raise
        raise BrokerRefusal(where, hidden(str(exc), names)) from None
