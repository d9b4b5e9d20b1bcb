"""A worker process: forked by the arbiter (arbiter.py), it runs the whole config as a
single-process daemon would (daemon.py), tells the arbiter how it is doing over the arbiter's
own $NOTIFY_SOCKET (notify.py), and stops when the arbiter asks, or when the arbiter is gone."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import gevent

from . import identity, notify
from .blocking import watch_event_loop
from .config import Config, ConsumerSpec
from .daemon import Dispatcher
from .errors import DispatcherError, report
from .loader import create_middleware, load_consumer_classes, run_startup_handler
from .middleware import Middleware, logcontext
from .middleware.metrics import Metrics
from .readiness import Readiness
from .reimport import OwnModules
from .url import Target

if TYPE_CHECKING:
    from .metricfiles import MetricFiles

log = logging.getLogger("amqp-dispatcher")

# systemd's, meant for the arbiter: a worker drops them, and gets a NOTIFY_SOCKET of the arbiter's.
_SYSTEMD_VARIABLES = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


@dataclass(frozen=True)
class Generation:
    """The config workers run, and the consumer classes the arbiter imported for it; None
    after a SIGHUP, when each worker imports the operator's modules afresh (reimport.py)."""

    config: Config
    classes: dict[str, type] | None
    own_modules: OwnModules


@dataclass(frozen=True)
class Plan:
    """What a worker is started with."""

    number: int
    generation: Generation
    targets: list[Target]
    shutdown_timeout: float
    max_blocking_time: float
    heartbeat_interval: float
    notify_socket: str  # the arbiter's socket for this worker, '@' first for an abstract name
    arbiter_pid: int
    log_format: str
    metrics: bool  # whether the arbiter serves metrics (metricfiles.py)


def run(plan: Plan, forget_arbiter: Callable[[], None]) -> int:
    """The worker's life, in the child just forked; returns its exit status."""
    gevent.reinit()  # the loop the arbiter made is not this process's
    forget_arbiter()
    identity.become_worker(plan.number)
    for name in _SYSTEMD_VARIABLES:
        os.environ.pop(name, None)
    os.environ["NOTIFY_SOCKET"] = plan.notify_socket
    # A hangup of the terminal reaches every process of the group: SIGHUP is the arbiter's.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    for signum in _Link.SIGNALS:  # until the dispatcher takes them, even from a blocked start
        signal.signal(signum, _stop_starting)
    watch_event_loop(plan.max_blocking_time)
    config = plan.generation.config
    heartbeat = _Heartbeat()
    try:
        dispatcher, files = _dispatcher(plan, heartbeat)
    except DispatcherError as exc:
        return report(exc, config.source)
    except _StoppedStarting:
        log.info("told by the arbiter to stop while starting; stopped")
        return 0
    link = _Link(plan, dispatcher, heartbeat)
    try:
        return dispatcher.run()
    finally:
        link.close()
        if files is not None:
            files.stop()  # after the drain: what the worker counted last is not lost


def _dispatcher(plan: Plan, heartbeat: _Heartbeat) -> tuple[Dispatcher, MetricFiles | None]:
    """The daemon of this worker, and the files its metrics go to when the arbiter serves
    them."""
    generation = plan.generation
    config = generation.config
    classes = generation.classes
    if classes is None:  # after a SIGHUP: the operator's code as it is now
        generation.own_modules.forget()
        run_startup_handler(config)
        classes = load_consumer_classes(config)
    middleware = create_middleware(config)
    if plan.log_format == "json":  # the consume context costs the text format nothing
        middleware = logcontext.around(middleware)
    files = None
    if plan.metrics:
        from .metricfiles import MetricFiles  # only now: it imports prometheus_client

        metrics = Metrics(config.consumers)
        heartbeat.readiness = Readiness(metrics).state
        files = MetricFiles(metrics, plan.number)
        # Last: the consume duration is consume's alone, and the heartbeat reads the metrics.
        middleware += [metrics, heartbeat]
    dispatcher = Dispatcher(config, classes, plan.targets, plan.shutdown_timeout, middleware)
    if files is not None:
        files.start()
    return dispatcher, files


class _Heartbeat(Middleware):
    """The worker's sign of life to the arbiter, with its readiness when it keeps metrics: sent
    every interval by _Link, and at once, as middleware, whenever that readiness may change."""

    def __init__(self) -> None:
        self.readiness: Callable[[], dict] | None = None

    def beat(self) -> None:
        notify.heartbeat(None if self.readiness is None else self.readiness())

    def after_connection_lost(self, target: Target, reason: Exception) -> None:
        self.beat()

    def after_consuming_started(self, consumer: ConsumerSpec) -> None:
        self.beat()

    def after_consuming_stopped(self, consumer: ConsumerSpec, reason: str) -> None:
        self.beat()

    def after_publishing_blocked(self, reason: str) -> None:
        self.beat()

    def after_publishing_unblocked(self) -> None:
        self.beat()


class _StoppedStarting(KeyboardInterrupt):
    """The arbiter asked the worker to stop before it could consume: an interruption, as
    KeyboardInterrupt is, which the start lets through wherever it runs the operator's code."""


def _stop_starting(signum: int, frame: object) -> None:
    raise _StoppedStarting


class _Link:
    """The arbiter's side of the worker: SIGUSR1 stops it as SIGTERM would, SIGUSR2 cuts the
    drain short as a second SIGTERM would (the arbiter's own signals, so that a SIGTERM that
    reaches both the arbiter and its workers, from systemd or a terminal, counts once); a
    heartbeat every interval, which also notices the arbiter gone."""

    SIGNALS = (signal.SIGUSR1, signal.SIGUSR2)

    def __init__(self, plan: Plan, dispatcher: Dispatcher, heartbeat: _Heartbeat) -> None:
        self._plan = plan
        self._dispatcher = dispatcher
        self._heartbeat = heartbeat
        stop, hurry = self.SIGNALS
        self._handlers = [
            gevent.signal_handler(stop, dispatcher.stop, "told by the arbiter"),
            gevent.signal_handler(hurry, dispatcher.hurry, "told again by the arbiter"),
        ]
        self._beats = gevent.spawn(self._beat)

    def close(self) -> None:
        self._beats.kill()
        for handler in self._handlers:
            handler.cancel()

    def _beat(self) -> None:
        while os.getppid() == self._plan.arbiter_pid:
            self._heartbeat.beat()
            gevent.sleep(self._plan.heartbeat_interval)
        self._dispatcher.stop(f"the arbiter (pid {self._plan.arbiter_pid}) is gone")
