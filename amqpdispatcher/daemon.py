"""The daemon's life: connect, declare, consume until told to stop, then stop without loss.
A lost connection is opened again, with backoff, as many times as it takes."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import TypeVar

import gevent
import gevent.event
from greenlet import GreenletExit

from . import backoff, notify, topology
from .config import Config
from .errors import BrokerRefusal, DispatcherError, report
from .excerpt import counted
from .failure import FailurePolicy, RequeueAndReplace, policy_for
from .interruption import Interrupted
from .middleware import Hooks, Middleware
from .pool import ConsumerPool
from .publisher import Publisher
from .transport import AMQPError, Connection, ConnectionFailed, connect, connection_name
from .url import Target, shuffled

log = logging.getLogger("amqp-dispatcher")
T = TypeVar("T")

DRAIN_POLL = 0.01
KILL_TIMEOUT = 1.0
SHUTDOWN_CALLS_TIMEOUT = 5.0  # for the consumers' shutdown() calls, all together


class Dispatcher:
    def __init__(
        self,
        config: Config,
        consumer_classes: dict[str, type],
        targets: list[Target],
        shutdown_timeout: float,
        middleware: Sequence[Middleware] = (),
        failure_policy: FailurePolicy | None = None,
    ) -> None:
        self._config = config
        self._targets = targets
        self._shutdown_timeout = shutdown_timeout
        self._stopping = gevent.event.Event()
        self._hurry = gevent.event.Event()  # a second signal: stop waiting for consume calls
        self._name = connection_name()
        self._connection: Connection | None = None  # the latest
        self._hooks = Hooks(middleware)
        self._publisher = Publisher(targets, self._name, self._hooks)
        self._pools = self._consumer_pools(consumer_classes, failure_policy or RequeueAndReplace())

    def _consumer_pools(
        self, consumer_classes: dict[str, type], failure_policy: FailurePolicy
    ) -> list[ConsumerPool]:
        """A pool for each consumers entry, with `failure_policy` unless it has a retry block."""
        queues = {queue.name: queue for queue in self._config.queues}
        return [
            ConsumerPool(
                spec,
                consumer_classes[spec.consumer],
                queues.get(spec.queue),
                self._publisher,
                policy_for(spec, failure_policy, self._hooks),
                self._hooks,
            )
            for spec in self._config.consumers
        ]

    def run(self) -> int:
        """Runs until SIGTERM or SIGINT, then returns 0. What no retry can mend stops it with
        that error's exit status, once the error is logged: a refused login, a consumer class
        that cannot be created, and what the broker refuses at the first start (see _start)."""
        handlers = [  # kept referenced for the whole run: a collected handler stops watching
            gevent.signal_handler(signal.SIGTERM, self._on_stop_signal, signal.SIGTERM),
            gevent.signal_handler(signal.SIGINT, self._on_stop_signal, signal.SIGINT),
        ]
        hub = gevent.get_hub()
        # A SIGINT no longer raises KeyboardInterrupt, so whatever reaches the hub is from a
        # greenlet a consumer spawned: logged (logs.py), and never the end of the daemon.
        hub.SYSTEM_ERROR, hub.NOT_ERROR = (SystemError,), (GreenletExit,)
        stop_watchdog = notify.start_watchdog()
        try:
            self._consume_until_stopped()
        except DispatcherError as exc:
            return report(exc, self._config.source)
        finally:
            self._shut_down()
            stop_watchdog()
            for handler in handlers:
                handler.cancel()
            del hub.SYSTEM_ERROR, hub.NOT_ERROR  # back to the class's
        return 0

    def _consume_until_stopped(self) -> None:
        self._interruptible(self._create_instances)
        first, delays, lost_target = True, backoff.delays(), None
        while (connection := self._connect(delays, lost_target)) is not None:
            self._connection = connection
            self._hooks("after_connection_opened", connection.target)
            self._hooks("after_broker_identified", connection.target, connection.server)
            try:
                self._interruptible(partial(self._start, connection, first))
            except (AMQPError, _StartAgain) as exc:
                log.warning("cannot start on %s (%s); reconnecting", connection.target, exc)
                connection.close()
                if self._stopping.wait(next(delays)):
                    return
                continue
            if self._stopping.is_set():
                return
            first, delays = False, backoff.delays()
            gevent.wait([self._stopping, connection.closed], count=1)
            if self._stopping.is_set():
                return
            lost, lost_target = connection.closed.get(), connection.target
            log.warning("lost the connection to %s: %s", connection.target, lost)
            notify.status(f"reconnecting: lost the connection to {connection.target}")
            self._hooks("after_connection_lost", connection.target, lost)

    def _create_instances(self) -> None:
        for pool in self._pools:
            pool.create_instances()

    def _start(self, connection: Connection, first: bool) -> None:
        """Declare the topology and attach the pools: the one place that decides what a refusal
        by the broker means. At the first start it is fatal, for the config must be at fault.
        After a reconnection the broker may refuse for a while what it took before (an
        exclusive queue still held by the lost connection, the queue of another service being
        redeployed): then a refused declaration is retried with the whole start, on a new
        connection, and a refused subscription by its pool alone, while the others consume."""
        try:
            topology.declare(connection, self._config)
        except BrokerRefusal as exc:
            if first:
                raise
            raise _StartAgain(str(exc)) from None
        for pool in self._pools:
            try:
                pool.attach(connection)
            except BrokerRefusal as exc:
                if first:
                    raise
                pool.subscribe_later(f"cannot consume: {exc.reply}")
        pools = counted(len(self._pools), "consumer pool")
        log.info("ready: %s", pools)
        notify.ready(f"ready: {pools}")

    def _connect(self, delays: Iterator[float], lost: Target | None) -> Connection | None:
        """A connection to one of the targets, `lost` tried last, retrying with backoff; None
        once stopping."""
        while True:
            try:
                order = shuffled(self._targets, last=lost)
                return self._interruptible(partial(connect, order, self._name))
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

    def _on_stop_signal(self, signum: int) -> None:
        """The first SIGTERM or SIGINT stops the daemon; a second one cuts the wait for running
        consume calls short."""
        name = signal.Signals(signum).name
        if not self._stopping.is_set():
            self.stop(f"{name} received")
        else:
            self.hurry(f"{name} received again")

    def stop(self, why: str) -> None:
        """Stop as at SIGTERM; again, nothing more."""
        if not self._stopping.is_set():
            log.info("%s; stopping", why)
            self._stopping.set()

    def hurry(self, why: str) -> None:
        """Stop waiting for the running consume calls, as at a second SIGTERM."""
        self.stop(why)
        if not self._hurry.is_set():
            log.warning("%s; interrupting the running consume calls", why)
            self._hurry.set()

    def _shut_down(self) -> None:
        """Let running consume calls finish, within the grace period, then close."""
        notify.stopping()
        self._hooks("before_shutdown")
        for pool in self._pools:
            pool.cancel()
        self._drain()
        for pool in self._pools:
            pool.flush()
        self._retire_instances()
        self._publisher.close()
        if self._connection is not None:
            self._connection.close()
        log.info("stopped")

    def _drain(self) -> None:
        if self._wait_idle(self._shutdown_timeout):
            return
        if self._hurry.is_set():
            why = "at the second signal"
        else:
            why = f"after the {self._shutdown_timeout:g}s grace period"
        for pool in self._pools:
            pool.interrupt(why)
        self._hurry.clear()
        self._wait_idle(KILL_TIMEOUT)  # a consumer might swallow the interruption

    def _wait_idle(self, timeout: float) -> bool:
        """Whether every consume call returned within `timeout`; a second signal ends the wait."""
        deadline = time.monotonic() + timeout
        while any(pool.busy for pool in self._pools):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._hurry.wait(min(DRAIN_POLL, remaining)):
                return False
        return True

    def _retire_instances(self) -> None:
        """shutdown(None) on every instance, all at once, waited for SHUTDOWN_CALLS_TIMEOUT at
        most: a shutdown() that hangs must not hang the stop."""
        calls = [call for pool in self._pools for call in pool.retire_instances()]
        if len(gevent.joinall(calls, timeout=SHUTDOWN_CALLS_TIMEOUT)) == len(calls):
            return
        running = [call for call in calls if not call.dead]
        log.warning(
            "%d shutdown() calls still running after %gs; no longer waited for",
            len(running),
            SHUTDOWN_CALLS_TIMEOUT,
        )
        gevent.killall(running, Interrupted, block=False)


class _StartAgain(Exception):
    """A start to retry on a new connection."""


def _outcome(work: Callable[[], T]) -> tuple[T | None, Exception | None]:
    """Run `work`, returning its exception rather than raising it, which gevent would print."""
    try:
        return work(), None
    except Exception as exc:
        return None, exc
