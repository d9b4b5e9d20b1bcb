"""The HTTP endpoint, served by the arbiter from its event loop: /metrics for Prometheus, the
workers' metrics summed from the files they write (metricfiles.py) and the arbiter's own;
/healthz (the arbiter's loop answers) and /readyz (every worker ready, readiness.py) for
probes. Imported only when a port is given: without one, nothing of it is loaded or run."""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from .errors import DispatcherError
from .httpserver import MAX_CONNECTIONS, GuardedServer

log = logging.getLogger("amqp-dispatcher.http")
PATHS = ("/metrics", "/healthz", "/readyz")

StartResponse = Callable[[str, list[tuple[str, str]]], object]


class HttpError(DispatcherError):
    """The endpoint cannot listen: the port is taken, the address is not this host's."""


class WorkerCounts(Protocol):
    """What the arbiter tells of its workers."""

    @property
    def running(self) -> int:  # workers alive
        ...

    @property
    def restarts(self) -> int:  # workers started again after one exited or was killed
        ...


class Endpoint:
    """The server of the metrics in `directory`, prometheus-client's multiprocess files, and of
    `stats`; /readyz answers `readiness()`, 503 unless its "ready" is true."""

    def __init__(self, directory: str, stats: WorkerCounts, readiness: Callable[[], dict]) -> None:
        self._directory = directory
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
        registry.register(_ArbiterCollector(stats))
        self._metrics_app = make_wsgi_app(registry)
        self._readiness = readiness
        self._server: GuardedServer | None = None

    def start(self, address: str, port: int, request_timeout: float) -> None:
        """Listen on `address`:`port`; HttpError if that cannot be done."""
        server = GuardedServer((address, port), self._app, request_timeout)
        try:
            server.start()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise HttpError(f"cannot serve HTTP on {address} port {port}: {reason}") from None
        self._server = server
        log.info(
            "serving %s on %s port %d (at most %d connections, %g s per request)",
            ", ".join(PATHS),
            address,
            port,
            MAX_CONNECTIONS,
            request_timeout,
        )

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(timeout=1)

    def forget_worker(self, pid: int) -> None:
        """A worker exited: its gauges go; its counts stay in the sums."""
        mark_process_dead(pid, self._directory)

    def forget(self) -> None:
        """In a process just forked from the arbiter, after gevent.reinit(): let go of this
        process's copies of the listening socket and of the connections, which would otherwise
        keep the port taken, and a client's connection open after the arbiter closed its own.
        The connections' greenlets are waiting on their descriptors: each is pointed at a
        socket closed at the other end, not closed under them, and the greenlet killed."""
        if self._server is None:
            return
        self._server.close()
        stand_in, other_end = socket.socketpair()
        other_end.close()
        with stand_in:
            for handler in self._server.connections:
                os.dup2(stand_in.fileno(), handler.socket.fileno())
                handler.greenlet.kill(block=False)
        self._server = None

    def _app(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return self._metrics_app(environ, start_response)
        if path == "/healthz":
            return _json(start_response, 200, {"alive": True})
        if path == "/readyz":
            state = self._readiness()
            return _json(start_response, 200 if state["ready"] else 503, state)
        return _json(start_response, 404, {"error": "not found", "paths": list(PATHS)})


class _ArbiterCollector(Collector):
    def __init__(self, stats: WorkerCounts) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "amqp_dispatcher_workers", "Worker processes running", self._stats.running
        )
        yield CounterMetricFamily(
            "amqp_dispatcher_worker_restarts",
            "Worker processes started again after one exited or was killed",
            self._stats.restarts,
        )


_STATUS = {200: "200 OK", 404: "404 Not Found", 503: "503 Service Unavailable"}


def _json(start_response: StartResponse, status: int, body: dict) -> list[bytes]:
    data = json.dumps(body).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    start_response(_STATUS[status], headers)
    return [data]
