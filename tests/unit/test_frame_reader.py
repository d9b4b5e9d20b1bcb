"""The frame reader hands pika the frames pika's own reading would, in the same order, whatever
pieces the socket delivers the bytes in."""

import pika
import pytest
from pika import exceptions, frame, spec

from amqpdispatcher.transport import frame_reader


class Reading:
    """The parts of pika's Connection the reader uses; what reaches pika is recorded. `reference`
    makes it read as pika's own Connection does, for comparison."""

    def __init__(self, reference: bool = False) -> None:
        self._frame_buffer = b""
        self.bytes_received = 0
        self.frames_received = 0
        self.seen: list[tuple[str, bytes]] = []
        self.handed_to_pika: list[bytes] = []
        if reference:
            self._on_data_available = lambda data: pika.connection.Connection._on_data_available(
                self, data
            )
        else:
            self._on_data_available = self.handed_to_pika.append
            self.reader = frame_reader.install_frame_reader(self)

    def _process_frame(self, value: frame.Frame) -> None:
        if not isinstance(value, frame.ProtocolHeader):
            self.frames_received += 1
        self.seen.append(("process", value.marshal()))

    def _deliver_frame_to_channel(self, value: frame.Frame) -> None:
        self.seen.append(("channel", value.marshal()))

    # pika's own reading, for the reference
    _read_frame = pika.connection.Connection._read_frame
    _trim_frame_buffer = pika.connection.Connection._trim_frame_buffer

    def feed(self, data: bytes, piece: int) -> None:
        for start in range(0, len(data), piece):
            self._on_data_available(data[start : start + piece])


def deliveries_and_more() -> bytes:
    properties = pika.BasicProperties(
        content_type="text/plain", headers={"x-retry-count": 2, "list": [1, "a"]}, priority=3
    )
    frames = [
        frame.Method(0, spec.Connection.Blocked("low on memory")),
        frame.Method(1, spec.Basic.ConsumeOk("ctag")),
        frame.Method(1, spec.Basic.Deliver("ctag", 1, False, "ex", "key")),
        frame.Header(1, 11, properties),
        frame.Body(1, b"hello"),
        frame.Body(1, b" world"),
        frame.Heartbeat(),
        frame.Method(2, spec.Basic.Deliver("other", 7, True, "", "q")),
        frame.Header(2, 0, pika.BasicProperties()),
        frame.Method(1, spec.Basic.Ack(5, True)),
        frame.Method(1, spec.Channel.Close(406, "PRECONDITION_FAILED", 60, 80)),
    ]
    return b"".join(value.marshal() for value in frames)


@pytest.mark.parametrize("piece", [1, 2, 7, 8, 13, 64, 100, 4096])
def test_the_same_frames_as_pika_in_any_pieces(piece):
    data = deliveries_and_more()
    ours, pikas = Reading(), Reading(reference=True)
    ours.feed(data, piece)
    pikas.feed(data, len(data))
    assert [value for _, value in ours.seen] == [value for _, value in pikas.seen]
    assert ours.bytes_received == pikas.bytes_received == len(data)
    assert ours.frames_received == pikas.frames_received == 11
    assert ours._frame_buffer == b""


def test_deliveries_and_their_content_go_straight_to_their_channel():
    reading = Reading()
    reading.feed(deliveries_and_more(), 4096)
    routes = "".join(route[0] for route, _ in reading.seen)
    assert routes == "ppccccpccpp"  # (p)rocessed by pika, or handed to the (c)hannel


def test_an_incomplete_frame_waits_for_the_rest():
    data = frame.Method(1, spec.Basic.Deliver("ctag", 1, False, "ex", "key")).marshal()
    reading = Reading()
    reading.feed(data[:-1], len(data))
    assert reading.seen == [] and reading._frame_buffer == data[:-1]
    reading.feed(data[-1:], 1)
    assert reading.seen == [("channel", data)] and reading._frame_buffer == b""


def test_a_bad_frame_end_raises_as_in_pika_and_keeps_what_was_handled_out_of_the_buffer():
    good = frame.Heartbeat().marshal()
    bad = good[:-1] + b"\x00"
    reading = Reading()
    with pytest.raises(exceptions.InvalidFrameError):
        reading.feed(good + bad, 64)
    assert reading.seen == [("process", good)]
    assert reading._frame_buffer == bad


def test_a_failing_handler_leaves_the_frames_after_its_own():
    first, second = frame.Heartbeat().marshal(), frame.Method(1, spec.Basic.Ack(1)).marshal()

    class Failing(Reading):
        def _process_frame(self, value):
            raise RuntimeError("handler failed")

    reading = Failing()
    with pytest.raises(RuntimeError):
        reading.feed(first + second, 64)
    assert reading._frame_buffer == second


def test_the_protocol_header_of_a_version_mismatch_goes_to_pikas_own_reading():
    header = frame.ProtocolHeader(0, 9, 1).marshal()
    heartbeat = frame.Heartbeat().marshal()
    reading = Reading()
    reading.feed(heartbeat + header, 64)
    assert reading.seen == [("process", heartbeat)]
    assert reading.handed_to_pika == [header]
    assert reading._frame_buffer == b""


def test_nothing_is_installed_on_a_connection_without_the_parts_it_needs():
    class Elsewhere:
        def _on_data_available(self, data):
            pass

    connection = Elsewhere()
    assert frame_reader.install_frame_reader(connection) is None
    assert "_on_data_available" not in vars(connection)


def test_the_confirms_of_a_channel_in_confirm_mode_go_straight_to_its_handler():
    reading = Reading()
    confirmed: list[frame.Method] = []
    reading.reader.route_confirms(1, confirmed.append)
    frames = [
        frame.Method(1, spec.Basic.Ack(5, True)),
        frame.Method(2, spec.Basic.Ack(1)),  # a channel not in confirm mode: pika's to handle
        frame.Method(1, spec.Basic.Nack(6)),
        frame.Method(1, spec.Basic.Return(312, "NO_ROUTE", "", "q")),
    ]
    reading.feed(b"".join(value.marshal() for value in frames), 4096)
    assert [(value.channel_number, value.method) for value in confirmed] == [
        (1, spec.Basic.Ack(5, True)),
        (1, spec.Basic.Nack(6)),
    ]
    assert [value for _, value in reading.seen] == [frames[1].marshal(), frames[3].marshal()]
    assert reading.frames_received == 4

    reading.reader.stop_routing(1)
    reading.feed(frames[0].marshal(), 4096)
    assert reading.seen[-1] == ("process", frames[0].marshal())
