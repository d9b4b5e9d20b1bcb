"""gevent's WSGI server, guarded against clients that hold connections open without finishing a
request: a bounded number of connections, a time limit on each request, and bad or slow clients
reported in rate-limited warnings instead of gevent's ERROR line (or traceback) per request."""

from __future__ import annotations

import logging
from collections.abc import Callable
from http.client import HTTPException

import gevent
from gevent import Timeout
from gevent.pywsgi import WSGIHandler, WSGIServer

from .admission import Connections
from .drops import DropReport

log = logging.getLogger("amqp-dispatcher.http")

# Connections held open at once: few enough to leave the daemon's file descriptors to its broker
# connections, plenty for a scraper and the probes.
MAX_CONNECTIONS = 64
# Connections accepted in one turn of the event loop (gevent's default: 100), each of which may
# evict an older one: the descriptors in use stay under MAX_CONNECTIONS + ACCEPT_BATCH, and a
# prober's request is read before newcomers could evict its connection.
ACCEPT_BATCH = 16
REPORT_INTERVAL = 60.0  # seconds between two WARNING lines about dropped connections

MALFORMED, TIMED_OUT, EVICTED, REFUSED = "malformed", "timed out", "evicted", "refused"

App = Callable[..., object]


class GuardedServer(WSGIServer):
    """At most MAX_CONNECTIONS connections; each request, from the wait for its first byte
    (keep-alive included) to the end of its answer, within `request_timeout` seconds."""

    max_accept = ACCEPT_BATCH

    def __init__(self, address: tuple[str, int], app: App, request_timeout: float) -> None:
        super().__init__(address, app, log=None, error_log=None, handler_class=_Handler)
        self.request_timeout = request_timeout
        self.connections: Connections[_Handler] = Connections(MAX_CONNECTIONS, self._evict)
        self._drops = DropReport(REPORT_INTERVAL)
        self._reporter: gevent.Greenlet | None = None

    def dropped(self, reason: str) -> None:
        """Count a connection closed for `reason`; warn now, or once the interval is over."""
        wait = self._drops.add(reason)
        if wait == 0:
            self._report()
        elif self._reporter is None:
            self._reporter = gevent.spawn_later(wait, self._report)

    def stop(self, timeout: float | None = None) -> None:
        super().stop(timeout)
        if self._reporter is not None:
            self._reporter.kill()
        self._report()  # what the last interval counted

    def _report(self) -> None:
        self._reporter = None
        line = self._drops.take()
        if line is not None:
            log.warning(line)

    def _evict(self, handler: _Handler) -> None:
        # Thrown from the loop: thrown from here, the evicted greenlet would end into the loop
        # and never switch back to this one.
        self.loop.run_callback(_throw_evicted, handler.greenlet)


class _Dropped(BaseException):
    """Ends a connection from inside its greenlet; BaseException, so that none of gevent's
    handlers of client errors takes it for one."""

    reason = ""


class _TimedOut(_Dropped):
    reason = TIMED_OUT


class _Evicted(_Dropped):
    reason = EVICTED


def _throw_evicted(greenlet: gevent.Greenlet) -> None:
    if not greenlet.dead:  # it may have finished since it was evicted
        greenlet.throw(_Evicted)


class _Handler(WSGIHandler):
    server: GuardedServer

    def handle(self) -> None:
        self.greenlet = gevent.getcurrent()
        if not self.server.connections.admit(self):
            self.server.dropped(REFUSED)
            return  # the server closes the socket
        try:
            super().handle()
        except _Dropped as dropped:
            self.server.dropped(dropped.reason)
        finally:
            self.server.connections.closed(self)

    def handle_one_request(self) -> tuple[str, bytes] | bool | None:
        self.server.connections.waiting(self)
        with Timeout(self.server.request_timeout, _TimedOut):
            result = super().handle_one_request()
        if isinstance(result, tuple):  # an error status for the client, and the end
            self.server.dropped(MALFORMED)
        return result

    def read_request(self, raw_requestline: str) -> bool:
        try:
            super().read_request(raw_requestline)
        except HTTPException as error:  # too many headers: a ValueError, so not a traceback
            raise ValueError(str(error)) from None
        if self.content_length or "transfer-encoding" in self.headers:
            # None of the paths takes a body, and one read slowly could hold the connection.
            raise ValueError("a request body")
        self.server.connections.busy(self)
        return True

    def handle_error(self, t: type, v: BaseException, tb: object) -> None:
        if isinstance(v, _Dropped):  # raised while answering: not the application's error
            raise v
        super().handle_error(t, v, tb)
