"""With frame_reader.py and frame_writer.py, the only modules that reach into pika's private parts,
or replace its functions (pika is pinned below 2.0). Each reach is guarded: should pika change what
it reaches, pika goes on doing as it does."""

from __future__ import annotations

import functools
import struct

import pika.data
from pika.adapters.gevent_connection import GeventConnection
from pika.adapters.utils.connection_workflow import (
    AMQPConnector,
    AMQPConnectorTransportSetupError,
)
from pika.adapters.utils.io_services_utils import _AsyncPlaintextTransport

RECV_BYTES = 65536
PIKA_DECODE_VALUE = pika.data.decode_value  # pika's own, kept to defer to
_FLOATS = {b"f": (">f", 4), b"d": (">d", 8)}  # AMQP's float and double field values


def tune_transport(pika_connection: GeventConnection) -> None:
    """Fewer system calls than pika makes by default. pika gives each frame its own send() (a
    publish is three frames): join what is buffered, once per loop turn, into one. And it reads
    in 4 KB pieces: read 64 KB at a time. This reaches into pika's plaintext transport (pinned
    below 2.0); should that change, pika goes on doing as it does."""
    transport = getattr(pika_connection, "_transport", None)
    if not isinstance(transport, _AsyncPlaintextTransport):
        return
    transport._MAX_RECV_BYTES = RECV_BYTES
    buffers, produce = transport._tx_buffers, transport._produce

    def produce_joined() -> None:
        if len(buffers) > 1:
            joined = b"".join(buffers)
            buffers.clear()
            buffers.append(joined)
        produce()

    transport._produce = produce_joined


def guard_transport_setup() -> None:
    """Make a connection that the peer resets right after accepting it fail at once, instead of
    after pika's stack timeout. pika finds the TCP connection established, then hands the socket
    to a transport, which raises when the socket is no longer connected; but
    `AMQPConnector._on_tcp_connection_done` does not catch that, so the error goes to the event
    loop and the connector waits, with nothing under way, for its timeout. Report the error as
    pika reports a transport that fails later on."""
    on_tcp_connection_done = getattr(AMQPConnector, "_on_tcp_connection_done", None)
    if on_tcp_connection_done is None or not all(
        hasattr(AMQPConnector, name)
        for name in ("_STATE_TRANSPORT", "_report_completion_and_cleanup")
    ):
        return

    @functools.wraps(on_tcp_connection_done)
    def guarded(connector: AMQPConnector, exc: BaseException | None) -> None:
        try:
            on_tcp_connection_done(connector, exc)
        except Exception as error:
            if not _stalled(connector):
                raise
            connector._report_completion_and_cleanup(
                AMQPConnectorTransportSetupError(_socket_error(error))
            )

    AMQPConnector._on_tcp_connection_done = guarded


def _stalled(connector: AMQPConnector) -> bool:
    """Whether pika raised before starting the transport, leaving nothing under way that would
    report but the stack timeout."""
    return (
        getattr(connector, "_state", None) == AMQPConnector._STATE_TRANSPORT
        and hasattr(connector, "_task_ref")
        and connector._task_ref is None
    )


def _socket_error(error: Exception) -> BaseException:
    """pika raises a ValueError naming the socket, from the socket's own error: that reads
    better in a log line."""
    return error.__context__ if isinstance(error.__context__, OSError) else error


def decode_floats() -> None:
    """Have pika decode AMQP's float and double field values as floats. pika 1.x decodes them
    with int(), so 3.14159 arrives as 3 and 0.5 as 0, in the headers and in the tables and
    arrays inside them. pika's decoders look each other up in their module, so replacing
    `decode_value` there covers every depth. Done only while pika still truncates."""
    if not isinstance(PIKA_DECODE_VALUE(b"d" + struct.pack(">d", 0.5), 0)[0], int):
        return
    pika.data.decode_value = _decode_value


def _decode_value(encoded: bytes, offset: int) -> tuple[object, int]:
    kind = _FLOATS.get(encoded[offset : offset + 1])
    if kind is None:
        return PIKA_DECODE_VALUE(encoded, offset)
    fmt, size = kind
    return struct.unpack_from(fmt, encoded, offset + 1)[0], offset + 1 + size
