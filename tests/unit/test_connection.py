"""The transport where no broker answers: an endpoint that resets the connection before the AMQP
handshake, hosts that refuse the connection."""

import errno
import logging
import os
import socket
import struct

import gevent
import pytest
from brokers import dead_target
from waiting import wait_for

from amqpdispatcher.transport import ConnectionFailed, connect
from amqpdispatcher.url import parse_url

DEADLINE = 20.0  # generous: only there to fail rather than hang


PIKA_SOCKETS = "pika.adapters.utils.io_services_utils"


@pytest.fixture
def reset_on_connect(caplog):
    """An endpoint that resets each connection (SO_LINGER 0) in the window where pika used to
    stall: pika has found the TCP connection established, and not yet handed the socket to its
    transport. The reset is made on pika's record of it, "Socket connected", in the hub, and
    waited for on pika's socket, so it always lands there. Yields the target and the sockets
    reset."""
    listener = socket.create_server(("127.0.0.1", 0))
    reset = []

    class Reset(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if not record.msg.startswith("Socket connected"):
                return
            accepted, _ = listener.accept()
            accepted.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            accepted.close()
            (pika_socket,) = record.args
            wait_for(lambda: not connected(pika_socket), what="the reset to reach the client")
            reset.append(pika_socket)

    pika_logger = logging.getLogger(PIKA_SOCKETS)
    caplog.set_level(logging.INFO, PIKA_SOCKETS)
    handler = Reset()
    pika_logger.addHandler(handler)
    (target,) = parse_url(
        f"amqp://guest:guest@127.0.0.1:{listener.getsockname()[1]}/?connection_timeout=60000"
    )
    yield target, reset
    pika_logger.removeHandler(handler)
    listener.close()


def connected(sock: socket.socket) -> bool:
    try:
        sock.getpeername()
    except OSError:
        return False
    return True


def test_a_connection_reset_before_the_handshake_fails_at_once(reset_on_connect):
    """Not after pika's stack timeout, 60 s here, which the wait would not reach."""
    target, reset = reset_on_connect
    attempt = gevent.spawn(connect, [target], "test-connection")
    try:
        with pytest.raises(ConnectionFailed) as failure:
            attempt.get(timeout=DEADLINE)
    finally:
        attempt.kill()
    assert len(reset) == 1
    not_connected = os.strerror(errno.ENOTCONN)
    assert str(failure.value) == f"no broker reachable ({target}: {not_connected})"


def test_no_host_answering_names_every_host():
    first, second = dead_target(), dead_target()
    with pytest.raises(ConnectionFailed) as failure:
        connect([first, second], "test-connection")
    assert str(failure.value) == (
        f"no broker reachable ({first}: Connection refused; {second}: Connection refused)"
    )
