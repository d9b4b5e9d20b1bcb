"""A connection to one broker, opened on the first of several targets that answers."""

from __future__ import annotations

import logging
import os
import socket
import ssl
import uuid
from collections.abc import Callable, Iterable

import gevent.event
import pika.exceptions
from pika.adapters.gevent_connection import GeventConnection

from ..identity import worker as worker_number
from ..url import Target
from .channel import Channel
from .errors import ConnectionFailed, Refused
from .failures import describe, open_error
from .frame_reader import FrameReader, install_frame_reader
from .parameters import connection_parameters
from .pika_internals import guard_transport_setup, tune_transport
from .server import UNKNOWN, ServerInfo, server_info

log = logging.getLogger("amqp-dispatcher.connection")

CLOSE_TIMEOUT = 3.0

guard_transport_setup()


def connection_name() -> str:
    """HOSTNAME-PID-RANDOM, or HOSTNAME-PID-wN-RANDOM in worker N: tells operators, in the
    management UI, where a connection comes from."""
    number = worker_number()
    worker = "" if number is None else f"-w{number}"
    return f"{socket.gethostname()}-{os.getpid()}{worker}-{uuid.uuid4().hex[:8]}"


def connect(targets: Iterable[Target], name: str) -> Connection:
    """Open a connection to the first target that answers, logging each one that does not."""
    failures = []
    for target in targets:
        try:
            return Connection.open(target, name)
        except ConnectionFailed as exc:
            log.warning("cannot connect to %s: %s", target, exc)
            failures.append(f"{target}: {exc}")
    raise ConnectionFailed("no broker reachable (" + "; ".join(failures) + ")")


class Connection:
    def __init__(self, target: Target) -> None:
        self.target = target
        self.closed: gevent.event.AsyncResult = gevent.event.AsyncResult()
        self._pika: GeventConnection | None = None
        self._reader: FrameReader | None = None
        self.server = ServerInfo(UNKNOWN, UNKNOWN)  # the broker's product and version, once open
        self._unblocked = gevent.event.Event()
        self._unblocked.set()
        self._on_blocking: Callable[[str | None], None] = lambda _reason: None

    @classmethod
    def open(cls, target: Target, name: str) -> Connection:
        connection = cls(target)
        opened = gevent.event.AsyncResult()
        try:
            parameters = connection_parameters(target, name)
        except (ssl.SSLError, OSError) as exc:
            raise Refused(f"TLS settings of RABBITMQ_URL: {exc}") from None
        connection._pika = GeventConnection(
            parameters,
            on_open_callback=opened.set,
            on_open_error_callback=lambda _conn, exc: opened.set_exception(open_error(exc)),
            on_close_callback=connection._on_close,
        )
        connection._pika.add_on_connection_blocked_callback(connection._on_blocked)
        connection._pika.add_on_connection_unblocked_callback(connection._on_unblocked)
        opened.get()
        tune_transport(connection._pika)
        connection._reader = install_frame_reader(connection._pika)
        connection.server = server_info(connection._pika.server_properties)
        log.info("connected to %s (%s) as %s", target, connection.server, name)
        return connection

    @property
    def is_open(self) -> bool:
        return not self.closed.ready()

    @property
    def blocked(self) -> bool:
        """Whether the broker blocked this connection's publishing (connection.blocked: a memory
        or disk alarm). A blocked connection is not read by the broker: what it is sent waits."""
        return not self._unblocked.is_set()

    def watch_blocking(self, callback: Callable[[str | None], None]) -> None:
        """Have `callback` told, in the hub, of the broker blocking publishing (with its
        reason) and unblocking it (None)."""
        self._on_blocking = callback

    def wait_unblocked(self) -> None:
        """Until the broker unblocks the connection, or it closes."""
        if self.blocked:
            gevent.wait([self._unblocked, self.closed], count=1)

    def channel(self) -> Channel:
        opened = gevent.event.AsyncResult()
        try:
            pika_channel = self._pika.channel(on_open_callback=opened.set)
        except pika.exceptions.AMQPError as exc:
            raise ConnectionFailed(describe(exc)) from None
        channel = Channel(pika_channel, self._reader)
        channel.wait(opened)
        return channel

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Close and wait for the broker's close-ok, unless it does not come in time (a dead
        network), or cannot (the broker does not read a blocked connection): then give up on
        it."""
        if not self.closed.ready() and not self._pika.is_closing:
            self._pika.close()
        if self.blocked:
            log.info("closing the blocked connection to %s without waiting", self.target)
            return
        self.closed.wait(timeout)
        if not self.closed.ready():
            log.warning("no reply to closing the connection to %s; leaving it", self.target)

    def _on_blocked(self, _conn: GeventConnection, frame) -> None:
        self._unblocked.clear()
        self._on_blocking(frame.method.reason or "no reason given")

    def _on_unblocked(self, _conn: GeventConnection, _frame) -> None:
        self._unblocked.set()
        self._on_blocking(None)

    def _on_close(self, _conn: GeventConnection, reason: BaseException) -> None:
        if isinstance(reason, pika.exceptions.ConnectionClosedByClient):
            self.closed.set(None)
        else:
            self.closed.set(ConnectionFailed(describe(reason)))
