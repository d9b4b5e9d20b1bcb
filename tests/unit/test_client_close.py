"""A channel closed by the daemon itself, alone or with its connection, is no error: code 0,
and the publisher logs nothing of it (the clean stop stays quiet)."""

from __future__ import annotations

import logging

import pika.exceptions
import pytest

from amqpdispatcher.publisher import _log_closed
from amqpdispatcher.transport.channel import Channel

from .channel import PikaChannel


@pytest.mark.parametrize(
    "reason, code",
    [
        (pika.exceptions.ChannelClosedByClient(200, "Normal shutdown"), 0),
        (pika.exceptions.ConnectionClosedByClient(200, "Normal shutdown"), 0),
        (pika.exceptions.ChannelClosedByBroker(404, "NOT_FOUND - no exchange 'x'"), 404),
    ],
)
def test_only_the_broker_closing_a_publishing_channel_is_an_error(reason, code, caplog):
    pika_channel = PikaChannel()
    channel = Channel(pika_channel)
    pika_channel.on_close(pika_channel, reason)
    caplog.set_level(logging.DEBUG, "amqp-dispatcher.publisher")
    _log_closed(channel.closed)
    assert channel.closed.value.code == code
    levels = [r.levelno for r in caplog.records]
    assert levels == ([logging.ERROR] if code else [])
