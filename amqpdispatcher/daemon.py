"""The daemon's life: connect, declare, consume until told to stop, then stop without loss."""

from __future__ import annotations

import logging
import signal
import time

import gevent
import gevent.event

from . import topology
from .config import Config
from .connection import Connection, connect, connection_name
from .pool import ConsumerPool
from .publisher import Publisher
from .url import Target, shuffled

log = logging.getLogger("amqp-dispatcher")


class Stopped(Exception):
    """The daemon stopped for a reason other than a signal; the text says which."""


class Dispatcher:
    def __init__(
        self,
        config: Config,
        consumer_classes: dict[str, type],
        targets: list[Target],
        shutdown_timeout: float,
    ) -> None:
        self._config = config
        self._classes = consumer_classes
        self._targets = targets
        self._shutdown_timeout = shutdown_timeout
        self._stop = gevent.event.AsyncResult()

    def run(self) -> None:
        """Returns after a SIGTERM or SIGINT; raises Stopped when something else ended it."""
        handlers = [  # kept referenced for the whole run: a collected handler stops watching
            gevent.signal_handler(signum, self._on_signal, signum)
            for signum in (signal.SIGTERM, signal.SIGINT)
        ]
        connection = connect(shuffled(self._targets), connection_name())
        publisher = Publisher(connection)
        pools = [
            ConsumerPool(spec, self._classes[spec.consumer], connection, publisher, self.fail)
            for spec in self._config.consumers
        ]
        try:
            topology.declare(connection, self._config)
            for pool in pools:
                pool.start()
            log.info("ready: %d consumer pools", len(pools))
            gevent.wait([self._stop, connection.closed], count=1)
        finally:
            self._shut_down(pools, publisher, connection)
            for handler in handlers:
                handler.cancel()
        if connection.closed.ready() and connection.closed.get() is not None:
            raise Stopped(f"lost the connection to {connection.target}: {connection.closed.get()}")
        if self._stop.get() is not None:
            raise Stopped(self._stop.get())

    def fail(self, reason: str) -> None:
        """Stop the daemon with an error; callable from the hub."""
        if not self._stop.ready():
            log.error("%s; stopping", reason)
            self._stop.set(reason)

    def _on_signal(self, signum: int) -> None:
        if not self._stop.ready():
            log.info("%s received; stopping", signal.Signals(signum).name)
            self._stop.set(None)

    def _shut_down(
        self, pools: list[ConsumerPool], publisher: Publisher, connection: Connection
    ) -> None:
        deadline = time.monotonic() + self._shutdown_timeout
        for pool in pools:
            pool.cancel()
        for pool in pools:
            pool.drain(max(0.0, deadline - time.monotonic()))
        for pool in pools:
            pool.close()
        publisher.close()
        connection.close()
        log.info("stopped")
