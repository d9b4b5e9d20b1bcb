"""Coalesced acks on the channel double: held until the loop turns, then one multiple-ack
below the oldest delivery in flight and single acks above it; nacks and rejects at once;
bookkeeping that stays flat however the answers come."""

import logging

import gevent
import pytest

from amqpdispatcher.acks import COMPACT_SLACK, Acks


@pytest.fixture
def acks(channel) -> Acks:
    return Acks(channel, "q")


def deliver(acks: Acks, count: int) -> None:
    for tag in range(1, count + 1):
        acks.delivered(tag)


def test_acks_are_held_until_the_loop_turns(acks, channel):
    deliver(acks, 3)
    for tag in (1, 2, 3):
        acks.ack(tag)
    assert channel.sent == []
    gevent.sleep(0)
    assert channel.sent == [("ack", 3, True)]


def test_one_multiple_ack_below_the_oldest_in_flight_and_single_acks_above_it(acks, channel):
    deliver(acks, 10)
    for tag in (1, 2, 3, 5, 6):  # 4 still in flight
        acks.ack(tag)
    acks.reject(7, requeue=True)
    gevent.sleep(0)
    assert channel.sent == [
        ("reject", 7, True),
        ("ack", 3, True),  # 1, 2 and 3 at once
        ("ack", 5, False),  # past 4, which is in flight: one by one
        ("ack", 6, False),
    ]
    acks.ack(4)
    acks.ack(8)
    gevent.sleep(0)
    assert channel.sent[4:] == [("ack", 8, True)]  # 4..8 contiguous now (7 was rejected)


@pytest.mark.parametrize("how", ["nack", "reject"])
@pytest.mark.parametrize("requeue", [True, False])
def test_nacks_and_rejects_go_out_at_once(acks, channel, how, requeue):
    deliver(acks, 2)
    getattr(acks, how)(2, requeue)
    assert channel.sent == [(how, 2, requeue)]


def test_flush_sends_the_held_acks_without_waiting_for_the_loop(acks, channel):
    deliver(acks, 2)
    acks.ack(1)
    acks.ack(2)
    acks.flush()  # as before the channel closes
    assert channel.sent == [("ack", 2, True)]
    channel.close()
    gevent.sleep(0)  # the flush scheduled by the first ack finds nothing left to send
    assert channel.sent == [("ack", 2, True)]


def test_answers_on_a_closed_channel_are_logged_not_raised(acks, channel, caplog):
    caplog.set_level(logging.INFO, "amqp-dispatcher.pool")
    deliver(acks, 3)
    channel.close()
    acks.ack(1)
    acks.nack(2, requeue=True)
    acks.reject(3, requeue=False)
    gevent.sleep(0)
    assert channel.sent == []
    expected = [
        f"cannot {how} delivery {tag} of 'q' (channel closed); the broker will redeliver it"
        for how, tag in (("nack", 2), ("reject", 3), ("ack", 1))
    ]
    assert caplog.record_tuples == [("amqp-dispatcher.pool", logging.INFO, m) for m in expected]


def bookkeeping(acks: Acks) -> int:
    return len(acks._order) + len(acks._in_flight) + len(acks._held)


def test_rejecting_every_message_keeps_the_bookkeeping_flat(acks, channel):
    for tag in range(1, 100_001):
        acks.delivered(tag)
        acks.reject(tag, requeue=False)
    assert len(channel.sent) == 100_000
    assert bookkeeping(acks) <= COMPACT_SLACK + 1


def test_one_long_delivery_ahead_of_many_fast_ones_keeps_the_bookkeeping_flat(acks, channel):
    acks.delivered(1)  # in flight throughout
    high_water = 0
    for tag in range(2, 100_002):
        acks.delivered(tag)
        acks.ack(tag)
        if tag % 10 == 0:
            acks.flush()
        high_water = max(high_water, bookkeeping(acks))
    acks.flush()
    assert high_water <= 2 * COMPACT_SLACK + 10
    assert channel.sent == [("ack", tag, False) for tag in range(2, 100_002)]
    acks.ack(1)
    acks.flush()
    assert channel.sent[-1] == ("ack", 1, True)
    assert bookkeeping(acks) <= COMPACT_SLACK + 1
