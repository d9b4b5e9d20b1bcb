"""Publishes work items for the example consumer.

    python -m example.publisher --count 20

Every fifth item asks to be republished and every seventh fails on its first delivery.
With --wait, it first waits for the daemon to consume example.work, and at the end until the
example's queues are empty.
"""

import argparse
import json
import os
import time

import pika

from amqpdispatcher.url import DEFAULT_URL

QUEUES = ("example.work", "example.results")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--wait", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("RABBITMQ_URL") or DEFAULT_URL
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    if args.wait:
        _wait(lambda: getattr(_state(connection, "example.work"), "consumer_count", 0) > 0)
    for number in range(1, args.count + 1):
        work = {"id": number, "republish": number % 5 == 0, "fail": number % 7 == 0}
        channel.basic_publish(
            "amq.topic",
            "example.work",
            json.dumps(work),
            pika.BasicProperties(content_type="application/json", delivery_mode=2),
        )
    print(f"published {args.count} work items", flush=True)
    if args.wait:
        _wait(lambda: all(getattr(_state(connection, q), "message_count", 1) == 0 for q in QUEUES))
        time.sleep(1)
    connection.close()


def _state(connection, queue: str):
    """The queue's consumer and message counts, or None while the daemon has not declared it."""
    channel = connection.channel()
    try:
        return channel.queue_declare(queue, passive=True).method
    except pika.exceptions.ChannelClosedByBroker:
        return None
    finally:
        if channel.is_open:
            channel.close()


def _wait(done, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the daemon")
        time.sleep(0.2)


if __name__ == "__main__":
    main()
