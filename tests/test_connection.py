"""The transport in-process, against the real broker: which hosts it tries and what it says."""

import dataclasses
import errno
import logging
import os
import socket
import struct

import gevent
import pytest
from brokers import BROKER
from nodes import free_port
from waiting import wait_for

from amqpdispatcher.transport import ConnectionFailed, Refused, connect
from amqpdispatcher.url import parse_url

DEADLINE = 20.0  # generous: only there to fail rather than hang
PIKA_SOCKETS = "pika.adapters.utils.io_services_utils"


def dead():
    (target,) = parse_url(f"amqp://guest:guest@127.0.0.1:{free_port()}/")
    return target


def test_a_dead_host_is_logged_and_the_next_one_tried(caplog):
    first = dead()
    caplog.set_level(logging.WARNING, "amqp-dispatcher")
    connection = connect([first, BROKER], "test-connection")
    try:
        assert connection.target == BROKER
        assert f"cannot connect to {first}: Connection refused" in caplog.text
    finally:
        connection.close()
    assert connection.closed.get() is None  # closed by us, not lost


def test_no_host_answering_names_every_host():
    first, second = dead(), dead()
    with pytest.raises(ConnectionFailed) as failure:
        connect([first, second], "test-connection")
    assert str(failure.value) == (
        f"no broker reachable ({first}: Connection refused; {second}: Connection refused)"
    )


def test_wrong_credentials_are_refused_without_trying_other_hosts(caplog):
    wrong = dataclasses.replace(BROKER, password="s3cret")
    caplog.set_level(logging.DEBUG, "amqp-dispatcher")
    with pytest.raises(Refused) as refused:
        connect([wrong, dead()], "test-connection")
    assert "ACCESS_REFUSED" in str(refused.value)
    assert "s3cret" not in str(refused.value) + caplog.text
    assert "cannot connect" not in caplog.text  # the dead host was never tried


def test_a_missing_vhost_is_refused():
    target = dataclasses.replace(BROKER, vhost="no-such-vhost")
    with pytest.raises(Refused, match="NOT_ALLOWED - vhost no-such-vhost not found"):
        connect([target], "test-connection")


def test_channels_closed_by_the_client_report_no_broker_error():
    connection = connect([BROKER], "test-connection")
    try:
        closed_alone, closed_with_the_connection = connection.channel(), connection.channel()
        closed_alone.close()
    finally:
        connection.close()
    assert closed_alone.closed.get().code == 0
    assert closed_with_the_connection.closed.get().code == 0


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
