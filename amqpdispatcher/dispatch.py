"""Handing deliveries to idle consumer instances, each instance with a greenlet of its own."""

from __future__ import annotations

import logging
import sys
from collections import deque
from functools import partial

import gevent
import gevent.event
from greenlet import GreenletExit, greenlet

from .acks import Acks
from .config import ConsumerSpec
from .excerpt import counted
from .executors import GeventExecutor, ThreadExecutor
from .failure import FailurePolicy, settle_failure
from .instances import Instances
from .interruption import Interrupted
from .message import Message
from .middleware import Hooks
from .proxy import AMQPProxy
from .publisher import Publisher
from .timelimits import limited
from .transport import Delivery

log = logging.getLogger("amqp-dispatcher.pool")

MAX_TAGS_SHOWN = 20  # delivery tags named in the warning of calls interrupted at the stop


class Dispatch:
    """Each instance has a greenlet of its own, its worker, so consumers that yield (gevent
    I/O) overlap up to the pool size. A delivery that finds an idle worker wakes it; one that
    finds none waits in the backlog, and the next worker to finish takes it. So a large prefetch
    costs a queue entry per waiting message, not a greenlet.

    Workers last: starting a greenlet costs more than all the rest of the dispatch path, since
    CPython gives each new greenlet a fresh frame stack (an mmap and an munmap)."""

    def __init__(
        self,
        spec: ConsumerSpec,
        instances: Instances,
        publisher: Publisher,
        failure_policy: FailurePolicy,
        hooks: Hooks,
        executor: GeventExecutor | ThreadExecutor,
    ) -> None:
        self._spec = spec
        # Where consume runs, under the entry's time limit, and the amqp object it is given.
        self._run, self._proxy = limited(spec, executor.consume), executor.proxy
        self._instances = instances
        self._publisher = publisher
        self._failure_policy = failure_policy
        self._hooks = hooks
        self._hooked = bool(hooks)  # read once per message: with no middleware, skip the hooks
        self._idle: list[greenlet] = []  # workers with nothing to do; only while no backlog
        self._backlog: deque[tuple[Acks, Delivery]] = deque()
        # Workers in or between consume calls, with the delivery tag of their latest.
        self._running: dict[greenlet, int] = {}
        self._hub = gevent.get_hub()
        self._task_name = f"{spec.consumer} on {spec.queue!r}"
        self._stopping = False
        self._stopped = gevent.event.Event()  # for the pauses of failure policies

    def add_idle(self, instances: list) -> None:
        """A worker for each instance, started by its first delivery."""
        for instance in instances:
            worker = greenlet(partial(self._work, instance), self._hub)
            worker.name = self._task_name  # for the blocked-loop warning
            self._idle.append(worker)

    def stop(self) -> None:
        """Take no more deliveries; those received but not started stay unanswered and go
        back to the queue when their channel closes."""
        self._stopping = True
        self._stopped.set()
        self._backlog.clear()

    @property
    def busy(self) -> bool:
        """Whether a `consume` call is still running."""
        return bool(self._running)

    def interrupt(self, why: str) -> None:
        """Kill the running `consume` calls; their messages stay unanswered."""
        if not self._running:
            return
        tags = sorted(self._running.values())
        shown = ", ".join(map(str, tags[:MAX_TAGS_SHOWN])) + (
            " ..." if len(tags) > MAX_TAGS_SHOWN else ""
        )
        log.warning(
            "%s on %r: %s still running %s, of deliveries %s; interrupted, the broker will "
            "deliver their messages again",
            self._spec.consumer,
            self._spec.queue,
            counted(len(tags), "consume call"),
            why,
            shown,
        )
        for task in list(self._running):
            gevent.kill(task, Interrupted)

    def on_delivery(self, acks: Acks, delivery: Delivery) -> None:
        """Runs in the hub, for each delivery in order."""
        acks.delivered(delivery.delivery_tag)
        if self._stopping:
            return
        if not self._idle:
            self._backlog.append((acks, delivery))
            return
        worker = self._idle.pop()
        self._running[worker] = delivery.delivery_tag
        # On the hub's next turn: the worker starts, or returns from _wait_idle.
        self._hub.loop.run_callback(worker.switch, acks, delivery)

    def _work(self, instance: object, acks: Acks, delivery: Delivery) -> None:
        """A worker: consume `delivery`, then whatever waits in the backlog, then wait idle for
        the next delivery."""
        worker = gevent.getcurrent()
        try:
            while True:
                instance = self._consume(instance, acks, delivery)
                del acks, delivery  # an idle worker must not keep its last message alive
                acks, delivery = self._next_waiting() or self._wait_idle(worker)
        finally:
            self._running.pop(worker, None)

    def _wait_idle(self, worker: greenlet) -> tuple[Acks, Delivery]:
        """Until on_delivery hands `worker` a delivery. What else is thrown in meanwhile, such
        as a gevent.Timeout a consume call left running, goes to the hub's error handling, as
        it would had the call's greenlet ended; GreenletExit ends the worker. A switch with
        anything else than a delivery, left behind by a consume call, is logged and ignored."""
        self._running.pop(worker, None)
        self._idle.append(worker)
        while True:
            try:
                handed = self._hub.switch()
            except GreenletExit:
                raise
            except BaseException:
                self._hub.handle_error(worker, *sys.exc_info())
                continue
            if type(handed) is tuple and len(handed) == 2:
                return handed
            log.error("%s: an idle worker was woken with %r; ignored", self._task_name, handed)

    def _next_waiting(self) -> tuple[Acks, Delivery] | None:
        if self._backlog:
            gevent.sleep(0)  # the hub runs between two messages, as between two greenlets
        if not self._backlog:
            return None
        waiting = self._backlog.popleft()
        self._running[gevent.getcurrent()] = waiting[1].delivery_tag
        return waiting

    def _consume(self, instance: object, acks: Acks, delivery: Delivery) -> object:
        """Consume one delivery; returns the instance to go on with: `instance`, or its
        replacement if the failure policy replaced it."""
        if self._stopping or not acks.channel.is_open:
            return instance  # unanswered: the broker redelivers it
        proxy = self._proxy(acks, delivery.delivery_tag, self._publisher)
        message = Message(delivery)
        hooked = self._hooked
        if hooked:
            self._hooks("before_consume", self._spec, instance, message)
        exception = self._run(instance, proxy, message)
        if exception is not None:
            return self._failed(instance, proxy, message, exception)
        if hooked:
            self._hooks("after_consume", self._spec, instance, message, _answer(proxy), None)
        return instance

    def _failed(
        self, instance: object, proxy: AMQPProxy, message: Message, exc: BaseException
    ) -> object:
        policy = self._failure_policy
        policy.log_failure(self._spec, message, exc)
        replace = settle_failure(policy, proxy, message, exc, pause=self._pause)
        if self._hooked:
            self._hooks("after_consume", self._spec, instance, message, _answer(proxy), exc)
        return self._instances.replace(instance, exc) if replace else instance

    def _pause(self, seconds: float) -> bool:
        """Whether to go on after `seconds`: not once the daemon is stopping."""
        return not self._stopped.wait(seconds)


def _answer(proxy: AMQPProxy) -> str | None:
    """The answer that reaches the broker: none once the message's channel closed."""
    return proxy.answer if proxy.answerable else None
