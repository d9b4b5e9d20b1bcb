"""The reference: a hand-written pika GeventConnection consumer that acks each message inline
in pika's callback (after BENCH_BURN_LOOPS turns of `burn`, if set), run as
`python bench/raw.py QUEUE PREFETCH`, writing the same stats as bench/consumers.py. With
`--auto-ack` it consumes with auto_ack and acks nothing: the broker counts each message acked as
it sends it, and prefetch does not apply. With `--latency` it notes each message's latency, as
consumers.Latency does. It prints RAW_READY once it consumes."""

import argparse
import os
import sys

import gevent.event
import pika
from pika.adapters.gevent_connection import GeventConnection

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from consumers import RAW_READY, _begin, _done_one, burn, note_latency  # noqa: E402


def main(queue: str, prefetch: int, auto_ack: bool, latency: bool) -> None:
    ready = gevent.event.AsyncResult()
    connection = GeventConnection(
        pika.URLParameters(os.environ["RABBITMQ_URL"]), on_open_callback=ready.set
    )
    ready.get()
    channel_ready = gevent.event.AsyncResult()
    connection.channel(on_open_callback=channel_ready.set)
    channel = channel_ready.get()
    loops = int(os.environ.get("BENCH_BURN_LOOPS", 0))

    def on_message(channel, method, properties, _body) -> None:
        _begin()
        if latency:
            note_latency(properties.headers)
        if loops:
            burn(loops)
        if not auto_ack:
            channel.basic_ack(method.delivery_tag)
        _done_one()

    channel.basic_qos(prefetch_count=prefetch)
    channel.basic_consume(queue, on_message, auto_ack=auto_ack)
    print(RAW_READY, flush=True)
    gevent.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("queue")
    parser.add_argument("prefetch", type=int)
    parser.add_argument("--auto-ack", action="store_true", help="consume with auto_ack")
    parser.add_argument("--latency", action="store_true", help="note each message's latency")
    args = parser.parse_args()
    main(args.queue, args.prefetch, args.auto_ack, args.latency)
