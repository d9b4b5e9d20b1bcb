"""Where a pool's consumer code runs: its constructor, `consume` and `shutdown`.

On gevent's event loop by default, in the worker greenlet itself. With `executor: thread`, on
a pool of OS threads of the entry's own, so that code that blocks without yielding to gevent (a
C library, the unpatched time.sleep) or computes for long does not stop the loop: the worker
greenlet waits for the thread, and the `amqp` calls the thread makes run on the loop, each in a
greenlet of its own, while the thread waits for their outcome. Both run in a copy of the
calling side's contextvars context, so that what middleware set for the consume call (the
JSON log context, the trace's span) holds in the thread and in its `amqp` calls. A thread
cannot be killed: when the daemon interrupts the waiting greenlet (at the stop, or at the
entry's time limit), the thread runs on, and its next `amqp` call raises Interrupted instead
of reaching the broker."""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import gevent
from gevent.threadpool import ThreadPool

from . import rules
from .acks import Acks
from .config import THREAD, ConsumerSpec
from .interruption import Interrupted, TimeLimitExceeded
from .message import Message
from .proxy import AMQPProxy
from .publisher import Publisher

log = logging.getLogger("amqp-dispatcher.pool")
T = TypeVar("T")


class GeventExecutor:
    """Consumer code runs in the calling greenlet, on the loop: no cost added per message."""

    proxy = AMQPProxy
    consume = staticmethod(rules.consume)

    @staticmethod
    def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return function(*args, **kwargs)

    @staticmethod
    def shut_down(instance: object, exception: BaseException | None) -> None:
        instance.shutdown(exception)


class ThreadExecutor:
    """Consumer code runs on a gevent ThreadPool of `threads`, the entry's own: not the hub's,
    which gevent's resolver uses."""

    def __init__(self, spec: ConsumerSpec) -> None:
        self._pool = ThreadPool(spec.threads)
        self._name = f"{spec.consumer} on {spec.queue!r}"
        self.hub = gevent.get_hub()
        self.loop_thread = threading.get_ident()
        # The instances whose interrupted consume call still runs in its thread, by id.
        self._left_running: dict[int, object] = {}

    def proxy(self, acks: Acks, delivery_tag: int, publisher: Publisher) -> ThreadedProxy:
        return ThreadedProxy(acks, delivery_tag, publisher, self)

    def consume(
        self, instance: object, amqp: ThreadedProxy, message: Message
    ) -> BaseException | None:
        """rules.consume, its default ack on the loop, with `instance.consume` in a thread."""
        try:
            return rules.consume(_InThread(self, instance), amqp, message)
        finally:
            amqp.ended = True  # whatever the thread still does, no answer of its reaches the broker

    def consume_in_thread(self, instance: object, amqp: ThreadedProxy, message: Message) -> None:
        """`instance.consume` in a thread, the calling greenlet waiting; what it raises is
        raised here. Should the wait be interrupted, the instance is left running until its
        thread returns."""
        context = contextvars.copy_context()
        running = self._pool.spawn(context.run, _outcome, instance.consume, (amqp, message), {})
        try:
            _, exception = running.get()
        except BaseException as interruption:  # Interrupted, or TimeLimitExceeded
            self._left_running[id(instance)] = instance
            running.rawlink(lambda _: self._left_running.pop(id(instance), None))
            if isinstance(interruption, TimeLimitExceeded):
                log.warning(
                    "%s: delivery %d: its consume call still runs in its thread, which cannot "
                    "be killed; its amqp calls raise Interrupted from now on",
                    self._name,
                    amqp.delivery_tag,
                )
            raise
        if exception is not None:
            raise exception

    def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`function(*args, **kwargs)` in a thread, the calling greenlet waiting; what it raises
        is raised here."""
        result, exception = self._pool.apply(_outcome, (function, args, kwargs))
        if exception is not None:
            raise exception
        return result

    def shut_down(self, instance: object, exception: BaseException | None) -> None:
        """`instance.shutdown(exception)` in a thread; not while an interrupted consume call of
        the instance still runs in its own: the instance is left as it is."""
        if id(instance) in self._left_running:
            log.warning(
                "%s: an instance not shut down: its interrupted consume call still runs in a "
                "thread",
                self._name,
            )
            return
        self.call(instance.shutdown, exception)


GEVENT_EXECUTOR = GeventExecutor()


def executor_for(spec: ConsumerSpec) -> GeventExecutor | ThreadExecutor:
    return ThreadExecutor(spec) if spec.executor == THREAD else GEVENT_EXECUTOR


class _InThread:
    """An instance as rules.consume sees it, its `consume` run by the executor."""

    __slots__ = ("_executor", "_instance")

    def __init__(self, executor: ThreadExecutor, instance: object) -> None:
        self._executor = executor
        self._instance = instance

    def consume(self, amqp: ThreadedProxy, message: Message) -> None:
        self._executor.consume_in_thread(self._instance, amqp, message)


class ThreadedProxy(AMQPProxy):
    """The `amqp` object of a consume call run in a thread: called from the thread, each
    method runs on the loop, in a greenlet of its own, the thread waiting for it; called on
    the loop (the default ack, the failure policy), it runs as AMQPProxy's."""

    __slots__ = ("_executor", "ended")

    def __init__(
        self, acks: Acks, delivery_tag: int, publisher: Publisher, executor: ThreadExecutor
    ) -> None:
        super().__init__(acks, delivery_tag, publisher)
        self._executor = executor
        self.ended = False  # the consume call returned, raised or was interrupted

    def ack(self) -> None:
        self._on_loop(super().ack)

    def nack(self, requeue: bool = True) -> None:
        self._on_loop(super().nack, requeue)

    def reject(self, requeue: bool = True) -> None:
        self._on_loop(super().reject, requeue)

    def publish(self, *args: Any, **kwargs: Any) -> None:
        self._on_loop(super().publish, *args, **kwargs)

    def publish_copy(self, queue: str, headers: dict, body: bytes, properties: dict) -> None:
        self._on_loop(super().publish_copy, queue, headers, body, properties)

    def _on_loop(self, method: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        executor = self._executor
        if threading.get_ident() == executor.loop_thread:
            return method(*args, **kwargs)
        done = threading.Lock()  # the daemon never monkey-patches: a lock of the OS
        done.acquire()
        outcome: list[tuple[None, BaseException | None]] = []
        context = contextvars.copy_context()  # a copy: the thread is inside its own

        def run() -> None:
            if self.ended:
                outcome.append((None, Interrupted(_ENDED.format(self.delivery_tag))))
            else:
                outcome.append(context.run(_outcome, method, args, kwargs))
            done.release()

        executor.hub.loop.run_callback_threadsafe(gevent.spawn_raw, run)
        done.acquire()
        exception = outcome[0][1]
        if exception is not None:
            raise exception


_ENDED = (
    "delivery {}: its consume call was interrupted, or has ended; the amqp object no longer "
    "answers or publishes"
)


def _outcome(
    function: Callable[..., T], args: tuple, kwargs: dict
) -> tuple[T | None, BaseException | None]:
    """What `function` returned, or raised: anything, GreenletExit and SystemExit included,
    since neither may end a thread of the pool or the greenlet of a marshalled call."""
    try:
        return function(*args, **kwargs), None
    except BaseException as exc:
        return None, exc
