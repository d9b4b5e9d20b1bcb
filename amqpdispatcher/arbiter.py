"""The arbiter: the daemon's main process. It reads the config and imports the code it names
once, then forks the workers that consume (worker.py) and keeps them running: a worker that
dies is started again, with growing delays while it keeps failing before it consumes; one that
sends no heartbeat is killed and replaced; SIGHUP replaces them one at a time by workers of the
config and code as they are now. Signal handlers only queue the signal; the loop acts on it.
The arbiter opens no broker connection."""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import signal
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

import gevent
import gevent.select

from . import notify, worker
from .config import Config, ConfigError, load_config, process_count, warnings
from .errors import EXIT_CONFIG, EXIT_FAILURE, EXIT_RESTART
from .excerpt import counted
from .loader import one_line
from .logs import use_format
from .readiness import across_workers
from .url import Target
from .worker import Generation, Plan

if TYPE_CHECKING:
    from .http import Endpoint

log = logging.getLogger("amqp-dispatcher")

TICK = 0.1  # seconds between two looks at the workers, at most
MAX_HEARTBEAT_INTERVAL = 1.0
STALE_HEARTBEATS = 3  # a worker not heard from for this many intervals is not ready
MIN_WORKER_TIMEOUT = 1.0  # a few heartbeats at least, each sent every quarter of the timeout
MAX_START_FAILURES = 5  # in a row, before consuming: then the daemon stops
FIRST_RESTART_DELAY = 0.5  # doubled at each failure in a row
STOP_MARGIN = 15.0  # past --shutdown-timeout: the shutdown() calls, closing, the exit
FATAL = (EXIT_CONFIG, EXIT_FAILURE)  # a worker's own verdict: no restart mends it


@dataclass(frozen=True)
class Settings:
    """The command line's, for the arbiter and its workers."""

    path: str
    shutdown_timeout: float
    max_blocking_time: float
    worker_timeout: float
    processes: int | str | None = None  # wins over the config's
    log_format: str | None = None  # wins over the config's
    http_port: int | None = None  # wins over the config's
    http_address: str | None = None  # wins over the config's

    def http_port_of(self, config: Config) -> int | None:
        """The port the arbiter serves metrics and probes on, if any."""
        return self.http_port or config.http.port

    @property
    def heartbeat_interval(self) -> float:
        return min(MAX_HEARTBEAT_INTERVAL, self.worker_timeout / 4)


class SignalQueue:
    """Signals queued for the arbiter's loop to act on, from the moment each is added: caught
    at the C level, so that a start that does not yield to gevent is not killed by them."""

    def __init__(self, *signums: int) -> None:
        self.queued: deque[int] = deque()
        self._handlers: list = []
        self.add(*signums)

    def add(self, *signums: int) -> None:
        self._handlers += [
            gevent.signal_handler(signum, self.queued.append, signum) for signum in signums
        ]

    def cancel(self) -> None:
        for handler in self._handlers:
            handler.cancel()


@dataclass(eq=False)
class _Worker:
    """A worker as the arbiter knows it."""

    slot: int
    pid: int
    generation: Generation
    link: socket.socket
    last_heard: float
    ready: bool = False  # said READY=1 once: it consumed every pool
    consuming: bool = False  # since its last READY=1, not reconnecting nor stopping
    readiness: dict | None = None
    retiring: bool = False
    killed: bool = False


@dataclass
class _Roll:
    """A SIGHUP's rolling restart: the slots still to replace, and the worker starting for the
    first of them."""

    slots: deque[int]
    count: int
    incoming: _Worker | None = None
    done: list[int] = field(default_factory=list)


class Arbiter:
    def __init__(
        self,
        settings: Settings,
        generation: Generation,
        targets: list[Target],
        signals: SignalQueue,
        metrics_directory: str | None = None,
    ) -> None:
        self._settings = settings
        self._metrics_directory = metrics_directory  # where the workers write their metrics
        self._endpoint: Endpoint | None = None
        self._generation = generation
        self._targets = targets
        self._count = self._processes(generation.config)
        self._workers: dict[int, _Worker] = {}  # by pid, retiring ones included
        self._slots: dict[int, _Worker] = {}  # the worker serving each slot, from 1
        self._failures: dict[int, int] = {}  # failed starts in a row, by slot
        # The starts due, by slot: when, and on what; the first ones at once.
        self._starts = dict.fromkeys(range(1, self._count + 1), (0.0, generation))
        self._signals = signals
        self._roll: _Roll | None = None
        self._stopping = False
        self._stop_deadline = 0.0
        self._status = 0
        self._announce = True  # READY=1 is due once every slot's worker consumes
        self.restarts = 0  # workers started again after they exited or were killed

    def run(self) -> int:
        """Until the workers have stopped: 0 after SIGTERM or SIGINT, else the status of what
        stopped the daemon. HttpError if it cannot serve the port it is given."""
        self._endpoint = self._serve()
        stop_watchdog = notify.start_watchdog()
        try:
            while self._workers or not self._stopping:
                self._turn()
        finally:
            stop_watchdog()
            if self._endpoint is not None:
                self._endpoint.stop()
        log.info("stopped")
        return self._status

    @property
    def running(self) -> int:
        """Worker processes alive."""
        return len(self._workers)

    def readiness(self) -> dict:
        """/readyz: every worker ready, as it said within the last few heartbeats."""
        heard = time.monotonic() - STALE_HEARTBEATS * self._settings.heartbeat_interval
        states = {
            slot: known.readiness
            for slot, known in self._slots.items()
            if known.last_heard >= heard and not known.retiring
        }
        return across_workers(states, self._count)

    def _serve(self) -> Endpoint | None:
        """The endpoint, listening, when the workers write metrics."""
        if self._metrics_directory is None:
            return None
        from .http import Endpoint  # only now: it imports prometheus_client

        config = self._generation.config
        endpoint = Endpoint(self._metrics_directory, self, self.readiness)
        endpoint.start(
            self._settings.http_address or config.http.address,
            self._settings.http_port_of(config),
            config.http.request_timeout,
        )
        return endpoint

    def _turn(self) -> None:
        self._listen(TICK)
        self._act_on_signals()
        self._reap()
        self._check_heartbeats()
        if self._stopping:
            self._kill_late()
            return
        self._start_due()
        self._roll_on()
        self._announce_ready()

    # The workers: started, heard, reaped.

    def _start(self, slot: int, generation: Generation) -> _Worker:
        link = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        name = f"amqp-dispatcher-{os.getpid()}-{uuid.uuid4().hex}"
        link.bind("\0" + name)
        link.setblocking(False)
        plan = Plan(
            number=slot,
            generation=generation,
            targets=self._targets,
            shutdown_timeout=self._settings.shutdown_timeout,
            max_blocking_time=self._settings.max_blocking_time,
            heartbeat_interval=self._settings.heartbeat_interval,
            notify_socket="@" + name,
            arbiter_pid=os.getpid(),
            log_format=self._log_format(generation.config),
            metrics=self._metrics_directory is not None,
        )
        # The worker's collector then leaves the objects it got from the arbiter, and so their
        # pages, alone; the arbiter's own collector goes on as before, for its garbage to come.
        gc.freeze()
        pid = os.fork()
        if pid == 0:
            _child(plan, partial(self._forget, link))
        gc.unfreeze()
        started = _Worker(slot, pid, generation, link, last_heard=time.monotonic())
        self._workers[pid] = started
        log.info("worker %d started: pid %d", slot, pid)
        return started

    def _forget(self, link: socket.socket) -> None:
        """In a new worker: what is the arbiter's alone, `link` the worker's own end."""
        self._signals.cancel()
        if self._endpoint is not None:
            self._endpoint.forget()
        link.close()
        for known in self._workers.values():
            known.link.close()

    def _listen(self, timeout: float) -> None:
        """Wait up to `timeout` for what the workers say, and take it in."""
        links = {known.link: known for known in self._workers.values()}
        if not links:
            gevent.sleep(timeout)
            return
        readable, _, _ = gevent.select.select(list(links), [], [], timeout)
        now = time.monotonic()
        for link in readable:
            while True:
                try:
                    datagram = link.recv(1 << 16)
                except (BlockingIOError, InterruptedError):
                    break
                self._heard(links[link], notify.parse(datagram), now)

    def _heard(self, known: _Worker, fields: dict[str, str], now: float) -> None:
        known.last_heard = now
        if fields.get("READY") == "1":
            known.ready = known.consuming = True
            self._failures.pop(known.slot, None)
        elif fields.get("STOPPING") == "1" or fields.get("STATUS", "").startswith("reconnecting"):
            known.consuming = False
        if "READINESS" in fields:
            known.readiness = _json_or_none(fields["READINESS"])

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self._endpoint is not None:
                self._endpoint.forget_worker(pid)
            known = self._workers.pop(pid, None)
            if known is not None:
                known.link.close()
                self._exited(known, os.waitstatus_to_exitcode(status))

    def _exited(self, known: _Worker, code: int) -> None:
        how = _how(code)
        if self._roll is not None and known is self._roll.incoming:
            self._roll.incoming = None
            self._roll_failed(f"worker {known.slot} (pid {known.pid}) {how} before consuming")
            return
        if self._slots.get(known.slot) is known:
            del self._slots[known.slot]
        if known.retiring:
            log.info("worker %d (pid %d) stopped: %s", known.slot, known.pid, how)
            return
        if code in FATAL:  # it logged why
            log.error("worker %d (pid %d) %s, which no restart mends", known.slot, known.pid, how)
            self._stop(code)
            return
        self._restart(known, how)

    def _restart(self, known: _Worker, how: str) -> None:
        """Start `known`'s slot again: at once if it had consumed, else after a delay that
        doubles at each failure in a row, up to MAX_START_FAILURES."""
        delay = 0.0
        if not known.ready:
            failures = self._failures[known.slot] = self._failures.get(known.slot, 0) + 1
            if failures >= MAX_START_FAILURES:
                log.error(
                    "worker %d failed to start %d times in a row, the last time: %s; stopping",
                    known.slot,
                    failures,
                    how,
                )
                self._stop(EXIT_FAILURE)
                return
            delay = FIRST_RESTART_DELAY * 2 ** (failures - 1)
        log.warning(
            "worker %d (pid %d) %s; starting it again%s",
            known.slot,
            known.pid,
            how,
            f" in {delay:g}s" if delay else "",
        )
        self.restarts += 1
        self._starts[known.slot] = (time.monotonic() + delay, known.generation)

    def _start_due(self) -> None:
        now = time.monotonic()
        for slot, (when, generation) in list(self._starts.items()):
            if when <= now:
                del self._starts[slot]
                self._slots[slot] = self._start(slot, generation)

    def _check_heartbeats(self) -> None:
        deadline = time.monotonic() - self._settings.worker_timeout
        for known in self._workers.values():
            if not known.killed and known.last_heard < deadline:
                log.error(
                    "worker %d (pid %d) sent no heartbeat for %gs; killing it",
                    known.slot,
                    known.pid,
                    self._settings.worker_timeout,
                )
                self._kill(known)

    def _kill(self, known: _Worker) -> None:
        known.killed = True
        _signal(known, signal.SIGKILL)

    # Signals: stop, hurry, reload.

    def _act_on_signals(self) -> None:
        while self._signals.queued:
            signum = self._signals.queued.popleft()
            name = signal.Signals(signum).name
            if signum == signal.SIGHUP:
                self._reload()
            elif not self._stopping:
                log.info("%s received; stopping", name)
                self._stop(0)
            else:
                log.warning("%s received again; interrupting the running consume calls", name)
                for known in self._workers.values():
                    _signal(known, signal.SIGUSR2)

    def _stop(self, status: int) -> None:
        """Stop every worker, each draining as at SIGTERM, then exit with `status`."""
        if self._stopping:
            return
        self._stopping, self._status = True, status
        self._stop_deadline = time.monotonic() + self._settings.shutdown_timeout + STOP_MARGIN
        notify.stopping()
        self._starts.clear()
        self._roll = None
        for known in self._workers.values():
            self._retire(known)

    def _retire(self, known: _Worker) -> None:
        known.retiring = True
        _signal(known, signal.SIGUSR1)

    def _kill_late(self) -> None:
        if time.monotonic() < self._stop_deadline:
            return
        for known in self._workers.values():
            if not known.killed:
                log.error("worker %d (pid %d) still running; killing it", known.slot, known.pid)
                self._kill(known)

    # SIGHUP: a rolling restart on the config and code as they are now.

    def _reload(self) -> None:
        if self._stopping:
            return
        path = self._settings.path
        if self._roll is not None:
            log.warning("SIGHUP received during a reload of %s; ignored", path)
            return
        log.info("SIGHUP received; reloading %s", path)
        notify.reloading()
        self._announce = True  # READY=1 ends the reload, whatever becomes of it
        try:
            config = load_config(path)
        except ConfigError as exc:
            for problem in exc.problems:
                log.error("%s: %s", path, problem)
            log.error("SIGHUP: %s is not valid; the running workers are kept", path)
            return
        for line in warnings(config):
            log.warning("%s: %s", path, line)
        use_format(self._log_format(config))
        self._generation = Generation(config, None, self._generation.own_modules)
        count = self._processes(config)
        self._roll = _Roll(deque(range(1, count + 1)), count)

    def _roll_on(self) -> None:
        """Start the new worker of the next slot; once it consumes, retire the old one."""
        roll = self._roll
        if roll is None:
            return
        if roll.incoming is None:
            roll.incoming = self._start(roll.slots[0], self._generation)
            return
        if not roll.incoming.consuming:
            return
        slot, new = roll.slots.popleft(), roll.incoming
        roll.incoming = None
        old = self._slots.get(slot)
        self._slots[slot] = new
        self._starts.pop(slot, None)
        if old is not None:
            self._retire(old)
        roll.done.append(slot)
        if not roll.slots:
            self._rolled(roll)

    def _rolled(self, roll: _Roll) -> None:
        for slot in [slot for slot in self._slots if slot > roll.count]:
            self._retire(self._slots.pop(slot))
        for slot in [slot for slot in self._starts if slot > roll.count]:
            del self._starts[slot]
        self._count = roll.count
        self._roll = None
        log.info("reloaded: %s on the new config", counted(roll.count, "worker"))

    def _roll_failed(self, why: str) -> None:
        done = f" ({counted(len(self._roll.done), 'worker')} already replaced)"
        log.error(
            "SIGHUP: %s; the reload is abandoned and the running workers are kept%s",
            why,
            done if self._roll.done else "",
        )
        self._roll = None

    # systemd and the logs: ready.

    def _announce_ready(self) -> None:
        if not self._announce or self._roll is not None:
            return
        slots = range(1, self._count + 1)
        if all(slot in self._slots and self._slots[slot].consuming for slot in slots):
            self._announce = False
            log.info("workers consuming: %d of %d, each on every pool", self._count, self._count)
            notify.ready(f"ready: {counted(self._count, 'worker')} consuming", os.getpid())

    def _processes(self, config: Config) -> int:
        chosen = self._settings.processes
        return process_count(config.processes if chosen is None else chosen)

    def _log_format(self, config: Config) -> str:
        return self._settings.log_format or config.log_format


def _child(plan: Plan, forget_arbiter: Callable[[], None]) -> None:
    """A new worker's whole life: it never returns into the arbiter's code."""
    status = EXIT_RESTART
    try:
        status = worker.run(plan, forget_arbiter)
    except BaseException as exc:  # a bug, or a consumer's sys.exit(): say so; a restart may mend
        log.exception("stopping on an unexpected error: %s", one_line(exc))
    finally:
        logging.shutdown()
        os._exit(status)


def _signal(known: _Worker, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # gone already: reaped at the next turn
        os.kill(known.pid, signum)


def _how(code: int) -> str:
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"


def _json_or_none(text: str) -> dict | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
