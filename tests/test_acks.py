"""Coalesced acks against the real broker: one multiple-ack for a finished run of deliveries,
never past one still in flight, and what a lost connection gives back is exactly the
unanswered. The rest of Acks is unit-tested on the channel double (tests/unit/test_acks.py)."""

import json

import gevent
from conftest import BROKER, wait_for

from amqpdispatcher.acks import Acks
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
