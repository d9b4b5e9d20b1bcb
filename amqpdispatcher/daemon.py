"""The daemon's life: connect, declare, consume until told to stop, then stop without loss.
A lost connection is opened again, with backoff, as many times as it takes."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import TypeVar

import gevent
import gevent.event

from . import backoff, topology
from .config import Config
from .connection import AMQPError, Connection, ConnectionFailed, connect, connection_name
from .pool import ConsumerPool
from .publisher import Publisher
from .url import Target, shuffled

log = logging.getLogger("amqp-dispatcher")
T = TypeVar("T")


class Dispatcher:
    def __init__(
        self,
        config: Config,
        consumer_classes: dict[str, type],
        targets: list[Target],
        shutdown_timeout: float,
    ) -> None:
        self._config = config
        self._targets = targets
        self._shutdown_timeout = shutdown_timeout
        self._stopping = gevent.event.Event()
        self._name = connection_name()
        self._publisher = Publisher(targets, self._name)
        queues = {queue.name: queue for queue in config.queues}
        self._pools = [
            ConsumerPool(
                spec, consumer_classes[spec.consumer], queues.get(spec.queue), self._publisher
            )
            for spec in config.consumers
        ]

    def run(self) -> None:
        """Returns after SIGTERM or SIGINT. Raises what no retry can mend: a refused login,
        a declaration the broker refuses, a consumer class that cannot be created."""
        handlers = [  # kept referenced for the whole run: a collected handler stops watching
            gevent.signal_handler(signum, self._on_signal, signum)
            for signum in (signal.SIGTERM, signal.SIGINT)
        ]
        connection = None
        try:
            for pool in self._pools:
                pool.create_instances()
            first, delays = True, backoff.delays()
            while (connection := self._connect(delays)) is not None:
                try:
                    self._interruptible(partial(self._start, connection, first))
                except (AMQPError, topology.TopologyError) as exc:
                    if first and isinstance(exc, topology.TopologyError):
                        raise
                    log.warning("cannot start on %s (%s); reconnecting", connection.target, exc)
                    connection.close()
                    if self._stopping.wait(next(delays)):
                        break
                    continue
                if self._stopping.is_set():
                    break
                first, delays = False, backoff.delays()
                gevent.wait([self._stopping, connection.closed], count=1)
                if self._stopping.is_set():
                    break
                lost = connection.closed.get()
                log.warning("lost the connection to %s: %s", connection.target, lost)
        finally:
            self._shut_down(connection)
            for handler in handlers:
                handler.cancel()

    def _start(self, connection: Connection, first: bool) -> None:
        """Declare the topology and attach the pools. After the first start, a declaration
        the broker refuses (say an exclusive queue still held by the lost connection) is
        retried rather than fatal."""
        topology.declare(connection, self._config)
        for pool in self._pools:
            pool.attach(connection, first)
        log.info("ready: %d consumer pools", len(self._pools))

    def _connect(self, delays: Iterator[float]) -> Connection | None:
        """A connection to one of the targets, retrying with backoff; None once stopping."""
        while True:
            try:
                return self._interruptible(lambda: connect(shuffled(self._targets), self._name))
            except ConnectionFailed as exc:
                delay = next(delays)
                log.warning("%s; retrying in %.1fs", exc, delay)
                if self._stopping.wait(delay):
                    return None

    def _interruptible(self, work: Callable[[], T]) -> T | None:
        """`work()` in a greenlet of its own, so that a stop cuts a hung connect or declare
        short (None then); its exception is raised here."""
        task = gevent.spawn(_outcome, work)
        gevent.wait([task, self._stopping], count=1)
        if self._stopping.is_set():
            task.kill()
            return None
        value, error = task.value
        if error is not None:
            raise error
        return value

    def _on_signal(self, signum: int) -> None:
        if not self._stopping.is_set():
            log.info("%s received; stopping", signal.Signals(signum).name)
            self._stopping.set()

    def _shut_down(self, connection: Connection | None) -> None:
        deadline = time.monotonic() + self._shutdown_timeout
        for pool in self._pools:
            pool.cancel()
        for pool in self._pools:
            pool.drain(max(0.0, deadline - time.monotonic()))
        for pool in self._pools:
            pool.flush()
            pool.retire_instances()
        self._publisher.close()
        if connection is not None:
            connection.close()
        log.info("stopped")


def _outcome(work: Callable[[], T]) -> tuple[T | None, Exception | None]:
    """Run `work`, returning its exception rather than raising it, which gevent would print."""
    try:
        return work(), None
    except Exception as exc:
        return None, exc
