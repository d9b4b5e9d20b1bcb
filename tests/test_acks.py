"""Coalesced acks: one multiple-ack for a finished run of deliveries, never past one still in
flight; what a lost connection gives back is exactly the unanswered (against the real broker);
bookkeeping that stays flat however the answers come (with a channel that only records)."""

import json

import gevent
from conftest import BROKER, wait_for

from amqpdispatcher.acks import COMPACT_SLACK, Acks
from amqpdispatcher.transport import connect


def test_acks_are_coalesced_but_never_past_a_delivery_in_flight(broker):
    queue = broker.queue_name()
    broker.channel.queue_declare(queue)
    broker.publish_many(queue, [{"id": n} for n in range(1, 11)])
    connection = connect([BROKER], "test-acks")
    channel = connection.channel()
    sent = record_answers(channel)
    acks = Acks(channel, queue)
    tags = []
    channel.qos(10)
    channel.consume(
        queue, lambda d: (acks.delivered(d.delivery_tag), tags.append(d.delivery_tag)), lambda: None
    )
    wait_for(lambda: len(tags) == 10 or gevent.sleep(0.01))
    for tag in (1, 2, 3, 5, 6):  # 4 still in flight
        acks.ack(tag)
    acks.reject(7, requeue=True)
    gevent.sleep(0)  # the loop turns: the held acks go out
    assert sent == [
        ("reject", 7, True),
        ("ack", 3, True),  # 1, 2 and 3 at once
        ("ack", 5, False),  # past 4, which is in flight: one by one
        ("ack", 6, False),
    ]
    acks.ack(4)
    acks.ack(8)
    gevent.sleep(0)
    assert sent[4:] == [("ack", 8, True)]  # 4..8 contiguous now (7 was rejected)
    connection.close()  # 9 and 10 unanswered, 7 requeued: those three come back
    wait_for(lambda: broker.messages(queue) == 3)
    assert sorted(json.loads(body)["id"] for _, _, body in broker.get_all(queue)) == [7, 9, 10]


def record_answers(channel) -> list[tuple]:
    """Note every ack and reject the channel sends on to the broker."""
    sent = []

    def recording(name, send):
        def answer(*args):
            sent.append((name, *args))
            send(*args)

        return answer

    for name in ("ack", "reject"):
        setattr(channel, name, recording(name, getattr(channel, name)))
    return sent


class RecordingChannel:
    """Stands in for a Channel: notes what would go to the broker."""

    def __init__(self) -> None:
        self.sent: list[tuple] = []

    def ack(self, tag: int, multiple: bool = False) -> None:
        self.sent.append(("ack", tag, multiple))

    def reject(self, tag: int, requeue: bool) -> None:
        self.sent.append(("reject", tag, requeue))

    nack = reject


def bookkeeping(acks: Acks) -> int:
    return len(acks._order) + len(acks._in_flight) + len(acks._held)


def test_rejecting_every_message_keeps_the_bookkeeping_flat():
    channel = RecordingChannel()
    acks = Acks(channel, "q")
    for tag in range(1, 100_001):
        acks.delivered(tag)
        acks.reject(tag, requeue=False)
    assert len(channel.sent) == 100_000
    assert bookkeeping(acks) <= COMPACT_SLACK + 1


def test_one_long_delivery_ahead_of_many_fast_ones_keeps_the_bookkeeping_flat():
    channel = RecordingChannel()
    acks = Acks(channel, "q")
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
