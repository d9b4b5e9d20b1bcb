"""A consumer pool in-process, against the real broker."""

import gevent
import gevent.event
from brokers import BROKER
from waiting import wait_for

from amqpdispatcher.config import ConsumerSpec
from amqpdispatcher.failure import RequeueAndReplace
from amqpdispatcher.middleware import Hooks
from amqpdispatcher.pool import ConsumerPool
from amqpdispatcher.publisher import Publisher
from amqpdispatcher.transport import connect


def test_an_unlimited_prefetch_backlog_waits_without_a_greenlet_each(broker):
    queue = broker.queue_name()
    broker.channel.queue_declare(queue)
    broker.publish_many(queue, [{"id": n} for n in range(500)])
    gate = gevent.event.Event()
    consumed = []

    class Gated:
        def consume(self, amqp, msg) -> None:
            gate.wait()
            consumed.append(msg.json()["id"])

        def shutdown(self, exception) -> None:
            pass

    spec = ConsumerSpec("test:Gated", queue, consumer_count=3, prefetch_count=0, path="c[0]")
    publisher = Publisher([BROKER], "test-pool")
    pool = ConsumerPool(spec, Gated, None, publisher, RequeueAndReplace(), Hooks())
    pool.create_instances()
    connection = connect([BROKER], "test-pool")
    try:
        pool.attach(connection)
        wait_for(lambda: len(pool._dispatch._backlog) == 497, what="all delivered")
        assert len(pool._dispatch._running) == 3  # one greenlet per instance, whatever the backlog
        gate.set()
        wait_for(lambda: len(consumed) == 500, what="all consumed")
        assert sorted(consumed) == list(range(500))
        wait_for(lambda: not pool.busy, what="the pool idle")
        pool.flush()
    finally:
        connection.close()
    assert broker.messages(queue) == 0
