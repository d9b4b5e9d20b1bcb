"""TLS endpoints for the transport's tests: a target at a port with the test CA's certificate, and
an endpoint that hangs up in the handshake."""

import dataclasses
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from brokers import BROKER

from amqpdispatcher.url import TLS, Target

EOF_TEXT = "TLS handshake failed: UNEXPECTED_EOF_WHILE_READING"


def tls_target(port: int, ca_file: str) -> Target:
    return dataclasses.replace(BROKER, host="localhost", port=port, tls=TLS(cacertfile=ca_file))


@contextmanager
def hanging_up(ca_file: str) -> Iterator[Target]:
    """An endpoint that reads the client's hello and hangs up: the TLS handshake meets EOF."""
    listener = socket.create_server(("127.0.0.1", 0))

    def hang_up() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            client.recv(65536)
            client.close()

    threading.Thread(target=hang_up, daemon=True).start()
    try:
        yield tls_target(listener.getsockname()[1], ca_file)
    finally:
        listener.close()
