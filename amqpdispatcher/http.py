"""The HTTP endpoint, served from the daemon's event loop: /metrics for Prometheus, /healthz
(the loop answers) and /readyz (connected, every pool consuming) for probes. Imported only
when a port is given: without one, nothing of it is loaded or run."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence

from prometheus_client import make_wsgi_app

from .config import ConsumerSpec
from .errors import DispatcherError
from .httpserver import MAX_CONNECTIONS, GuardedServer
from .middleware import Middleware
from .middleware.metrics import Metrics
from .readiness import Readiness

log = logging.getLogger("amqp-dispatcher.http")
PATHS = ("/metrics", "/healthz", "/readyz")

StartResponse = Callable[[str, list[tuple[str, str]]], object]


class HttpError(DispatcherError):
    """The endpoint cannot listen: the port is taken, the address is not this host's."""


class Endpoint:
    """The metrics middleware, and the server that shows what it saw: the metrics, and the
    readiness read off them."""

    def __init__(self, consumers: Sequence[ConsumerSpec]) -> None:
        self.metrics = Metrics(consumers)
        self.readiness = Readiness(self.metrics)
        self._metrics_app = make_wsgi_app(self.metrics.registry)
        self._server: GuardedServer | None = None

    @property
    def middleware(self) -> list[Middleware]:
        return [self.metrics]

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

    def _app(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return self._metrics_app(environ, start_response)
        if path == "/healthz":
            return _json(start_response, 200, {"alive": True})
        if path == "/readyz":
            state = self.readiness.state()
            return _json(start_response, 200 if state["ready"] else 503, state)
        return _json(start_response, 404, {"error": "not found", "paths": list(PATHS)})


_STATUS = {200: "200 OK", 404: "404 Not Found", 503: "503 Service Unavailable"}


def _json(start_response: StartResponse, status: int, body: dict) -> list[bytes]:
    data = json.dumps(body).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    start_response(_STATUS[status], headers)
    return [data]
