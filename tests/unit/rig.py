"""A Dispatch wired by ConsumerPool's own code (pool.py), on the channel double, with fake
consumers whose `consume` runs what the test gives it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import NamedTuple

import gevent
from greenlet import greenlet

from amqpdispatcher.acks import Acks
from amqpdispatcher.config import ConsumerSpec
from amqpdispatcher.failure import FailurePolicy, RequeueAndReplace
from amqpdispatcher.message import Message
from amqpdispatcher.middleware import Hooks, Middleware
from amqpdispatcher.pool import create_idle, dispatch_path
from amqpdispatcher.proxy import AMQPProxy
from amqpdispatcher.testing.fake_amqp import RecordingPublisher

from .channel import FakeChannel

Consume = Callable[[AMQPProxy, Message], None]


def consumer_spec(
    count: int = 1, threads: int | None = None, time_limit: float | None = None
) -> ConsumerSpec:
    """With `threads`, an entry of executor: thread."""
    return ConsumerSpec(
        consumer="tests.unit:Consumer",
        queue="q",
        consumer_count=count,
        prefetch_count=10,
        path="consumers[0]",
        executor="gevent" if threads is None else "thread",
        threads=threads,
        time_limit=time_limit,
    )


class Call(NamedTuple):
    tag: int
    instance: object
    greenlet: greenlet
    thread: int


class Rig:
    def __init__(
        self,
        consume: Consume = lambda amqp, message: None,
        count: int = 1,
        policy: FailurePolicy | None = None,
        middleware: Sequence[Middleware] = (),
        threads: int | None = None,
        time_limit: float | None = None,
    ) -> None:
        self.calls: list[Call] = []  # every consume call, in the order they started
        self.spec = consumer_spec(count, threads, time_limit)
        self.channel = FakeChannel()
        self.acks = Acks(self.channel, self.spec.queue)
        self.publisher = RecordingPublisher()
        self.hooks = Hooks(middleware)
        self.instances, self.dispatch = dispatch_path(
            self.spec,
            self._consumer_class(consume),
            self.publisher,
            policy or RequeueAndReplace(),
            self.hooks,
        )
        self.created = create_idle(self.instances, self.dispatch)

    def deliver(self, count: int = 1) -> list[int]:
        """`count` deliveries, handed to the dispatch from the hub once the loop turns."""
        on_delivery = partial(self.dispatch.on_delivery, self.acks)
        return [self.channel.deliver(on_delivery) for _ in range(count)]

    @property
    def consumed(self) -> list[int]:
        return [call.tag for call in self.calls]

    def _consumer_class(self, consume: Consume) -> type:
        calls = self.calls

        class Consumer:
            def __init__(self) -> None:
                self.shutdowns: list[BaseException | None] = []
                self.threads = [threading.get_ident()]  # where its code ran: created, shut down

            def consume(self, amqp: AMQPProxy, message: Message) -> None:
                call = Call(amqp.delivery_tag, self, gevent.getcurrent(), threading.get_ident())
                calls.append(call)
                consume(amqp, message)

            def shutdown(self, exception: BaseException | None) -> None:
                self.shutdowns.append(exception)
                self.threads.append(threading.get_ident())

        return Consumer


def settle() -> None:
    """Let the loop turn until everything that can run has run: the deliveries handed over,
    the consume calls run or blocked, the held acks sent."""
    gevent.idle()
