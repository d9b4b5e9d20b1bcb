"""pika's reading of frames from the socket's bytes, at a lower cost per frame.

pika's Connection cuts each frame off the front of its buffer (copying what is left, up to the 64 KB
read, for every frame: three per message), decodes it through a chain of slices, and asks its
callback registry about every method frame, basic.deliver included, for which nothing is ever
registered. This reader walks the buffer by offset, keeps what is left once per read, and hands pika
the same frame objects, decoded by pika's own spec classes: deliveries, content headers and bodies
straight to their channel, as pika does when no callback claims them; the basic.ack and basic.nack
of a channel in confirm mode straight to its confirm handler, the one callback pika would find for
them (`route_confirms`); and every other frame through pika's own `_process_frame`. Anything it does
not know (the protocol header the broker answers a version mismatch with) goes to pika's own
reading, for the rest of the buffer.

It reaches into pika's Connection (pinned below 2.0): `install_frame_reader` does nothing unless
every part it needs is there."""

from __future__ import annotations

import struct
from collections.abc import Callable

from pika import exceptions, frame, spec
from pika.connection import Connection

_FRAME_HEAD = struct.Struct(">BHL")  # type, channel, payload size
_METHOD_ID = struct.Struct(">I")
_CONTENT_HEAD = struct.Struct(">HHQ")  # class, weight, body size
_HEAD_SIZE = spec.FRAME_HEADER_SIZE
_CONTENT_HEAD_SIZE = _CONTENT_HEAD.size
_DELIVER = spec.Basic.Deliver.INDEX
_CONFIRMS = frozenset((spec.Basic.Ack.INDEX, spec.Basic.Nack.INDEX))
_KNOWN = frozenset((spec.FRAME_METHOD, spec.FRAME_HEADER, spec.FRAME_BODY, spec.FRAME_HEARTBEAT))
_NEEDS = (
    "_frame_buffer",
    "_process_frame",
    "_deliver_frame_to_channel",
    "_on_data_available",
    "bytes_received",
    "frames_received",
)


def install_frame_reader(connection: Connection) -> FrameReader | None:
    if not all(hasattr(connection, name) for name in _NEEDS):
        return None
    reader = FrameReader(connection)
    connection._on_data_available = reader.data_received
    return reader


class FrameReader:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._pika_reading: Callable[[bytes], None] = connection._on_data_available
        self._process: Callable[[frame.Frame], None] = connection._process_frame
        self._to_channel: Callable[[frame.Frame], None] = connection._deliver_frame_to_channel
        self._confirming: dict[int, Callable[[frame.Method], None]] = {}

    def route_confirms(
        self, channel_number: int, on_confirm: Callable[[frame.Method], None]
    ) -> None:
        """Hand the basic.ack and basic.nack frames of channel `channel_number`, once pika put it
        in confirm mode with `on_confirm` as its handler, to `on_confirm`, until `stop_routing`,
        which must come when pika closes the channel."""
        self._confirming[channel_number] = on_confirm

    def stop_routing(self, channel_number: int) -> None:
        self._confirming.pop(channel_number, None)

    def data_received(self, data: bytes) -> None:
        connection, process, to_channel = self._connection, self._process, self._to_channel
        confirming = self._confirming
        buffer = connection._frame_buffer + data if connection._frame_buffer else data
        size = len(buffer)
        offset = 0
        unknown = False
        try:
            while size - offset > _HEAD_SIZE:
                kind, channel, length = _FRAME_HEAD.unpack_from(buffer, offset)
                start = offset + _HEAD_SIZE
                end = start + length
                if kind not in _KNOWN:
                    unknown = True
                    break
                if end >= size:
                    break
                if buffer[end] != spec.FRAME_END:
                    raise exceptions.InvalidFrameError("Invalid FRAME_END marker")
                offset = end + 1
                if kind == spec.FRAME_METHOD:
                    method_id = _METHOD_ID.unpack_from(buffer, start)[0]
                    method = spec.methods[method_id]()
                    method.decode(buffer[start:end], 4)
                    value = frame.Method(channel, method)
                    if method_id == _DELIVER:
                        handler = to_channel
                    elif method_id in _CONFIRMS:
                        handler = confirming.get(channel, process)
                    else:
                        handler = process
                elif kind == spec.FRAME_HEADER:
                    class_id, _, body_size = _CONTENT_HEAD.unpack_from(buffer, start)
                    properties = spec.props[class_id]()
                    properties.decode(buffer[start + _CONTENT_HEAD_SIZE : end])
                    value, handler = frame.Header(channel, body_size, properties), to_channel
                elif kind == spec.FRAME_BODY:
                    value, handler = frame.Body(channel, buffer[start:end]), to_channel
                else:
                    value, handler = frame.Heartbeat(), process
                if handler is process or not channel:
                    process(value)
                else:
                    connection.frames_received += 1
                    handler(value)
        finally:
            connection.bytes_received += offset
            connection._frame_buffer = buffer[offset:] if offset else buffer
        if unknown:  # the protocol header of a version mismatch: pika's own reading goes on
            connection._frame_buffer = b""
            self._pika_reading(buffer[offset:])
