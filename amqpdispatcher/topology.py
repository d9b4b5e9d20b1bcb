"""Declaring the config's exchanges, queues and bindings on the broker."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from .config import Config, QueueSpec
from .errors import BrokerRefusal
from .excerpt import counted
from .transport import Channel, ChannelClosed, Connection

log = logging.getLogger("amqp-dispatcher.topology")


def declare(connection: Connection, config: Config) -> None:
    """Exchanges first, then each queue with its bindings, on a channel closed afterwards.
    The first refusal stops it: the broker closes the channel on any declare error."""
    channel = connection.channel()
    for exchange in config.exchanges:
        with refusal(f"{exchange.path}: exchange {exchange.name!r}"):
            channel.declare_exchange(
                exchange.name,
                exchange.type,
                durable=exchange.durable,
                auto_delete=exchange.auto_delete,
                internal=exchange.internal,
                passive=exchange.passive,
                arguments=exchange.arguments,
            )
    for queue in config.queues:
        _declare_queue(channel, queue)
    channel.close()
    exchanges, queues = (
        counted(len(config.exchanges), "exchange"),
        counted(len(config.queues), "queue"),
    )
    log.info("declared %s and %s", exchanges, queues)


def redeclare_queue(connection: Connection, queue: QueueSpec) -> None:
    """Declare one queue and its bindings again, say after someone deleted it."""
    channel = connection.channel()
    _declare_queue(channel, queue)
    channel.close()


def _declare_queue(channel: Channel, queue: QueueSpec) -> None:
    with refusal(f"{queue.path}: queue {queue.name!r}"):
        channel.declare_queue(
            queue.name,
            durable=queue.durable,
            auto_delete=queue.auto_delete,
            exclusive=queue.exclusive,
            passive=queue.passive,
            arguments=queue.arguments,
        )
    for binding in queue.bindings:
        with refusal(f"{binding.path}: binding of {queue.name!r} to {binding.exchange!r}"):
            channel.bind_queue(queue.name, binding.exchange, binding.routing_key, binding.arguments)


@contextmanager
def refusal(where: str) -> Iterator[None]:
    """Turn the broker's refusal into a BrokerRefusal naming `where`; a lost connection passes
    through."""
    try:
        yield
    except ChannelClosed as exc:
        if not exc.code:
            raise
        raise BrokerRefusal(where, str(exc)) from None
