"""Consumers for the benchmark. Each delivery is counted; the first and last timestamps and
what the scenario measures are written to BENCH_STATS when BENCH_COUNT messages are done."""

import json
import os
import time

import gevent

_count = 0
_first = 0.0
_latencies: list[float] = []


def _done_one() -> None:
    global _count, _first
    _count += 1
    if _count == 1:
        _first = time.perf_counter()
    if _count == int(os.environ["BENCH_COUNT"]):
        stats = {"first": _first, "last": time.perf_counter(), "latencies": _latencies}
        with open(os.environ["BENCH_STATS"], "w") as out:
            json.dump(stats, out)


class Trivial:
    def consume(self, amqp, msg) -> None:
        _done_one()

    def shutdown(self, exception) -> None:
        pass


class Sleeper(Trivial):
    def consume(self, amqp, msg) -> None:
        gevent.sleep(0.05)
        _done_one()


class Republisher(Trivial):
    def consume(self, amqp, msg) -> None:
        amqp.publish("", os.environ["BENCH_OUT"], None, msg.body)
        _done_one()


class Latency(Trivial):
    def consume(self, amqp, msg) -> None:
        _latencies.append(time.time() - float(msg.headers["sent"]))
        _done_one()
