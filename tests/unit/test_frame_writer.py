"""The frame writer sends the bytes pika's own basic_publish would, counted as pika counts them,
and refuses a channel that is not open as pika does."""

import pika
import pytest
from pika import exceptions

from amqpdispatcher.transport import ChannelClosed, outgoing
from amqpdispatcher.transport.channel import Channel
from amqpdispatcher.transport.frame_writer import ack_sender, encode_publish, message_sender

MAX_BODY = 4088  # the smallest frame AMQP allows, less a frame's own overhead


class Connection:
    """The parts of pika's Connection a publish goes through, pika's own code; what reaches the
    transport is recorded."""

    _send_method = pika.connection.Connection._send_method
    _send_message = pika.connection.Connection._send_message
    _send_frame = pika.connection.Connection._send_frame
    _output_marshaled_frames = pika.connection.Connection._output_marshaled_frames

    def __init__(self) -> None:
        self.is_closed = False
        self._body_max_length = MAX_BODY
        self.bytes_sent = 0
        self.frames_sent = 0
        self.emitted: list[bytes] = []
        self.params = pika.ConnectionParameters(frame_max=MAX_BODY + 8)

    def _adapter_emit_data(self, data: bytes) -> None:
        self.emitted.append(data)


class PikaChannel:
    """The parts of pika's Channel a publish goes through, pika's own code."""

    OPEN, OPENING, CLOSING, CLOSED = (
        pika.channel.Channel.OPEN,
        pika.channel.Channel.OPENING,
        pika.channel.Channel.CLOSING,
        pika.channel.Channel.CLOSED,
    )
    basic_publish = pika.channel.Channel.basic_publish
    basic_ack = pika.channel.Channel.basic_ack
    _send_method = pika.channel.Channel._send_method
    _raise_if_not_open = pika.channel.Channel._raise_if_not_open

    def __init__(self, channel_number: int = 3) -> None:
        self.connection = Connection()
        self.channel_number = channel_number
        self._state = self.OPEN

    def add_on_close_callback(self, callback) -> None:
        pass

    def add_on_cancel_callback(self, callback) -> None:
        pass


def by_pika(channel: PikaChannel, message) -> None:
    channel.basic_publish(
        message.exchange, message.routing_key, message.body, message.properties, message.mandatory
    )


MESSAGES = {
    "no properties": ("", "q", b"hello", {}, False),
    "empty body": ("", "q", b"", {}, False),
    "properties": ("ex", "key", b"x" * 64, {"content_type": "text/plain", "priority": 3}, True),
    "headers": ("ex", "key", b"{}", {"headers": {"n": 1, "l": [1, "a"], "t": {"k": b"v"}}}, False),
    "mandatory": ("", "q", b"hello", {}, True),
    "bytes names": (b"ex", b"k\xc3\xa9", b"hello", {"delivery_mode": 2}, False),
    "str names": ("ex", "ké", b"hello", {}, False),
    "one frame exactly": ("", "q", b"b" * MAX_BODY, {}, False),
    "several frames": ("", "q", bytes(range(256)) * 40, {"app_id": "a"}, False),
    "frames and a byte": ("", "q", b"c" * (2 * MAX_BODY + 1), {}, True),
}


@pytest.mark.parametrize("name", MESSAGES)
def test_the_bytes_and_counts_of_pikas_own_publish(name):
    message = outgoing(*MESSAGES[name])
    ours, pikas = PikaChannel(), PikaChannel()
    message_sender(ours)(message)
    by_pika(pikas, message)
    assert ours.connection.emitted == [b"".join(pikas.connection.emitted)]
    assert ours.connection.bytes_sent == pikas.connection.bytes_sent
    assert ours.connection.frames_sent == pikas.connection.frames_sent


def test_the_frames_are_those_of_the_channel_number():
    message = outgoing(*MESSAGES["several frames"])
    data, frames = encode_publish(65535, MAX_BODY, message)
    pikas = PikaChannel(65535)
    by_pika(pikas, message)
    assert (data, frames) == (b"".join(pikas.connection.emitted), len(pikas.connection.emitted))


@pytest.mark.parametrize("state", ["OPENING", "CLOSING", "CLOSED"])
def test_a_channel_not_open_raises_as_with_pika_and_sends_nothing(state):
    message = outgoing(*MESSAGES["no properties"])
    ours, pikas = PikaChannel(), PikaChannel()
    ours._state = pikas._state = getattr(PikaChannel, state)
    with pytest.raises(exceptions.ChannelWrongStateError) as pika_raised:
        by_pika(pikas, message)
    with pytest.raises(exceptions.ChannelWrongStateError) as we_raised:
        message_sender(ours)(message)
    assert str(we_raised.value) == str(pika_raised.value)
    assert ours.connection.emitted == [] and ours.connection.bytes_sent == 0


def test_the_transport_channel_raises_channel_closed_for_a_channel_not_open():
    pika_channel = PikaChannel()
    pika_channel._state = PikaChannel.CLOSING
    with pytest.raises(ChannelClosed):
        Channel(pika_channel).publish(outgoing(*MESSAGES["no properties"]))


def test_pikas_own_publish_where_its_parts_are_missing():
    class Elsewhere:
        """A pika whose connection hands its frames on otherwise."""

        _send_method = pika.connection.Connection._send_method
        _send_message = pika.connection.Connection._send_message
        _body_max_length = MAX_BODY

        def __init__(self) -> None:
            self.frames: list[bytes] = []

        def _output_marshaled_frames(self, frames: list[bytes]) -> None:
            self.frames += frames

    channel = PikaChannel()
    channel.connection = Elsewhere()
    message_sender(channel)(outgoing(*MESSAGES["several frames"]))
    assert len(channel.connection.frames) == 5


@pytest.mark.parametrize(
    ("channel_number", "tag", "multiple"), [(1, 1, False), (65535, 2**64 - 1, True)]
)
def test_the_bytes_and_counts_of_pikas_own_ack(channel_number, tag, multiple):
    ours, pikas = PikaChannel(channel_number), PikaChannel(channel_number)
    ack_sender(ours)(tag, multiple)
    pikas.basic_ack(tag, multiple)
    assert ours.connection.emitted == pikas.connection.emitted
    assert ours.connection.bytes_sent == pikas.connection.bytes_sent == 21
    assert ours.connection.frames_sent == pikas.connection.frames_sent == 1


@pytest.mark.parametrize(
    ("refusing", "error"),
    [
        ("OPENING", exceptions.ChannelWrongStateError),
        ("CLOSING", exceptions.ChannelWrongStateError),
        ("CLOSED", exceptions.ChannelWrongStateError),
        ("connection closed", exceptions.ConnectionWrongStateError),
    ],
)
def test_an_ack_pika_would_refuse_raises_as_with_pika_and_sends_nothing(refusing, error):
    ours, pikas = PikaChannel(), PikaChannel()
    for channel in (ours, pikas):
        if refusing == "connection closed":
            channel.connection.is_closed = True
        else:
            channel._state = getattr(PikaChannel, refusing)
    with pytest.raises(error) as pika_raised:
        pikas.basic_ack(1, False)
    with pytest.raises(error) as we_raised:
        ack_sender(ours)(1, False)
    assert str(we_raised.value) == str(pika_raised.value)
    assert ours.connection.emitted == []


def test_the_transport_channel_acks_through_the_writer_and_raises_channel_closed():
    pika_channel = PikaChannel()
    channel = Channel(pika_channel)
    channel.ack(7, multiple=True)
    assert pika_channel.connection.emitted == [frame_of(pika.spec.Basic.Ack(7, True))]
    pika_channel._state = PikaChannel.CLOSING
    with pytest.raises(ChannelClosed):
        channel.ack(8)


def test_pikas_own_ack_where_its_parts_are_missing():
    class Elsewhere:
        """A pika whose connection hands its methods on otherwise."""

        def __init__(self) -> None:
            self.methods: list = []

        def _send_method(self, channel_number: int, method, content=None) -> None:
            self.methods.append((channel_number, method.delivery_tag, method.multiple))

    channel = PikaChannel()
    channel.connection = Elsewhere()
    ack_sender(channel)(5, True)
    assert channel.connection.methods == [(3, 5, True)]


def frame_of(method) -> bytes:
    return pika.frame.Method(3, method).marshal()
