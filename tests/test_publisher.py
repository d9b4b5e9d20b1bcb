"""The publisher in-process, against the real broker."""

import gevent
from conftest import BROKER, wait_for

from amqpdispatcher.publisher import Publisher


def test_concurrent_first_publishes_are_all_confirmed(broker):
    queue = broker.queue_name()
    broker.channel.queue_declare(queue)
    publisher = Publisher([BROKER], "test-publisher")
    try:
        tasks = []
        for n in range(200):  # arriving while the channel opens; every other one mandatory
            tasks.append(gevent.spawn(publisher.publish, "", queue, b"m%d" % n, {}, n % 2 == 0))
            gevent.sleep(0.0001)
        gevent.joinall(tasks, raise_error=True)
    finally:
        publisher.close()
    wait_for(lambda: broker.messages(queue) == 200)
