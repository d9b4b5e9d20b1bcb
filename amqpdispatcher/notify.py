"""systemd's notification protocol (sd_notify), for units of Type=notify: one datagram of
"KEY=value" lines to the socket named by $NOTIFY_SOCKET, a name starting with "@" being
abstract. Without $NOTIFY_SOCKET, as outside systemd, nothing is sent. A message that cannot be
sent is logged, never fatal: the daemon's work does not depend on it.

The arbiter speaks it to systemd, and each worker to the arbiter, which gives the worker a
$NOTIFY_SOCKET of its own (arbiter.py): READY=1 when every pool consumes, STATUS=..., and
heartbeats with the worker's readiness."""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable

import gevent

log = logging.getLogger("amqp-dispatcher")


def ready(status: str, main_pid: int | None = None) -> None:
    """Every pool consumes: systemd ends the start (and starts its watchdog, if any)."""
    pid = "" if main_pid is None else f"\nMAINPID={main_pid}"
    _send(f"READY=1\nSTATUS={status}{pid}")


def reloading() -> None:
    """A reload starts; ready() ends it. systemd wants the time of the request with it."""
    microseconds = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    _send(f"RELOADING=1\nMONOTONIC_USEC={microseconds}\nSTATUS=reloading")


def heartbeat(readiness: dict | None) -> None:
    """A worker's sign of life to its arbiter, with its readiness (readiness.py) if it has one."""
    state = "" if readiness is None else "\nREADINESS=" + json.dumps(readiness)
    _send(f"WATCHDOG=1{state}")


def parse(datagram: bytes) -> dict[str, str]:
    """The KEY=value lines of a datagram; lines without '=' are ignored, as systemd does."""
    fields = {}
    for line in datagram.decode("utf-8", "replace").splitlines():
        key, equals, value = line.partition("=")
        if equals:
            fields[key] = value
    return fields


def status(text: str) -> None:
    _send(f"STATUS={text}")


def stopping() -> None:
    _send("STOPPING=1\nSTATUS=stopping")


def start_watchdog() -> Callable[[], None]:
    """Pings systemd's watchdog every half of $WATCHDOG_USEC from a greenlet of the event loop,
    so that the pings stop while the loop is blocked; returns what stops the pings. Nothing
    is sent without $WATCHDOG_USEC, or when $WATCHDOG_PID names another process."""
    interval = _watchdog_interval()
    if interval is None:
        return lambda: None
    pinger = gevent.spawn(_ping, interval)
    return pinger.kill


def _watchdog_interval() -> float | None:
    usec, pid = os.environ.get("WATCHDOG_USEC"), os.environ.get("WATCHDOG_PID")
    if not usec or not os.environ.get("NOTIFY_SOCKET"):
        return None
    if pid and pid != str(os.getpid()):
        return None
    if not (usec.isascii() and usec.isdigit()) or int(usec) == 0:
        log.warning("WATCHDOG_USEC=%s: not a whole number of microseconds; no watchdog pings", usec)
        return None
    return int(usec) / 1e6 / 2


def _ping(interval: float) -> None:
    while True:
        _send("WATCHDOG=1")
        gevent.sleep(interval)


def _send(message: str) -> None:
    name = os.environ.get("NOTIFY_SOCKET")
    if not name:
        return
    address = "\0" + name[1:] if name.startswith("@") else name
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)  # a full queue at systemd's end must not block the loop
            sock.sendto(message.encode(), address)
    except OSError as exc:
        log.warning("cannot notify systemd at NOTIFY_SOCKET=%s: %s", name, exc)
