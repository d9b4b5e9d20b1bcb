"""The example's consumers.

`Consumer` handles work items published by example/publisher.py: it acks most of them,
republishes those that ask for it, and raises on the first delivery of those marked to fail,
so that the daemon replaces the instance and the broker redelivers the message.
`ResultConsumer` reads what `Consumer` republished.
"""

import itertools
import logging

import gevent

log = logging.getLogger("amqp-dispatcher.example")
_instance_ids = itertools.count(1)


class Consumer:
    def __init__(self) -> None:
        self.id = next(_instance_ids)

    def consume(self, amqp, msg) -> None:
        work = msg.json()
        if work.get("fail") and not msg.delivery_info["redelivered"]:
            raise RuntimeError(f"item {work['id']} fails on its first delivery")
        gevent.sleep(0.05)  # cooperative I/O: other instances run meanwhile
        if work.get("republish"):
            amqp.publish("amq.topic", "example.result", {"instance": self.id}, msg.body)
        amqp.ack()
        log.info("instance %d handled item %d", self.id, work["id"])

    def shutdown(self, exception) -> None:
        log.info("instance %d shut down (%r)", self.id, exception)


class ResultConsumer:
    def consume(self, amqp, msg) -> None:
        log.info(
            "result of item %d, republished by instance %s",
            msg.json()["id"],
            msg.headers.get("instance"),
        )

    def shutdown(self, exception) -> None:
        pass
