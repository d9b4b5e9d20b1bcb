"""Coalesced acks against the real broker: what a lost connection gives back is exactly the
unanswered. What Acks sends, and when, is unit-tested on the channel double
(tests/unit/test_acks.py)."""

import json

import gevent
from brokers import BROKER
from waiting import wait_for

from amqpdispatcher.acks import Acks
from amqpdispatcher.transport import connect


def test_coalesced_acks_reach_the_broker_and_the_unanswered_come_back(broker):
    queue = broker.queue_name()
    broker.channel.queue_declare(queue)
    broker.publish_many(queue, [{"id": n} for n in range(1, 11)])
    connection = connect([BROKER], "test-acks")
    channel = connection.channel()
    acks = Acks(channel, queue)
    tags = []
    channel.qos(10)
    channel.consume(
        queue, lambda d: (acks.delivered(d.delivery_tag), tags.append(d.delivery_tag)), lambda: None
    )
    wait_for(lambda: len(tags) == 10)
    for tag in (1, 2, 3, 5, 6):  # 4 still in flight
        acks.ack(tag)
    acks.reject(7, requeue=True)
    gevent.sleep(0)  # the loop turns: one multiple-ack for 1..3, single acks for 5 and 6
    acks.ack(4)
    acks.ack(8)
    gevent.sleep(0)  # one multiple-ack for 4..8
    connection.close()  # 9 and 10 unanswered, 7 requeued: those three come back
    wait_for(lambda: broker.messages(queue) == 3)
    assert sorted(json.loads(body)["id"] for _, _, body in broker.get_all(queue)) == [7, 9, 10]
